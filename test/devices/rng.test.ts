import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioMmio } from '../../src/emulator/virtio/mmio';
import { VirtioRng, Xoshiro128 } from '../../src/devices/virtio-rng/rng';
import { FakeIrq, MmioDriver, makeBus } from './helpers';

const BASE = 0xf4600000;

function setup(opts: ConstructorParameters<typeof VirtioRng>[0] = {}) {
  const bus = makeBus();
  const rng = new VirtioRng(opts);
  const t = new VirtioMmio('virtio-rng', BASE, new FakeIrq(), 4, rng, bus.ram);
  bus.add(t);
  const drv = new MmioDriver(bus, BASE);
  const [q] = drv.init(1);
  return { bus, rng, drv, q, ram: bus.ram };
}

/** One request of `len` bytes at `at`; returns the bytes the device wrote. */
function request(s: ReturnType<typeof setup>, at: number, len: number): Uint8Array {
  s.ram.u8.fill(0, at, at + len);
  const head = s.q.add([{ addr: at, len, write: true }]);
  s.drv.kick(0);
  const used = s.q.takeUsed();
  assert.equal(used.length, 1);
  assert.equal(used[0].id, head);
  return s.ram.u8.slice(at, at + used[0].len);
}

test('fills writable buffers with random bytes and reports the length', () => {
  const s = setup();
  assert.equal(s.drv.r(0x008), 4, 'device ID 4');
  const a = request(s, 0x200000, 64);
  const b = request(s, 0x200000, 64);
  assert.equal(a.length, 64);
  assert.notDeepEqual(a, b);
  assert.ok(new Set(a).size > 20, 'looks random');
  assert.equal(s.rng.bytesServed, 128);
});

test('split buffers are filled across descriptors; huge buffers are capped, not hung on', () => {
  const s = setup();
  s.ram.u8.fill(0, 0x200000, 0x200010);
  s.ram.u8.fill(0, 0x201000, 0x201010);
  s.q.add([
    { addr: 0x200000, len: 16, write: true },
    { addr: 0x201000, len: 16, write: true },
  ]);
  s.drv.kick(0);
  assert.equal(s.q.takeUsed()[0].len, 32);
  assert.ok(s.ram.u8.subarray(0x201000, 0x201010).some((v) => v !== 0), 'second descriptor filled');
  s.q.add([{ addr: 0x100000 * 2, len: 2 << 20, write: true }]);
  s.drv.kick(0);
  assert.equal(s.q.takeUsed()[0].len, 4096);
});

test('deterministic mode: the same seed gives the same bytes, another seed different ones', () => {
  const a = request(setup({ deterministic: true, seed: 42 }), 0x200000, 100);
  const b = request(setup({ deterministic: true, seed: 42 }), 0x200000, 100);
  const c = request(setup({ deterministic: true, seed: 43 }), 0x200000, 100);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('xoshiro128**: fill is the little-endian byte stream of next()', () => {
  const x = new Xoshiro128(7);
  const y = new Xoshiro128(7);
  const bytes = new Uint8Array(10);
  x.fill(bytes);
  const w0 = y.next();
  const w1 = y.next();
  const w2 = y.next();
  assert.deepEqual([...bytes.subarray(0, 4)], [w0 & 255, (w0 >>> 8) & 255, (w0 >>> 16) & 255, w0 >>> 24]);
  assert.equal(bytes[4], w1 & 255);
  assert.equal(bytes[8], w2 & 255);
  assert.equal(bytes[9], (w2 >>> 8) & 255);
  // roughly uniform: mean of many bytes near 127.5
  const big = new Uint8Array(1 << 16);
  new Xoshiro128(1).fill(big);
  const mean = big.reduce((s, v) => s + v, 0) / big.length;
  assert.ok(Math.abs(mean - 127.5) < 2, `mean ${mean}`);
});
