// virtio-gpu 2D driven through guest RAM and MMIO as drivers/gpu/drm/virtio does it: every
// command, the scanout as readers of the shared screen see it, every bad request, the host
// memory limit, the cursor queue, reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as P from '../../src/devices/virtio-gpu/protocol';
import { ScreenReader, readGpuState } from '../../src/devices/virtio-gpu/screen';
import { describeGpuChain, gpuConditionFields } from '../../src/devices/virtio-gpu/inspect';
import { VirtioGpu, checkGpuOptions } from '../../src/devices/virtio-gpu/gpu';
import * as L from '../../src/emulator/virtio/layout';
import { Xoshiro128 } from '../../src/devices/virtio-rng/rng';
import { GpuDriver, GPU_BASE } from './gpu-driver';
import { R, STATUS } from './helpers';

const FB = 0x400000; // 4 MiB: room for a 1024×768 framebuffer below 8 MiB

/** The scanout's pixel (x, y) as RGBA bytes. */
function pixel(d: GpuDriver, x: number, y: number): number[] {
  return [...new ScreenReader(d.gpu.screen).readRgba({ x, y, w: 1, h: 1 })];
}

test('features: EDID only; config: one scanout, no capsets, events_clear clears', () => {
  const d = new GpuDriver();
  d.drv.w(R.DEVICE_FEATURES_SEL, 0);
  const f = d.drv.r(R.DEVICE_FEATURES);
  assert.equal(f & 0xffff, 1 << P.VIRTIO_GPU_F_EDID, 'EDID, no virgl');
  assert.equal(d.drv.r(R.CONFIG + P.CFG_NUM_SCANOUTS), 1);
  assert.equal(d.drv.r(R.CONFIG + P.CFG_NUM_CAPSETS), 0);
  assert.equal(d.drv.r(R.CONFIG + P.CFG_EVENTS_READ), 0);
  d.drv.w(R.CONFIG + P.CFG_EVENTS_READ, 5); // read-only
  assert.equal(d.drv.r(R.CONFIG + P.CFG_EVENTS_READ), 0);
  assert.equal(d.drv.r(R.DEVICE_ID), P.VIRTIO_ID_GPU);
});

test('GET_DISPLAY_INFO: one enabled 1024×768 scanout (or the configured size); the fence is echoed', () => {
  const d = new GpuDriver();
  const r = d.send(P.CMD_GET_DISPLAY_INFO, [], { flags: P.FLAG_FENCE, fence: 42 });
  assert.equal(r.type, P.RESP_OK_DISPLAY_INFO);
  assert.equal(r.usedLen, P.DISPLAY_INFO_SIZE);
  const v = new DataView(r.bytes.buffer);
  assert.deepEqual([v.getUint32(24, true), v.getUint32(28, true), v.getUint32(32, true), v.getUint32(36, true), v.getUint32(40, true)], [0, 0, 1024, 768, 1]);
  for (let i = 1; i < P.MAX_SCANOUTS; i++) assert.equal(v.getUint32(24 + 24 * i + 16, true), 0, `scanout ${i} disabled`);
  assert.equal(r.flags, P.FLAG_FENCE);
  assert.equal(r.fence, 42);
  const small = new GpuDriver({ width: 800, height: 600 });
  const s = new DataView(small.send(P.CMD_GET_DISPLAY_INFO, []).bytes.buffer);
  assert.deepEqual([s.getUint32(32, true), s.getUint32(36, true)], [800, 600]);
  assert.equal(new DataView(small.send(P.CMD_GET_DISPLAY_INFO, []).bytes.buffer).getUint32(4, true), 0, 'no fence flag without a fence');
});

