// Virtual unwinding (DWARF §6.4.4): from a hart's registers, each caller's pc and registers by
// the CFI rules at the current pc — CFA = reg + offset, saved registers read at CFA + n, the
// caller's sp is the CFA (RISC-V psABI). Without CFI for a pc, frame records (s0 as frame
// pointer, ra at fp-4 and the caller's fp at fp-8) are followed only while they look sane;
// otherwise the stack ends with what is certain: the pc, and ra for the innermost frame.

import { RULE_OFFSET, RULE_REGISTER, RULE_SAME, RULE_UNDEFINED, RULE_VAL_OFFSET, type FrameTable } from './frame';

export const REG_RA = 1;
export const REG_SP = 2;
export const REG_FP = 8;

export type UnwindMethod = 'cfi' | 'ra' | 'frame-record';

export interface PhysicalFrame {
  pc: number;
  /** Register values in this frame (undefined = not known here). */
  regs: (number | undefined)[];
  /** The CFA of this frame when CFI gave one. */
  cfa?: number;
  /** How this frame's pc was found (the innermost: 'cfi' too). */
  how: UnwindMethod;
}

export interface UnwindResult {
  frames: PhysicalFrame[];
  /** Why the walk ended, in words (shown as the last frame's note when it ends early). */
  end: string;
}

export interface UnwindOptions {
  /** Reads a 32-bit word of virtual memory, or undefined when unreadable. */
  read32: (addr: number) => number | undefined;
  /** True when pc is in code (a symbol covers it): frame-record walks stop at anything else. */
  isCode: (pc: number) => boolean;
  maxFrames?: number;
}

export function unwind(frames: FrameTable | null, pc: number, x: readonly number[], o: UnwindOptions): UnwindResult {
  const max = o.maxFrames ?? 64;
  const regs: (number | undefined)[] = Array.from({ length: 32 }, (_, i) => (i === 0 ? 0 : x[i] >>> 0));
  const out: PhysicalFrame[] = [{ pc: pc >>> 0, regs, how: 'cfi' }];
  for (;;) {
    const cur = out[out.length - 1];
    if (out.length >= max) return { frames: out, end: `stopped after ${max} frames` };
    // A caller's pc is a return address: its call is the instruction before it (no RVC here).
    const lookup = out.length === 1 ? cur.pc : (cur.pc - 4) >>> 0;
    const row = frames?.rowAt(lookup);
    if (row && !row.cfaExpr) {
      const base = cur.regs[row.cfaReg];
      if (base === undefined) return { frames: out, end: `the CFA register x${row.cfaReg} is not known in ${hex(cur.pc)}'s caller` };
      const cfa = (base + row.cfaOffset) >>> 0;
      cur.cfa = cfa;
      const next: (number | undefined)[] = cur.regs.slice();
      for (const [reg, rule] of row.regs) {
        if (reg >= 32) continue;
        switch (rule.kind) {
          case RULE_OFFSET: next[reg] = o.read32((cfa + rule.n) >>> 0); break;
          case RULE_VAL_OFFSET: next[reg] = (cfa + rule.n) >>> 0; break;
          case RULE_REGISTER: next[reg] = rule.n < 32 ? cur.regs[rule.n] : undefined; break;
          case RULE_UNDEFINED: next[reg] = undefined; break;
          case RULE_SAME: break;
          default: next[reg] = undefined;
        }
      }
      next[REG_SP] = cfa;
      const ra = next[REG_RA];
      if (ra === undefined || ra === 0) return { frames: out, end: 'the outermost frame (no return address)' };
      if (out.length > 1 && cfa <= (out[out.length - 2].cfa ?? 0) && ra === cur.pc) return { frames: out, end: 'the stack does not progress' };
      out.push({ pc: ra >>> 0, regs: next, how: 'cfi' });
      continue;
    }
    if (out.length === 1) {
      // No CFI at the pc: the return address register is all that is certain.
      const ra = cur.regs[REG_RA];
      if (ra === undefined || ra === 0 || ra === cur.pc) return { frames: out, end: frames ? `no call frame information for ${hex(cur.pc)}` : 'no call frame information' };
      out.push({ pc: ra >>> 0, regs: Array.from({ length: 32 }, () => undefined), how: 'ra' });
      const fr = frameRecords(cur, ra >>> 0, o, max - 2);
      if (fr.length > 0) {
        out.push(...fr);
        return { frames: out, end: 'the end of the frame records' };
      }
      return { frames: out, end: frames ? `no call frame information for ${hex(cur.pc)}: only pc and ra are known` : 'no debug information: only pc and ra are known' };
    }
    return { frames: out, end: `no call frame information for ${hex(cur.pc)}` };
  }
}

/**
 * Frame records beyond the ra frame: with frame pointers, s0 is the frame's CFA, with the
 * saved ra at fp-4 and the caller's s0 at fp-8. If the record at s0 holds the ra register's
 * value it is the innermost frame's own and is skipped. A record is accepted only while fp is
 * word-aligned, above sp, grows, stays within 64 KiB of sp, and its ra is code.
 */
function frameRecords(first: PhysicalFrame, ra: number, o: UnwindOptions, max: number): PhysicalFrame[] {
  const sp = first.regs[REG_SP];
  let fp = first.regs[REG_FP];
  if (sp === undefined || fp === undefined) return [];
  const sane = (f: number, above: number) => (f & 3) === 0 && f > above && f - sp <= 0x10000;
  if (sane(fp, sp) && o.read32((fp - 4) >>> 0) === ra) {
    const up = o.read32((fp - 8) >>> 0);
    if (up === undefined || !sane(up, fp)) return [];
    fp = up;
  }
  const out: PhysicalFrame[] = [];
  let prev = sp;
  while (out.length < max && sane(fp, prev)) {
    const r = o.read32((fp - 4) >>> 0);
    const up = o.read32((fp - 8) >>> 0);
    if (r === undefined || up === undefined || r === 0 || !o.isCode(r)) break;
    const regs: (number | undefined)[] = Array.from({ length: 32 }, () => undefined);
    regs[REG_FP] = up;
    regs[REG_SP] = fp;
    out.push({ pc: r, regs, how: 'frame-record' });
    prev = fp;
    fp = up;
  }
  return out;
}

function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}
