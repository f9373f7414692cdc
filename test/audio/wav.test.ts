// The WAV backend: output written paced by guest time and checked with sox's own reader (soxi),
// read back bit for bit; input converted from other formats, rates and channel counts; the
// open/append/number rules; bad files fall back to null with one warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AudioStream, PcmParams, SampleFormat } from '../../src/audio/backend';
import { frameBytes } from '../../src/audio/backend';
import { createBackend } from '../../src/audio/index';
import type { LogLevel } from '../../src/log';
import { setLogSink } from '../../src/log';
import { analyze, sine } from './helpers/signal';

const dir = mkdtempSync(join(tmpdir(), 'semu-wav-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const warnings: string[] = [];
setLogSink((level: LogLevel, _s, msg) => {
  if (level === 'warn') warnings.push(msg);
});

function params(direction: 'output' | 'input', format: SampleFormat, channels: number, rate: number): PcmParams {
  const fb = frameBytes({ format, channels });
  return { direction, format, channels, rate, periodBytes: (rate / 100) * fb, bufferBytes: (rate / 10) * fb };
}

function soxi(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of execFileSync('soxi', [path], { encoding: 'utf8' }).split('\n')) {
    const m = /^([A-Za-z ]+?)\s*: (.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Plays `data` through an output stream the way the machine would: a period at a time, polling guest time. */
function playPaced(s: AudioStream, data: Uint8Array, t0 = 0): number {
  const fb = frameBytes(s.params);
  const period = s.params.periodBytes;
  let off = 0;
  let t = t0;
  s.start();
  s.poll(t);
  while (off < data.length || s.ring.fill() > 0) {
    if (off < data.length && s.ring.room() >= period) off += s.ring.write(data.subarray(off, off + period));
    t += period / fb / s.params.rate / 2; // polls twice per period
    s.poll(t);
  }
  s.stop();
  return t;
}

for (const format of ['S16', 'S32', 'FLOAT'] as const) {
  for (const channels of [1, 2]) {
    test(`wav: ${format} ${channels}ch written paced, header right (soxi), read back bit for bit`, () => {
      const path = join(dir, `out-${format}-${channels}.wav`);
      const p = params('output', format, channels, 22050);
      const data = sine(p, 440, 22050 * 3 + 17, 0.5, 0.2); // over 64 KiB: several chunk writes
      const b = createBackend(`wav:${path}`);
      const s = b.open(p);
      assert.equal(s.description, `wav:${path}`);
      playPaced(s, data);
      assert.equal(s.stats().frames, data.length / frameBytes(p));
      assert.equal(s.stats().xruns, 0);
      s.close();
      const info = soxi(path);
      assert.equal(info['Channels'], String(channels));
      assert.equal(info['Sample Rate'], '22050');
      assert.match(info['Duration'], new RegExp(`= ${22050 * 3 + 17} samples`));
      assert.match(
        info['Sample Encoding'],
        format === 'FLOAT' ? /32-bit Floating Point PCM/ : new RegExp(`${format === 'S16' ? 16 : 32}-bit Signed Integer PCM`),
      );
      assert.equal(statSync(path).size, (format === 'FLOAT' ? 58 : 44) + data.length);
      // Our reader, same params: the very bytes.
      const r = createBackend(`wav:${path}`).open({ ...p, direction: 'input' });
      const got = new Uint8Array(data.length + 400 * frameBytes(p)).fill(0x55);
      r.start();
      r.poll(0);
      let n = 0;
      for (let i = 1; n < got.length; i++) {
        r.poll(i * 0.01);
        n += r.ring.read(got.subarray(n));
      }
      assert.deepEqual(got.subarray(0, data.length), data);
      assert.ok(got.subarray(data.length).every((x) => x === 0), 'silence after the end');
      r.close();
      b.dispose();
    });
  }
}

test('wav input: converts sox-made 24-bit extensible stereo 22050 Hz to S16 mono 48000 Hz, then silence', () => {
  const path = join(dir, 's24.wav');
  execFileSync('sox', ['-n', '-r', '22050', '-c', '2', '-b', '24', path, 'synth', '1', 'sine', '1000', 'vol', '0.5']);
  const p = params('input', 'S16', 1, 48000);
  const s = createBackend(`wav:${path}`).open(p);
  assert.equal(s.failure, null);
  s.start();
  s.poll(0);
  s.poll(0.1);
  const head = new Uint8Array(4800 * 2);
  assert.equal(s.ring.read(head), head.length);
  const a = analyze(head, p);
  assert.ok(Math.abs(a.freqHz - 1000) < 1, `${a.freqHz} Hz`);
  assert.ok(Math.abs(a.rms - 0.5 / Math.SQRT2) < 0.01, `rms ${a.rms}`);
  // Resampling keeps time: 1 s of source = 48000 frames, then silence.
  const rest = new Uint8Array(48000 * 2);
  let n = 0;
  for (let t = 0.2; n < rest.length; t += 0.1) {
    s.poll(t);
    n += s.ring.read(rest.subarray(n));
  }
  const b = analyze(rest, p);
  assert.ok(Math.abs(b.lastNonZero - (48000 - 4800)) < 8, `last sound at frame ${b.lastNonZero + 4800}`);
  s.close();
});

test('wav input: rate up and down, mono to stereo and stereo to mono, float to S32', () => {
  const src = join(dir, 'src.wav');
  const w = createBackend(`wav:${src}`);
  const sp = params('output', 'FLOAT', 2, 44100);
  const o = w.open(sp);
  playPaced(o, sine(sp, 440, 44100, 0.8));
  o.close();
  for (const [rate, channels] of [
    [8000, 1],
    [96000, 2],
    [44100, 1],
  ] as const) {
    const p = params('input', 'S32', channels, rate);
    const s = createBackend(`wav:${src}`).open(p);
    s.start();
    s.poll(0);
    s.poll(0.5);
    const got = new Uint8Array(s.ring.fill());
    s.ring.read(got);
    for (let c = 0; c < channels; c++) {
      const a = analyze(got, p, c);
      assert.ok(Math.abs(a.freqHz - 440) < 0.5, `${rate} Hz ${channels} ch: ${a.freqHz} Hz`);
      assert.ok(Math.abs(a.rms - 0.8 / Math.SQRT2) < 0.01, `${rate} Hz ${channels} ch: rms ${a.rms}`);
    }
    s.close();
  }
});

test('wav output: same format appends after RELEASE, another format starts PATH-2.wav', () => {
  const path = join(dir, 'session.wav');
  const b = createBackend(`wav:${path}`);
  const p = params('output', 'S16', 2, 8000);
  const one = sine(p, 100, 800);
  const two = sine(p, 200, 800);
  let s = b.open(p);
  playPaced(s, one);
  s.close();
  s = b.open(p); // the next song, same format
  playPaced(s, two, 5);
  s.close();
  const file = readFileSync(path);
  assert.equal(soxi(path)['Duration'].includes('= 1600 samples'), true);
  assert.deepEqual(file.subarray(44), Buffer.concat([one, two]));
  const mono = { ...p, channels: 1 };
  s = b.open(mono);
  assert.equal(s.description, `wav:${join(dir, 'session-2.wav')}`);
  playPaced(s, sine(mono, 100, 400));
  const still = b.open(mono); // while the other is open: a file of its own
  assert.equal(still.description, `wav:${join(dir, 'session-3.wav')}`);
  still.close();
  s.close();
  assert.equal(soxi(join(dir, 'session-2.wav'))['Channels'], '1');
  b.dispose();
});

test('wav output: the header is fixed up while running (a crash leaves a playable file)', () => {
  const path = join(dir, 'live.wav');
  const p = params('output', 'S16', 1, 8000);
  const s = createBackend(`wav:${path}`).open(p);
  playPaced(s, sine(p, 100, 8000 * 3));
  const hdr = readFileSync(path).subarray(0, 44);
  const dataSize = hdr.readUInt32LE(40);
  assert.ok(dataSize >= 8000 * 2, `data size in the header before close: ${dataSize}`);
  assert.equal(hdr.readUInt32LE(4), 36 + dataSize);
  s.close();
  assert.equal(readFileSync(path).readUInt32LE(40), 8000 * 3 * 2);
});

test('wav: a missing or malformed file falls back to null with one warning saying why', () => {
  const p = params('input', 'S16', 1, 8000);
  warnings.length = 0;
  const missing = createBackend(`wav:${join(dir, 'nope.wav')}`).open(p);
  assert.match(missing.failure!, /cannot read .*nope\.wav: ENOENT/);
  assert.equal(missing.description, 'null');
  const junk = join(dir, 'junk.wav');
  writeFileSync(junk, 'RIFF\0\0\0\0WAVEdata\x04\0\0\0abcd');
  const bad = createBackend(`wav:${junk}`).open(p);
  assert.match(bad.failure!, /data chunk before fmt chunk/);
  const u8 = join(dir, 'text.wav');
  writeFileSync(u8, 'hello, not audio');
  assert.match(createBackend(`wav:${u8}`).open(p).failure!, /not a RIFF\/WAVE file/);
  assert.equal(warnings.length, 3);
  // The null fallback still runs at the rate.
  bad.start();
  bad.poll(0);
  bad.poll(0.5);
  assert.equal(bad.stats().frames, 4000);
  const unwritable = createBackend(`wav:${join(dir, 'no/such/dir/out.wav')}`).open({ ...p, direction: 'output' });
  assert.match(unwritable.failure!, /cannot write/);
  assert.equal(existsSync(join(dir, 'no')), false);
});