test('GET_EDID: a valid 128-byte EDID 1.4 whose preferred mode is the display size; scanout 1 is invalid', () => {
  const d = new GpuDriver({ width: 1280, height: 720 });
  const r = d.send(P.CMD_GET_EDID, [0, 0]);
  assert.equal(r.type, P.RESP_OK_EDID);
  const v = new DataView(r.bytes.buffer);
  assert.equal(v.getUint32(24, true), 128);
  const e = r.bytes.subarray(32, 32 + 128);
  assert.deepEqual([...e.subarray(0, 8)], [0, 255, 255, 255, 255, 255, 255, 0]);
  assert.equal(e.reduce((a, b) => a + b, 0) % 256, 0, 'checksum');
  assert.deepEqual([e[18], e[19]], [1, 4]);
  const hActive = e[56] | ((e[58] >> 4) << 8);
  const vActive = e[59] | ((e[61] >> 4) << 8);
  assert.deepEqual([hActive, vActive], [1280, 720]);
  const clock = (e[54] | (e[55] << 8)) * 10000;
  const hTotal = hActive + (e[57] | ((e[58] & 15) << 8));
  const vTotal = vActive + (e[60] | ((e[61] & 15) << 8));
  const hz = clock / (hTotal * vTotal);
  assert.ok(hz >= 60 && hz < 60.5, `refresh ${hz}`);
  assert.equal(String.fromCharCode(...e.subarray(77, 81)), 'semu');
  assert.equal(e[35] & 0x21, 0x21, '640×480 and 800×600 established');
  assert.equal(e[36] & 0x08, 0, '1024×768 does not fit in 1280×720');
  assert.equal(d.send(P.CMD_GET_EDID, [1, 0]).type, P.RESP_ERR_INVALID_SCANOUT_ID);
  const e1024 = new GpuDriver().send(P.CMD_GET_EDID, [0, 0]).bytes.subarray(32, 160);
  assert.equal(e1024[36] & 0x08, 0, 'the preferred size is listed once (as the detailed timing)');
});

test('the dumb-buffer path: CREATE_2D, ATTACH_BACKING, SET_SCANOUT, TRANSFER, FLUSH put the pixels on the screen', () => {
  const d = new GpuDriver();
  const reader = new ScreenReader(d.gpu.screen);
  d.fill(FB, 64, 32, (x, y) => (x < 32 ? 0x00ff0000 : 0x000000ff) | (y << 8)); // B8G8R8X8: red left, blue right
  d.framebuffer(1, FB, 64, 32);
  assert.deepEqual(reader.geometry(), { enabled: true, width: 64, height: 32, format: P.FORMAT_B8G8R8X8 });
  assert.deepEqual(reader.take()?.rect, { x: 0, y: 0, w: 64, h: 32 }, 'a new scanout is all new');
  assert.deepEqual(pixel(d, 0, 0), [0, 0, 0, 255], 'nothing transferred yet');
  assert.equal(d.transfer(1, 0, 0, 64, 32), P.RESP_OK_NODATA);
  assert.deepEqual(pixel(d, 0, 0), [0, 0, 0, 255], 'transferred but not flushed: not shown');
  assert.equal(reader.take(), null);
  assert.equal(d.flush(1, 8, 4, 16, 8), P.RESP_OK_NODATA);
  assert.deepEqual(reader.take()?.rect, { x: 8, y: 4, w: 16, h: 8 });
  assert.deepEqual(pixel(d, 8, 4), [255, 4, 0, 255]);
  assert.deepEqual(pixel(d, 23, 11), [255, 11, 0, 255]);
  assert.deepEqual(pixel(d, 40, 5), [0, 0, 0, 255], 'outside the flushed rectangle');
  d.flush(1, 0, 0, 64, 32);
  assert.deepEqual(pixel(d, 40, 5), [0, 5, 255, 255]);
  assert.equal(d.gpu.stats.transfers, 1);
  assert.equal(d.gpu.stats.flushes, 2);
});

test('every supported format converts to the right RGBA; alpha is ignored on the screen', () => {
  // Bytes in memory for the colour R=0x11 G=0x22 B=0x33 (alpha/pad 0x44), per format.
  const cases: [number, number[]][] = [
    [P.FORMAT_B8G8R8A8, [0x33, 0x22, 0x11, 0x44]],
    [P.FORMAT_B8G8R8X8, [0x33, 0x22, 0x11, 0x44]],
    [P.FORMAT_A8R8G8B8, [0x44, 0x11, 0x22, 0x33]],
    [P.FORMAT_X8R8G8B8, [0x44, 0x11, 0x22, 0x33]],
    [P.FORMAT_R8G8B8A8, [0x11, 0x22, 0x33, 0x44]],
    [P.FORMAT_R8G8B8X8, [0x11, 0x22, 0x33, 0x44]],
    [P.FORMAT_X8B8G8R8, [0x44, 0x33, 0x22, 0x11]],
    [P.FORMAT_A8B8G8R8, [0x44, 0x33, 0x22, 0x11]],
  ];
  for (const [format, bytes] of cases) {
    const d = new GpuDriver();
    for (let i = 0; i < 16 * 16; i++) d.ram.u8.set(bytes, FB + 4 * i);
    d.framebuffer(7, FB, 16, 16, format);
    d.transfer(7, 0, 0, 16, 16);
    d.flush(7, 0, 0, 16, 16);
    assert.deepEqual(pixel(d, 5, 5), [0x11, 0x22, 0x33, 255], P.formatName(format)!);
  }
});

