import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioMmio } from '../../src/emulator/virtio/mmio';
import * as L from '../../src/emulator/virtio/layout';
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../../src/emulator/virtio/types';
import { FakeIrq, MmioDriver, R, STATUS, makeBus, type DriverQueue } from './helpers';
import { RecordingDevice } from './test-device';

const BASE = 0xf4200000;
const N = VIRTQ_DESC_F_NEXT;
const W = VIRTQ_DESC_F_WRITE;
const I = VIRTQ_DESC_F_INDIRECT;

function setup(opts: { indirect?: boolean; accept?: (f: [number, number]) => [number, number] } = {}) {
  const bus = makeBus();
  const dev = new RecordingDevice(16);
  const t = new VirtioMmio('virtio-test', BASE, new FakeIrq(), 3, dev, bus.ram, { indirect: opts.indirect });
  bus.add(t);
  const drv = new MmioDriver(bus, BASE);
  const p = drv.probe(opts.accept);
  assert.equal(p.ok, true);
  const q = drv.setupQueue(0, 0x100000);
  drv.setupQueue(1, 0x110000);
  drv.addStatus(STATUS.DRIVER_OK);
  return { bus, dev, t, drv, q, st: t.state, ram: bus.ram };
}

function expectFault(s: ReturnType<typeof setup>, code: number, what: string) {
  assert.doesNotThrow(() => s.drv.kick(0), what);
  assert.ok(s.drv.r(R.STATUS) & STATUS.NEEDS_RESET, `${what}: DEVICE_NEEDS_RESET`);
  assert.equal(s.st[L.ST_NEEDS_RESET], code, `${what}: reason code`);
  assert.equal(s.st[L.ST_NEEDS_RESET_QUEUE], 0);
  assert.equal(s.dev.seen.length, 0, `${what}: the device never saw the chain`);
  assert.equal(s.q.takeUsed().length, 0);
}

test('a descriptor loop is caught (chain longer than the queue)', () => {
  const s = setup();
  s.q.writeDesc(0, 0x200000, 8, N, 1);
  s.q.writeDesc(1, 0x200100, 8, N, 0);
  s.q.publish(0);
  expectFault(s, L.NR_LOOP, 'loop');
});

test('a chain of exactly queue-size descriptors is accepted', () => {
  const s = setup();
  for (let i = 0; i < 16; i++) s.q.writeDesc(i, 0x200000 + 16 * i, 16, (i < 15 ? N : 0) | (i >= 8 ? W : 0), i + 1);
  s.q.publish(0);
  s.drv.kick(0);
  assert.equal(s.dev.seen.length, 1);
  assert.equal(s.dev.seen[0].count, 16);
  assert.equal(s.dev.seen[0].readable.length, 128);
  assert.equal(s.dev.seen[0].writableLength, 128);
});

test('buffers outside RAM: past the end, wrapping 2^32, and a non-zero high address word', () => {
  const cases: [string, (q: DriverQueue) => void][] = [
    ['past the end', (q) => q.writeDesc(0, 0x3fff00, 0x200, 0, 0)],
    ['wrapping 2^32', (q) => q.writeDesc(0, 0xffffff00, 0x200, 0, 0)],
    ['high address word', (q) => q.writeDesc(0, 0x200000, 8, 0, 0, 1)],
    ['second descriptor', (q) => (q.writeDesc(0, 0x200000, 8, N, 1), q.writeDesc(1, 0xf4200000, 4, W, 0))],
  ];
  for (const [what, build] of cases) {
    const s = setup();
    build(s.q);
    s.q.publish(0);
    expectFault(s, L.NR_OUT_OF_RAM, what);
  }
});

test('a readable descriptor after a writable one is rejected', () => {
  const s = setup();
  s.q.add([
    { addr: 0x200000, len: 8, write: true },
    { addr: 0x200100, len: 8 },
  ]);
  expectFault(s, L.NR_ORDER, 'writable before readable');
});

test('head and next indices out of range', () => {
  let s = setup();
  s.q.writeDesc(0, 0x200000, 8, 0, 0);
  s.q.publish(99);
  expectFault(s, L.NR_HEAD_RANGE, 'head');
  s = setup();
  s.q.writeDesc(0, 0x200000, 8, N, 40);
  s.q.publish(0);
  expectFault(s, L.NR_NEXT_RANGE, 'next');
});

test('avail.idx running ahead by more than the queue size', () => {
  const s = setup();
  s.ram.write16(s.q.avail + 2, 17);
  expectFault(s, L.NR_AVAIL_IDX, 'avail.idx');
});

test('after a fault the device stays silent until reset, then works', () => {
  const s = setup();
  s.q.writeDesc(0, 0x200000, 8, N, 0);
  s.q.publish(0);
  s.drv.kick(0);
  assert.ok(s.drv.r(R.STATUS) & STATUS.NEEDS_RESET);
  s.q.add([{ addr: 0x200000, len: 8, write: true }]);
  s.drv.kick(0);
  assert.equal(s.dev.seen.length, 0);
  assert.equal(s.t.queue(0).pop(), null, 'pop() hands out nothing while broken');
  const [q] = s.drv.init(2);
  q.add([{ addr: 0x200000, len: 8, write: true }]);
  s.drv.kick(0);
  assert.equal(s.dev.seen.length, 1);
});

