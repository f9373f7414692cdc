// virtio-input driven as drivers/virtio/virtio_input.c does: config selects with byte stores,
// 8-byte event buffers on the event queue, LED events on the status queue; events injected by
// the host through the shared ring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioMmio } from '../../src/emulator/virtio/mmio';
import * as P from '../../src/devices/virtio-input/protocol';
import { VirtioInput, type InputProfile } from '../../src/devices/virtio-input/input';
import { allocateEvents, InputSink, readInputState } from '../../src/devices/virtio-input/events';
import { linuxKeyCode, mappedKeyCodes } from '../../src/devices/virtio-input/keymap';
import { describeInputChain, inputConditionFields } from '../../src/devices/virtio-input/inspect';
import { Xoshiro128 } from '../../src/devices/virtio-rng/rng';
import { DriverQueue, FakeIrq, MmioDriver, R, STATUS, makeBus } from './helpers';

const BASE = 0xf4900000;
const EVT = 0x300000;

function setup(kind: InputProfile, capacity?: number) {
  const bus = makeBus();
  const dev = new VirtioInput(kind, { events: capacity ? allocateEvents(capacity) : undefined });
  const irq = new FakeIrq();
  const t = new VirtioMmio(dev.name, BASE, irq, 7, dev, bus.ram);
  bus.add(t);
  const drv = new MmioDriver(bus, BASE);
  const [evq, stq] = drv.init(2);
  const sink = new InputSink(dev.events);
  return { bus, dev, t, drv, evq, stq, sink, irq, ram: bus.ram };
}

type S = ReturnType<typeof setup>;

/** virtinput_cfg_select: byte stores of select and subsel, then read size. */
function select(s: S, sel: number, sub: number): number {
  s.bus.write(BASE + R.CONFIG + P.CFG_SELECT, 1, sel);
  s.bus.write(BASE + R.CONFIG + P.CFG_SUBSEL, 1, sub);
  return s.bus.read(BASE + R.CONFIG + P.CFG_SIZE, 1);
}
function unionBytes(s: S, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(s.bus.read(BASE + R.CONFIG + P.CFG_UNION + i, 1));
  return out;
}
function str(s: S, sel: number): string {
  return String.fromCharCode(...unionBytes(s, select(s, sel, 0)));
}
function bitSet(bytes: number[], bit: number): boolean {
  return ((bytes[bit >> 3] ?? 0) & (1 << (bit & 7))) !== 0;
}

/** Queues n empty event buffers (virtinput_fill_evt) and kicks. */
function fillEvents(s: S, n: number, q: DriverQueue = s.evq): void {
  for (let i = 0; i < n; i++) q.add([{ addr: EVT + 8 * (q.availIdx % 64), len: 8, write: true }]);
  s.drv.kick(P.EVENTQ);
}

/** The events the device returned since the last call, as [type, code, value]. */
function received(s: S): [number, number, number][] {
  return s.evq.takeUsed().map((u) => {
    assert.equal(u.len, 8);
    const addr = s.ram.read32(s.evq.desc + 16 * u.id);
    return [s.ram.read16(addr), s.ram.read16(addr + 2), s.ram.read32(addr + 4) | 0];
  });
}

test('keyboard config: name, serial, ids, no properties, EV_KEY for every mapped key, EV_REP, EV_LED', () => {
  const s = setup('keyboard');
  assert.equal(s.drv.r(R.DEVICE_ID), P.VIRTIO_ID_INPUT);
  assert.equal(str(s, P.CFG_ID_NAME), 'VirtIO Keyboard');
  assert.equal(str(s, P.CFG_ID_SERIAL), 'semu-keyboard');
  assert.equal(select(s, P.CFG_ID_DEVIDS, 0), 8);
  assert.deepEqual(unionBytes(s, 8), [P.BUS_VIRTUAL, 0, 0, 0, 1, 0, 1, 0]);
  assert.equal(select(s, P.CFG_PROP_BITS, 0), 0);
  const n = select(s, P.CFG_EV_BITS, P.EV_KEY);
  const keys = unionBytes(s, n);
  for (const code of mappedKeyCodes()) assert.ok(bitSet(keys, code), `key ${code}`);
  assert.ok(!bitSet(keys, 0), 'KEY_RESERVED');
  assert.equal(n, (Math.max(...mappedKeyCodes()) >> 3) + 1, 'size is the highest set byte + 1');
  assert.ok(select(s, P.CFG_EV_BITS, P.EV_REP) > 0, 'EV_REP: the guest does autorepeat');
  assert.deepEqual(unionBytes(s, select(s, P.CFG_EV_BITS, P.EV_LED)), [0b111]);
  assert.equal(select(s, P.CFG_EV_BITS, P.EV_ABS), 0);
  assert.equal(select(s, P.CFG_EV_BITS, P.EV_REL), 0);
  assert.equal(select(s, P.CFG_ABS_INFO, P.ABS_X), 0);
  assert.equal(select(s, 0x77, 0), 0, 'unknown select');
  assert.equal(select(s, P.CFG_UNSET, 0), 0);
  assert.deepEqual(unionBytes(s, 4), [0, 0, 0, 0], 'the union is cleared');
});

