// The virtio-fs server's live counters as the debugger's Devices scope reads them: one
// SharedArrayBuffer written by the emulator worker with plain stores, read from any thread without
// messaging. Every value is one int32 slot (no tearing), except the byte totals (two uint32 halves,
// read high-low-high until stable). The tag and the shared folder are written once, at creation.
// Pure: no node imports (the extension host and the debug adapter import it).

import { FUSE_OPCODE_LIMIT, opcodeName } from './abi';
import type { StateNode } from '../descriptor';

export const FS_STATE_MAGIC = 0x46533031; // 'FS01'
export const FS_STATE_VERSION = 1;

export const S_MAGIC = 0;
export const S_VERSION = 1;
export const S_READ_ONLY = 2;
export const S_INITIALIZED = 3; // INIT answered, DESTROY not yet
export const S_MINOR = 4; // negotiated FUSE minor version
export const S_IN_FLIGHT = 5; // requests being served on the host
export const S_MAX_IN_FLIGHT = 6;
export const S_INODES = 7; // inodes the server tracks
export const S_MAX_INODES = 8;
export const S_HANDLES = 9; // open files and directories
export const S_MAX_HANDLES = 10;
export const S_PATH_FDS = 11; // host descriptors cached for path resolution
export const S_REQUESTS = 12; // requests answered (uint32, wraps)
export const S_ERRORS = 13; // error replies
export const S_MALFORMED = 14; // requests refused as malformed (EINVAL/ENOSYS/EIO before any host call)
export const S_READ_LO = 15;
export const S_READ_HI = 16;
export const S_WRITTEN_LO = 17;
export const S_WRITTEN_HI = 18;
export const S_LAST_OPCODE = 19;
export const S_LAST_ERROR_OPCODE = 20;
export const S_LAST_ERRNO = 21;
export const S_WAITING = 22; // chains left in the rings because every request slot was busy (uint32)
export const S_OPS = 24; // FUSE_OPCODE_LIMIT per-opcode counters from here
const INTS = S_OPS + FUSE_OPCODE_LIMIT;
const TAG_AT = INTS * 4;
const TAG_SPACE = 40;
const ROOT_AT = TAG_AT + TAG_SPACE;
const ROOT_SPACE = 512;
const BYTES = ROOT_AT + ROOT_SPACE;

export function allocateFsState(tag: string, root: string, readOnly: boolean): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(BYTES);
  const i32 = new Int32Array(sab, 0, INTS);
  i32[S_MAGIC] = FS_STATE_MAGIC;
  i32[S_VERSION] = FS_STATE_VERSION;
  i32[S_READ_ONLY] = readOnly ? 1 : 0;
  const enc = new TextEncoder();
  const u8 = new Uint8Array(sab);
  u8.set(enc.encode(tag).subarray(0, TAG_SPACE - 1), TAG_AT);
  u8.set(enc.encode(root).subarray(0, ROOT_SPACE - 1), ROOT_AT);
  return sab;
}

/** The worker's view: the int32 slots. */
export function fsStateInts(sab: SharedArrayBuffer): Int32Array {
  return new Int32Array(sab, 0, INTS);
}

/** One more of a uint32 counter (wraps). */
export function bump(i32: Int32Array, slot: number): void {
  i32[slot] = (i32[slot] + 1) | 0;
}

/** Adds n (≥ 0) to a lo/hi byte total. */
export function addBytes(i32: Int32Array, lo: number, n: number): void {
  const v = (i32[lo] >>> 0) + n;
  if (v >= 4294967296) {
    i32[lo + 1] = (i32[lo + 1] + Math.floor(v / 4294967296)) | 0;
    i32[lo] = v % 4294967296 | 0;
  } else {
    i32[lo] = v | 0;
  }
}

/** A node of the Devices scope: a value, or a group of children. */
export interface FsStateSnapshot {
  tag: string;
  root: string;
  readOnly: boolean;
  initialized: boolean;
  minor: number;
  inFlight: number;
  maxInFlight: number;
  inodes: number;
  maxInodes: number;
  handles: number;
  maxHandles: number;
  pathFds: number;
  requests: number;
  errors: number;
  malformed: number;
  waiting: number;
  bytesRead: number;
  bytesWritten: number;
  lastOpcode: string;
  lastError: string;
  /** Requests answered per opcode name (only those seen). */
  ops: Record<string, number>;
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 5: 'EIO', 6: 'ENXIO', 9: 'EBADF', 12: 'ENOMEM', 13: 'EACCES', 16: 'EBUSY', 17: 'EEXIST',
  18: 'EXDEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL', 23: 'ENFILE', 27: 'EFBIG', 28: 'ENOSPC',
  30: 'EROFS', 36: 'ENAMETOOLONG', 38: 'ENOSYS', 39: 'ENOTEMPTY', 40: 'ELOOP', 71: 'EPROTO',
  75: 'EOVERFLOW', 95: 'EOPNOTSUPP', 116: 'ESTALE',
};

