// One FUSE request as the operations see it, and the small argument/reply checks they share.

import * as A from './abi';
import { FsError } from './host';
import type { ReplyWriter } from './reply';

/** serve()'s answer for FORGET, BATCH_FORGET and INTERRUPT: nothing goes back to the guest. */
export const NO_REPLY = -1;

export interface FuseRequest {
  opcode: number;
  /** The request's nodeid; Number.MAX_SAFE_INTEGER + 1 stands for any value above 2^53. */
  nodeid: number;
  uid: number;
  gid: number;
  pid: number;
  /** The arguments after fuse_in_header (fuse_in_header.len - 40 bytes). */
  arg: Uint8Array;
  argView: DataView;
  /** The reply's payload (after fuse_out_header), as long as the guest made room for. */
  out: ReplyWriter;
}

const TWO32 = 4294967296;

/** The arguments as a DataView, EINVAL unless at least n bytes came. */
export function need(req: FuseRequest, n: number): DataView {
  if (req.arg.length < n) throw new FsError(A.EINVAL, `${A.opcodeName(req.opcode)} needs ${n} argument bytes, got ${req.arg.length}`);
  return req.argView;
}

/** The reply writer, EINVAL unless the guest left room for n payload bytes. */
export function fixed(req: FuseRequest, n: number): ReplyWriter {
  if (req.out.buf.length < n) throw new FsError(A.EINVAL, `${A.opcodeName(req.opcode)} reply needs ${n} bytes, the guest gave ${req.out.buf.length}`);
  return req.out;
}

/** A u64 argument as a number; above 2^53 it is MAX_SAFE_INTEGER + 1 (never a valid id or offset). */
export function u64(dv: DataView, at: number): number {
  const hi = dv.getUint32(at + 4, true);
  if (hi >= 0x200000) return Number.MAX_SAFE_INTEGER + 1;
  return hi * TWO32 + dv.getUint32(at, true);
}

/** serve()'s result for an error reply: below NO_REPLY, -1000 - errno. */
export function errorResult(errno: number): number {
  return -1000 - errno;
}

/** The errno of an error result, 0 for a reply or NO_REPLY. */
export function errorOf(result: number): number {
  return result <= -1000 ? -(result + 1000) : 0;
}