test('scatter backing: pages in any order, a partial rectangle at an offset, a scanout inside a larger resource', () => {
  const d = new GpuDriver();
  const w = 256;
  const h = 32; // 32 KiB: 8 pages
  const pages = [5, 2, 7, 0, 3, 6, 1, 4].map((p) => FB + p * 0x2000); // scattered, with gaps
  const word = (x: number, y: number) => ((x & 0xff) << 16) | ((y & 0xff) << 8) | 0x7f;
  // Write the linear framebuffer through the scatter list.
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const off = 4 * (y * w + x);
      d.ram.write32(pages[off >> 12] + (off & 4095), word(x, y));
    }
  assert.equal(d.create(3, w, h), P.RESP_OK_NODATA);
  assert.equal(d.attach(3, pages.map((p) => [p, 4096] as [number, number])), P.RESP_OK_NODATA);
  // Scanout of the 64×16 window at (100, 10) of the resource.
  assert.equal(d.scanout(3, 100, 10, 64, 16), P.RESP_OK_NODATA);
  // Linux's offset for rectangle (x, y): x * 4 + y * pitch.
  assert.equal(d.transfer(3, 90, 8, 100, 20, 90 * 4 + 8 * w * 4), P.RESP_OK_NODATA);
  d.flush(3, 0, 0, w, h);
  const reader = new ScreenReader(d.gpu.screen);
  assert.deepEqual(reader.geometry().width, 64);
  for (const [sx, sy] of [[0, 0], [63, 15], [10, 5], [37, 12]]) {
    const x = 100 + sx;
    const y = 10 + sy;
    assert.deepEqual(pixel(d, sx, sy), [x & 0xff, y & 0xff, 0x7f, 255], `screen (${sx}, ${sy}) = resource (${x}, ${y})`);
  }
  // A flush partly outside the scanout window is clipped to it, in screen coordinates.
  reader.take();
  d.flush(3, 150, 0, 50, 12);
  assert.deepEqual(reader.take()?.rect, { x: 50, y: 0, w: 14, h: 2 });
  // A flush that misses the window publishes nothing.
  d.flush(3, 0, 0, 50, 8);
  assert.equal(reader.take(), null);
});

test('bad resource ids: unknown, zero, or already in use, for every command that names one', () => {
  const d = new GpuDriver();
  d.framebuffer(1, FB, 32, 32);
  const E = P.RESP_ERR_INVALID_RESOURCE_ID;
  assert.equal(d.create(0, 32, 32), E, 'id 0 is reserved');
  assert.equal(d.create(1, 32, 32), E, 'id in use');
  assert.equal(d.unref(99), E);
  assert.equal(d.attach(99, [[FB, 4096]]), E);
  assert.equal(d.detach(99), E);
  assert.equal(d.scanout(99, 0, 0, 32, 32), E);
  assert.equal(d.transfer(99, 0, 0, 1, 1), E);
  assert.equal(d.flush(99, 0, 0, 1, 1), E);
  assert.equal(d.send(P.CMD_GET_DISPLAY_INFO, []).type, P.RESP_OK_DISPLAY_INFO, 'errors do not break the device');
  assert.equal(d.gpu.stats.errors, 8);
  assert.equal(d.drv.r(R.STATUS) & STATUS.NEEDS_RESET, 0);
});

