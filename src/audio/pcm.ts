// PCM sample conversion between bytes and linear floats (-1..1), little-endian as virtio-snd and
// WAV store them. Byte-wise integer math and one module-level scratch word for floats, so that
// reading from any offset of any buffer (guest RAM included) is allocation-free and alignment-free.

import type { PcmParams, SampleFormat } from './backend';
import { frameBytes } from './backend';

const f32 = new Float32Array(1);
const f32b = new Uint8Array(f32.buffer);
const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
// Typed arrays use the host's byte order; PCM is little-endian. Index map for the scratch words.
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const i4 = LE ? [0, 1, 2, 3] : [3, 2, 1, 0];
const i8 = LE ? [0, 1, 2, 3, 4, 5, 6, 7] : [7, 6, 5, 4, 3, 2, 1, 0];

export function readF32(src: Uint8Array, off: number): number {
  f32b[i4[0]] = src[off];
  f32b[i4[1]] = src[off + 1];
  f32b[i4[2]] = src[off + 2];
  f32b[i4[3]] = src[off + 3];
  return f32[0];
}

export function writeF32(dst: Uint8Array, off: number, v: number): void {
  f32[0] = v;
  dst[off] = f32b[i4[0]];
  dst[off + 1] = f32b[i4[1]];
  dst[off + 2] = f32b[i4[2]];
  dst[off + 3] = f32b[i4[3]];
}

export function readF64(src: Uint8Array, off: number): number {
  for (let i = 0; i < 8; i++) f64b[i8[i]] = src[off + i];
  return f64[0];
}

export function readS16(src: Uint8Array, off: number): number {
  return ((src[off] | (src[off + 1] << 8)) << 16) >> 16;
}

export function readS24(src: Uint8Array, off: number): number {
  return ((src[off] | (src[off + 1] << 8) | (src[off + 2] << 16)) << 8) >> 8;
}

export function readS32(src: Uint8Array, off: number): number {
  return src[off] | (src[off + 1] << 8) | (src[off + 2] << 16) | (src[off + 3] << 24);
}

/** One sample of `format` at src[off] as a float in -1..1 (FLOAT passes through unclamped). */
export function readSample(src: Uint8Array, off: number, format: SampleFormat): number {
  if (format === 'S16') return readS16(src, off) / 32768;
  if (format === 'S32') return readS32(src, off) / 2147483648;
  return readF32(src, off);
}

/** Writes `v` (-1..1, clamped; NaN → 0) as one sample of `format` at dst[off]. */
export function writeSample(dst: Uint8Array, off: number, format: SampleFormat, v: number): void {
  if (!(v === v)) v = 0;
  if (format === 'FLOAT') {
    writeF32(dst, off, v > 1 ? 1 : v < -1 ? -1 : v);
    return;
  }
  if (format === 'S16') {
    let s = Math.round(v * 32768);
    s = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
    dst[off] = s & 0xff;
    dst[off + 1] = (s >> 8) & 0xff;
    return;
  }
  // S32: float64 holds every int32 exactly, so decode → encode round-trips bit for bit.
  let s = Math.round(v * 2147483648);
  s = s > 2147483647 ? 2147483647 : s < -2147483648 ? -2147483648 : s;
  s |= 0;
  dst[off] = s & 0xff;
  dst[off + 1] = (s >>> 8) & 0xff;
  dst[off + 2] = (s >>> 16) & 0xff;
  dst[off + 3] = (s >>> 24) & 0xff;
}

/** Frames per second × bytes per frame. */
export function bytesPerSecond(p: Pick<PcmParams, 'rate' | 'format' | 'channels'>): number {
  return p.rate * frameBytes(p);
}

/** 'S16 stereo 48000 Hz' — for messages. */
export function describeParams(p: Pick<PcmParams, 'rate' | 'format' | 'channels'>): string {
  const ch = p.channels === 1 ? 'mono' : p.channels === 2 ? 'stereo' : `${p.channels} channels`;
  return `${p.format} ${ch} ${p.rate} Hz`;
}
