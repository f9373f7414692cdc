// The WAV input source: reads any WAV readWavInfo accepts, converts it to the stream's format,
// channel count and rate, and gives silence after its end. The file is read in windows of whole
// frames (never loaded whole). Rate conversion is linear interpolation at an exact rational
// position (output frame k sits at source frame k × srcRate / dstRate, kept as integer quotient and
// remainder), so equal rates copy samples bit for bit and long runs never drift.
//
// Channels: same count → as is; to mono → the mean of all source channels; mono → every channel
// gets the one source channel; more source channels than wanted → the first ones.

import { closeSync, openSync, readSync } from 'node:fs';
import type { PcmParams } from './backend';
import { frameBytes, sampleBytes } from './backend';
import type { PacedSource } from './paced';
import { readF32, readF64, readS16, readS24, readS32, writeSample } from './pcm';
import type { WavEncoding, WavInfo } from './wav-format';
import { readWavInfo } from './wav-format';
import { logger } from '../log';

const log = logger('audio');

const WINDOW_BYTES = 65536;

function decode(src: Uint8Array, off: number, e: WavEncoding): number {
  switch (e) {
    case 'U8':
      return (src[off] - 128) / 128;
    case 'S16':
      return readS16(src, off) / 32768;
    case 'S24':
      return readS24(src, off) / 8388608;
    case 'S32':
      return readS32(src, off) / 2147483648;
    case 'F32':
      return readF32(src, off);
    default:
      return readF64(src, off);
  }
}

export class WavReader implements PacedSource {
  readonly info: WavInfo;
  error: string | null = null;
  private fd: number;
  private readonly window: Buffer;
  private winFirst = 0; // first source frame in the window
  private winFrames = 0;
  private readonly sb: number;
  private readonly fb: number;
  // Output position: source frame `idx` plus rem / dstRate of a frame.
  private k = 0;
  private idx = 0;
  private rem = 0;
  private s0Idx = -2;
  private readonly s0: Float64Array;
  private readonly s1: Float64Array;

  constructor(
    readonly path: string,
    private readonly params: PcmParams,
  ) {
    this.info = readWavInfo(path);
    this.fd = openSync(path, 'r');
    const block = this.info.blockAlign;
    this.window = Buffer.alloc(Math.max(block, Math.floor(WINDOW_BYTES / block) * block));
    this.sb = sampleBytes(params.format);
    this.fb = frameBytes(params);
    this.s0 = new Float64Array(this.info.channels);
    this.s1 = new Float64Array(this.info.channels);
  }

  /** True once every source frame has been produced (what follows is silence). */
  get ended(): boolean {
    return this.idx >= this.info.frames;
  }

  produce(dst: Uint8Array, len: number): void {
    const frames = Math.floor(len / this.fb);
    const { rate: dstRate, channels: dch, format } = this.params;
    const srcRate = this.info.rate;
    const sch = this.info.channels;
    const s0 = this.s0;
    const s1 = this.s1;
    let off = 0;
    for (let i = 0; i < frames; i++) {
      if (this.idx >= this.info.frames) {
        dst.fill(0, off, frames * this.fb);
        this.skip(frames - i);
        return;
      }
      this.load(this.idx);
      const frac = this.rem / dstRate;
      for (let c = 0; c < dch; c++) {
        let v: number;
        if (dch === 1 && sch > 1) {
          let a = 0;
          let b = 0;
          for (let j = 0; j < sch; j++) {
            a += s0[j];
            b += s1[j];
          }
          v = (a + (b - a) * frac) / sch;
        } else {
          const j = c < sch ? c : 0;
          v = s0[j] + (s1[j] - s0[j]) * frac;
        }
        writeSample(dst, off + c * this.sb, format, v);
      }
      off += this.fb;
      this.k++;
      this.rem += srcRate;
      while (this.rem >= dstRate) {
        this.rem -= dstRate;
        this.idx++;
      }
    }
  }

  skip(frames: number): void {
    this.k += frames;
    // k × srcRate stays an exact integer in a double for days of audio.
    const t = this.k * this.info.rate;
    this.idx = Math.floor(t / this.params.rate);
    this.rem = t - this.idx * this.params.rate;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** Makes s0/s1 the source frames idx and idx + 1 (zero past the end). */
  private load(idx: number): void {
    if (idx === this.s0Idx) return;
    if (idx === this.s0Idx + 1) this.s0.set(this.s1);
    else this.frame(idx, this.s0);
    this.frame(idx + 1, this.s1);
    this.s0Idx = idx;
  }

  private frame(idx: number, out: Float64Array): void {
    if (idx >= this.info.frames || this.fd < 0) {
      out.fill(0);
      return;
    }
    if (idx < this.winFirst || idx >= this.winFirst + this.winFrames) this.fill(idx);
    if (idx >= this.winFirst + this.winFrames) {
      out.fill(0);
      return;
    }
    const e = this.info.encoding;
    const step = this.info.blockAlign / this.info.channels;
    let off = (idx - this.winFirst) * this.info.blockAlign;
    for (let c = 0; c < out.length; c++, off += step) out[c] = decode(this.window, off, e);
  }

  private fill(idx: number): void {
    const block = this.info.blockAlign;
    const want = Math.min(this.window.length, (this.info.frames - idx) * block);
    let got = 0;
    try {
      got = readSync(this.fd, this.window, 0, want, this.info.dataOffset + idx * block);
    } catch (e) {
      // A file that vanished or shrank under us: the rest is silence, said once.
      if (!this.error) {
        this.error = `reading ${this.path}: ${(e as Error).message}; the rest is silence`;
        log.warn(this.error);
      }
    }
    this.winFirst = idx;
    this.winFrames = Math.floor(got / block);
  }
}