test('bad rectangles, sizes and formats answer INVALID_PARAMETER; nothing changes', () => {
  const d = new GpuDriver();
  d.framebuffer(1, FB, 64, 64);
  d.fill(FB, 64, 64, () => 0x00ffffff);
  const E = P.RESP_ERR_INVALID_PARAMETER;
  assert.equal(d.create(2, 0, 10), E, 'zero width');
  assert.equal(d.create(2, 10, 0), E, 'zero height');
  assert.equal(d.create(2, 10, 10, 999), E, 'unknown format');
  for (const [x, y, w, h] of [[60, 0, 5, 1], [0, 60, 1, 5], [0xffffffff, 0, 2, 1], [0, 0xfffffff0, 1, 0x20], [0, 0, 0xffffffff, 0xffffffff]]) {
    assert.equal(d.transfer(1, x, y, w, h), E, `transfer ${x},${y} ${w}×${h}`);
    assert.equal(d.flush(1, x, y, w, h), E, `flush ${x},${y} ${w}×${h}`);
    assert.equal(d.scanout(1, x, y, w, h), E, `scanout ${x},${y} ${w}×${h}`);
  }
  assert.equal(d.scanout(1, 0, 0, 0, 10), E, 'empty scanout');
  // The backing is 16 KiB: an offset past it, or rows running off its end.
  assert.equal(d.transfer(1, 0, 0, 64, 1, 64 * 64 * 4), E, 'offset past the backing');
  assert.equal(d.transfer(1, 0, 0, 1, 1, 0, 1), E, 'offset above 4 GiB');
  assert.equal(d.transfer(1, 0, 32, 64, 32, 64 * 4 * 33), E, 'last row past the backing');
  assert.equal(pixel(d, 0, 0)[0], 0, 'nothing was transferred or flushed');
  // A scanout bigger than the display buffer is refused even if the resource is that big.
  const big = new GpuDriver({ width: 320, height: 200 });
  assert.equal(big.create(1, 400, 200), P.RESP_OK_NODATA);
  assert.equal(big.scanout(1, 0, 0, 400, 200), E);
  assert.equal(big.scanout(1, 0, 0, 320, 200), P.RESP_OK_NODATA);
  assert.equal(d.scanout(1, 0, 0, 64, 64, 1), P.RESP_ERR_INVALID_SCANOUT_ID);
});

test('backing: entries outside RAM, above 4 GiB, too many or missing; attach twice; detach without backing', () => {
  const d = new GpuDriver({}, 16 << 20);
  d.create(1, 64, 64);
  const E = P.RESP_ERR_INVALID_PARAMETER;
  assert.equal(d.attach(1, [[16 << 20, 4096]]), E, 'starts past the end of RAM');
  assert.equal(d.attach(1, [[(16 << 20) - 4096, 8192]]), E, 'runs past the end of RAM');
  assert.equal(d.attach(1, [[FB, 4096], [0xfffff000, 0x2000]]), E, 'wraps around 4 GiB');
  assert.equal(d.send(P.CMD_RESOURCE_ATTACH_BACKING, [1, 0]).type, E, 'no entries');
  assert.equal(d.send(P.CMD_RESOURCE_ATTACH_BACKING, [1, 100000]).type, E, 'more than 16384 entries');
  assert.equal(d.send(P.CMD_RESOURCE_ATTACH_BACKING, [1, 4], { entries: [[FB, 4096]] }).type, P.RESP_ERR_UNSPEC, 'fewer entries than announced');
  assert.equal(d.attach(1, [[FB, 16384]]), P.RESP_OK_NODATA);
  assert.equal(d.attach(1, [[FB, 16384]]), P.RESP_ERR_UNSPEC, 'already attached');
  assert.equal(d.detach(1), P.RESP_OK_NODATA);
  assert.equal(d.detach(1), P.RESP_ERR_UNSPEC, 'nothing attached');
  assert.equal(d.transfer(1, 0, 0, 1, 1), P.RESP_ERR_UNSPEC, 'transfer without backing');
});

test('an entry whose address has a high word is outside RAM', () => {
  const d = new GpuDriver();
  d.create(1, 16, 16);
  // Build the request by hand: entries descriptor with addr_hi = 1.
  const entries = 0x300000;
  d.ram.write32(entries, FB);
  d.ram.write32(entries + 4, 1);
  d.ram.write32(entries + 8, 1024);
  d.ram.write32(0x200000, P.CMD_RESOURCE_ATTACH_BACKING);
  for (let i = 4; i < 24; i += 4) d.ram.write32(0x200000 + i, 0);
  d.ram.write32(0x200018, 1);
  d.ram.write32(0x20001c, 1);
  d.ctrl.add([
    { addr: 0x200000, len: 32 },
    { addr: entries, len: 16 },
    { addr: 0x210000, len: 24, write: true },
  ]);
  d.drv.kick(0);
  assert.equal(d.ctrl.takeUsed()[0].len, 24);
  assert.equal(d.ram.read32(0x210000), P.RESP_ERR_INVALID_PARAMETER);
  assert.equal(d.gpu.budget.used, 16 * 16 * 4 + 256, 'the refused list is not charged');
});

