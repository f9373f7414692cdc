// The capture/playback matrix the sound card must pass with every backend: every period and
// buffer extreme Linux's virtio-snd driver offers for this device (period 160..30720 bytes,
// buffer up to 61440 bytes, 2..16 periods), at 8000 Hz mono and 48000 Hz stereo, plus the
// guest tool's default of 20 ms × 4 — played, recorded and looped through the real guest.
//
// Each case is short (1 s; the largest 8 kHz period lasts 1.92 s, so that case plays two).
// "Real time" is the stream's own clock as the guest measured it (`rate_hz`: the hardware
// pointer's slope from its first move to the last transfer, start-up latency and the tool's own
// work left out) within 2 % of the nominal rate. Not shorter: on a real clock (PortAudio) one
// transfer 10 ms late, which a busy 2-core machine does now and then, is 2 % of 0.5 s.
import assert from 'node:assert/strict';
import type { RunResult } from '../../helpers/guest-session';
import { analyze, type Analysis, type Fmt } from '../../audio/helpers/signal';

export interface MatrixCase {
  label: string;
  rate: number;
  channels: number;
  /** Frames. */
  period: number;
  buffer: number;
  seconds: number;
}

export const MATRIX: readonly MatrixCase[] = [
  { label: '8 kHz mono, smallest period (80 frames = 160 bytes), 2 periods', rate: 8000, channels: 1, period: 80, buffer: 160, seconds: 1 },
  { label: '8 kHz mono, smallest period, 16 periods', rate: 8000, channels: 1, period: 80, buffer: 1280, seconds: 1 },
  { label: '8 kHz mono, largest period (15360 frames = 30720 bytes) and buffer (61440 bytes)', rate: 8000, channels: 1, period: 15360, buffer: 30720, seconds: 3.84 },
  { label: '8 kHz mono, 20 ms × 4', rate: 8000, channels: 1, period: 160, buffer: 640, seconds: 1 },
  { label: '48 kHz stereo, smallest period (40 frames = 160 bytes), 2 periods', rate: 48000, channels: 2, period: 40, buffer: 80, seconds: 1 },
  { label: '48 kHz stereo, smallest period, 16 periods', rate: 48000, channels: 2, period: 40, buffer: 640, seconds: 1 },
  { label: '48 kHz stereo, largest period (7680 frames = 30720 bytes) and buffer (61440 bytes)', rate: 48000, channels: 2, period: 7680, buffer: 15360, seconds: 0.96 },
  { label: '48 kHz stereo, 20 ms × 4', rate: 48000, channels: 2, period: 960, buffer: 3840, seconds: 1 },
];

export const TONE_HZ = 1000;
export const AMPLITUDE = 0.5;
export const SINE_RMS = AMPLITUDE / Math.SQRT2;
/** Real time: the stream's measured rate within this share of the nominal one. */
export const RATE_TOLERANCE = 0.02;

export function fmtOf(c: MatrixCase): Fmt {
  return { rate: c.rate, channels: c.channels, format: 'S16' };
}

export function frames(c: MatrixCase): number {
  return Math.round(c.rate * c.seconds);
}

/** Frames a playback of the case leaves on the host: the last period padded with silence. */
export function paddedFrames(c: MatrixCase): number {
  return Math.ceil(frames(c) / c.period) * c.period;
}

export function command(verb: 'play' | 'rec' | 'loop', c: MatrixCase): string {
  const opts = `-r ${c.rate} -c ${c.channels} -p ${c.period} -b ${c.buffer}`;
  return verb === 'play' ? `pcm play ${TONE_HZ} ${c.seconds} ${opts}` : `pcm ${verb} ${c.seconds} ${opts}`;
}

export type Pcm = NonNullable<RunResult['pcm']>;

export function near(actual: number, want: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - want) <= tol, `${what}: ${actual}, want ${want} ± ${tol}`);
}

/**
 * What checkRun's failures on timing say (a real clock's runner, matrix-portaudio.test.ts, tells
 * them from the others by it): the real-time rate, and the frames-and-xruns check.
 */
export const TIMING_MISSES = ['(real time ±2 %)', ': frames and xruns: '] as const;
const [RATE_MISS, XRUN_MISS] = TIMING_MISSES;

/** Ran, exact frames, no xrun, and the stream's clock at the nominal rate ±2 %. */
export function checkRun(verb: 'play' | 'rec' | 'loop', c: MatrixCase, r: RunResult): Pcm {
  const where = `${verb} ${c.label}`;
  assert.equal(r.shellStatus, null, `${where}: ${r.output}`);
  assert.ok(r.pcm && r.pcm.verb === verb, `${where}: no summary line:\n${r.output}`);
  const p = r.pcm;
  assert.deepEqual([p.num('rate'), p.num('ch'), p.str('fmt')], [c.rate, c.channels, 'S16'], where);
  const n = frames(c);
  const rates = verb === 'loop' ? ['rec_rate_hz', 'play_rate_hz'] : ['rate_hz'];
  if (verb === 'loop') {
    assert.deepEqual([p.num('rec_frames'), p.num('play_frames'), p.num('rec_xruns'), p.num('play_xruns')], [n, n, 0, 0], `${where}${XRUN_MISS}${p.raw}`);
  } else {
    assert.deepEqual([p.num('frames'), p.num('xruns')], [n, 0], `${where}${XRUN_MISS}${p.raw}`);
  }
  for (const k of rates) near(p.num(k), c.rate, c.rate * RATE_TOLERANCE, `${where}: ${k} ${RATE_MISS}`);
  return p;
}

/** What the guest measured of a 1 kHz capture: the frequency and the level. */
export function checkHeard(c: MatrixCase, p: Pcm, what: string): void {
  near(p.num('freq'), TONE_HZ, 1, `${what} ${c.label}: guest-measured frequency`);
  near(p.num('rms'), SINE_RMS, SINE_RMS * 0.03, `${what} ${c.label}: guest-measured RMS`);
}

/**
 * A played tone as the host received it: every channel at 1 kHz, at the right level, its
 * non-silent span exactly the frames played (the tool's sine starts at 0: first to last non-zero
 * sample is frames - 2),
 * and no sample-to-sample jump a dropped or repeated stretch would make.
 */
export function checkTone(bytes: Uint8Array, c: MatrixCase, what: string): Analysis {
  const f = fmtOf(c);
  let a0: Analysis | null = null;
  for (let ch = 0; ch < c.channels; ch++) {
    const a = analyze(bytes, f, ch);
    near(a.freqHz, TONE_HZ, 1, `${what}: channel ${ch} frequency`);
    near(a.rms, SINE_RMS, SINE_RMS * 0.02, `${what}: channel ${ch} RMS`);
    if (a0) assert.deepEqual([a.firstNonZero, a.lastNonZero], [a0.firstNonZero, a0.lastNonZero], `${what}: channels differ`);
    a0 ??= a;
  }
  assert.equal(a0!.lastNonZero - a0!.firstNonZero, frames(c) - 2, `${what}: the tone spans exactly the frames played (the first is 0)`);
  return a0!;
}
