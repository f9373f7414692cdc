import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ram } from '../../src/emulator/ram';
import { VirtioMmio } from '../../src/emulator/virtio/mmio';
import { decodeChain, descFlagNames, inspectDevice, inspectQueue, needsResetCause } from '../../src/emulator/virtio/inspect';
import { describeBlkChain } from '../../src/devices/virtio-blk/decode';
import * as L from '../../src/emulator/virtio/layout';
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../../src/emulator/virtio/types';
import { FakeIrq, MmioDriver, makeBus } from './helpers';
import { RecordingDevice } from './test-device';

const BASE = 0xf4200000;

function setup() {
  const bus = makeBus();
  const dev = new RecordingDevice(16);
  dev.autoComplete = false;
  const t = new VirtioMmio('virtio-test', BASE, new FakeIrq(), 3, dev, bus.ram);
  bus.add(t);
  const drv = new MmioDriver(bus, BASE);
  const [q] = drv.init(2);
  // What another thread would hold: its own views over the same SharedArrayBuffers.
  const info = t.info();
  const hostRam = new Ram(bus.ram.buffer, bus.ram.base, bus.ram.size); // the buffer may hold more than RAM (Ram.allocate)
  const hostState = new Int32Array(info.state);
  return { bus, dev, t, drv, q, hostRam, hostState, info };
}

test('a scripted queue: indices, held chains, pending chains, descriptors and flags', () => {
  const s = setup();
  const heads = [0, 1, 2].map((i) =>
    s.q.add([
      { addr: 0x200000 + 0x100 * i, len: 16 },
      { addr: 0x201000 + 0x100 * i, len: 32 + i, write: true },
    ]),
  );
  s.drv.kick(0);
  assert.equal(s.dev.held.length, 3, 'the device holds three chains');
  const p1 = s.q.add([{ addr: 0x202000, len: 8, write: true }]);
  const p2 = s.q.add([
    { addr: 0x203000, len: 4 },
    { addr: 0x203100, len: 5 },
    { addr: 0x203200, len: 6, write: true },
  ]);

  const snap = inspectQueue(s.hostRam, s.hostState, 0, { device: 'virtio-test', name: 'q0' });
  assert.equal(snap.device, 'virtio-test');
  assert.equal(snap.name, 'q0');
  assert.equal(snap.ready, true);
  assert.equal(snap.size, 16);
  assert.equal(snap.maxSize, 16);
  assert.equal(snap.descAddr, s.q.desc);
  assert.equal(snap.availAddr, s.q.avail);
  assert.equal(snap.usedAddr, s.q.used);
  assert.equal(snap.availIdx, 5);
  assert.equal(snap.lastAvailIdx, 3);
  assert.equal(snap.usedIdx, 0);
  assert.equal(snap.inFlight, 3);
  assert.equal(snap.notifications, 1);
  assert.deepEqual(snap.held.map((c) => c.head), heads);
  assert.deepEqual(
    snap.held[2].descriptors.map((d) => [d.addr, d.len, d.flagNames]),
    [
      [0x200200, 16, 'NEXT'],
      [0x201200, 34, 'WRITE'],
    ],
  );
  assert.deepEqual(snap.pending.map((c) => c.head), [p1, p2]);
  assert.equal(snap.pending[1].descriptors.length, 3);
  assert.equal(snap.pending[1].descriptors[0].next, snap.pending[1].descriptors[1].index);
  assert.equal(snap.pending[1].malformed, undefined);

  s.dev.completeHeld();
  const after = inspectQueue(s.hostRam, s.hostState, 0);
  assert.equal(after.usedIdx, 3);
  assert.equal(after.inFlight, 0);
  assert.deepEqual(after.held, []);
  assert.equal(after.interrupts, 3);
  assert.equal(after.name, 'queue0', 'default label');
});

test('hostile rings: a pending loop and an out-of-RAM buffer are reported, not thrown', () => {
  const s = setup();
  s.q.writeDesc(0, 0x200000, 8, VIRTQ_DESC_F_NEXT, 1);
  s.q.writeDesc(1, 0x200100, 8, VIRTQ_DESC_F_NEXT, 0);
  s.q.publish(0);
  s.q.writeDesc(2, 0xfffff000, 0x2000, VIRTQ_DESC_F_WRITE, 0);
  s.q.publish(2);
  s.q.publish(77);
  const snap = inspectQueue(s.hostRam, s.hostState, 0);
  assert.equal(snap.pending.length, 3);
  assert.match(snap.pending[0].malformed!, /loop/);
  assert.ok(snap.pending[0].descriptors.length <= 18, 'the walk is bounded');
  assert.match(snap.pending[1].malformed!, /outside RAM/);
  assert.match(snap.pending[2].malformed!, /index 77/);
});

