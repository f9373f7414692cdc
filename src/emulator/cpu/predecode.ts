// Pages decoded once for the fast loop (fast.ts) and the translator: two int32 per slot,
//   [2s]     op | rd << 8 | rs1 << 16 | rs2 << 24   (rd = 0 is stored as 32: writes to x0 land
//                                                   in the hart's scratch register x[32])
//   [2s + 1] the instruction's immediate as its format defines it (decode.ts immediateOf)
// so executing an instruction is a switch on one byte with its operands at hand.

import { BY_OP, decodeOp, immediateOf, rd as rdOf, rs1 as rs1Of, rs2 as rs2Of } from './decode';

export const SLOT_WORDS = 2;

/**
 * The op of the slot after a page's last (layout.ts FRAME_END_SLOT): no instruction has it, and
 * the WebAssembly fast loop goes on at the next page when it reaches it.
 */
export const PAGE_END = 255;

/** Decodes the 1024 words at i32[first ..] into `d` (a new array when not given). */
export function decodePage(i32: Int32Array, first: number, d: Int32Array = new Int32Array(1024 * SLOT_WORDS)): Int32Array {
  for (let s = 0; s < 1024; s++) {
    const w = i32[first + s];
    const op = decodeOp(w);
    const rd = rdOf(w) || 32;
    d[2 * s] = op | (rd << 8) | (rs1Of(w) << 16) | (rs2Of(w) << 24);
    d[2 * s + 1] = immediateOf(BY_OP[op].fmt, w);
  }
  return d;
}
