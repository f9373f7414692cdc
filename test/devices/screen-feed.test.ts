// ScreenFeed over the real device's shared screen: rate limit, acknowledgement window, dirty
// areas growing while the panel lags, restart, cursor changes, the exact frame on a stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScreenFeed } from '../../src/devices/virtio-gpu/feed';
import * as P from '../../src/devices/virtio-gpu/protocol';
import { GpuDriver } from './gpu-driver';

const FB = 0x400000;

function device(): GpuDriver {
  const d = new GpuDriver({ width: 320, height: 200 });
  d.fill(FB, 320, 200, (x, y) => (x * 3) ^ (y << 8));
  d.framebuffer(1, FB, 320, 200);
  d.transfer(1, 0, 0, 320, 200);
  d.flush(1, 0, 0, 320, 200);
  return d;
}

test('feed: the first frame is the whole screen; nothing new, no frame', () => {
  const d = device();
  const f = new ScreenFeed(d.gpu.screen);
  const m = f.poll(0)!;
  assert.deepEqual([m.frame, m.width, m.height, m.enabled], [1, 320, 200, true]);
  assert.deepEqual(m.rect, { x: 0, y: 0, w: 320, h: 200 });
  assert.equal(m.pixels!.length, 320 * 200 * 4);
  assert.deepEqual([...m.pixels!.subarray(4 * 5, 4 * 5 + 4)], [0, 0, 15, 255], 'pixel (5, 0) = 0x00000f as RGBA');
  f.ack(1);
  assert.equal(f.poll(100), null);
});

test('feed: at most maxFps frames a second; changes in between are merged', () => {
  const d = device();
  const f = new ScreenFeed(d.gpu.screen, { maxFps: 50, window: 10 });
  f.poll(0);
  d.flush(1, 10, 10, 2, 2);
  assert.equal(f.poll(5), null, '5 ms after the last frame');
  d.flush(1, 100, 50, 2, 2);
  assert.equal(f.poll(19), null);
  const m = f.poll(20)!;
  assert.deepEqual(m.rect, { x: 10, y: 10, w: 92, h: 42 });
  assert.ok(f.stats.heldBack >= 2);
});

test('feed: a panel that does not acknowledge gets nothing more; the dirty area keeps growing, nothing is lost', () => {
  const d = device();
  const f = new ScreenFeed(d.gpu.screen, { window: 2 });
  f.poll(0);
  d.flush(1, 0, 0, 1, 1);
  assert.ok(f.poll(100));
  assert.equal(f.inFlight, 2);
  // 200 flushes while the panel is stuck: far more than the device's ring of 64.
  for (let i = 0; i < 200; i++) {
    d.flush(1, 50 + (i % 10), 60, 1, 1);
    assert.equal(f.poll(200 + i * 20), null);
  }
  f.ack(1);
  const m = f.poll(10_000)!;
  assert.deepEqual(m.rect, { x: 50, y: 60, w: 10, h: 1 }, 'the union of what changed, not the whole screen');
  f.ack(99); // an ack from the future is ignored
  assert.equal(f.inFlight, 2);
  f.ack(3);
  assert.equal(f.inFlight, 0);
  assert.equal(f.stats.acked, 3);
});

test('feed: restart (the panel reloaded) sends everything again', () => {
  const d = device();
  const f = new ScreenFeed(d.gpu.screen);
  f.poll(0);
  f.restart();
  assert.equal(f.inFlight, 0);
  assert.deepEqual(f.poll(100)!.rect, { x: 0, y: 0, w: 320, h: 200 });
});

test('feed: a disabled scanout is a geometry-only frame; a new one is whole', () => {
  const d = device();
  const f = new ScreenFeed(d.gpu.screen, { window: 10 });
  f.poll(0);
  d.scanout(0, 0, 0, 0, 0);
  const off = f.poll(100)!;
  assert.deepEqual([off.enabled, off.rect, off.pixels], [false, null, null]);
  d.create(2, 200, 100);
  d.attach(2, [[FB, 200 * 100 * 4]]);
  d.scanout(2, 0, 0, 200, 100);
  const on = f.poll(200)!;
  assert.deepEqual([on.enabled, on.width, on.height, on.rect], [true, 200, 100, { x: 0, y: 0, w: 200, h: 100 }]);
});

test('feed: cursor moves travel without the image; a new image travels once', () => {
  const d = device();
  const f = new ScreenFeed(d.gpu.screen, { window: 10 });
  f.poll(0);
  d.create(9, 64, 64, P.FORMAT_B8G8R8A8);
  d.attach(9, [[FB, 64 * 64 * 4]]);
  d.transfer(9, 0, 0, 64, 64);
  d.sendCursor(P.CMD_UPDATE_CURSOR, [0, 10, 20, 0, 9, 1, 2, 0]);
  const a = f.poll(100)!;
  assert.deepEqual({ ...a.cursor, image: a.cursor?.image?.length }, { visible: true, x: 10, y: 20, hotX: 1, hotY: 2, image: 64 * 64 * 4 });
  assert.equal(a.rect, null, 'no pixels changed');
  d.sendCursor(P.CMD_MOVE_CURSOR, [0, 30, 40, 0, 0, 0, 0, 0]);
  const b = f.poll(200)!;
  assert.deepEqual(b.cursor, { visible: true, x: 30, y: 40, hotX: 1, hotY: 2 });
  d.sendCursor(P.CMD_MOVE_CURSOR, [0, 31, 41, 0, 0, 0, 0, 0]);
  assert.equal(f.poll(201), null, 'rate limited…');
  assert.deepEqual(f.poll(300)!.cursor, { visible: true, x: 31, y: 41, hotX: 1, hotY: 2 }, '…but not lost');
});

test('feed: freeze gives the exact frame at once, marked final, whatever the lag', () => {
  const d = device();
  const f = new ScreenFeed(d.gpu.screen, { window: 1 });
  f.poll(0);
  d.flush(1, 5, 5, 10, 10);
  assert.equal(f.poll(1000), null, 'the panel lags');
  const m = f.freeze(1001);
  assert.equal(m.final, true);
  assert.deepEqual(m.rect, { x: 5, y: 5, w: 10, h: 10 });
  const again = f.freeze(1002);
  assert.deepEqual([again.final, again.rect], [true, null], 'nothing new: a final frame without pixels');
});
