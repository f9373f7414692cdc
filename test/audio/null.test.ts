// The null backend and guest-clock pacing (paced.ts), plus the backend spec parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PcmParams } from '../../src/audio/backend';
import { AUDIO_SPEC_FORMS, createBackend, parseAudioSpec } from '../../src/audio/index';
import { NullBackend } from '../../src/audio/null';
import { PacedStream } from '../../src/audio/paced';
import type { PacedSink } from '../../src/audio/paced';
import { PcmRing } from '../../src/audio/ring';
import { PortAudioBackend } from '../../src/audio/portaudio';
import { WavBackend } from '../../src/audio/wav';

const out: PcmParams = { direction: 'output', rate: 48000, channels: 2, format: 'S16', periodBytes: 1920, bufferBytes: 19200 };
const inp: PcmParams = { ...out, direction: 'input' };

test('spec: the accepted forms, and a bad spec names them', () => {
  assert.deepEqual(parseAudioSpec('null'), { kind: 'null' });
  assert.deepEqual(parseAudioSpec('portaudio'), { kind: 'portaudio', device: null });
  assert.deepEqual(parseAudioSpec('portaudio:USB Audio'), { kind: 'portaudio', device: 'USB Audio' });
  assert.deepEqual(parseAudioSpec('wav:/tmp/a b.wav'), { kind: 'wav', path: '/tmp/a b.wav' });
  assert.deepEqual(parseAudioSpec('wav:C:\\x.wav'), { kind: 'wav', path: 'C:\\x.wav' });
  assert.ok(createBackend('null') instanceof NullBackend);
  assert.ok(createBackend('wav:/tmp/x.wav') instanceof WavBackend);
  const pa = createBackend('portaudio:pulse');
  assert.ok(pa instanceof PortAudioBackend);
  assert.equal(pa.spec, 'portaudio:pulse');
  pa.dispose();
  for (const bad of ['', 'wav:', 'portaudio:', 'pulse', 'WAV:/x', 'nul', 'file:/x.wav']) {
    assert.throws(
      () => createBackend(bad),
      (e: Error) => e.message.includes(JSON.stringify(bad)) && e.message.includes(AUDIO_SPEC_FORMS),
      bad,
    );
  }
});

test('null: bad stream params are a programming error, said clearly', () => {
  assert.throws(() => new NullBackend().open({ ...out, channels: 0 }), /bad stream params/);
  assert.throws(() => new NullBackend().open({ ...out, rate: 12.5 }), /bad stream params/);
  assert.throws(() => new NullBackend().open({ ...out, format: 'U8' as never }), /bad stream params/);
});

test('null output: exactly floor(rate × (t − t0)) frames leave the ring, over uneven polls', () => {
  // The machine's guest clock: ticks of the 65 MHz timebase, in seconds.
  const HZ = 65_000_000;
  const s = new NullBackend().open({ ...out, rate: 44100 });
  const fb = 4;
  assert.ok(s.ring.capacity >= out.bufferBytes);
  s.ring.write(new Uint8Array(s.ring.capacity).fill(5));
  s.poll(0.5); // not started: nothing moves
  assert.equal(s.stats().frames, 0);
  s.start();
  const t0 = 81_250_000; // 1.25 s
  s.poll(t0 / HZ); // t0 is taken at the first poll after start
  let t = t0;
  for (let i = 0; i < 200; i++) {
    t += 65_000 * ((i % 7) + 1) + (i % 3); // whole-frame instants and others
    s.poll(t / HZ);
    // Exact rational arithmetic, independent of the implementation's doubles.
    const exact = Math.floor(((t - t0) * 44100) / HZ);
    assert.equal(s.stats().frames, Math.min(exact, s.ring.capacity / fb), `after poll ${i}`);
    if (exact * fb >= s.ring.capacity) break;
  }
  s.poll(t / HZ - 0.01); // time never runs backwards for us
  assert.equal(s.ring.fill(), s.ring.capacity - s.stats().frames * fb);
  s.close();
});

