import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioMmio, VIRTIO_MMIO_VENDOR } from '../../src/emulator/virtio/mmio';
import * as L from '../../src/emulator/virtio/layout';
import { FakeIrq, MmioDriver, R, STATUS, makeBus } from './helpers';
import { RecordingDevice } from './test-device';

const BASE = 0xf4200000;
const IRQ = 3;

function setup(maxSize = 16) {
  const bus = makeBus();
  const irq = new FakeIrq();
  const dev = new RecordingDevice(maxSize);
  const t = new VirtioMmio('virtio-test@f4200000', BASE, irq, IRQ, dev, bus.ram);
  bus.add(t);
  const drv = new MmioDriver(bus, BASE);
  return { bus, irq, dev, t, drv, st: t.state };
}

test('Linux init sequence: identity, features with VERSION_1, FEATURES_OK kept, queues, DRIVER_OK', () => {
  const { drv, t, st, dev } = setup();
  assert.equal(drv.r(R.MAGIC), 0x74726976);
  assert.equal(drv.r(R.VERSION), 2);
  assert.equal(drv.r(R.DEVICE_ID), 0x7f);
  assert.equal(drv.r(R.VENDOR_ID), VIRTIO_MMIO_VENDOR);
  const p = drv.probe();
  assert.equal(p.ok, true);
  assert.equal(p.deviceFeatures[1] & 1, 1, 'VIRTIO_F_VERSION_1 (bit 32) offered');
  assert.equal(p.deviceFeatures[0] & 0b101, 0b101, "the device's own bits");
  assert.equal((p.deviceFeatures[0] >>> 28) & 1, 1, 'VIRTIO_F_INDIRECT_DESC offered');
  const q0 = drv.setupQueue(0, 0x100000);
  const q1 = drv.setupQueue(1, 0x110000, 8);
  drv.addStatus(STATUS.DRIVER_OK);
  assert.equal(drv.r(R.STATUS), STATUS.ACK | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK);
  assert.equal(dev.resets, 1, 'the probe reset the device');

  // The shared state mirrors what an inspector needs.
  assert.equal(st[L.ST_STATUS], 0x0f);
  assert.equal(st[L.ST_DRIVER_FEATURES_HI] & 1, 1);
  assert.equal(st[L.ST_QUEUE_COUNT], 2);
  const b1 = L.queueBase(st, 1);
  assert.equal(st[b1 + L.Q_NUM], 8);
  assert.equal(st[b1 + L.Q_READY], 1);
  assert.equal(st[b1 + L.Q_DESC] >>> 0, q1.desc);
  assert.equal(st[b1 + L.Q_DRIVER] >>> 0, q1.avail);
  assert.equal(st[b1 + L.Q_DEVICE] >>> 0, q1.used);
  assert.equal(t.queue(0).isReady(), true);
  assert.equal(q0.size, 16);
  drv.w(R.QUEUE_SEL, 0);
  assert.equal(drv.r(R.QUEUE_READY), 1);
});

test('FEATURES_OK is refused for a bit not offered and for a driver without VERSION_1', () => {
  let s = setup();
  let p = s.drv.probe(([lo, hi]) => [lo | 0b10, hi]);
  assert.equal(p.ok, false);
  assert.equal(s.drv.r(R.STATUS) & STATUS.FEATURES_OK, 0);

  s = setup();
  p = s.drv.probe(([lo]) => [lo, 0]);
  assert.equal(p.ok, false, 'a legacy driver is refused');

  s = setup();
  p = s.drv.probe();
  assert.equal(p.ok, true);
  s.drv.w(R.DRIVER_FEATURES_SEL, 0);
  s.drv.w(R.DRIVER_FEATURES, 0);
  assert.equal(s.st[L.ST_DRIVER_FEATURES_LO] & 0b101, 0b101, 'features are fixed after FEATURES_OK');
});