test('hostile shared state never throws: garbage sizes, addresses, queue numbers', () => {
  const s = setup();
  const st = s.hostState;
  const b = L.queueBase(st, 0);
  const cases: [number, number][] = [
    [L.Q_NUM, 12],
    [L.Q_NUM, 1 << 20],
    [L.Q_DESC, 0x7ffffff0],
    [L.Q_DRIVER, -4],
    [L.Q_DEVICE_HI, 1],
    [L.Q_LAST_AVAIL, -1],
  ];
  for (const [k, v] of cases) {
    const keep = st[b + k];
    st[b + k] = v;
    assert.doesNotThrow(() => inspectQueue(s.hostRam, st, 0), `Q field ${k} = ${v}`);
    st[b + k] = keep;
  }
  assert.doesNotThrow(() => inspectQueue(s.hostRam, st, 9));
  assert.equal(inspectQueue(s.hostRam, st, 9).ready, false);
  assert.doesNotThrow(() => inspectQueue(s.hostRam, new Int32Array(4), 0));
  const chain = decodeChain(s.hostRam, 0x3ffff8, 16, 0);
  assert.match(chain.malformed!, /outside RAM/);
});

test('indirect chains are followed one level', () => {
  const s = setup();
  const table = 0x180000;
  s.hostRam.write32(table, 0x200000);
  s.hostRam.write32(table + 8, 16);
  s.hostRam.write16(table + 12, VIRTQ_DESC_F_NEXT);
  s.hostRam.write16(table + 14, 1);
  s.hostRam.write32(table + 16, 0x200100);
  s.hostRam.write32(table + 24, 1);
  s.hostRam.write16(table + 28, VIRTQ_DESC_F_WRITE);
  s.q.writeDesc(0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
  s.q.publish(0);
  const snap = inspectQueue(s.hostRam, s.hostState, 0);
  assert.deepEqual(
    snap.pending[0].descriptors.map((d) => d.flagNames),
    ['INDIRECT', 'NEXT', 'WRITE'],
  );
});

test('inspectDevice: status names, features, labels, blk decoding of pending requests', () => {
  const s = setup();
  s.hostRam.write32(0x200000, 0); // IN
  s.hostRam.write32(0x200008, 2048);
  s.hostRam.write32(0x20000c, 0);
  s.q.add([
    { addr: 0x200000, len: 16 },
    { addr: 0x210000, len: 4096, write: true },
    { addr: 0x220000, len: 1, write: true },
  ]);
  const d = inspectDevice(s.hostRam, s.hostState, { name: 'virtio-blk', base: s.info.base, irq: s.info.irq, queueNames: ['requestq'], decode: describeBlkChain });
  assert.equal(d.name, 'virtio-blk');
  assert.equal(d.base, BASE);
  assert.equal(d.irq, 3);
  assert.equal(d.statusNames, 'ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK');
  assert.equal(d.deviceFeatures[1] & 1, 1);
  assert.equal(d.driverFeatures[1] & 1, 1);
  assert.equal(d.needsReset, false);
  assert.equal(d.queues.length, 2);
  assert.equal(d.queues[0].name, 'requestq');
  assert.equal(d.queues[1].name, 'queue1');
  assert.equal(d.queues[0].pending[0].decoded, 'IN sector 2048 × 8');
  assert.equal(needsResetCause(s.hostState), '');
  s.t.queue(0).pop(); // the device pops it: now held
  s.t.needsReset('test');
  const d2 = inspectDevice(s.hostRam, s.hostState, { name: 'virtio-blk', base: BASE, irq: 3, queueNames: ['requestq'], decode: describeBlkChain });
  assert.equal(d2.needsReset, true);
  assert.match(d2.statusNames, /DEVICE_NEEDS_RESET/);
  assert.equal(needsResetCause(s.hostState), 'device protocol error');
});

test('decoders and flag names', () => {
  const hdr = new Uint8Array(16);
  const dv = new DataView(hdr.buffer);
  dv.setUint32(0, 1, true);
  dv.setUint32(8, 7, true);
  assert.equal(describeBlkChain(0, hdr, 16 + 1024, 1), 'OUT sector 7 × 2');
  dv.setUint32(0, 4, true);
  assert.equal(describeBlkChain(0, hdr, 16, 1), 'FLUSH');
  assert.equal(describeBlkChain(0, hdr.subarray(0, 4), 4, 1), 'short header');
  assert.equal(descFlagNames(0), '');
  assert.equal(descFlagNames(3), 'NEXT|WRITE');
  assert.equal(descFlagNames(0x14), 'INDIRECT|0x10');
});
