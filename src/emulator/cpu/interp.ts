// The reference semantics: executes one instruction. Used for single-stepping and breakpoints,
// for cold code, and for the system instructions that end translated blocks. Sets h.pc to the
// next instruction, or enters a trap (h.trapped) without retiring the instruction.

import { Cause, PRIV_U } from './csr';
import { csrOf, decodeOp, immB, immI, immJ, immS, immU, Op, rd as rdOf, rs1 as rs1Of, rs2 as rs2Of } from './decode';
import type { Hart } from './hart';

/** Upper 32 bits of a signed×signed, signed×unsigned or unsigned×unsigned 32-bit product. */
export function mulhu(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const hh = ah * bh;
  // Sum the middle terms with the carry out of the low half; each stays below 2^53.
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) | 0;
}
export function mulh(a: number, b: number): number {
  // Signed high word = unsigned high word minus the two's-complement corrections.
  let hi = mulhu(a, b);
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  return hi;
}
export function mulhsu(a: number, b: number): number {
  let hi = mulhu(a, b);
  if (a < 0) hi = (hi - b) | 0;
  return hi;
}
export function div(a: number, b: number): number {
  if (b === 0) return -1;
  if (a === -2147483648 && b === -1) return a;
  return (a / b) | 0;
}
export function divu(a: number, b: number): number {
  if (b === 0) return -1;
  return ((a >>> 0) / (b >>> 0)) | 0;
}
export function rem(a: number, b: number): number {
  if (b === 0) return a;
  if (a === -2147483648 && b === -1) return 0;
  return (a % b) | 0;
}
export function remu(a: number, b: number): number {
  if (b === 0) return a;
  return ((a >>> 0) % (b >>> 0)) | 0;
}

