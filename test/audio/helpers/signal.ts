// Test signals and their analysis, for any SampleFormat (through src/audio/pcm.ts).
import type { SampleFormat } from '../../../src/audio/backend';
import { sampleBytes } from '../../../src/audio/backend';
import { readSample, writeSample } from '../../../src/audio/pcm';

export interface Fmt {
  rate: number;
  channels: number;
  format: SampleFormat;
}

/** `frames` frames of a sine (same on every channel), starting at frame `from` of the wave. */
export function sine(f: Fmt, freq: number, frames: number, amp = 0.5, phase = 0, from = 0): Uint8Array {
  const sb = sampleBytes(f.format);
  const out = new Uint8Array(frames * sb * f.channels);
  for (let i = 0; i < frames; i++) {
    const v = amp * Math.sin((2 * Math.PI * freq * (i + from)) / f.rate + phase);
    for (let c = 0; c < f.channels; c++) writeSample(out, (i * f.channels + c) * sb, f.format, v);
  }
  return out;
}

export interface Analysis {
  frames: number;
  /** RMS and peak over the non-silent span (first to last non-zero sample). */
  rms: number;
  peak: number;
  /** From rising zero crossings, interpolated between samples. */
  freqHz: number;
  firstNonZero: number;
  lastNonZero: number;
}

/** One channel's samples as floats. */
export function samples(bytes: Uint8Array, f: Omit<Fmt, 'rate'>, channel = 0): Float64Array {
  const sb = sampleBytes(f.format);
  const n = Math.floor(bytes.length / (sb * f.channels));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = readSample(bytes, (i * f.channels + channel) * sb, f.format);
  return out;
}

export function analyze(bytes: Uint8Array, f: Fmt, channel = 0): Analysis {
  const x = samples(bytes, f, channel);
  let first = -1;
  let last = -1;
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== 0) {
      if (first < 0) first = i;
      last = i;
    }
  }
  let sq = 0;
  let peak = 0;
  let firstCross = -1;
  let lastCross = -1;
  let crossings = 0;
  for (let i = Math.max(first, 0); i <= last; i++) {
    sq += x[i] * x[i];
    peak = Math.max(peak, Math.abs(x[i]));
    if (i > first && x[i - 1] < 0 && x[i] >= 0) {
      const t = i - 1 + -x[i - 1] / (x[i] - x[i - 1]);
      if (firstCross < 0) firstCross = t;
      lastCross = t;
      crossings++;
    }
  }
  const span = first >= 0 ? last - first + 1 : 0;
  return {
    frames: x.length,
    rms: span ? Math.sqrt(sq / span) : 0,
    peak,
    freqHz: crossings > 1 ? ((crossings - 1) * f.rate) / (lastCross - firstCross) : 0,
    firstNonZero: first,
    lastNonZero: last,
  };
}

/** Where `needle` first occurs in `hay` (byte-exact), or -1. */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.length).indexOf(
    Buffer.from(needle.buffer, needle.byteOffset, needle.length),
    from,
  );
}

export interface RobustAnalysis {
  /** From the median cycle length: a dropout shifts one cycle, not the estimate. */
  freqHz: number;
  /** RMS of the signal with dropouts (runs of more than 8 exact zeros) left out. */
  rms: number;
  /** Cycles more than 3 % off the median: dropouts or discontinuities. */
  glitches: number;
  cycles: number;
}

/** Analysis for a real-time path where the sound server may drop out under system load. */
export function analyzeRobust(bytes: Uint8Array, f: Fmt, channel = 0): RobustAnalysis {
  const x = samples(bytes, f, channel);
  const crossings: number[] = [];
  for (let i = 1; i < x.length; i++) {
    if (x[i - 1] < 0 && x[i] >= 0) crossings.push(i - 1 + -x[i - 1] / (x[i] - x[i - 1]));
  }
  const periods = crossings.slice(1).map((c, i) => c - crossings[i]);
  const sorted = [...periods].sort((a, b) => a - b);
  const median = sorted.length ? sorted[sorted.length >> 1] : 0;
  let sq = 0;
  let n = 0;
  let zeros = 0;
  for (let i = 0; i <= x.length; i++) {
    if (i < x.length && x[i] === 0) {
      zeros++;
      continue;
    }
    if (zeros > 0 && zeros <= 8) n += zeros; // real zero samples of the wave count (as 0)
    zeros = 0;
    if (i < x.length) {
      sq += x[i] * x[i];
      n++;
    }
  }
  return {
    freqHz: median ? f.rate / median : 0,
    rms: n ? Math.sqrt(sq / n) : 0,
    glitches: periods.filter((p) => Math.abs(p - median) > median * 0.03).length,
    cycles: periods.length,
  };
}
