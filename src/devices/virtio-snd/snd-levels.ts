// Peak and RMS meters for the PCM that passes through a stream, over windows of the stream's own
// audio time (at least 50 ms of frames), so a paused guest freezes the meter instead of averaging
// in wall-clock silence. Each block is measured by the shared helper (src/audio/levels.ts) and
// folded into the window; nothing is allocated per block.

import type { SampleFormat } from '../../audio/backend';
import { createLevels, measureLevels } from '../../audio/levels';

export const LEVEL_WINDOW_SECONDS = 0.05;

export class LevelMeter {
  /** The last complete window's values, linear 0..1. */
  peak = 0;
  rms = 0;
  private accPeak = 0;
  private accSquares = 0;
  private accFrames = 0;
  private windowFrames = 1;
  private format: SampleFormat = 'S16';
  private channels = 1;
  private readonly block = createLevels();

  /** New stream parameters: restart the window. */
  configure(format: SampleFormat, rate: number, channels: number): void {
    this.format = format;
    this.channels = channels;
    this.windowFrames = Math.max(1, Math.round(rate * LEVEL_WINDOW_SECONDS));
    this.clear();
  }

  clear(): void {
    this.peak = 0;
    this.rms = 0;
    this.accPeak = 0;
    this.accSquares = 0;
    this.accFrames = 0;
  }

  /** Accounts src[0, bytes) (whole frames). */
  measure(src: Uint8Array, bytes: number): void {
    const b = measureLevels(src, this.format, this.channels, this.block, 0, bytes);
    if (b.frames === 0) return;
    if (b.peak > this.accPeak) this.accPeak = b.peak;
    this.accSquares += b.rms * b.rms * b.frames;
    this.accFrames += b.frames;
    if (this.accFrames >= this.windowFrames) {
      this.peak = this.accPeak;
      this.rms = Math.sqrt(this.accSquares / this.accFrames);
      this.accPeak = 0;
      this.accSquares = 0;
      this.accFrames = 0;
    }
  }
}
