// The default engine: the interpreter's fast loop over pre-decoded pages (predecode.ts), which
// hands hot jump targets to the block translator (jit.ts). A "run" keeps the current
// page's decoded array and slot index in locals, follows jumps inside the page directly and
// jumps to other pages through one fetch-TLB probe. A run ends — back to the outer loop, which
// checks interrupts and does full fetches — on anything that can change what runs next or how:
// a system instruction (interpreted by execute()), a trap, a slow-path access that raised an
// interrupt, stopped the machine or modified code, a fetch-TLB miss, or the budget.

import { Cause } from './csr';
import type { CodeCache } from './codecache';
import { Op } from './decode';
import type { Hart } from './hart';
import { div, divu, execute, mulh, mulhsu, mulhu, rem, remu } from './interp';
import { TLB_MASK } from './mmu';
import { loopsAt, translate } from './jit';
import type { Block } from './codecache';

// Loop exits (the `next` slot values below zero).
const JUMP = -1; // to `t`, after retiring the instruction
const LEAVE = -2; // after retiring the instruction; h.pc already set
const TRAP = -3; // the instruction trapped: not retired; h.pc is the handler
const SYSTEM = -4; // not executed: h.pc = its pc, execute() takes it

// What follows a taken jump.
const STAY = 0; // continue the run at the target
const LEAVE_AT_T = 1; // end the run, h.pc = t
const LEAVE_AT_PC = 2; // end the run, h.pc already set (by a block or a trap)

/** Hot counter value of a target whose block does not loop: it stays interpreted. */
const NOT_A_LOOP = 65535;

/**
 * Translates the block at `off` if it loops on itself (a translated block only beats this loop
 * when it iterates inside its function); null otherwise.
 */
function translateLoop(h: Hart, cache: CodeCache, off: number): Block | null {
  if (!loopsAt(h.m32, off)) return null;
  return translate(h, cache, off);
}

/** True for what the page loop leaves to execute(): system instructions, CSRs and illegal words. */
function isSystem(op: number): boolean {
  return op === Op.ILLEGAL || (op >= Op.FENCE_I && op <= Op.CSRRCI);
}

/**
 * Runs `h` for about `budget` iterations. Returns iterations used: instructions retired plus
 * one per trap or interrupt taken.
 */
