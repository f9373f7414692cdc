// What the debugger shows of virtio-fs requests: the chain decoder for the virtqueue inspector and
// the Devices scope, the notify breakpoints and the fields their conditions can name. Pure: no node
// imports. Chains are decoded from the first bytes of their device-readable part (the inspector
// passes 64: the 40-byte fuse_in_header and 24 bytes of arguments), so names are shown cut short.

import * as A from './abi';
import type { ConditionField, NotifyFilterSpec } from '../descriptor';

const HEX = (n: number) => '0x' + n.toString(16);

function u64(dv: DataView, at: number): number {
  return dv.getUint32(at + 4, true) * 4294967296 + dv.getUint32(at, true);
}

/** A NUL-terminated name from `at`, cut at the bytes available; quoted, non-printables escaped. */
function nameAt(b: Uint8Array, at: number): string {
  let s = '';
  let i = at;
  for (; i < b.length && b[i] !== 0; i++) {
    const c = b[i];
    s += c >= 0x20 && c < 0x7f && c !== 0x27 && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `'${s}${i >= b.length ? '…' : ''}'`;
}

/** The argument summary of one request, from the bytes after the in-header. */
function describeArgs(op: number, dv: DataView, b: Uint8Array, writable: number): string {
  const a = A.IN_HEADER_SIZE;
  const have = b.length - a;
  switch (op) {
    case A.FUSE_LOOKUP:
    case A.FUSE_UNLINK:
    case A.FUSE_RMDIR:
    case A.FUSE_SYMLINK:
      return have > 0 ? ' ' + nameAt(b, a) : '';
    case A.FUSE_MKDIR:
      return have >= 8 ? ` ${nameAt(b, a + 8)} mode ${(dv.getUint32(a, true) & 0o7777).toString(8)}` : '';
    case A.FUSE_MKNOD:
    case A.FUSE_CREATE:
      return have >= 16 ? ` ${nameAt(b, a + 16)} mode ${(dv.getUint32(a + (op === A.FUSE_CREATE ? 4 : 0), true) >>> 0).toString(8)}` : '';
    case A.FUSE_RENAME:
    case A.FUSE_LINK:
      return have >= 8 ? ` ${nameAt(b, a + 8)} ${op === A.FUSE_LINK ? 'from node' : 'to dir'} ${u64(dv, a)}` : '';
    case A.FUSE_RENAME2:
      return have >= 16 ? ` ${nameAt(b, a + 16)} to dir ${u64(dv, a)} flags ${dv.getUint32(a + 8, true)}` : '';
    case A.FUSE_READ:
    case A.FUSE_WRITE:
      return have >= 20 ? ` fh ${u64(dv, a)} offset ${u64(dv, a + 8)} size ${dv.getUint32(a + 16, true)}` : '';
    case A.FUSE_READDIR:
    case A.FUSE_READDIRPLUS:
      return have >= 20 ? ` fh ${u64(dv, a)} offset ${u64(dv, a + 8)} size ${dv.getUint32(a + 16, true)}` : '';
    case A.FUSE_OPEN:
    case A.FUSE_OPENDIR:
      return have >= 4 ? ` flags ${HEX(dv.getUint32(a, true))}` : '';
    case A.FUSE_RELEASE:
    case A.FUSE_RELEASEDIR:
    case A.FUSE_FLUSH:
    case A.FUSE_FSYNC:
    case A.FUSE_FSYNCDIR:
      return have >= 8 ? ` fh ${u64(dv, a)}` : '';
    case A.FUSE_SETATTR:
      return have >= 4 ? ` valid ${HEX(dv.getUint32(a, true))}` : '';
    case A.FUSE_FORGET:
      return have >= 8 ? ` nlookup ${u64(dv, a)}` : '';
    case A.FUSE_BATCH_FORGET:
      return have >= 4 ? ` × ${dv.getUint32(a, true)}` : '';
    case A.FUSE_INIT:
      return have >= 8 ? ` ${dv.getUint32(a, true)}.${dv.getUint32(a + 4, true)}` : '';
    case A.FUSE_GETATTR:
    case A.FUSE_STATFS:
    case A.FUSE_READLINK:
    case A.FUSE_DESTROY:
      return '';
    default:
      return writable > 0 ? ` (${writable} bytes for the reply)` : '';
  }
}

/**
 * The inspector's one line for a chain: 'LOOKUP #12 node 1 'hello.c'', 'READ #40 node 7 fh 3
 * offset 0 size 4096', 'FORGET #9 node 12 nlookup 1'. `readable` holds the chain's first readable
 * bytes, `readableLength`/`writableLength` the whole chain's.
 */
export function describeFuseChain(_queue: number, readable: Uint8Array, readableLength: number, writableLength: number): string {
  if (readable.length < A.IN_HEADER_SIZE) return `short request (${readableLength} readable bytes, fuse_in_header is ${A.IN_HEADER_SIZE})`;
  const dv = new DataView(readable.buffer, readable.byteOffset, readable.byteLength);
  const op = dv.getUint32(A.IH_OPCODE, true);
  const unique = u64(dv, A.IH_UNIQUE);
  const nodeid = u64(dv, A.IH_NODEID);
  const len = dv.getUint32(A.IH_LEN, true);
  const bad = len !== readableLength ? ` (len ${len} ≠ ${readableLength} readable)` : '';
  return `${A.opcodeName(op)} #${unique} node ${nodeid}${describeArgs(op, dv, readable, writableLength)}${bad}`;
}

// ---- notify breakpoints and the fields their conditions can name ----

export const FS_NOTIFY_FILTERS: readonly NotifyFilterSpec[] = [
  { id: 'virtio-fs', label: 'virtio-fs notify', queue: null, description: 'Stop when the guest kicks any virtio-fs queue (FUSE requests or FORGETs). Conditions can name opcode, nodeid, unique.' },
  { id: 'virtio-fs-hiprio', label: 'virtio-fs hiprio notify', queue: 0, description: 'Stop when the guest queues FORGETs on the high-priority queue.' },
];

/** Every queue a virtio-fs device can have: hiprio and up to MAX_REQUEST_QUEUES request queues. */
export const MAX_REQUEST_QUEUES = 8;
const ALL_QUEUES = Array.from({ length: 1 + MAX_REQUEST_QUEUES }, (_, i) => i);

function headerWord(prefix: Uint8Array, at: number, wide: boolean): number {
  if (prefix.length < A.IN_HEADER_SIZE) return -1;
  const dv = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  return wide ? u64(dv, at) : dv.getUint32(at, true);
}

export const FS_CONDITION_FIELDS: readonly ConditionField[] = [
  { name: 'opcode', description: 'FUSE opcode of the first pending request (15 READ, 16 WRITE, 1 LOOKUP, …)', queues: ALL_QUEUES, bytes: A.IN_HEADER_SIZE, read: (p) => headerWord(p, A.IH_OPCODE, false) },
  { name: 'nodeid', description: 'the inode the first pending request is about (1 is the shared folder)', queues: ALL_QUEUES, bytes: A.IN_HEADER_SIZE, read: (p) => headerWord(p, A.IH_NODEID, true) },
  { name: 'unique', description: 'the request id of the first pending request', queues: ALL_QUEUES, bytes: A.IN_HEADER_SIZE, read: (p) => headerWord(p, A.IH_UNIQUE, true) },
];
