// RIFF/WAVE headers: the one we write (PCM 16/32-bit, IEEE float 32) and the ones we read (PCM
// 8/16/24/32-bit, IEEE float 32/64, plain or WAVE_FORMAT_EXTENSIBLE).
//
// Written files use format tag 1 for S16 and S32 (every reader we know takes 32-bit tag-1 PCM,
// Python's wave module included, which rejects EXTENSIBLE) and tag 3 with a `fact` chunk for
// float, as the RIFF spec asks of non-PCM formats.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { SampleFormat } from './backend';
import { sampleBytes } from './backend';

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Largest data chunk a 32-bit RIFF size can describe (leaving room for the header). */
export const WAV_MAX_DATA = 0xffffffff - 4096;

export function wavHeaderBytes(format: SampleFormat): number {
  return format === 'FLOAT' ? 58 : 44;
}

/** The header for `dataBytes` bytes of `format` audio; rewritten with the final sizes on close. */
export function wavHeader(format: SampleFormat, channels: number, rate: number, dataBytes: number): Buffer {
  const float = format === 'FLOAT';
  const sb = sampleBytes(format);
  const h = Buffer.alloc(wavHeaderBytes(format));
  let o = 0;
  const str = (s: string) => {
    h.write(s, o, 'latin1');
    o += 4;
  };
  const u32 = (v: number) => {
    h.writeUInt32LE(v >>> 0, o);
    o += 4;
  };
  const u16 = (v: number) => {
    h.writeUInt16LE(v, o);
    o += 2;
  };
  str('RIFF');
  u32(h.length - 8 + dataBytes);
  str('WAVE');
  str('fmt ');
  u32(float ? 18 : 16);
  u16(float ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM);
  u16(channels);
  u32(rate);
  u32(rate * channels * sb);
  u16(channels * sb);
  u16(sb * 8);
  if (float) {
    u16(0); // cbSize
    str('fact');
    u32(4);
    u32(Math.floor(dataBytes / (channels * sb)));
  }
  str('data');
  u32(dataBytes);
  return h;
}

export type WavEncoding = 'U8' | 'S16' | 'S24' | 'S32' | 'F32' | 'F64';

export interface WavInfo {
  encoding: WavEncoding;
  channels: number;
  rate: number;
  blockAlign: number;
  dataOffset: number;
  dataBytes: number;
  frames: number;
}

function encodingOf(tag: number, bits: number): WavEncoding | null {
  if (tag === WAVE_FORMAT_PCM) {
    if (bits === 8) return 'U8';
    if (bits === 16) return 'S16';
    if (bits === 24) return 'S24';
    if (bits === 32) return 'S32';
  } else if (tag === WAVE_FORMAT_IEEE_FLOAT) {
    if (bits === 32) return 'F32';
    if (bits === 64) return 'F64';
  }
  return null;
}

export function encodingBytes(e: WavEncoding): number {
  return e === 'U8' ? 1 : e === 'S16' ? 2 : e === 'S24' ? 3 : e === 'F64' ? 8 : 4;
}

/** Reads the header of the WAV file at `path`; throws an Error saying what is wrong. */
export function readWavInfo(path: string): WavInfo {
  const fd = openSync(path, 'r');
  try {
    return parseWav(fd, fstatSync(fd).size, path);
  } finally {
    closeSync(fd);
  }
}

function parseWav(fd: number, size: number, path: string): WavInfo {
  const head = Buffer.alloc(12);
  if (readSync(fd, head, 0, 12, 0) < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error(`${path} is not a RIFF/WAVE file`);
  }
  const ck = Buffer.alloc(40);
  let pos = 12;
  let fmt: Omit<WavInfo, 'dataOffset' | 'dataBytes' | 'frames'> | null = null;
  while (pos + 8 <= size) {
    const n = readSync(fd, ck, 0, 8, pos);
    if (n < 8) break;
    const id = ck.toString('latin1', 0, 4);
    const len = ck.readUInt32LE(4);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (len < 16 || readSync(fd, ck, 0, Math.min(len, 40), body) < 16) throw new Error(`${path}: truncated fmt chunk`);
      let tag = ck.readUInt16LE(0);
      const channels = ck.readUInt16LE(2);
      const rate = ck.readUInt32LE(4);
      const blockAlign = ck.readUInt16LE(12);
      const bits = ck.readUInt16LE(14);
      if (tag === WAVE_FORMAT_EXTENSIBLE) {
        if (len < 40) throw new Error(`${path}: truncated WAVE_FORMAT_EXTENSIBLE fmt chunk`);
        tag = ck.readUInt16LE(24); // the sub-format GUID starts with the plain format tag
      }
      const encoding = encodingOf(tag, bits);
      if (!encoding) throw new Error(`${path}: unsupported WAV encoding (format tag ${tag}, ${bits} bits)`);
      if (channels < 1 || rate < 1 || blockAlign !== channels * encodingBytes(encoding)) {
        throw new Error(`${path}: inconsistent fmt chunk (${channels} channels, ${rate} Hz, block ${blockAlign})`);
      }
      fmt = { encoding, channels, rate, blockAlign };
    } else if (id === 'data') {
      if (!fmt) throw new Error(`${path}: data chunk before fmt chunk`);
      // A writer that died before fixing its header leaves 0 or 0xffffffff: trust the file size.
      const rest = size - body;
      const dataBytes = len === 0 || len > rest ? rest : len;
      const frames = Math.floor(dataBytes / fmt.blockAlign);
      return { ...fmt, dataOffset: body, dataBytes: frames * fmt.blockAlign, frames };
    }
    pos = body + len + (len & 1);
  }
  throw new Error(`${path}: no ${fmt ? 'data' : 'fmt'} chunk`);
}