test('null input: silence at exactly the rate; restarting takes a new t0', () => {
  const s = new NullBackend().open(inp);
  s.ring.write(new Uint8Array(64).fill(9)); // stale bytes a device model might have left
  s.ring.clear();
  s.start();
  s.poll(2);
  s.poll(2.01);
  assert.equal(s.stats().frames, 480);
  const got = new Uint8Array(480 * 4).fill(1);
  assert.equal(s.ring.read(got), got.length);
  assert.ok(got.every((b) => b === 0));
  s.stop();
  s.poll(3);
  assert.equal(s.stats().frames, 480, 'stopped: nothing');
  s.start();
  s.poll(5); // new t0
  s.poll(5.001);
  assert.equal(s.stats().frames, 528);
  s.close();
  s.poll(6); // closed: a no-op
});

/** A sink that records what it is given, to see gaps and data in order. */
function recorder(): PacedSink & { log: string[]; bytes: number[] } {
  const r = {
    log: [] as string[],
    bytes: [] as number[],
    consume(src: Uint8Array, len: number) {
      r.log.push(`data ${len / 4}`);
      for (let i = 0; i < len; i += 4) r.bytes.push(src[i]);
    },
    silence(frames: number) {
      r.log.push(`silence ${frames}`);
      for (let i = 0; i < frames; i++) r.bytes.push(0);
    },
    close() {},
  };
  return r;
}

test('paced output: a dry ring mid-stream becomes silence and one xrun; a dry ring at stop does not', () => {
  const ring = PcmRing.create(65536);
  const sink = recorder();
  const s = new PacedStream(out, ring, 'test', sink, null);
  const frame = (v: number, n: number) => new Uint8Array(n * 4).fill(v);
  ring.write(frame(1, 100));
  s.start();
  s.poll(0);
  s.poll(200 / 48000); // 200 due, 100 there
  assert.deepEqual(sink.log, ['data 100']);
  s.poll(300 / 48000); // still dry: the gap grows, nothing written yet
  assert.equal(s.stats().xruns, 0);
  ring.write(frame(2, 50));
  s.poll(400 / 48000);
  assert.deepEqual(sink.log, ['data 100', 'silence 200', 'data 50']);
  assert.equal(s.stats().xruns, 1);
  assert.equal(s.stats().frames, 150);
  // Time-faithful: the data after the gap sits where a real card would have played it.
  assert.equal(sink.bytes.length, 350);
  assert.equal(sink.bytes[299], 0);
  assert.equal(sink.bytes[300], 2);
  s.poll(1); // dry again...
  s.stop(); // ...and the drain ends: no xrun, no trailing silence
  assert.equal(s.stats().xruns, 1);
  assert.deepEqual(sink.log.length, 3);
  // A restart whose first frames come a poll late starts at those frames: no gap, no xrun.
  s.start();
  s.poll(2);
  s.poll(2.01);
  ring.write(frame(3, 10));
  s.poll(2.02);
  assert.deepEqual(sink.log.slice(3), ['data 10']);
  assert.equal(s.stats().xruns, 1);
  s.close();
});

test('paced input: a device model that stops reading overflows the ring once, keeping the newest frames', () => {
  const s = new NullBackend().open(inp);
  const capFrames = s.ring.capacity / 4;
  s.start();
  s.poll(0);
  s.poll((capFrames - 10) / 48000);
  assert.equal(s.stats().xruns, 0);
  s.poll((capFrames + 100) / 48000);
  s.poll((capFrames + 200) / 48000);
  assert.equal(s.stats().xruns, 1, 'one run of drops = one xrun');
  assert.equal(s.ring.fill(), s.ring.capacity);
  s.ring.read(new Uint8Array(s.ring.capacity));
  s.poll((capFrames + 300) / 48000); // fits again
  s.poll(10); // far more than the ring holds in one step: skipped, one new xrun
  assert.equal(s.stats().xruns, 2);
  assert.equal(s.stats().frames, 480000);
  s.close();
});