test('tablet config: pointer property, buttons, wheels, ABS_X/ABS_Y 0..32767', () => {
  const s = setup('tablet');
  assert.equal(str(s, P.CFG_ID_NAME), 'VirtIO Tablet');
  assert.deepEqual(unionBytes(s, select(s, P.CFG_PROP_BITS, 0)), [1 << P.INPUT_PROP_POINTER]);
  const keys = unionBytes(s, select(s, P.CFG_EV_BITS, P.EV_KEY));
  for (const b of [P.BTN_LEFT, P.BTN_RIGHT, P.BTN_MIDDLE, P.BTN_SIDE, P.BTN_EXTRA]) assert.ok(bitSet(keys, b));
  assert.ok(!bitSet(keys, 30), 'no keyboard keys');
  const rel = unionBytes(s, select(s, P.CFG_EV_BITS, P.EV_REL));
  assert.ok(bitSet(rel, P.REL_WHEEL) && bitSet(rel, P.REL_HWHEEL));
  const abs = unionBytes(s, select(s, P.CFG_EV_BITS, P.EV_ABS));
  assert.ok(bitSet(abs, P.ABS_X) && bitSet(abs, P.ABS_Y));
  assert.equal(select(s, P.CFG_EV_BITS, P.EV_REP), 0);
  for (const axis of [P.ABS_X, P.ABS_Y]) {
    assert.equal(select(s, P.CFG_ABS_INFO, axis), 20);
    const v = new DataView(new Uint8Array(unionBytes(s, 20)).buffer);
    assert.deepEqual([0, 4, 8, 12, 16].map((o) => v.getUint32(o, true)), [0, P.ABS_MAX, 0, 0, 0], 'min max fuzz flat res');
  }
  assert.equal(select(s, P.CFG_ABS_INFO, 2), 0, 'no ABS_Z');
  // A 16-bit store covering select and subsel sets both.
  s.bus.write(BASE + R.CONFIG, 2, P.CFG_ABS_INFO | (P.ABS_Y << 8));
  assert.equal(s.bus.read(BASE + R.CONFIG + P.CFG_SIZE, 1), 20);
});

test('a key press reaches the guest as EV_KEY + SYN_REPORT, one event per buffer, with an interrupt', () => {
  const s = setup('keyboard');
  fillEvents(s, 8);
  assert.deepEqual(received(s), [], 'buffers are held until there is an event');
  const code = linuxKeyCode('KeyA');
  assert.equal(s.sink.key(code, true), true);
  s.dev.poll();
  assert.deepEqual(received(s), [
    [P.EV_KEY, 30, 1],
    [P.EV_SYN, P.SYN_REPORT, 0],
  ]);
  assert.ok(s.irq.level(7));
  s.sink.key(code, false);
  s.sink.key(linuxKeyCode('Enter'), true);
  s.dev.poll();
  assert.deepEqual(received(s), [
    [P.EV_KEY, 30, 0],
    [P.EV_SYN, 0, 0],
    [P.EV_KEY, 28, 1],
    [P.EV_SYN, 0, 0],
  ]);
  const st = readInputState(s.dev.events)!;
  assert.equal(st.delivered, 6);
  assert.equal(st.injected, 6);
  assert.equal(st.pending, 0);
});

test('without guest buffers events wait in order and go out when buffers come; the wait is counted once', () => {
  const s = setup('keyboard');
  for (let i = 0; i < 5; i++) s.sink.key(2 + i, true);
  for (let i = 0; i < 3; i++) s.dev.poll();
  assert.equal(readInputState(s.dev.events)!.pending, 10);
  assert.equal(readInputState(s.dev.events)!.waitsForBuffers, 1);
  fillEvents(s, 4); // the kick delivers into these four
  assert.deepEqual(received(s).map((e) => e[1]), [2, 0, 3, 0]);
  fillEvents(s, 8);
  assert.deepEqual(received(s).map((e) => e[1]), [4, 0, 5, 0, 6, 0]);
  assert.equal(readInputState(s.dev.events)!.pending, 0);
});