test('malformed requests: short, unknown, no room for the response; capsets are not offered', () => {
  const d = new GpuDriver();
  assert.equal(d.send(0x9999, []).type, P.RESP_ERR_UNSPEC, 'unknown command');
  assert.equal(d.send(P.CMD_GET_CAPSET_INFO, [0, 0]).type, P.RESP_ERR_UNSPEC, 'no virgl');
  assert.equal(d.send(P.CMD_MOVE_CURSOR, [0, 0, 0, 0, 0, 0, 0, 0]).type, P.RESP_ERR_UNSPEC, 'cursor command on the control queue');
  assert.equal(d.send(P.CMD_RESOURCE_CREATE_2D, [1, 2, 3, 4], { cmdLen: 30 }).type, P.RESP_ERR_UNSPEC, 'short request');
  assert.equal(d.send(P.CMD_RESOURCE_CREATE_2D, [], { cmdLen: 10 }).type, P.RESP_ERR_UNSPEC, 'shorter than a header');
  assert.equal(d.gpu.resourceCount, 0);
  const small = d.send(P.CMD_GET_DISPLAY_INFO, [], { respLen: 100 });
  assert.equal(small.type, P.RESP_ERR_UNSPEC, 'no room for the display info');
  assert.equal(small.usedLen, 24);
  assert.equal(d.drv.r(R.STATUS) & STATUS.NEEDS_RESET, 0);
  // A control request with no response buffer at all: the device cannot answer → needs reset.
  d.ram.write32(0x200000, P.CMD_GET_DISPLAY_INFO);
  d.ctrl.add([{ addr: 0x200000, len: 24 }]);
  d.drv.kick(0);
  assert.ok(d.drv.r(R.STATUS) & STATUS.NEEDS_RESET);
  assert.equal(d.t.state[L.ST_NEEDS_RESET], L.NR_DEVICE);
  assert.match(d.t.needsResetReason ?? '', /room for the 24-byte response header/);
});

test('host memory limit: creating without end gets OUT_OF_MEMORY; unref and reset give it back', () => {
  const limit = 4 << 20;
  const d = new GpuDriver({ width: 320, height: 200, hostMemoryLimit: limit });
  let id = 1;
  let code = 0;
  while ((code = d.create(id, 256, 256)) === P.RESP_OK_NODATA) id++;
  assert.equal(code, P.RESP_ERR_OUT_OF_MEMORY);
  assert.equal(id - 1, 15, '16 × 256 KiB would pass 4 MiB with the overhead');
  assert.ok(d.gpu.budget.used <= limit);
  assert.equal(d.create(5000, 0xffffffff, 0xffffffff), P.RESP_ERR_OUT_OF_MEMORY, 'an absurd size is refused before allocating');
  assert.equal(d.create(5001, 0x10000, 0x10000), P.RESP_ERR_OUT_OF_MEMORY, '16 GiB');
  assert.equal(d.unref(3), P.RESP_OK_NODATA);
  assert.equal(d.create(3, 256, 256), P.RESP_OK_NODATA, 'room again');
  // Backing lists count too.
  const many: [number, number][] = Array.from({ length: 16384 }, (_, i) => [FB + (i % 64) * 4096, 4096]);
  const before = d.gpu.budget.used;
  assert.equal(d.attach(1, many), P.RESP_ERR_OUT_OF_MEMORY);
  assert.equal(d.gpu.budget.used, before);
  const state = readGpuState(d.gpu.screen)!;
  assert.equal(state.hostBytes, d.gpu.budget.used);
  assert.equal(state.hostLimit, limit);
  assert.equal(state.resources, 15);
  assert.equal(state.lastError?.response, P.RESP_ERR_OUT_OF_MEMORY);
  d.drv.w(R.STATUS, 0);
  assert.equal(d.gpu.budget.used, 0);
  assert.equal(d.gpu.resourceCount, 0);
  const count = new GpuDriver({ width: 320, height: 200, maxResources: 3 });
  for (let i = 1; i <= 3; i++) assert.equal(count.create(i, 1, 1), P.RESP_OK_NODATA);
  assert.equal(count.create(4, 1, 1), P.RESP_ERR_OUT_OF_MEMORY, 'resource count limit');
});

