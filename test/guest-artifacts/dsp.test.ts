// The pcm tool's integer signal code (guest/src/dsp.c), compiled for the host with gcc and checked
// against libm floating point: the sine generator, the float <-> Q31 conversions, and the level
// and frequency analysis that `pcm rec` reports (±1 Hz at 1 kHz over 1 s is the requirement).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './artifacts';

let dir = '';
let harness = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'guest-dsp-'));
  harness = join(dir, 'dsp-harness');
  const root = repoRoot();
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-I', join(root, 'guest', 'src'), '-o', harness,
    join(root, 'test', 'guest-artifacts', 'dsp-harness.c'), join(root, 'guest', 'src', 'dsp.c'), '-lm']);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(...args: (string | number)[]): string {
  return execFileSync(harness, args.map(String), { encoding: 'utf8' }).trim();
}

interface Analysis {
  rms: number;
  peak: number;
  freq: number;
}

/** A tone made by the guest's generator, optionally noisy and late, analysed by the guest's code. */
function analyze(o: { rate?: number; ch?: number; freq: number; amp?: number; seconds?: number; noise?: number; lead?: number; fmt?: string }): Analysis {
  const rate = o.rate ?? 48000;
  const out = run('analyze', rate, o.ch ?? 2, Math.round(o.freq * 1000), Math.round((o.amp ?? 0.5) * 1e6),
    Math.round(rate * (o.seconds ?? 1)), Math.round((o.noise ?? 0) * 1e6), o.lead ?? 0, o.fmt ?? 'S16');
  const [rms, peak, mhz] = out.split(' ').map(Number);
  return { rms: rms / 1e4, peak: peak / 1e4, freq: mhz / 1000 };
}

test('the fixed-point sine stays within 1e-7 of libm over the whole turn', () => {
  const worstQ31Steps = Number(run('sinerr'));
  assert.ok(worstQ31Steps < 2 ** 31 * 1e-7, `worst error ${worstQ31Steps} Q31 steps`);
});

test('Q31 -> IEEE float bits match the host FPU (round to nearest even), and back', () => {
  assert.equal(run('floaterr'), '0');
});

test('integer square root is exact', () => {
  assert.equal(run('isqrterr'), '0');
});

test('a 1 kHz tone over 1 s: frequency within 1 Hz, rms and peak of a 0.5 sine', () => {
  for (const fmt of ['S16', 'S32', 'FLOAT']) {
    const a = analyze({ freq: 1000, fmt });
    assert.ok(Math.abs(a.freq - 1000) <= 1, `${fmt}: freq ${a.freq}`);
    assert.ok(Math.abs(a.rms - 0.5 / Math.SQRT2) <= 0.0002, `${fmt}: rms ${a.rms}`);
    assert.ok(Math.abs(a.peak - 0.5) <= 0.0002, `${fmt}: peak ${a.peak}`);
  }
});

test('frequency across the band and at other rates', () => {
  const cases: [number, number][] = [[48000, 20], [48000, 440], [48000, 997], [48000, 1000.5], [48000, 12000], [44100, 1000], [8000, 1000], [16000, 3000], [96000, 5]];
  for (const [rate, freq] of cases) {
    const a = analyze({ rate, freq, seconds: rate === 96000 ? 2 : 1 });
    assert.ok(Math.abs(a.freq - freq) <= Math.max(0.05, freq * 1e-4), `${freq} Hz at ${rate}: got ${a.freq}`);
  }
});

test('noise, leading silence and quiet tones do not fool the frequency estimate', () => {
  const noisy = analyze({ freq: 1000, noise: 0.2 });
  assert.ok(Math.abs(noisy.freq - 1000) <= 1, `20% noise: ${noisy.freq}`);
  const veryNoisy = analyze({ freq: 1000, noise: 0.4, lead: 20000 });
  assert.ok(Math.abs(veryNoisy.freq - 1000) <= 1, `40% noise after 20000 noisy frames: ${veryNoisy.freq}`);
  const late = analyze({ freq: 440, lead: 24000, noise: 0.01 });
  assert.ok(Math.abs(late.freq - 440) <= 1, `after 0.5 s of faint noise: ${late.freq}`);
  const quiet = analyze({ freq: 1000, amp: 0.01 });
  assert.ok(Math.abs(quiet.freq - 1000) <= 1, `-40 dBFS tone: ${quiet.freq}`);
  assert.ok(Math.abs(quiet.rms - 0.0071) <= 0.0002, `-40 dBFS rms ${quiet.rms}`);
});

test('silence measures as zero', () => {
  const a = analyze({ freq: 1000, amp: 0 });
  assert.deepEqual(a, { rms: 0, peak: 0, freq: 0 });
});

test('full scale: amplitude 1 gives rms 0.7071 and peak 1.0000 without wrapping', () => {
  for (const fmt of ['S16', 'S32', 'FLOAT']) {
    const a = analyze({ freq: 997, amp: 1, fmt });
    assert.ok(Math.abs(a.rms - 0.7071) <= 0.0002, `${fmt}: rms ${a.rms}`);
    assert.ok(Math.abs(a.peak - 1) <= 0.0002, `${fmt}: peak ${a.peak}`);
    assert.ok(Math.abs(a.freq - 997) <= 1, `${fmt}: freq ${a.freq}`);
  }
});