test('a full ring drops whole reports at the producer, never half of one', () => {
  const s = setup('tablet', 8);
  assert.equal(s.sink.moveTo(1, 2), true); // 3 events
  assert.equal(s.sink.moveTo(3, 4), true); // 6
  assert.equal(s.sink.moveTo(5, 6), false, 'needs 3, 2 free');
  assert.equal(s.sink.button(P.BTN_LEFT, true), true, '2 fit');
  assert.equal(readInputState(s.dev.events)!.droppedReports, 1);
  fillEvents(s, 16);
  const ev = received(s);
  assert.deepEqual(ev, [
    [P.EV_ABS, P.ABS_X, 1],
    [P.EV_ABS, P.ABS_Y, 2],
    [P.EV_SYN, 0, 0],
    [P.EV_ABS, P.ABS_X, 3],
    [P.EV_ABS, P.ABS_Y, 4],
    [P.EV_SYN, 0, 0],
    [P.EV_KEY, P.BTN_LEFT, 1],
    [P.EV_SYN, 0, 0],
  ]);
  // The ring keeps working across many wraps.
  const got: [number, number, number][] = [];
  for (let i = 0; i < 20; i++) {
    assert.equal(s.sink.wheel(-1), true);
    s.dev.poll();
    got.push(...received(s));
    fillEvents(s, 2);
  }
  assert.equal(got.length, 40);
  assert.ok(got.every((e, i) => (i % 2 === 0 ? e[1] === P.REL_WHEEL && e[2] === -1 : e[0] === P.EV_SYN)));
});

test('tablet: positions clamp to 0..32767, wheels carry their sign, buttons are keys', () => {
  const s = setup('tablet');
  fillEvents(s, 32);
  s.sink.moveTo(-5, 40000.4);
  s.sink.moveTo(16383.5, 100.2);
  s.sink.wheel(1, -2);
  s.sink.button(P.BTN_RIGHT, true);
  s.dev.poll();
  assert.deepEqual(received(s), [
    [P.EV_ABS, P.ABS_X, 0],
    [P.EV_ABS, P.ABS_Y, 32767],
    [P.EV_SYN, 0, 0],
    [P.EV_ABS, P.ABS_X, 16384],
    [P.EV_ABS, P.ABS_Y, 100],
    [P.EV_SYN, 0, 0],
    [P.EV_REL, P.REL_WHEEL, 1],
    [P.EV_REL, P.REL_HWHEEL, -2],
    [P.EV_SYN, 0, 0],
    [P.EV_KEY, P.BTN_RIGHT, 1],
    [P.EV_SYN, 0, 0],
  ]);
});

test('status queue: LED events are kept for the host; malformed ones are counted, never fatal', () => {
  const s = setup('keyboard');
  const send = (bytes: number[]) => {
    s.ram.u8.set(bytes, 0x380000);
    s.stq.add([{ addr: 0x380000, len: bytes.length }]);
    s.drv.kick(P.STATUSQ);
  };
  send([P.EV_LED, 0, P.LED_CAPSL, 0, 1, 0, 0, 0]);
  send([P.EV_LED, 0, P.LED_NUML, 0, 1, 0, 0, 0]);
  assert.deepEqual(s.stq.takeUsed().map((u) => u.len), [0, 0]);
  let st = readInputState(s.dev.events)!;
  assert.deepEqual(st.leds, { numLock: true, capsLock: true, scrollLock: false });
  send([P.EV_LED, 0, P.LED_CAPSL, 0, 0, 0, 0, 0]);
  send([P.EV_LED, 0, 9, 0, 1, 0, 0, 0]); // no such LED
  send([P.EV_KEY, 0, 30, 0, 1, 0, 0, 0]); // not a status
  send([P.EV_LED, 0, 1, 0]); // short
  st = readInputState(s.dev.events)!;
  assert.deepEqual(st.leds, { numLock: true, capsLock: false, scrollLock: false });
  assert.equal(st.statusEvents, 6);
  assert.equal(st.malformedStatus, 1);
  assert.equal(s.drv.r(R.STATUS) & STATUS.NEEDS_RESET, 0);
  assert.equal(s.stq.takeUsed().length, 4);
});

test('an event buffer that is readable or shorter than 8 bytes puts the device in needs-reset', () => {
  for (const bufs of [[{ addr: EVT, len: 4, write: true }], [{ addr: EVT, len: 8 }, { addr: EVT + 8, len: 8, write: true }]]) {
    const s = setup('keyboard');
    s.evq.add(bufs);
    s.drv.kick(P.EVENTQ);
    s.sink.key(30, true);
    s.dev.poll();
    assert.ok(s.drv.r(R.STATUS) & STATUS.NEEDS_RESET);
    assert.match(s.t.needsResetReason ?? '', /virtio-input \(keyboard\): event buffer 0 has \d+ readable \/ \d+ writable bytes/);
    // Reset drops what was pending and the device starts clean.
    s.drv.w(R.STATUS, 0);
    assert.equal(readInputState(s.dev.events)!.pending, 0);
  }
});