test('unref of the scanned-out resource blanks the screen; SET_SCANOUT 0 disables it', () => {
  const d = new GpuDriver();
  d.fill(FB, 32, 32, () => 0xffffff);
  d.framebuffer(1, FB, 32, 32);
  d.transfer(1, 0, 0, 32, 32);
  d.flush(1, 0, 0, 32, 32);
  const reader = new ScreenReader(d.gpu.screen);
  assert.equal(reader.geometry().enabled, true);
  assert.equal(d.unref(1), P.RESP_OK_NODATA);
  assert.equal(reader.geometry().enabled, false);
  assert.deepEqual(pixel(d, 0, 0), [0, 0, 0, 255]);
  d.framebuffer(2, FB, 32, 32);
  assert.equal(reader.geometry().enabled, true);
  assert.equal(d.scanout(0, 0, 0, 0, 0), P.RESP_OK_NODATA);
  assert.equal(reader.geometry().enabled, false);
});

test('cursor queue: UPDATE_CURSOR shows a 64×64 image at a hot spot, MOVE_CURSOR moves it, resource 0 hides it', () => {
  const d = new GpuDriver();
  d.fill(FB, 64, 64, (x) => (x < 32 ? 0xff00ff00 : 0x00000000)); // B8G8R8A8: opaque green | transparent
  d.create(9, 64, 64, P.FORMAT_B8G8R8A8);
  d.attach(9, [[FB, 64 * 64 * 4]]);
  d.transfer(9, 0, 0, 64, 64);
  const reader = new ScreenReader(d.gpu.screen);
  const seq0 = reader.cursor().seq;
  // struct virtio_gpu_update_cursor: pos {scanout, x, y, pad}, resource, hot_x, hot_y, pad
  assert.equal(d.sendCursor(P.CMD_UPDATE_CURSOR, [0, 100, 200, 0, 9, 3, 4, 0]), 0, 'no response on the cursor queue');
  let c = reader.cursor();
  assert.deepEqual([c.visible, c.x, c.y, c.hotX, c.hotY], [true, 100, 200, 3, 4]);
  assert.ok(c.seq !== seq0);
  const img = reader.cursorRgba();
  assert.deepEqual([...img.subarray(0, 4)], [0, 255, 0, 255]);
  assert.deepEqual([...img.subarray(40 * 4, 40 * 4 + 4)], [0, 0, 0, 0]);
  d.sendCursor(P.CMD_MOVE_CURSOR, [0, 7, 8, 0, 0, 0, 0, 0]);
  c = reader.cursor();
  assert.deepEqual([c.visible, c.x, c.y], [true, 7, 8]);
  // Bad cursor commands are counted, never answered, never fatal.
  const errors = d.gpu.stats.errors;
  d.create(10, 32, 32);
  d.sendCursor(P.CMD_UPDATE_CURSOR, [0, 0, 0, 0, 10, 0, 0, 0]); // not 64×64
  d.sendCursor(P.CMD_UPDATE_CURSOR, [0, 0, 0, 0, 77, 0, 0, 0]); // no such resource
  d.sendCursor(P.CMD_MOVE_CURSOR, [3, 0, 0, 0, 0, 0, 0, 0]); // no scanout 3
  d.sendCursor(P.CMD_GET_DISPLAY_INFO, []);
  assert.equal(d.gpu.stats.errors, errors + 4);
  assert.equal(reader.cursor().x, 7);
  d.sendCursor(P.CMD_UPDATE_CURSOR, [0, 5, 5, 0, 0, 0, 0, 0]);
  assert.equal(reader.cursor().visible, false);
  // Unref of the cursor's resource hides it too.
  d.sendCursor(P.CMD_UPDATE_CURSOR, [0, 5, 5, 0, 9, 0, 0, 0]);
  d.unref(9);
  assert.equal(reader.cursor().visible, false);
  assert.equal(d.drv.r(R.STATUS) & STATUS.NEEDS_RESET, 0);
});

test('reset frees every resource and blanks the screen; the device works again after re-init', () => {
  const d = new GpuDriver();
  d.framebuffer(1, FB, 64, 64);
  d.create(2, 100, 100);
  assert.ok(d.gpu.budget.used > 0);
  d.drv.w(R.STATUS, 0);
  assert.equal(d.gpu.budget.used, 0);
  assert.equal(new ScreenReader(d.gpu.screen).geometry().enabled, false);
  const [q] = d.drv.init(2, 0x600000);
  assert.ok(q);
});

