// Peak and RMS meters for the PCM that passes through a stream, over fixed windows of the stream's
// own audio time (50 ms of frames), so a paused guest freezes the meter instead of averaging in
// wall-clock silence. Allocation-free: views over the caller's staging buffer are made once.

import { VIRTIO_SND_PCM_FMT_FLOAT, VIRTIO_SND_PCM_FMT_S16, VIRTIO_SND_PCM_FMT_S32 } from './snd-proto';

export const LEVEL_WINDOW_SECONDS = 0.05;

export class LevelMeter {
  /** The last complete window's values, linear 0..1. */
  peak = 0;
  rms = 0;
  private accPeak = 0;
  private accSquares = 0;
  private accSamples = 0;
  private windowSamples = 1;
  private format = VIRTIO_SND_PCM_FMT_S16;
  private readonly s16: Int16Array;
  private readonly s32: Int32Array;
  private readonly f32: Float32Array;

  /** `staging` is the buffer whose bytes measure() will be pointed at (offset 0, 4-byte aligned). */
  constructor(staging: Uint8Array) {
    const buf = staging.buffer;
    const off = staging.byteOffset;
    this.s16 = new Int16Array(buf, off, staging.byteLength >> 1);
    this.s32 = new Int32Array(buf, off, staging.byteLength >> 2);
    this.f32 = new Float32Array(buf, off, staging.byteLength >> 2);
  }

  /** New stream parameters: restart the window. */
  configure(format: number, rate: number, channels: number): void {
    this.format = format;
    this.windowSamples = Math.max(1, Math.round(rate * LEVEL_WINDOW_SECONDS) * channels);
    this.clear();
  }

  clear(): void {
    this.peak = 0;
    this.rms = 0;
    this.accPeak = 0;
    this.accSquares = 0;
    this.accSamples = 0;
  }

  /** Accounts `bytes` bytes at the start of the staging buffer (whole samples). */
  measure(bytes: number): void {
    if (this.format === VIRTIO_SND_PCM_FMT_S16) this.run(this.s16, bytes >> 1, 1 / 32768);
    else if (this.format === VIRTIO_SND_PCM_FMT_S32) this.run(this.s32, bytes >> 2, 1 / 2147483648);
    else if (this.format === VIRTIO_SND_PCM_FMT_FLOAT) this.run(this.f32, bytes >> 2, 1);
  }

  private run(samples: Int16Array | Int32Array | Float32Array, n: number, scale: number): void {
    let peak = this.accPeak;
    let squares = this.accSquares;
    let count = this.accSamples;
    for (let i = 0; i < n; i++) {
      let v = samples[i] * scale;
      if (v < 0) v = -v;
      if (!(v <= 1)) v = 1; // NaN and out-of-range floats count as full scale
      if (v > peak) peak = v;
      squares += v * v;
      if (++count >= this.windowSamples) {
        this.peak = peak;
        this.rms = Math.sqrt(squares / count);
        peak = 0;
        squares = 0;
        count = 0;
      }
    }
    this.accPeak = peak;
    this.accSquares = squares;
    this.accSamples = count;
  }
}
