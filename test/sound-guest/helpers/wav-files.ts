// WAV files on the test's side of the WAV backend: fixtures for the guest to capture, and the
// output files the backend writes, told apart per guest command.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { SampleFormat } from '../../../src/audio/backend';
import { sampleBytes } from '../../../src/audio/backend';
import { writeSample } from '../../../src/audio/pcm';
import { readWavInfo, wavHeader } from '../../../src/audio/wav-format';
import type { Fmt } from '../../audio/helpers/signal';

export interface WavData extends Fmt {
  path: string;
  frames: number;
  data: Uint8Array;
}

/** Reads a WAV file the backend wrote (S16, S32 or float32). */
export function readWav(path: string): WavData {
  const info = readWavInfo(path);
  const format: SampleFormat | null = info.encoding === 'S16' ? 'S16' : info.encoding === 'S32' ? 'S32' : info.encoding === 'F32' ? 'FLOAT' : null;
  if (!format) throw new Error(`${path}: ${info.encoding} is not a format the sound card plays`);
  const all = readFileSync(path);
  const data = new Uint8Array(all.buffer, all.byteOffset + info.dataOffset, info.dataBytes);
  return { path, rate: info.rate, channels: info.channels, format, frames: info.frames, data };
}

export function writeWav(path: string, f: Fmt, data: Uint8Array): void {
  writeFileSync(path, Buffer.concat([wavHeader(f.format, f.channels, f.rate, data.length), data]));
}

/**
 * A sine (same on every channel) plus a deterministic ±1-step dither, so that no two stretches of
 * the file are alike: a byte-exact search finds exactly one place, while the tone's frequency and
 * RMS stay what a plain sine has (the dither is ~90 dB down).
 */
export function ditheredSine(f: Fmt, freq: number, frames: number, amp = 0.5): Uint8Array {
  const sb = sampleBytes(f.format);
  const out = new Uint8Array(frames * sb * f.channels);
  const step = f.format === 'S16' ? 1 / 32768 : 1 / 2147483648;
  let seed = 0x2545f491;
  for (let i = 0; i < frames; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) | 0;
    const d = ((seed >>> 16) % 3) - 1; // -1, 0, 1 steps
    const v = amp * Math.sin((2 * Math.PI * freq * i) / f.rate) + d * step;
    for (let c = 0; c < f.channels; c++) writeSample(out, (i * f.channels + c) * sb, f.format, v);
  }
  return out;
}

/** The files one `wav:PATH` output backend writes: PATH, then PATH-2.wav, PATH-3.wav, ... */
function outputFiles(base: string): string[] {
  const dir = dirname(base);
  const stem = basename(base).replace(/\.wav$/i, '');
  const re = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)\\.wav$`);
  const numbered = readdirSync(dir)
    .map((n) => ({ n, m: re.exec(n) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]))
    .map((x) => join(dir, x.n));
  return existsSync(base) ? [base, ...numbered] : numbered;
}

/** What one command added to a `wav:` output: a new file, or the appended part of the last one. */
export interface OutputPart extends WavData {
  /** Data bytes the file already held before (0 for a new file). */
  offset: number;
}

/**
 * Tells apart what each guest command wrote through one `wav:PATH` output backend, whichever way
 * the backend numbered it (a new file when the format changes, appended when it stays): take a
 * snapshot, run the command, then `added()` is exactly that command's audio.
 */
export class OutputWatch {
  private sizes = new Map<string, number>();

  constructor(readonly base: string) {
    this.snapshot();
  }

  snapshot(): void {
    this.sizes.clear();
    for (const p of outputFiles(this.base)) this.sizes.set(p, readWavInfo(p).dataBytes);
  }

  /** The audio written since the last snapshot; throws unless exactly one file changed. */
  added(): OutputPart {
    const changed: OutputPart[] = [];
    for (const p of outputFiles(this.base)) {
      const w = readWav(p);
      const before = this.sizes.get(p) ?? 0;
      if (w.data.length !== before) changed.push({ ...w, offset: before, frames: (w.data.length - before) / (sampleBytes(w.format) * w.channels), data: w.data.subarray(before) });
    }
    this.snapshot();
    if (changed.length !== 1) throw new Error(`expected one output file to change, got ${changed.length}: ${changed.map((c) => c.path).join(', ') || 'none'}`);
    return changed[0];
  }
}

/** Longest run of frames whose samples are all exactly zero, between the first and last non-silent frame. */
export function longestSilence(w: Fmt & { data: Uint8Array }): number {
  const fb = sampleBytes(w.format) * w.channels;
  const frames = Math.floor(w.data.length / fb);
  const silent = (i: number) => {
    for (let b = i * fb; b < (i + 1) * fb; b++) if (w.data[b] !== 0) return false;
    return true;
  };
  let first = 0;
  while (first < frames && silent(first)) first++;
  let last = frames - 1;
  while (last > first && silent(last)) last--;
  let best = 0;
  let run = 0;
  for (let i = first; i <= last; i++) {
    run = silent(i) ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/** Largest jump between neighbouring samples of one channel (a sine of amplitude A at f moves at most 2πfA/rate). */
export function largestStep(x: Float64Array): number {
  let m = 0;
  for (let i = 1; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - x[i - 1]));
  return m;
}