test('screen readers: union of flushes, full redraw after falling behind the ring, invalidate', () => {
  const d = new GpuDriver();
  d.framebuffer(1, FB, 256, 128);
  d.transfer(1, 0, 0, 256, 128);
  const r = new ScreenReader(d.gpu.screen);
  assert.deepEqual(r.take()?.rect, { x: 0, y: 0, w: 256, h: 128 });
  assert.equal(r.changed(), false);
  d.flush(1, 10, 10, 5, 5);
  d.flush(1, 100, 50, 10, 2);
  assert.equal(r.changed(), true);
  assert.deepEqual(r.take()?.rect, { x: 10, y: 10, w: 100, h: 42 });
  for (let i = 0; i < 70; i++) d.flush(1, i, 0, 1, 1);
  assert.deepEqual(r.take()?.rect, { x: 0, y: 0, w: 256, h: 128 }, 'more than 64 flushes behind: everything');
  d.flush(1, 3, 3, 1, 1);
  r.invalidate();
  assert.deepEqual(r.take()?.rect, { x: 0, y: 0, w: 256, h: 128 });
  const second = new ScreenReader(d.gpu.screen);
  d.flush(1, 1, 1, 1, 1);
  assert.deepEqual(second.take()?.rect, { x: 0, y: 0, w: 256, h: 128 }, 'a new reader starts with the whole screen');
  assert.deepEqual(r.take()?.rect, { x: 1, y: 1, w: 1, h: 1 }, 'each reader has its own position');
});

test('decoder and condition fields: one line per command with resource, rectangle and fence', () => {
  const req = (type: number, words: number[], flags = 0, fence = 0) => {
    const b = new Uint8Array(64);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, flags, true);
    v.setUint32(8, fence, true);
    words.forEach((w, i) => v.setUint32(24 + 4 * i, w, true));
    return b;
  };
  const dec = (b: Uint8Array, len = 64, wlen = 24) => describeGpuChain(0, b, len, wlen);
  assert.equal(dec(req(P.CMD_TRANSFER_TO_HOST_2D, [0, 32, 1024, 16, 131072, 0, 2, 0], P.FLAG_FENCE, 7)), 'TRANSFER_TO_HOST_2D res 2 1024×16+0+32 offset 131072 · fence 7');
  assert.equal(dec(req(P.CMD_RESOURCE_CREATE_2D, [3, P.FORMAT_B8G8R8X8, 1024, 768])), 'RESOURCE_CREATE_2D res 3 B8G8R8X8 1024×768');
  assert.equal(dec(req(P.CMD_SET_SCANOUT, [0, 0, 1024, 768, 0, 3])), 'SET_SCANOUT scanout 0 ← res 3 1024×768+0+0');
  assert.equal(dec(req(P.CMD_RESOURCE_FLUSH, [8, 16, 100, 20, 3, 0])), 'RESOURCE_FLUSH res 3 100×20+8+16');
  assert.equal(dec(req(P.CMD_RESOURCE_ATTACH_BACKING, [3, 768])), 'RESOURCE_ATTACH_BACKING res 3 × 768 entries');
  assert.equal(dec(req(P.CMD_MOVE_CURSOR, [0, 10, 20, 0])), 'MOVE_CURSOR to 10,20');
  assert.equal(dec(req(P.CMD_GET_DISPLAY_INFO, [])), 'GET_DISPLAY_INFO');
  assert.equal(dec(req(0x0207, [])), 'SUBMIT_3D');
  assert.equal(dec(req(0x7777, [])), '0x7777');
  assert.equal(dec(req(P.CMD_RESOURCE_FLUSH, []), 30), 'RESOURCE_FLUSH: short (30 of 48 bytes)');
  assert.equal(dec(new Uint8Array(8), 8), 'short request (8 bytes, needs 24)');
  assert.equal(dec(req(P.CMD_GET_DISPLAY_INFO, []), 24, 8), 'GET_DISPLAY_INFO · no room for a response (8 bytes)');
  assert.deepEqual(gpuConditionFields(req(P.CMD_RESOURCE_FLUSH, [0, 0, 1, 1, 5, 0])), { command: P.CMD_RESOURCE_FLUSH, resource: 5 });
  assert.deepEqual(gpuConditionFields(req(P.CMD_GET_DISPLAY_INFO, [])), { command: P.CMD_GET_DISPLAY_INFO, resource: -1 });
  assert.deepEqual(gpuConditionFields(null), { command: -1, resource: -1 });
});

