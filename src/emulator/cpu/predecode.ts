// Pages decoded once for the interpreter's fast loop (fast.ts): two int32 per instruction slot,
//   [2s]     op | rd << 8 | rs1 << 16 | rs2 << 24   (rd = 0 is stored as 32: writes to x0 land
//                                                   in the hart's scratch register x[32])
//   [2s + 1] the instruction's immediate, already sign-extended and shifted for its format
//            (shift amount for shifts, CSR number for Zicsr, funct5 for AMOs)
// so executing an instruction is a switch on one byte with its operands at hand.

import { csrOf, decodeOp, immB, immI, immJ, immS, immU, Op, rd as rdOf, rs1 as rs1Of, rs2 as rs2Of } from './decode';

export const SLOT_WORDS = 2;

/** Decodes the 1024 words at i32[first ..] into a new array. */
export function decodePage(i32: Int32Array, first: number): Int32Array {
  const d = new Int32Array(1024 * SLOT_WORDS);
  for (let s = 0; s < 1024; s++) {
    const w = i32[first + s];
    const op = decodeOp(w);
    const rd = rdOf(w) || 32;
    d[2 * s] = op | (rd << 8) | (rs1Of(w) << 16) | (rs2Of(w) << 24);
    d[2 * s + 1] = immediate(op, w);
  }
  return d;
}

function immediate(op: Op, w: number): number {
  switch (op) {
    case Op.LUI:
    case Op.AUIPC:
      return immU(w);
    case Op.JAL:
      return immJ(w);
    case Op.BEQ: case Op.BNE: case Op.BLT: case Op.BGE: case Op.BLTU: case Op.BGEU:
      return immB(w);
    case Op.SB: case Op.SH: case Op.SW:
      return immS(w);
    case Op.SLLI: case Op.SRLI: case Op.SRAI:
      return rs2Of(w);
    case Op.CSRRW: case Op.CSRRS: case Op.CSRRC: case Op.CSRRWI: case Op.CSRRSI: case Op.CSRRCI:
      return csrOf(w);
    case Op.AMOSWAP_W: case Op.AMOADD_W: case Op.AMOXOR_W: case Op.AMOAND_W: case Op.AMOOR_W:
    case Op.AMOMIN_W: case Op.AMOMAX_W: case Op.AMOMINU_W: case Op.AMOMAXU_W:
      return w >>> 27;
    default:
      return immI(w); // I-type: ALU immediates, loads, JALR
  }
}
