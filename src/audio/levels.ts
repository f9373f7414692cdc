// Peak and RMS of a block of PCM bytes, per channel and overall, linear 0..1 (full scale = 1).
// Allocation-free: the caller keeps one Levels object and passes it to every call. Samples are
// read byte-wise, so the block may sit at any offset of any buffer (guest RAM, a ring, a file
// chunk) without alignment or a typed-array view per call.

import type { SampleFormat } from './backend';
import { sampleBytes } from './backend';
import { readF32, readS16, readS32 } from './pcm';

export interface Levels {
  /** Overall: the largest |sample| of any channel, and the RMS over all samples. */
  peak: number;
  rms: number;
  /** Whole frames measured (a trailing partial frame is ignored). */
  frames: number;
  /** Per channel, indices 0..channels-1 valid after measureLevels. */
  readonly channelPeak: Float64Array;
  readonly channelRms: Float64Array;
}

export const MAX_LEVEL_CHANNELS = 8;

export function createLevels(maxChannels = MAX_LEVEL_CHANNELS): Levels {
  return {
    peak: 0,
    rms: 0,
    frames: 0,
    channelPeak: new Float64Array(maxChannels),
    channelRms: new Float64Array(maxChannels),
  };
}

/**
 * Measures src[offset, offset + length) as interleaved frames of `channels` samples of `format`.
 * NaN and out-of-range floats count as full scale (a broken stream should show, not hide).
 * Channels beyond out's capacity are folded into the overall values only.
 */
export function measureLevels(
  src: Uint8Array,
  format: SampleFormat,
  channels: number,
  out: Levels,
  offset = 0,
  length = src.length - offset,
): Levels {
  const sb = sampleBytes(format);
  const ch = channels > 0 ? channels | 0 : 1;
  const fb = sb * ch;
  const end = Math.min(src.length, offset + Math.max(0, length));
  const frames = end > offset ? Math.floor((end - offset) / fb) : 0;
  const perChannel = Math.min(ch, out.channelPeak.length);
  out.channelPeak.fill(0);
  out.channelRms.fill(0);
  let peak = 0;
  let squares = 0;
  for (let c = 0; c < ch; c++) {
    let cPeak = 0;
    let cSquares = 0;
    let off = offset + c * sb;
    for (let i = 0; i < frames; i++, off += fb) {
      let v: number;
      if (format === 'S16') v = readS16(src, off) * (1 / 32768);
      else if (format === 'S32') v = readS32(src, off) * (1 / 2147483648);
      else v = readF32(src, off);
      if (v < 0) v = -v;
      if (!(v <= 1)) v = 1;
      if (v > cPeak) cPeak = v;
      cSquares += v * v;
    }
    if (c < perChannel) {
      out.channelPeak[c] = cPeak;
      out.channelRms[c] = frames ? Math.sqrt(cSquares / frames) : 0;
    }
    if (cPeak > peak) peak = cPeak;
    squares += cSquares;
  }
  out.peak = peak;
  out.rms = frames ? Math.sqrt(squares / (frames * ch)) : 0;
  out.frames = frames;
  return out;
}