test('indirect descriptors: read through transparently when negotiated', () => {
  const s = setup();
  const table = 0x180000;
  const wr = (i: number, addr: number, len: number, flags: number, next: number) => {
    const d = table + 16 * i;
    s.ram.write32(d, addr);
    s.ram.write32(d + 4, 0);
    s.ram.write32(d + 8, len);
    s.ram.write16(d + 12, flags);
    s.ram.write16(d + 14, next);
  };
  s.ram.u8.set([1, 2, 3, 4], 0x200000);
  s.ram.u8.set([5, 6], 0x200100);
  wr(0, 0x200000, 4, N, 2); // order inside the table follows next, not position
  wr(2, 0x200100, 2, N, 1);
  wr(1, 0x200200, 3, W, 0);
  s.q.writeDesc(0, table, 48, I, 0);
  s.q.publish(0);
  s.drv.kick(0);
  assert.equal(s.dev.seen.length, 1);
  assert.deepEqual([...s.dev.seen[0].readable], [1, 2, 3, 4, 5, 6]);
  assert.equal(s.dev.seen[0].writableLength, 3);
  assert.deepEqual(s.q.takeUsed(), [{ id: 0, len: 3 }]);
  assert.deepEqual([...s.ram.u8.subarray(0x200200, 0x200204)], [0xa5, 0xa5, 0xa5, 0]);
});

test('malformed indirect use: not negotiated, with NEXT, nested, bad length', () => {
  const build = (s: ReturnType<typeof setup>, flags: number, len: number, inner = 0) => {
    s.ram.write32(0x180000, 0x180100);
    s.ram.write32(0x180008, 16);
    s.ram.write16(0x18000c, inner);
    s.q.writeDesc(0, 0x180000, len, flags, 1);
    s.q.writeDesc(1, 0x200000, 4, W, 0);
    s.q.publish(0);
  };
  let s = setup({ accept: ([lo, hi]) => [lo & ~(1 << 28), hi] });
  build(s, I, 16);
  expectFault(s, L.NR_INDIRECT, 'not negotiated');
  s = setup();
  build(s, I | N, 16);
  expectFault(s, L.NR_INDIRECT, 'INDIRECT|NEXT');
  s = setup();
  build(s, I, 16, I);
  expectFault(s, L.NR_INDIRECT, 'nested');
  s = setup();
  build(s, I, 20);
  expectFault(s, L.NR_INDIRECT, 'length not a multiple of 16');
  s = setup({ indirect: false });
  assert.equal((s.drv.r(R.DEVICE_FEATURES) >>> 28) & 1, 0, 'indirect not offered when disabled');
});

test('chain read()/write() span descriptors with offsets and stop short at the end', () => {
  const s = setup();
  s.dev.autoComplete = false;
  s.ram.u8.set([10, 11, 12], 0x200000);
  s.ram.u8.set([13, 14, 15, 16], 0x200100);
  s.q.add([
    { addr: 0x200000, len: 3 },
    { addr: 0x200100, len: 4 },
    { addr: 0x200200, len: 2, write: true },
    { addr: 0x200300, len: 3, write: true },
  ]);
  const q = s.t.queue(0);
  const c = q.pop()!;
  assert.ok(c);
  assert.equal(c.count, 4);
  assert.equal(c.readableLength, 7);
  assert.equal(c.writableLength, 5);
  const dst = new Uint8Array(4);
  assert.equal(c.read(2, dst), 4);
  assert.deepEqual([...dst], [12, 13, 14, 15]);
  assert.equal(c.read(6, dst), 1, 'short at the end of the readable part');
  assert.equal(c.write(1, Uint8Array.from([1, 2, 3, 4, 5, 6])), 4, 'short at the end of the writable part');
  assert.deepEqual([...s.ram.u8.subarray(0x200200, 0x200202)], [0, 1]);
  assert.deepEqual([...s.ram.u8.subarray(0x200300, 0x200303)], [2, 3, 4]);
  const b = L.queueBase(s.st, 0);
  assert.equal(s.st[b + L.Q_IN_FLIGHT], 1);
  assert.equal(s.st[b + L.Q_INTS] & 1, 1, 'head 0 marked held');
  q.push(c.head, 5);
  assert.equal(s.st[b + L.Q_IN_FLIGHT], 0);
  assert.equal(s.st[b + L.Q_INTS], 0);
  assert.deepEqual(s.q.takeUsed(), [{ id: 0, len: 5 }]);
});

test('device writes are reported to the harts (noteWrite) for their decode caches', () => {
  const s = setup();
  const writes: [number, number][] = [];
  s.ram.onExternalWrite = (a, n) => writes.push([a, n]);
  s.q.add([{ addr: 0x200400, len: 6, write: true }]);
  s.drv.kick(0);
  assert.ok(writes.some(([a, n]) => a === 0x200400 && n === 6), 'the buffer');
  assert.ok(writes.some(([a]) => a === s.q.used + 2), 'used.idx');
});

test('the used ring wraps: 40 requests through a 16-entry queue', () => {
  const s = setup();
  for (let i = 0; i < 40; i++) {
    const head = s.q.add([{ addr: 0x200000 + 8 * i, len: 8, write: true }]);
    s.drv.kick(0);
    assert.deepEqual(s.q.takeUsed(), [{ id: head, len: 8 }]);
  }
  assert.equal(s.st[L.queueBase(s.st, 0) + L.Q_LAST_AVAIL], 40);
});
