// Encoding replies: fuse_attr, fuse_entry_out, fuse_attr_out, dirents, into a request's reply
// buffer (little-endian, at byte offsets given by fuse.h).

import type { BigIntStats } from 'node:fs';
import { DIRENT_HEADER, direntAlign, ENTRY_OUT_SIZE } from './abi';

const NS = 1000000000n;
const U32 = 0xffffffffn;

/** A validity timeout as FUSE carries it: whole seconds and nanoseconds. */
export interface Timeout {
  sec: number;
  nsec: number;
}

export function timeout(seconds: number): Timeout {
  const s = Math.max(0, seconds);
  return { sec: Math.floor(s), nsec: Math.round((s - Math.floor(s)) * 1e9) % 1000000000 };
}

function split(ns: bigint): [bigint, number] {
  let nsec = ns % NS;
  if (nsec < 0n) nsec += NS;
  return [(ns - nsec) / NS, Number(nsec)];
}

function u32(v: bigint): number {
  return Number(v > U32 ? U32 : v < 0n ? 0n : v);
}

export class ReplyWriter {
  dv: DataView;

  constructor(public buf: Uint8Array) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  u32(at: number, v: number): void {
    this.dv.setUint32(at, v >>> 0, true);
  }
  u64(at: number, v: number | bigint): void {
    this.dv.setBigUint64(at, BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(Math.trunc(v))), true);
  }

  /** struct fuse_attr at `at` from host stats (88 bytes). */
  attr(at: number, st: BigIntStats): void {
    const [as, ans] = split(st.atimeNs);
    const [ms, mns] = split(st.mtimeNs);
    const [cs, cns] = split(st.ctimeNs);
    this.u64(at, st.ino);
    this.u64(at + 8, st.size);
    this.u64(at + 16, st.blocks);
    this.u64(at + 24, as);
    this.u64(at + 32, ms);
    this.u64(at + 40, cs);
    this.u32(at + 48, ans);
    this.u32(at + 52, mns);
    this.u32(at + 56, cns);
    this.u32(at + 60, u32(st.mode));
    this.u32(at + 64, u32(st.nlink));
    this.u32(at + 68, u32(st.uid));
    this.u32(at + 72, u32(st.gid));
    this.u32(at + 76, u32(st.rdev)); // new_encode_dev for majors < 4096, as glibc's makedev
    this.u32(at + 80, u32(st.blksize));
    this.u32(at + 84, 0);
  }

  /** struct fuse_entry_out at `at` (128 bytes). nodeid 0 with st null: a zeroed entry. */
  entry(at: number, nodeid: number, st: BigIntStats | null, valid: Timeout): void {
    this.buf.fill(0, at, at + ENTRY_OUT_SIZE);
    if (st === null) return;
    this.u64(at, nodeid);
    this.u64(at + 8, 0); // generation: nodeids are never reused
    this.u64(at + 16, valid.sec);
    this.u64(at + 24, valid.sec);
    this.u32(at + 32, valid.nsec);
    this.u32(at + 36, valid.nsec);
    this.attr(at + 40, st);
  }

  /** struct fuse_attr_out at `at` (104 bytes). */
  attrOut(at: number, st: BigIntStats, valid: Timeout): void {
    this.u64(at, valid.sec);
    this.u32(at + 8, valid.nsec);
    this.u32(at + 12, 0);
    this.attr(at + 16, st);
  }

  /** struct fuse_dirent + name + padding at `at`; returns its aligned size. */
  dirent(at: number, ino: bigint, off: number, type: number, name: Uint8Array): number {
    const size = direntAlign(DIRENT_HEADER + name.length);
    this.u64(at, ino);
    this.u64(at + 8, off);
    this.u32(at + 16, name.length);
    this.u32(at + 20, type);
    this.buf.set(name, at + DIRENT_HEADER);
    this.buf.fill(0, at + DIRENT_HEADER + name.length, at + size);
    return size;
  }
}

/** Bytes one READDIR entry takes. */
export function direntSize(nameLen: number): number {
  return direntAlign(DIRENT_HEADER + nameLen);
}

/** Bytes one READDIRPLUS entry takes. */
export function direntPlusSize(nameLen: number): number {
  return direntAlign(ENTRY_OUT_SIZE + DIRENT_HEADER + nameLen);
}
