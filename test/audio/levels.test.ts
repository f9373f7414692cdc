import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLevels, measureLevels } from '../../src/audio/levels';
import { writeSample } from '../../src/audio/pcm';
import { sine } from './helpers/signal';

const close = (a: number, b: number, eps = 1e-3) => Math.abs(a - b) < eps;

test('levels: a sine of amplitude A has peak A and RMS A/√2, in every format', () => {
  const lv = createLevels();
  for (const format of ['S16', 'S32', 'FLOAT'] as const) {
    const buf = sine({ rate: 48000, channels: 1, format }, 1000, 4800, 0.5);
    measureLevels(buf, format, 1, lv);
    assert.equal(lv.frames, 4800);
    assert.ok(close(lv.peak, 0.5), `${format} peak ${lv.peak}`);
    assert.ok(close(lv.rms, 0.5 / Math.SQRT2), `${format} rms ${lv.rms}`);
    assert.equal(lv.channelPeak[0], lv.peak);
  }
});

test('levels: per channel in an interleaved stereo block, and overall', () => {
  const lv = createLevels();
  const n = 960;
  const buf = new Uint8Array(n * 2 * 4);
  for (let i = 0; i < n; i++) {
    writeSample(buf, i * 8, 'S32', i % 2 ? 0.25 : -0.25); // left: square 0.25
    writeSample(buf, i * 8 + 4, 'S32', 0); // right: silent
  }
  measureLevels(buf, 'S32', 2, lv);
  assert.ok(close(lv.channelPeak[0], 0.25) && close(lv.channelRms[0], 0.25));
  assert.equal(lv.channelPeak[1], 0);
  assert.equal(lv.channelRms[1], 0);
  assert.ok(close(lv.peak, 0.25));
  assert.ok(close(lv.rms, 0.25 / Math.SQRT2), `overall rms ${lv.rms}`);
});

test('levels: full scale, negative full scale, and broken floats count as 1; silence as 0', () => {
  const lv = createLevels();
  const s16 = new Uint8Array([0x00, 0x80, 0xff, 0x7f]); // -32768, 32767
  measureLevels(s16, 'S16', 1, lv);
  assert.equal(lv.peak, 1);
  const f = new Uint8Array(12);
  writeSample(f, 0, 'FLOAT', 0.1);
  new DataView(f.buffer).setFloat32(4, NaN, true);
  new DataView(f.buffer).setFloat32(8, -7, true);
  measureLevels(f, 'FLOAT', 1, lv);
  assert.equal(lv.peak, 1);
  assert.ok(lv.rms <= 1 && lv.rms > 0.8);
  measureLevels(new Uint8Array(64), 'S16', 2, lv);
  assert.equal(lv.peak, 0);
  assert.equal(lv.rms, 0);
  measureLevels(new Uint8Array(0), 'FLOAT', 2, lv);
  assert.equal(lv.frames, 0);
  assert.equal(lv.rms, 0);
});

test('levels: any offset (unaligned), a sub-range, trailing partial frame ignored', () => {
  const lv = createLevels();
  const block = sine({ rate: 8000, channels: 2, format: 'S16' }, 500, 80, 0.75);
  const host = new Uint8Array(block.length + 7).fill(0xff); // 0xffff = -1/32768: not silence
  host.set(block, 3);
  measureLevels(host, 'S16', 2, lv, 3, block.length + 3); // 3 extra bytes: not a whole frame
  assert.equal(lv.frames, 80);
  assert.ok(close(lv.peak, 0.75), `peak ${lv.peak}`);
  assert.ok(close(lv.rms, 0.75 / Math.SQRT2), `rms ${lv.rms}`);
  assert.ok(close(lv.channelRms[1], lv.channelRms[0]));
  // Length past the end is clamped, not read out of bounds.
  measureLevels(host, 'S16', 2, lv, 3, 1 << 20);
  assert.equal(lv.frames, 81);
});

test('levels: more channels than the result holds fold into the overall values', () => {
  const lv = createLevels(2);
  const buf = new Uint8Array(3 * 2 * 10);
  for (let i = 0; i < 10; i++) writeSample(buf, (i * 3 + 2) * 2, 'S16', 0.5); // only the 3rd channel
  measureLevels(buf, 'S16', 3, lv);
  assert.equal(lv.channelPeak[0], 0);
  assert.equal(lv.channelPeak[1], 0);
  assert.ok(close(lv.peak, 0.5));
});