/** Executes the instruction `w` at `pc` on hart `h`. */
export function execute(h: Hart, w: number, pc: number): void {
  const x = h.x;
  const rd = rdOf(w);
  const a = x[rs1Of(w)];
  const b = x[rs2Of(w)];
  let v = 0; // the value for rd
  let next = (pc + 4) | 0;
  switch (decodeOp(w)) {
    case Op.LUI: v = immU(w); break;
    case Op.AUIPC: v = (pc + immU(w)) | 0; break;
    case Op.JAL: {
      const t = (pc + immJ(w)) | 0;
      if (t & 3) return h.raise(Cause.InsnMisaligned, t, pc);
      v = next;
      next = t;
      break;
    }
    case Op.JALR: {
      const t = ((a + immI(w)) & ~1) | 0;
      if (t & 3) return h.raise(Cause.InsnMisaligned, t, pc);
      v = next;
      next = t;
      break;
    }
    case Op.BEQ: if (a === b) next = (pc + immB(w)) | 0; return branch(h, next, pc);
    case Op.BNE: if (a !== b) next = (pc + immB(w)) | 0; return branch(h, next, pc);
    case Op.BLT: if (a < b) next = (pc + immB(w)) | 0; return branch(h, next, pc);
    case Op.BGE: if (a >= b) next = (pc + immB(w)) | 0; return branch(h, next, pc);
    case Op.BLTU: if (a >>> 0 < b >>> 0) next = (pc + immB(w)) | 0; return branch(h, next, pc);
    case Op.BGEU: if (a >>> 0 >= b >>> 0) next = (pc + immB(w)) | 0; return branch(h, next, pc);
    case Op.LB: v = h.lb((a + immI(w)) | 0, pc); break;
    case Op.LH: v = h.lh((a + immI(w)) | 0, pc); break;
    case Op.LW: v = h.lw((a + immI(w)) | 0, pc); break;
    case Op.LBU: v = h.lbu((a + immI(w)) | 0, pc); break;
    case Op.LHU: v = h.lhu((a + immI(w)) | 0, pc); break;
    case Op.SB: h.sb((a + immS(w)) | 0, b, pc); if (!h.trapped) h.pc = next; return;
    case Op.SH: h.sh((a + immS(w)) | 0, b, pc); if (!h.trapped) h.pc = next; return;
    case Op.SW: h.sw((a + immS(w)) | 0, b, pc); if (!h.trapped) h.pc = next; return;
    case Op.ADDI: v = (a + immI(w)) | 0; break;
    case Op.SLTI: v = a < immI(w) ? 1 : 0; break;
    case Op.SLTIU: v = a >>> 0 < immI(w) >>> 0 ? 1 : 0; break;
    case Op.XORI: v = a ^ immI(w); break;
    case Op.ORI: v = a | immI(w); break;
    case Op.ANDI: v = a & immI(w); break;
    case Op.SLLI: v = a << rs2Of(w); break;
    case Op.SRLI: v = (a >>> rs2Of(w)) | 0; break;
    case Op.SRAI: v = a >> rs2Of(w); break;
    case Op.ADD: v = (a + b) | 0; break;
    case Op.SUB: v = (a - b) | 0; break;
    case Op.SLL: v = a << (b & 31); break;
    case Op.SLT: v = a < b ? 1 : 0; break;
    case Op.SLTU: v = a >>> 0 < b >>> 0 ? 1 : 0; break;
    case Op.XOR: v = a ^ b; break;
    case Op.SRL: v = (a >>> (b & 31)) | 0; break;
    case Op.SRA: v = a >> (b & 31); break;
    case Op.OR: v = a | b; break;
    case Op.AND: v = a & b; break;
    case Op.MUL: v = Math.imul(a, b); break;
    case Op.MULH: v = mulh(a, b); break;
    case Op.MULHSU: v = mulhsu(a, b); break;
    case Op.MULHU: v = mulhu(a, b); break;
    case Op.DIV: v = div(a, b); break;
    case Op.DIVU: v = divu(a, b); break;
    case Op.REM: v = rem(a, b); break;
    case Op.REMU: v = remu(a, b); break;
    case Op.FENCE: h.pc = next; return;
    case Op.FENCE_I: h.pc = next; return; // code caches track stores precisely (see docs/cpu.md)
    case Op.ECALL:
      if (h.priv === PRIV_U) return h.raise(Cause.EcallU, 0, pc);
      h.pc = next; // SBI may redirect pc (hart_stop) or stop the machine
      h.host.ecall(h);
      return;
    case Op.EBREAK: return h.raise(Cause.Breakpoint, pc, pc);
    case Op.SRET:
      if (h.priv === PRIV_U) return h.raise(Cause.IllegalInsn, w, pc);
      h.sret();
      return;
    case Op.WFI:
      if (h.priv === PRIV_U) return h.raise(Cause.IllegalInsn, w, pc);
      h.pc = next;
      if ((h.mip & h.sie) === 0) {
        h.idle = true;
        h.stop = true;
      }
      return;
    case Op.SFENCE_VMA:
      if (h.priv === PRIV_U) return h.raise(Cause.IllegalInsn, w, pc);
      h.sfenceVma(rs1Of(w) !== 0, a, rs2Of(w) !== 0 ? b & 0x1ff : -1);
      h.pc = next;
      return;
    case Op.CSRRW: v = h.csrAccess(csrOf(w), 0, a, true, w, pc); break;
    case Op.CSRRS: v = h.csrAccess(csrOf(w), 1, a, rs1Of(w) !== 0, w, pc); break;
    case Op.CSRRC: v = h.csrAccess(csrOf(w), 2, a, rs1Of(w) !== 0, w, pc); break;
    case Op.CSRRWI: v = h.csrAccess(csrOf(w), 0, rs1Of(w), true, w, pc); break;
    case Op.CSRRSI: v = h.csrAccess(csrOf(w), 1, rs1Of(w), rs1Of(w) !== 0, w, pc); break;
    case Op.CSRRCI: v = h.csrAccess(csrOf(w), 2, rs1Of(w), rs1Of(w) !== 0, w, pc); break;
    case Op.LR_W: v = h.loadReserved(a, pc); break;
    case Op.SC_W: v = h.storeConditional(a, b, pc); break;
    case Op.AMOSWAP_W:
    case Op.AMOADD_W:
    case Op.AMOXOR_W:
    case Op.AMOAND_W:
    case Op.AMOOR_W:
    case Op.AMOMIN_W:
    case Op.AMOMAX_W:
    case Op.AMOMINU_W:
    case Op.AMOMAXU_W:
      v = h.amo(w >>> 27, a, b, pc);
      break;
    default:
      return h.raise(Cause.IllegalInsn, w, pc);
  }
  if (h.trapped) return;
  if (rd !== 0) x[rd] = v;
  h.pc = next;
}

function branch(h: Hart, next: number, pc: number): void {
  if (next & 3) h.raise(Cause.InsnMisaligned, next, pc);
  else h.pc = next;
}