test('options: sizes and limits are checked with a message that says what to use', () => {
  assert.equal(checkGpuOptions({}), null);
  assert.match(checkGpuOptions({ width: 8000, height: 600 }) ?? '', /use 320x192 up to 3840x2400/);
  assert.match(checkGpuOptions({ width: 1024.5 }) ?? '', /not supported/);
  assert.match(checkGpuOptions({ hostMemoryLimit: 1000 }) ?? '', /must hold two screens/);
  assert.throws(() => new VirtioGpu({ width: 10, height: 10 }), /not supported/);
  assert.equal(GPU_BASE, 0xf4b00000);
});

test('10 000 random and malformed commands: no exception, valid responses, memory under the limit', () => {
  const rng = new Xoshiro128(0x6a11);
  const pick = <T>(xs: readonly T[]): T => xs[rng.next() % xs.length];
  const limit = 8 << 20;
  const d = new GpuDriver({ width: 320, height: 200, hostMemoryLimit: limit, maxResources: 64 });
  const types = [...Object.keys(P.REQUEST_SIZE).map(Number), 0, 0x108, 0x109, 0x200, 0x1100, 0xffffffff];
  const values = [0, 1, 2, 3, 16, 64, 200, 320, 1024, 4096, 0x10000, 0x7fffffff, 0xffffffff, 0x400000, 0x1ffffff0];
  const codes = new Set<number>();
  let resets = 0;
  for (let i = 0; i < 10_000; i++) {
    const type = pick(types);
    const words = Array.from({ length: 8 }, () => (rng.next() % 3 === 0 ? rng.next() : pick(values)));
    if (rng.next() % 4 === 0) words[0] = 1 + (rng.next() % 8); // reuse a few resource ids
    const entries = rng.next() % 3 === 0 ? Array.from({ length: 1 + (rng.next() % 4) }, () => [pick(values), pick(values)] as [number, number]) : undefined;
    const respLen = pick([0, 8, 24, 24, 24, 100, P.DISPLAY_INFO_SIZE, P.EDID_RESP_SIZE]);
    const cmdLen = rng.next() % 5 === 0 ? rng.next() % 64 : undefined;
    if (rng.next() % 10 === 0) {
      d.sendCursor(pick([P.CMD_UPDATE_CURSOR, P.CMD_MOVE_CURSOR, type]), words);
      continue;
    }
    let r;
    try {
      r = d.send(type, words, { respLen, cmdLen: cmdLen === 0 ? 1 : cmdLen, entries, flags: rng.next() & 3, fence: i });
    } catch (e) {
      // The only way a command gets no used element: the device refused it with needs-reset.
      assert.ok(d.drv.r(R.STATUS) & STATUS.NEEDS_RESET, `command ${i}: ${(e as Error).message}`);
    }
    if (d.drv.r(R.STATUS) & STATUS.NEEDS_RESET) {
      assert.ok(respLen < P.HDR_SIZE, `needs reset only for a request without room for a response (command ${i})`);
      resets++;
      d.drv.w(R.STATUS, 0);
      [d.ctrl, d.cursor] = d.drv.init(2);
      continue;
    }
    if (r && r.usedLen >= 4) codes.add(r.type);
    assert.ok(d.gpu.budget.used <= limit, `memory ${d.gpu.budget.used} over the limit at command ${i}`);
    assert.ok(d.gpu.resourceCount <= 64);
  }
  for (const c of codes) assert.ok((c >= P.RESP_OK_NODATA && c <= P.RESP_OK_EDID) || (c >= P.RESP_ERR_UNSPEC && c <= P.RESP_ERR_INVALID_PARAMETER), `response 0x${c.toString(16)}`);
  assert.ok(codes.has(P.RESP_OK_NODATA) && codes.has(P.RESP_ERR_INVALID_PARAMETER) && codes.has(P.RESP_ERR_INVALID_RESOURCE_ID) && codes.has(P.RESP_ERR_UNSPEC), [...codes].map((c) => c.toString(16)).join(' '));
  assert.ok(resets > 0);
});