test('before the driver sets up its queues, events wait; reset discards them', () => {
  const bus = makeBus();
  const dev = new VirtioInput('keyboard');
  const t = new VirtioMmio(dev.name, BASE, new FakeIrq(), 7, dev, bus.ram);
  bus.add(t);
  const sink = new InputSink(dev.events);
  sink.key(30, true);
  dev.poll();
  assert.equal(readInputState(dev.events)!.pending, 2);
  assert.equal(readInputState(dev.events)!.waitsForBuffers, 0, 'a queue that is not ready is not "waiting for buffers"');
  dev.reset();
  assert.equal(readInputState(dev.events)!.pending, 0);
});

test('keymap: physical keys to Linux codes', () => {
  const cases: [string, number][] = [
    ['KeyA', 30], ['KeyZ', 44], ['KeyQ', 16], ['Digit1', 2], ['Digit0', 11], ['Enter', 28], ['Escape', 1],
    ['Space', 57], ['ShiftLeft', 42], ['ControlRight', 97], ['AltRight', 100], ['MetaLeft', 125],
    ['ArrowUp', 103], ['ArrowDown', 108], ['F1', 59], ['F10', 68], ['F11', 87], ['F12', 88], ['F13', 183], ['F24', 194],
    ['Backquote', 41], ['Backslash', 43], ['IntlBackslash', 86], ['NumpadEnter', 96], ['Numpad0', 82], ['Delete', 111],
  ];
  for (const [code, linux] of cases) assert.equal(linuxKeyCode(code), linux, code);
  assert.equal(linuxKeyCode('Unidentified'), 0);
  assert.equal(linuxKeyCode(''), 0);
  assert.equal(linuxKeyCode('__proto__'), 0);
  const all = mappedKeyCodes();
  assert.equal(new Set(all).size, all.length);
  assert.ok(all.every((c) => c > 0 && c < 256));
});

test('decoder and condition fields', () => {
  const ev = new Uint8Array([P.EV_LED, 0, P.LED_CAPSL, 0, 1, 0, 0, 0]);
  assert.equal(describeInputChain(P.STATUSQ, ev, 8, 0), 'status EV_LED LED_CAPSL 1');
  assert.equal(describeInputChain(P.STATUSQ, ev.subarray(0, 4), 4, 0), 'short status event (4 bytes, needs 8)');
  assert.equal(describeInputChain(P.EVENTQ, new Uint8Array(0), 0, 8), 'event buffer (8 bytes)');
  assert.equal(describeInputChain(P.EVENTQ, new Uint8Array(0), 0, 4), 'malformed event buffer (0 readable / 4 writable bytes, needs 0 / 8)');
  assert.deepEqual(inputConditionFields(P.STATUSQ, ev), { type: P.EV_LED, code: 1, value: 1 });
  assert.deepEqual(inputConditionFields(P.EVENTQ, null), { type: -1, code: -1, value: -1 });
  assert.throws(() => allocateEvents(100), /power of two/);
  assert.equal(readInputState(new SharedArrayBuffer(8)), null);
});

test('10 000 random chains on both queues with events flowing: no exception; needs-reset only for bad event buffers', () => {
  const rng = new Xoshiro128(0x1e7);
  let s = setup('tablet', 64);
  let resets = 0;
  for (let i = 0; i < 10_000; i++) {
    const q = rng.next() & 1;
    const n = 1 + (rng.next() % 3);
    const bufs = Array.from({ length: n }, (_, k) => ({ addr: 0x380000 + 64 * k, len: rng.next() % 3 === 0 ? rng.next() % 32 : 8, write: q === 0 ? rng.next() % 8 !== 0 || k > 0 : rng.next() % 8 === 0 }));
    for (const b of bufs) for (let k = 0; k < b.len && k < 16; k++) s.ram.write8(b.addr + k, rng.next());
    // Readable descriptors must come first, or the queue itself refuses the chain.
    bufs.sort((a, b) => Number(a.write === true) - Number(b.write === true));
    (q === 0 ? s.evq : s.stq).add(bufs);
    s.drv.kick(q);
    if (rng.next() % 2 === 0) s.sink.moveTo(rng.next() % 40000, rng.next() % 40000);
    s.dev.poll();
    s.evq.takeUsed();
    s.stq.takeUsed();
    if (s.drv.r(R.STATUS) & STATUS.NEEDS_RESET) {
      assert.match(s.t.needsResetReason ?? '', /event buffer|descriptor|chain|order/, s.t.needsResetReason ?? '');
      resets++;
      s = setup('tablet', 64);
    }
  }
  assert.ok(resets > 0);
  const st = readInputState(s.dev.events)!;
  assert.ok(st.pending <= 64);
});
