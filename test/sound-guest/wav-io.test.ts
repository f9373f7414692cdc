// The real Linux guest's sound card through the WAV backends, deterministic (--time icount): one
// boot serves every case. The guest's own `pcm` tool plays, records and loops; the test checks
// the files the host wrote and what the guest measured of the file the host fed it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SampleFormat } from '../../src/audio/backend';
import { analyze, samples, type Fmt } from '../audio/helpers/signal';
import { GuestSession, type RunResult } from '../helpers/guest-session';
import { OutputWatch, ditheredSine, largestStep, longestSilence, writeWav, type OutputPart } from './helpers/wav-files';

const dir = mkdtempSync(join(tmpdir(), 'semu-sound-guest-'));
const outPath = join(dir, 'out.wav');
const inPath = join(dir, 'in.wav');
/** The capture fixture: 1 kHz, 48 kHz stereo S16, amplitude 0.5; longer than any capture here. */
const IN: Fmt = { rate: 48000, channels: 2, format: 'S16' };
const IN_SECONDS = 3;
const input = ditheredSine(IN, 1000, IN.rate * IN_SECONDS);
const SINE_RMS = 0.5 / Math.SQRT2;

let g: GuestSession;
let out: OutputWatch;

before(async () => {
  writeWav(inPath, IN, input);
  g = await GuestSession.boot({ audioOut: `wav:${outPath}`, audioIn: `wav:${inPath}`, time: 'icount' });
  out = new OutputWatch(outPath);
});

