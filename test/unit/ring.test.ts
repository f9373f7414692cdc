import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcmRing } from '../../src/audio/ring';

test('ring: bytes come out in order across the wrap', () => {
  const ring = PcmRing.create(64);
  const out = new Uint8Array(48);
  let next = 0;
  let expect = 0;
  for (let round = 0; round < 50; round++) {
    const src = new Uint8Array(40).map(() => next++ & 0xff);
    assert.equal(ring.write(src), 40);
    assert.equal(ring.read(out, 40), 40);
    for (let i = 0; i < 40; i++) assert.equal(out[i], expect++ & 0xff);
  }
  assert.equal(ring.stats().overruns, 0);
});

test('ring: without dropOldest a full ring refuses and counts an overrun', () => {
  const ring = PcmRing.create(64);
  assert.equal(ring.write(new Uint8Array(60), 60, false, 4), 60);
  assert.equal(ring.write(new Uint8Array(8), 8, false, 4), 4);
  assert.equal(ring.fill(), 64);
  assert.equal(ring.stats().overruns, 1);
});

test('ring: dropOldest keeps the newest bytes, frame-aligned', () => {
  const ring = PcmRing.create(64);
  const a = new Uint8Array(64).map((_, i) => i);
  ring.write(a, 64, true, 4);
  const b = new Uint8Array(8).fill(0xee);
  assert.equal(ring.write(b, 8, true, 4), 8);
  const out = new Uint8Array(64);
  assert.equal(ring.read(out, 64, 4), 64);
  assert.equal(out[0], 8, 'the oldest 8 bytes were dropped');
  assert.equal(out[63], 0xee);
  assert.equal(ring.stats().overruns, 1);
});

test('ring: readOrSilence pads and counts an underrun', () => {
  const ring = PcmRing.create(64);
  ring.write(new Uint8Array([1, 2, 3, 4]));
  const out = new Uint8Array(8).fill(9);
  assert.equal(ring.readOrSilence(out), 4);
  assert.deepEqual([...out], [1, 2, 3, 4, 0, 0, 0, 0]);
  assert.equal(ring.stats().underruns, 1);
});