export function runFast(h: Hart, cache: CodeCache, budget: number): number {
  const x = h.x;
  const m32 = h.m32;
  const u16 = h.u16;
  const i16 = h.i16;
  const u8 = h.u8;
  const i8 = h.i8;
  const pages = cache.decodedPages;
  const hots = cache.hotPages;
  const jitAt = cache.jitThreshold;
  let iter = 0;
  while (iter < budget && !h.stop) {
    // Between runs: interrupts, then the fetch (which may walk the page table or trap).
    if ((h.mip & h.sie) !== 0 && h.checkInterrupt()) {
      iter++;
      continue;
    }
    const pc0 = h.pc;
    const off0 = h.fetchOffset(pc0);
    if (off0 < 0) {
      h.trapped = false;
      iter++;
      continue;
    }
    let d = cache.decoded(off0);
    let s = (off0 >>> 2) & 1023;
    if (isSystem(d[2 * s] & 0xff)) {
      h.codeChanged = false;
      execute(h, m32[off0 >> 2], pc0);
      h.record(pc0, off0, 1);
      if (h.trapped) h.trapped = false;
      else h.instret++;
      iter++;
      continue;
    }
    h.codeChanged = false;
    // The current address space's TLBs (a satp write, always outside a run, swaps them).
    const ltag = h.ltag;
    const ldelta = h.ldelta;
    const stag = h.stag;
    const sdelta = h.sdelta;
    const ftag = h.ftag;
    const fdelta = h.fdelta;
    // A run: straight-line code and jumps, across pages while the fetch TLB knows the target.
    const k = h.priv; // fixed until the run ends: privilege changes only through traps and SRET
    const limit = budget - iter;
    let vbase = pc0 - (pc0 & 4095);
    let obase = off0 - (off0 & 4095);
    let runStart = s;
    let n = 0;
    let t = 0;
    let next = 0;
    for (;;) {
      const w = d[2 * s];
      const imm = d[2 * s + 1];
      const rd = (w >>> 8) & 0xff;
      const rs1 = (w >>> 16) & 0xff;
      const rs2 = w >>> 24;
      next = s + 1;
      switch (w & 0xff) {
        case Op.LUI: x[rd] = imm; break;
        case Op.AUIPC: x[rd] = (vbase + (s << 2) + imm) | 0; break;
        case Op.JAL:
          t = (vbase + (s << 2) + imm) | 0;
          if ((t & 3) !== 0) {
            h.raise(Cause.InsnMisaligned, t, (vbase + (s << 2)) | 0);
            next = TRAP;
            break;
          }
          x[rd] = (vbase + (s << 2) + 4) | 0;
          next = JUMP;
          break;
        case Op.JALR:
          t = (x[rs1] + imm) & -2;
          if ((t & 3) !== 0) {
            h.raise(Cause.InsnMisaligned, t, (vbase + (s << 2)) | 0);
            next = TRAP;
            break;
          }
          x[rd] = (vbase + (s << 2) + 4) | 0;
          next = JUMP;
          break;
        case Op.BEQ: if (x[rs1] === x[rs2]) { t = (vbase + (s << 2) + imm) | 0; next = JUMP; } break;
        case Op.BNE: if (x[rs1] !== x[rs2]) { t = (vbase + (s << 2) + imm) | 0; next = JUMP; } break;
        case Op.BLT: if (x[rs1] < x[rs2]) { t = (vbase + (s << 2) + imm) | 0; next = JUMP; } break;
        case Op.BGE: if (x[rs1] >= x[rs2]) { t = (vbase + (s << 2) + imm) | 0; next = JUMP; } break;
        case Op.BLTU: if (x[rs1] >>> 0 < x[rs2] >>> 0) { t = (vbase + (s << 2) + imm) | 0; next = JUMP; } break;
        case Op.BGEU: if (x[rs1] >>> 0 >= x[rs2] >>> 0) { t = (vbase + (s << 2) + imm) | 0; next = JUMP; } break;
        case Op.LB: {
          const a = (x[rs1] + imm) | 0;
          const vpn = a >>> 12;
          const e = vpn & TLB_MASK;
          if (ltag[e] === ((vpn << 1) | k)) x[rd] = i8[(a + ldelta[e]) | 0];
          else next = loadSlow(h, a, 1, rd, vbase, s);
          break;
        }
        case Op.LBU: {
          const a = (x[rs1] + imm) | 0;
          const vpn = a >>> 12;
          const e = vpn & TLB_MASK;
          if (ltag[e] === ((vpn << 1) | k)) x[rd] = u8[(a + ldelta[e]) | 0];
          else next = loadSlow(h, a, -1, rd, vbase, s);
          break;
        }
        case Op.LH: {
          const a = (x[rs1] + imm) | 0;
          const vpn = a >>> 12;
          const e = vpn & TLB_MASK;
          if (ltag[e] === ((vpn << 1) | k) && (a & 1) === 0) x[rd] = i16[(a + ldelta[e]) >> 1];
          else next = loadSlow(h, a, 2, rd, vbase, s);
          break;
        }
        case Op.LHU: {
          const a = (x[rs1] + imm) | 0;
          const vpn = a >>> 12;
          const e = vpn & TLB_MASK;
          if (ltag[e] === ((vpn << 1) | k) && (a & 1) === 0) x[rd] = u16[(a + ldelta[e]) >> 1];
          else next = loadSlow(h, a, -2, rd, vbase, s);
          break;
        }
        case Op.LW: {
          const a = (x[rs1] + imm) | 0;
          const vpn = a >>> 12;
          const e = vpn & TLB_MASK;
          if (ltag[e] === ((vpn << 1) | k) && (a & 3) === 0) x[rd] = m32[(a + ldelta[e]) >> 2];
          else next = loadSlow(h, a, 4, rd, vbase, s);
          break;
        }
        case Op.SB: {
          const a = (x[rs1] + imm) | 0;
          const vpn = a >>> 12;
          const e = vpn & TLB_MASK;
          if (stag[e] === ((vpn << 1) | k)) u8[(a + sdelta[e]) | 0] = x[rs2];
          else next = storeSlow(h, a, 1, x[rs2], vbase, s);
          break;
        }
        case Op.SH: {
          const a = (x[rs1] + imm) | 0;
          const vpn = a >>> 12;
          const e = vpn & TLB_MASK;
          if (stag[e] === ((vpn << 1) | k) && (a & 1) === 0) u16[(a + sdelta[e]) >> 1] = x[rs2];
          else next = storeSlow(h, a, 2, x[rs2], vbase, s);
          break;
        }
        case Op.SW: {
          const a = (x[rs1] + imm) | 0;
          const vpn = a >>> 12;
          const e = vpn & TLB_MASK;
          if (stag[e] === ((vpn << 1) | k) && (a & 3) === 0) m32[(a + sdelta[e]) >> 2] = x[rs2];
          else next = storeSlow(h, a, 4, x[rs2], vbase, s);
          break;
        }
        case Op.ADDI: x[rd] = (x[rs1] + imm) | 0; break;
        case Op.SLTI: x[rd] = x[rs1] < imm ? 1 : 0; break;
        case Op.SLTIU: x[rd] = x[rs1] >>> 0 < imm >>> 0 ? 1 : 0; break;
        case Op.XORI: x[rd] = x[rs1] ^ imm; break;
        case Op.ORI: x[rd] = x[rs1] | imm; break;
        case Op.ANDI: x[rd] = x[rs1] & imm; break;
        case Op.SLLI: x[rd] = x[rs1] << imm; break;
        case Op.SRLI: x[rd] = x[rs1] >>> imm; break;
        case Op.SRAI: x[rd] = x[rs1] >> imm; break;
        case Op.ADD: x[rd] = (x[rs1] + x[rs2]) | 0; break;
        case Op.SUB: x[rd] = (x[rs1] - x[rs2]) | 0; break;
        case Op.SLL: x[rd] = x[rs1] << x[rs2]; break; // JS masks shift counts to 5 bits, as RV32
        case Op.SLT: x[rd] = x[rs1] < x[rs2] ? 1 : 0; break;
        case Op.SLTU: x[rd] = x[rs1] >>> 0 < x[rs2] >>> 0 ? 1 : 0; break;
        case Op.XOR: x[rd] = x[rs1] ^ x[rs2]; break;
        case Op.SRL: x[rd] = x[rs1] >>> x[rs2]; break;
        case Op.SRA: x[rd] = x[rs1] >> x[rs2]; break;
        case Op.OR: x[rd] = x[rs1] | x[rs2]; break;
        case Op.AND: x[rd] = x[rs1] & x[rs2]; break;
        case Op.MUL: x[rd] = Math.imul(x[rs1], x[rs2]); break;
        case Op.MULH: x[rd] = mulh(x[rs1], x[rs2]); break;
        case Op.MULHSU: x[rd] = mulhsu(x[rs1], x[rs2]); break;
        case Op.MULHU: x[rd] = mulhu(x[rs1], x[rs2]); break;
        case Op.DIV: x[rd] = div(x[rs1], x[rs2]); break;
        case Op.DIVU: x[rd] = divu(x[rs1], x[rs2]); break;
        case Op.REM: x[rd] = rem(x[rs1], x[rs2]); break;
        case Op.REMU: x[rd] = remu(x[rs1], x[rs2]); break;
        case Op.FENCE: break;
        case Op.LR_W: {
          const v = h.loadReserved(x[rs1], (vbase + (s << 2)) | 0);
          if (h.trapped) next = TRAP;
          else x[rd] = v;
          break;
        }
        case Op.SC_W: {
          const v = h.storeConditional(x[rs1], x[rs2], (vbase + (s << 2)) | 0);
          if (h.trapped) next = TRAP;
          else {
            x[rd] = v;
            next = afterSlowStore(h, vbase, s);
          }
          break;
        }
        case Op.AMOSWAP_W:
        case Op.AMOADD_W:
        case Op.AMOXOR_W:
        case Op.AMOAND_W:
        case Op.AMOOR_W:
        case Op.AMOMIN_W:
        case Op.AMOMAX_W:
        case Op.AMOMINU_W:
        case Op.AMOMAXU_W: {
          const v = h.amo(imm, x[rs1], x[rs2], (vbase + (s << 2)) | 0);
          if (h.trapped) next = TRAP;
          else {
            x[rd] = v;
            next = afterSlowStore(h, vbase, s);
          }
          break;
        }
        default:
          // System instruction, CSR access or illegal word: the caller runs it through execute().
          h.pc = (vbase + (s << 2)) | 0;
          next = SYSTEM;
          break;
      }
      if (next < 0) {
        if (next === JUMP) {
          if ((t & 3) !== 0) {
            // A branch to a misaligned target (JAL/JALR checked theirs before writing rd).
            h.raise(Cause.InsnMisaligned, t, (vbase + (s << 2)) | 0);
            next = TRAP;
          } else {
            n++;
            h.record((vbase + (runStart << 2)) | 0, obase + (runStart << 2), s - runStart + 1);
            // Follow the target in this run when its page is known to the fetch TLB and decoded;
            // hot loops run as translated blocks, whose exit pc is followed the same way.
            let go = LEAVE_AT_T;
            while (n < limit) {
              let off: number;
              let nd: Int32Array | null;
              if (((t ^ vbase) & -4096) === 0) {
                off = obase + (t & 4095);
                nd = d;
              } else {
                const vpn = t >>> 12;
                const e = vpn & TLB_MASK;
                if (ftag[e] !== ((vpn << 1) | k)) break;
                off = (t + fdelta[e]) | 0;
                nd = pages[off >>> 12];
                if (nd === null) break;
              }
              const slot = (off >>> 2) & 1023;
              if (isSystem(nd[2 * slot] & 0xff)) break;
              // Loops only: count backward jumps within the page; their targets are loop heads.
              if (jitAt !== 0 && nd === d && slot <= s) {
                const hot = hots[off >>> 12]!;
                const c = hot[slot];
                if (c < jitAt) hot[slot] = c + 1;
                else if (c !== NOT_A_LOOP) {
                  const b = cache.lookup(off) ?? translateLoop(h, cache, off);
                  if (b === null) {
                    hot[slot] = NOT_A_LOOP;
                    continue;
                  }
                  const r = b.fn(h, t, limit - n);
                  n += r;
                  if (h.trapped) {
                    h.trapped = false;
                    iter++;
                    h.record(t, off, Math.min(r + 1, b.len));
                    go = LEAVE_AT_PC;
                    break;
                  }
                  h.record(t, off, Math.min(r, b.len));
                  if (h.stop || h.codeChanged || (h.mip & h.sie) !== 0) {
                    go = LEAVE_AT_PC;
                    break;
                  }
                  t = h.pc;
                  continue;
                }
              }
              d = nd;
              vbase = t - (t & 4095);
              obase = off - (off & 4095);
              s = runStart = slot;
              go = STAY;
              break;
            }
            if (go === STAY) continue;
            if (go === LEAVE_AT_T) h.pc = t;
            break;
          }
        }
        if (next === TRAP) {
          h.trapped = false;
          iter++; // the trap costs an iteration; nothing retired
        } else if (next === LEAVE) n++;
        else s--; // SYSTEM: not executed here
        h.record((vbase + (runStart << 2)) | 0, obase + (runStart << 2), s - runStart + 1);
        break;
      }
      n++;
      s = next;
      if (s === 1024 || n >= limit) {
        h.pc = (vbase + (s << 2)) | 0;
        h.record((vbase + (runStart << 2)) | 0, obase + (runStart << 2), s - runStart);
        break;
      }
    }
    h.instret += n;
    iter += n;
  }
  return iter;
}