export function errnoName(e: number): string {
  return ERRNO_NAMES[e] ?? `errno ${e}`;
}

function readString(u8: Uint8Array, at: number, space: number): string {
  let end = at;
  while (end < at + space && u8[end] !== 0) end++;
  return new TextDecoder().decode(u8.slice(at, end));
}

function readTotal(i32: Int32Array, lo: number): number {
  for (let tries = 0; tries < 4; tries++) {
    const hi = i32[lo + 1] >>> 0;
    const l = i32[lo] >>> 0;
    if (i32[lo + 1] >>> 0 === hi) return hi * 4294967296 + l;
  }
  return (i32[lo + 1] >>> 0) * 4294967296 + (i32[lo] >>> 0);
}

/** Plain JSON of the live state; null when the buffer is not a virtio-fs state block. */
export function readFsSnapshot(sab: SharedArrayBuffer): FsStateSnapshot | null {
  if (sab.byteLength < BYTES) return null;
  const i32 = new Int32Array(sab, 0, INTS);
  if (i32[S_MAGIC] !== FS_STATE_MAGIC || i32[S_VERSION] !== FS_STATE_VERSION) return null;
  const u8 = new Uint8Array(sab);
  const ops: Record<string, number> = {};
  for (let op = 0; op < FUSE_OPCODE_LIMIT; op++) {
    const n = i32[S_OPS + op] >>> 0;
    if (n !== 0) ops[opcodeName(op)] = n;
  }
  const lastErr = i32[S_LAST_ERRNO];
  return {
    tag: readString(u8, TAG_AT, TAG_SPACE),
    root: readString(u8, ROOT_AT, ROOT_SPACE),
    readOnly: i32[S_READ_ONLY] !== 0,
    initialized: i32[S_INITIALIZED] !== 0,
    minor: i32[S_MINOR],
    inFlight: i32[S_IN_FLIGHT],
    maxInFlight: i32[S_MAX_IN_FLIGHT],
    inodes: i32[S_INODES],
    maxInodes: i32[S_MAX_INODES],
    handles: i32[S_HANDLES],
    maxHandles: i32[S_MAX_HANDLES],
    pathFds: i32[S_PATH_FDS],
    requests: i32[S_REQUESTS] >>> 0,
    errors: i32[S_ERRORS] >>> 0,
    malformed: i32[S_MALFORMED] >>> 0,
    waiting: i32[S_WAITING] >>> 0,
    bytesRead: readTotal(i32, S_READ_LO),
    bytesWritten: readTotal(i32, S_WRITTEN_LO),
    lastOpcode: i32[S_REQUESTS] === 0 ? '' : opcodeName(i32[S_LAST_OPCODE]),
    lastError: lastErr === 0 ? '' : `${opcodeName(i32[S_LAST_ERROR_OPCODE])} ${errnoName(lastErr)}`,
    ops,
  };
}

/** The Devices scope's nodes for this device (the registry's `readState`). */
export function readFsState(sab: SharedArrayBuffer): StateNode[] {
  const s = readFsSnapshot(sab);
  if (s === null) return [{ name: 'state', value: 'unavailable' }];
  const opNodes = Object.entries(s.ops).map(([name, value]) => ({ name, value }));
  return [
    { name: 'tag', value: s.tag },
    { name: 'shared folder', value: s.root + (s.readOnly ? ' (read-only)' : '') },
    { name: 'session', value: s.initialized ? `FUSE 7.${s.minor}` : 'not mounted' },
    { name: 'in flight', value: `${s.inFlight} / ${s.maxInFlight}` },
    { name: 'inodes', value: `${s.inodes} / ${s.maxInodes}` },
    { name: 'open handles', value: `${s.handles} / ${s.maxHandles}` },
    { name: 'host path descriptors', value: s.pathFds },
    { name: 'requests', value: s.requests },
    { name: 'errors', value: s.errors },
    { name: 'malformed', value: s.malformed },
    { name: 'bytes read', value: s.bytesRead },
    { name: 'bytes written', value: s.bytesWritten },
    { name: 'last request', value: s.lastOpcode },
    { name: 'last error', value: s.lastError },
    { name: 'requests by opcode', value: opNodes.length, children: opNodes },
  ];
}