after(async () => {
  try {
    if (g) {
      const e = await g.poweroff();
      assert.equal(e.reason, 'poweroff');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs a pcm command that must succeed and print its summary line with `verb`. */
async function pcm(cmd: string, verb: string, timeoutMs = 60_000): Promise<RunResult & { pcm: NonNullable<RunResult['pcm']> }> {
  out.snapshot();
  const r = await g.run(cmd, { timeoutMs });
  assert.equal(r.shellStatus, null, `${cmd}: ${r.output}`);
  assert.ok(r.pcm, `${cmd} printed no pcm: line:\n${r.output}`);
  assert.equal(r.pcm.verb, verb, r.output);
  return r as RunResult & { pcm: NonNullable<RunResult['pcm']> };
}

function near(actual: number, want: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - want) <= tol, `${what}: ${actual}, want ${want} ± ${tol}`);
}

test('pcm rec 1 captures the 1 kHz WAV fixture: the guest measures 1000 ± 1 Hz at the right level', async () => {
  const r = await pcm('pcm rec 1', 'rec');
  assert.equal(r.pcm.num('frames'), 48000);
  assert.equal(r.pcm.num('xruns'), 0);
  near(r.pcm.num('freq'), 1000, 1, 'guest-measured frequency');
  near(r.pcm.num('rms'), SINE_RMS, SINE_RMS * 0.02, 'guest-measured RMS');
  near(r.pcm.num('peak'), 0.5, 0.005, 'guest-measured peak');
});

test('pcm loop 1 plays back exactly what it captured: the first second of the fixture, bit for bit', async () => {
  const r = await pcm('pcm loop 1', 'loop');
  assert.equal(r.pcm.num('rec_frames'), 48000);
  assert.equal(r.pcm.num('play_frames'), 48000);
  assert.equal(r.pcm.num('rec_xruns'), 0);
  assert.equal(r.pcm.num('play_xruns'), 0);
  near(r.pcm.num('freq'), 1000, 1, 'guest-measured frequency');
  const w = out.added();
  assert.deepEqual([w.rate, w.channels, w.format], [IN.rate, IN.channels, IN.format]);
  assert.equal(w.frames, 48000, 'one second played, no gap written');
  const want = input.subarray(0, w.data.length);
  const firstDiff = w.data.findIndex((b, i) => b !== want[i]);
  assert.equal(firstDiff, -1, `output differs from the input from byte ${firstDiff} (frame ${Math.floor(firstDiff / 4)})`);
});

// Linux's virtio-snd driver hands the device whole periods only, so a tool that ends on a partial
// period must pad it (alsa-lib's "drain silence" does) or DRAIN times out with EIO.
test('pcm play 440 0.51 (25.5 periods) drains: the tone, then silence to the end of the period', async () => {
  const r = await pcm('pcm play 440 0.51', 'play');
  assert.equal(r.pcm.num('frames'), 24480);
  assert.equal(r.pcm.num('xruns'), 0);
  const w = out.added();
  assert.equal(w.frames, 25 * 960 + 960, 'the last period padded to its end');
  const tone = { ...w, data: w.data.subarray(0, 24480 * 4) };
  const a = analyze(tone.data, tone, 0);
  near(a.freqHz, 440, 1, 'frequency');
  assert.ok(a.lastNonZero >= 24480 - 2, `the tone ends at frame ${a.lastNonZero}`);
  assert.ok(w.data.subarray(24480 * 4).every((b) => b === 0), 'the padding is silence');
});

// The matrix: every rate the brief names × mono/stereo × the three formats, played (checked in
// the WAV the host wrote) and recorded (checked by the guest's own measurement of the fixture,
// which the WAV reader converts to the stream's rate, channels and format).
const RATES = [8000, 16000, 44100, 48000];
const CHANNELS = [1, 2];
const FORMATS: SampleFormat[] = ['S16', 'S32', 'FLOAT'];
const cases = RATES.flatMap((rate) => CHANNELS.flatMap((channels) => FORMATS.map((format) => ({ rate, channels, format }))));

function checkTone(w: OutputPart, f: Fmt, freq: number, seconds: number, label: string): void {
  assert.deepEqual([w.rate, w.channels, w.format], [f.rate, f.channels, f.format], `${label}: file format`);
  assert.equal(w.frames, Math.round(f.rate * seconds), `${label}: frames in the file`);
  const period = Math.round(f.rate / 50); // the tool's default period (20 ms)
  assert.ok(longestSilence(w) <= 1, `${label}: a silent gap of ${longestSilence(w)} frames inside the tone (period ${period})`);
  const left = samples(w.data, f, 0);
  for (let c = 0; c < f.channels; c++) {
    const a = analyze(w.data, f, c);
    near(a.freqHz, freq, 1, `${label}: channel ${c} frequency`);
    near(a.rms, SINE_RMS, SINE_RMS * 0.02, `${label}: channel ${c} RMS`);
    if (c > 0) assert.deepEqual(samples(w.data, f, c), left, `${label}: channel ${c} differs from channel 0`);
  }
  // No dropped or repeated stretch: a sine never moves more than 2π·f·A/rate between samples.
  const maxStep = (2 * Math.PI * freq * 0.5) / f.rate;
  assert.ok(largestStep(left) <= maxStep * 1.01 + 1e-4, `${label}: a jump of ${largestStep(left)} (a sine moves at most ${maxStep})`);
}

test('pcm play 1000 0.5 at 8/16/44.1/48 kHz × mono/stereo × S16/S32/FLOAT: each file holds the tone', async (t) => {
  for (const f of cases) {
    const label = `${f.rate} Hz ${f.channels} ch ${f.format}`;
    const r = await pcm(`pcm play 1000 0.5 -r ${f.rate} -c ${f.channels} -F ${f.format}`, 'play');
    assert.deepEqual([r.pcm.num('rate'), r.pcm.num('ch'), r.pcm.str('fmt')], [f.rate, f.channels, f.format], label);
    assert.equal(r.pcm.num('frames'), f.rate / 2, label);
    assert.equal(r.pcm.num('xruns'), 0, label);
    checkTone(out.added(), f, 1000, 0.5, label);
  }
  t.diagnostic(`${cases.length} playback cases`);
});

test('pcm rec 0.5 at 8/16/44.1/48 kHz × mono/stereo × S16/S32/FLOAT: the guest hears 1000 ± 1 Hz', async (t) => {
  for (const f of cases) {
    const label = `${f.rate} Hz ${f.channels} ch ${f.format}`;
    const r = await pcm(`pcm rec 0.5 -r ${f.rate} -c ${f.channels} -F ${f.format}`, 'rec');
    assert.deepEqual([r.pcm.num('rate'), r.pcm.num('ch'), r.pcm.str('fmt')], [f.rate, f.channels, f.format], label);
    assert.equal(r.pcm.num('frames'), f.rate / 2, label);
    assert.equal(r.pcm.num('xruns'), 0, label);
    near(r.pcm.num('freq'), 1000, 1, `${label}: guest-measured frequency`);
    near(r.pcm.num('rms'), SINE_RMS, SINE_RMS * 0.02, `${label}: guest-measured RMS`);
  }
  t.diagnostic(`${cases.length} capture cases`);
});
