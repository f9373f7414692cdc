// A tiny assembler: encodes one instruction from its mnemonic and operands using the
// decoder's own table (the objdump corpus test checks both against GNU as). Used by the
// warm-up program (warmup.ts) and by tests.

import { Fmt, TABLE, type InsnDef } from './decode';
import { ABI_NAMES } from './disasm';

const byName = new Map<string, InsnDef>(TABLE.map((d) => [d.name, d]));

/** Register by ABI name, xN name or number. */
export function reg(r: string | number): number {
  if (typeof r === 'number') return r;
  const i = ABI_NAMES.indexOf(r);
  if (i >= 0) return i;
  if (r === 'fp') return 8;
  const m = /^x(\d+)$/.exec(r);
  if (m && Number(m[1]) < 32) return Number(m[1]);
  throw new Error(`bad register ${r}`);
}

const I = (imm: number) => (imm & 0xfff) << 20;
const S = (imm: number) => (((imm >> 5) & 0x7f) << 25) | ((imm & 31) << 7);
const B = (imm: number) => (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7);
const J = (imm: number) => (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) | (((imm >> 12) & 0xff) << 12);
const RD = (r: string | number) => reg(r) << 7;
const RS1 = (r: string | number) => reg(r) << 15;
const RS2 = (r: string | number) => reg(r) << 20;

type Operand = string | number;

/**
 * Encodes `name` with operands in assembly order (loads: rd, imm, rs1 → pass rd, rs1, imm;
 * stores: rs2, rs1, imm; branches: rs1, rs2, byte offset; AMOs: rd, rs2, rs1). Returns int32.
 * Suffixes `.aq`, `.rl`, `.aqrl` on AMOs set the ordering bits.
 */
export function enc(name: string, ...ops: Operand[]): number {
  let aqrl = 0;
  const m = /^(.*\.w)(\.aqrl|\.aq|\.rl)$/.exec(name);
  if (m) {
    name = m[1];
    aqrl = m[2] === '.aqrl' ? 3 : m[2] === '.aq' ? 2 : 1;
  }
  const d = byName.get(name);
  if (!d) throw new Error(`unknown mnemonic ${name}`);
  const n = (i: number) => ops[i] as number;
  let w = d.match | (aqrl << 25);
  switch (d.fmt) {
    case Fmt.R: w |= RD(ops[0]) | RS1(ops[1]) | RS2(ops[2]); break;
    case Fmt.I: case Fmt.LOAD: case Fmt.JALR: w |= RD(ops[0]) | RS1(ops[1]) | I(n(2)); break;
    case Fmt.SHIFT: w |= RD(ops[0]) | RS1(ops[1]) | ((n(2) & 31) << 20); break;
    case Fmt.STORE: w |= RS2(ops[0]) | RS1(ops[1]) | S(n(2)); break;
    case Fmt.BRANCH: w |= RS1(ops[0]) | RS2(ops[1]) | B(n(2)); break;
    case Fmt.U: w |= RD(ops[0]) | ((n(1) & 0xfffff) << 12); break;
    case Fmt.JAL: w |= RD(ops[0]) | J(n(1)); break;
    case Fmt.CSR: w |= RD(ops[0]) | ((n(1) & 0xfff) << 20) | RS1(ops[2]); break;
    case Fmt.CSRI: w |= RD(ops[0]) | ((n(1) & 0xfff) << 20) | ((n(2) & 31) << 15); break;
    case Fmt.AMO: w |= RD(ops[0]) | RS2(ops[1]) | RS1(ops[2]); break;
    case Fmt.LR: w |= RD(ops[0]) | RS1(ops[1]); break;
    case Fmt.FENCE: w |= ((ops.length ? n(0) : 15) << 24) | ((ops.length ? n(1) : 15) << 20); break;
    case Fmt.SFENCE: w |= RS1(ops[0] ?? 0) | RS2(ops[1] ?? 0); break;
    case Fmt.NONE: break;
  }
  return w | 0;
}

/** `li rd, value` as lui+addi (always two words, so program layouts stay predictable). */
export function li(rd: Operand, value: number): number[] {
  value |= 0;
  const lo = (value << 20) >> 20;
  const hi = ((value - lo) >>> 12) & 0xfffff;
  return [enc('lui', rd, hi), enc('addi', rd, rd, lo)];
}

/** SBI call a7 = eid, a6 = fid (arguments already in a0..a5). */
export function sbiCall(eid: number, fid: number): number[] {
  return [...li('a7', eid), ...li('a6', fid), enc('ecall')];
}

/** Powers the machine off with SBI SRST (shutdown, no reason). */
export function shutdown(): number[] {
  return [...li('a0', 0), ...li('a1', 0), ...sbiCall(0x53525354, 0)];
}