/**
 * A load that missed the TLB or is misaligned: `width` 1/2/4 signed-extends (1, 2) or plain
 * word, -1/-2 zero-extends. Returns the loop's next step: the next slot, or TRAP / LEAVE (an
 * MMIO read that changed the interrupt lines or stopped the machine).
 */
function loadSlow(h: Hart, a: number, width: number, rd: number, vbase: number, s: number): number {
  const pc = (vbase + (s << 2)) | 0;
  const w = width < 0 ? -width : width;
  let v = h.loadSlow(a, w as 1 | 2 | 4, pc);
  if (h.trapped) return TRAP;
  if (width === 1) v = (v << 24) >> 24;
  else if (width === 2) v = (v << 16) >> 16;
  h.x[rd] = v | 0;
  if (h.stop || (h.mip & h.sie) !== 0) {
    h.pc = (pc + 4) | 0;
    return LEAVE;
  }
  return s + 1;
}

function storeSlow(h: Hart, a: number, width: 1 | 2 | 4, v: number, vbase: number, s: number): number {
  h.storeSlow(a, width, v, (vbase + (s << 2)) | 0);
  if (h.trapped) return TRAP;
  return afterSlowStore(h, vbase, s);
}

/** After a store that took the slow path: leave the loop if it changed code, interrupts or stopped. */
function afterSlowStore(h: Hart, vbase: number, s: number): number {
  if (h.stop || h.codeChanged || (h.mip & h.sie) !== 0) {
    h.pc = (vbase + (s << 2) + 4) | 0;
    return LEAVE;
  }
  return s + 1;
}