test('QueueReady is refused (and the device needs reset) for a bad size or ring address', () => {
  const cases: [string, (d: MmioDriver) => void][] = [
    ['size not a power of two', (d) => d.w(R.QUEUE_NUM, 12)],
    ['size above QueueNumMax', (d) => d.w(R.QUEUE_NUM, 32)],
    ['size 0', (d) => d.w(R.QUEUE_NUM, 0)],
    ['descriptor table misaligned', (d) => d.w(R.QUEUE_DESC_LOW, 0x100008)],
    ['used ring misaligned', (d) => d.w(R.QUEUE_DEVICE_LOW, 0x102002)],
    ['used ring outside RAM', (d) => d.w(R.QUEUE_DEVICE_LOW, 0x3ffff0)],
    ['ring above 4 GiB', (d) => d.w(R.QUEUE_DRIVER_HIGH, 1)],
  ];
  for (const [what, spoil] of cases) {
    const { drv, st, irq } = setup();
    assert.equal(drv.probe().ok, true);
    drv.w(R.QUEUE_SEL, 0);
    drv.w(R.QUEUE_NUM, 16);
    drv.w(R.QUEUE_DESC_LOW, 0x100000);
    drv.w(R.QUEUE_DRIVER_LOW, 0x101000);
    drv.w(R.QUEUE_DEVICE_LOW, 0x102000);
    spoil(drv);
    drv.addStatus(STATUS.DRIVER_OK);
    drv.w(R.QUEUE_READY, 1);
    assert.equal(drv.r(R.QUEUE_READY), 0, `${what}: refused`);
    assert.ok(drv.r(R.STATUS) & STATUS.NEEDS_RESET, `${what}: needs reset`);
    assert.equal(st[L.ST_NEEDS_RESET], L.NR_QUEUE_CONFIG, what);
    assert.equal(drv.r(R.INTERRUPT_STATUS) & 2, 2, `${what}: config change interrupt`);
    assert.equal(irq.level(IRQ), true);
  }
});

test('status 0 resets everything: registers, queues, interrupt, needs-reset; the device is told', () => {
  const { drv, dev, st, irq, t } = setup();
  const [q0] = drv.init(2);
  q0.add([{ addr: 0x200000, len: 4, write: true }]);
  drv.kick(0);
  assert.equal(irq.level(IRQ), true);
  t.needsReset('test');
  assert.ok(drv.r(R.STATUS) & STATUS.NEEDS_RESET);
  drv.w(R.STATUS, STATUS.ACK);
  assert.ok(drv.r(R.STATUS) & STATUS.NEEDS_RESET, 'the driver cannot clear NEEDS_RESET by writing status');
  const resetsBefore = dev.resets;
  drv.w(R.STATUS, 0);
  assert.equal(dev.resets, resetsBefore + 1);
  assert.equal(drv.r(R.STATUS), 0);
  assert.equal(drv.r(R.INTERRUPT_STATUS), 0);
  assert.equal(irq.level(IRQ), false);
  drv.w(R.QUEUE_SEL, 0);
  assert.equal(drv.r(R.QUEUE_READY), 0);
  assert.equal(drv.r(R.QUEUE_NUM), 16, 'QueueNum back to its maximum');
  const b = L.queueBase(st, 0);
  assert.equal(st[b + L.Q_LAST_AVAIL], 0);
  assert.equal(st[b + L.Q_USED_IDX], 0);
  assert.equal(st[L.ST_NEEDS_RESET], 0);
  assert.ok(st[L.ST_RESETS] >= 2);
  // and the device works again after a fresh init
  const [again] = drv.init(2);
  again.add([{ addr: 0x200000, len: 4, write: true }]);
  drv.kick(0);
  assert.equal(again.takeUsed().length, 1);
});

test('notify → device → used ring → interrupt; ACK lowers the line; counters in the shared state', () => {
  const { drv, dev, irq, st, bus } = setup();
  const [q0] = drv.init(2);
  bus.ram.u8.set([9, 8, 7], 0x200000);
  const head = q0.add([
    { addr: 0x200000, len: 3 },
    { addr: 0x201000, len: 5, write: true },
  ]);
  drv.kick(0);
  assert.deepEqual(dev.notifies, [0]);
  assert.deepEqual([...dev.seen[0].readable], [9, 8, 7]);
  assert.deepEqual(q0.takeUsed(), [{ id: head, len: 5 }]);
  assert.deepEqual([...bus.ram.u8.subarray(0x201000, 0x201006)], [0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0], 'written exactly 5 bytes');
  assert.equal(irq.level(IRQ), true);
  assert.equal(drv.interrupt(), 1);
  assert.equal(irq.level(IRQ), false);
  const b = L.queueBase(st, 0);
  assert.equal(st[b + L.Q_NOTIFICATIONS], 1);
  assert.equal(st[b + L.Q_INTERRUPTS], 1);
  assert.equal(st[b + L.Q_LAST_AVAIL], 1);
  assert.equal(st[b + L.Q_USED_IDX], 1);
  assert.equal(st[b + L.Q_IN_FLIGHT], 0);
  assert.equal(st[L.ST_NOTIFICATIONS], 1);
});

