// The AudioWorklet's jitter buffer (webview/audio/pcm-queue.ts) in node: formats, buffering to the
// target, underruns (an xrun only when data resumes before STOP), overflow, adaptive target, end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcmQueue, QUANTUM } from '../../webview/audio/pcm-queue';

function s16(values: number[]): Uint8Array {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeInt16LE(Math.round(v * 32767), i * 2));
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
const out = (ch = 1) => Array.from({ length: ch }, () => new Float32Array(QUANTUM));
const frames = (n: number, v = 0.5) => s16(new Array(n).fill(v));

test('S16, S32 and FLOAT become floats; mono plays on both outputs; nothing before the target', () => {
  const q = new PcmQueue(1, 256, 'S16');
  q.start();
  q.push(frames(200, 0.5));
  const o = out(2);
  q.render(o);
  assert.equal(o[0][0], 0, 'still buffering (200 < 256)');
  q.push(frames(100, 0.5));
  q.render(o);
  assert.ok(Math.abs(o[0][0] - 0.5) < 1e-4 && o[1][0] === o[0][0]);
  const f = new PcmQueue(2, 256, 'FLOAT');
  const fb = new Float32Array(512);
  fb.fill(-0.25);
  f.push(new Uint8Array(fb.buffer));
  const fo = out(2);
  f.render(fo);
  assert.equal(fo[1][5], -0.25);
  const i = new PcmQueue(1, 256, 'S32');
  const ib = Buffer.alloc(256 * 4);
  for (let k = 0; k < 256; k++) ib.writeInt32LE(-(2 ** 30), k * 4);
  i.push(new Uint8Array(ib.buffer, ib.byteOffset, ib.length));
  const io = out();
  i.render(io);
  assert.equal(io[0][0], -0.5);
});

test('a dry queue at the end of a drain is no xrun; a dry queue followed by more data is one, and the target grows', () => {
  const q = new PcmQueue(1, 256, 'S16');
  q.start();
  q.push(frames(256));
  q.render(out());
  q.render(out());
  q.render(out()); // dry
  q.stop();
  assert.equal(q.progress.xruns, 0);
  q.start();
  q.push(frames(256));
  q.render(out());
  q.render(out());
  q.render(out()); // dry while started
  q.push(frames(128)); // data resumes: one xrun
  assert.equal(q.progress.xruns, 1);
  assert.equal(q.targetFrames, 384, 'the target grew by half');
  assert.equal(q.progress.frames, 512);
});

test('overflow beyond twice the target drops the oldest down to the target: one xrun (none before the first quantum)', () => {
  const q = new PcmQueue(1, 256, 'S16');
  q.start();
  q.push(frames(2000));
  assert.equal(q.queued, 256);
  assert.equal(q.progress.xruns, 0, 'start-up backlog is latency, not a dropout');
  q.render(out());
  q.push(frames(1000));
  assert.equal(q.progress.xruns, 1);
  assert.equal(q.queued, 256);
  assert.equal(q.progress.dropped, 2000 - 256 + 128 + 1000 - 256);
});

test('end(): what is queued plays out, then done', () => {
  const q = new PcmQueue(1, 1024, 'S16');
  q.start();
  q.push(frames(300));
  q.end();
  assert.equal(q.done, false);
  q.render(out());
  q.render(out());
  q.render(out());
  assert.equal(q.progress.frames, 300);
  assert.equal(q.done, true);
});