test('VIRTQ_AVAIL_F_NO_INTERRUPT suppresses the used-buffer interrupt', () => {
  const { drv, irq } = setup();
  const [q0] = drv.init(2);
  q0.setAvailFlags(1);
  q0.add([{ addr: 0x200000, len: 4, write: true }]);
  drv.kick(0);
  assert.equal(q0.takeUsed().length, 1);
  assert.equal(irq.level(IRQ), false);
  assert.equal(drv.r(R.INTERRUPT_STATUS), 0);
});

test('notifyHook returning true defers the kick until deliverDeferredNotifies()', () => {
  const { drv, dev, t, st } = setup();
  const [q0, q1] = drv.init(2);
  const hooked: number[] = [];
  t.notifyHook = (tt, q) => {
    assert.equal(tt, t);
    hooked.push(q);
    return q === 1;
  };
  q1.add([{ addr: 0x200000, len: 4, write: true }]);
  drv.kick(1);
  assert.deepEqual(dev.notifies, [], 'deferred: the device has not seen it');
  assert.equal(st[L.queueBase(st, 1) + L.Q_DEFERRED], 1);
  assert.equal(q1.takeUsed().length, 0);
  q0.add([{ addr: 0x200100, len: 4, write: true }]);
  drv.kick(0);
  assert.deepEqual(dev.notifies, [0], 'the hook let queue 0 through');
  assert.equal(t.deliverDeferredNotifies(), 1);
  assert.deepEqual(dev.notifies, [0, 1]);
  assert.equal(st[L.queueBase(st, 1) + L.Q_DEFERRED], 0);
  assert.equal(q1.takeUsed().length, 1);
  assert.equal(t.deliverDeferredNotifies(), 0);
  assert.deepEqual(hooked, [1, 0]);
});

test('config space: 1/2/4-byte reads and writes at 0x100, zero beyond; generation and SHM', () => {
  const { drv, bus, t, dev, irq } = setup();
  drv.init(2);
  assert.equal(bus.read(BASE + R.CONFIG, 1), 1);
  assert.equal(bus.read(BASE + R.CONFIG + 2, 2), 0x0403);
  assert.equal(bus.read(BASE + R.CONFIG + 4, 4), 0x08070605);
  assert.equal(bus.read(BASE + R.CONFIG + 6, 4), 0, 'straddling the end reads 0');
  bus.write(BASE + R.CONFIG + 1, 2, 0xbbaa);
  assert.deepEqual([...dev.config.subarray(0, 4)], [1, 0xaa, 0xbb, 4]);
  assert.equal(drv.r(R.CONFIG_GENERATION), 0);
  t.notifyConfig();
  assert.equal(drv.r(R.CONFIG_GENERATION), 1);
  assert.equal(drv.r(R.INTERRUPT_STATUS), 2);
  assert.equal(irq.level(IRQ), true);
  assert.equal(drv.r(R.SHM_LEN_LOW) >>> 0, 0xffffffff, 'no shared memory regions');
});

test('bad register use: queue beyond the device, writes while ready, narrow accesses, notify out of range', () => {
  const { drv, bus, dev } = setup();
  drv.init(2);
  drv.w(R.QUEUE_SEL, 5);
  assert.equal(drv.r(R.QUEUE_NUM_MAX), 0, 'no such queue');
  drv.w(R.QUEUE_NUM, 4);
  drv.w(R.QUEUE_SEL, 0);
  drv.w(R.QUEUE_NUM, 4);
  assert.equal(drv.r(R.QUEUE_NUM), 16, 'ignored while QueueReady=1');
  assert.equal(bus.read(BASE + R.MAGIC, 1), 0);
  bus.write(BASE + R.STATUS, 1, 0);
  assert.notEqual(drv.r(R.STATUS), 0, 'a byte write to Status does nothing');
  drv.kick(9);
  assert.deepEqual(dev.notifies, []);
  assert.equal(bus.fault, false);
});

test('a device model that throws puts the device in needs-reset; nothing escapes', () => {
  const { drv, dev, t, st } = setup();
  const [q0] = drv.init(2);
  dev.throwOnNotify = true;
  q0.add([{ addr: 0x200000, len: 4, write: true }]);
  assert.doesNotThrow(() => drv.kick(0));
  assert.ok(drv.r(R.STATUS) & STATUS.NEEDS_RESET);
  assert.equal(st[L.ST_NEEDS_RESET], L.NR_DEVICE);
  assert.match(t.needsResetReason ?? '', /boom/);
  assert.equal(drv.r(R.INTERRUPT_STATUS) & 2, 2, 'config change interrupt after DRIVER_OK');
  dev.throwOnNotify = false;
  drv.kick(0);
  assert.equal(dev.notifies.length, 1, 'a broken device gets no more kicks until reset');
});
