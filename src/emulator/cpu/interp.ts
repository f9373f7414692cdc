// The reference interpreter: `execute(h, w, pc)` runs one instruction word, generated at start-up
// from the instruction table (decode.ts) with one template per kind. Used for single-stepping
// and breakpoints, for the system instructions the other engines leave to it, and as the
// reference the translator is tested against. Sets h.pc to the next instruction, or enters a
// trap (h.trapped) without retiring the instruction.

import { Cause } from './csr';
import { BY_OP, decodeOp, Fmt, Op, type InsnDef } from './decode';
import { build } from './gen';
import { js, jsCond, type Expr } from './ir';
import type { Hart } from './hart';

const LOAD_FN = { '1s': 'lb', '1u': 'lbu', '2s': 'lh', '2u': 'lhu', '4s': 'lw', '4u': 'lw' } as const;
const STORE_FN = { 1: 'sb', 2: 'sh', 4: 'sw' } as const;

/** The expression computing `$i` from the word `w`, by format. */
function immSource(fmt: Fmt): string {
  switch (fmt) {
    case Fmt.I: case Fmt.LOAD: case Fmt.JALR: return 'w >> 20';
    case Fmt.SHIFT: return 'rs2';
    case Fmt.STORE: return '((w >> 25) << 5) | ((w >>> 7) & 31)';
    case Fmt.BRANCH: return '((w >> 31) << 12) | (((w >>> 7) & 1) << 11) | (((w >>> 25) & 0x3f) << 5) | (((w >>> 8) & 0xf) << 1)';
    case Fmt.U: return 'w & 0xfffff000';
    case Fmt.JAL: return '((w >> 31) << 20) | (((w >>> 12) & 0xff) << 12) | (((w >>> 20) & 1) << 11) | (((w >>> 21) & 0x3ff) << 1)';
    case Fmt.CSR: case Fmt.CSRI: return 'w >>> 20';
    default: return '0';
  }
}

/**
 * One case body. Kinds that write rd leave the value in `v` and fall to the common tail (which
 * writes rd unless trapped and moves pc to `next`); the others return.
 */
function caseBody(d: InsnDef): string {
  const sem = d.sem;
  const ops = { a: 'A', b: 'B', i: 'I', pc: 'pc' };
  const misaligned = (t: string) => `if ((${t} & 3) !== 0) { h.raise(${Cause.InsnMisaligned}, ${t}, pc); return; }`;
  switch (sem.k) {
    case 'alu': return `v = ${js(sem.e, ops)};`;
    case 'branch': return `if (${jsCond(sem.e, ops)}) { next = (pc + I) | 0; ${misaligned('next')} } h.pc = next; return;`;
    case 'jal': return `{ const t = (pc + I) | 0; ${misaligned('t')} v = next; next = t; }`;
    case 'jalr': return `{ const t = (A + I) & -2; ${misaligned('t')} v = next; next = t; }`;
    case 'load': return `v = h.${LOAD_FN[`${sem.width}${sem.signed ? 's' : 'u'}`]}((A + I) | 0, pc);`;
    case 'store': return `h.${STORE_FN[sem.width]}((A + I) | 0, B, pc); if (!h.trapped) h.pc = next; return;`;
    case 'amo': return `v = h.amo(${d.op}, A, B, pc);`;
    case 'lr': return 'v = h.loadReserved(A, pc);';
    case 'sc': return 'v = h.storeConditional(A, B, pc);';
    case 'nop': return 'h.pc = next; return;';
    case 'csr': {
      // CSRRW/CSRRWI always write; the set/clear forms only with a source other than x0 / 0.
      const operand = sem.imm ? 'rs1' : 'A';
      const write = sem.mode === 0 ? 'true' : 'rs1 !== 0';
      return `v = h.csrAccess(I, ${sem.mode}, ${operand}, ${write}, w, pc);`;
    }
    case 'sys': return `${sem.s} return;`;
  }
}

function source(): string {
  const cases: string[] = [];
  for (let op = 1; op < Op.COUNT; op++) {
    const d = BY_OP[op];
    cases.push(`case ${op}: { const I = ${immSource(d.fmt)}; ${caseBody(d)} break; } // ${d.name}`);
  }
  return `return function execute(h, w, pc) {
  const x = h.x;
  const rd = (w >>> 7) & 31, rs1 = (w >>> 15) & 31, rs2 = (w >>> 20) & 31;
  const A = x[rs1], B = x[rs2];
  let v = 0, next = (pc + 4) | 0;
  switch (decodeOp(w)) {
${cases.join('\n')}
    default: { ${(BY_OP[Op.ILLEGAL].sem as { s: string }).s} return; }
  }
  if (h.trapped) return;
  if (rd !== 0) x[rd] = v;
  h.pc = next;
};`;
}

/** Executes the instruction `w` at `pc` on hart `h` (the reference semantics). */
export const execute: (h: Hart, w: number, pc: number) => void = build(['decodeOp'], [decodeOp], source());

/** The value an AMO stores, by op: its table expression over the old word and rs2. */
export const amoValue: (op: number, old: number, src: number) => number = build(
  [],
  [],
  `return function amoValue(op, old, src) {
  switch (op) {
${BY_OP.filter((d) => d.sem.k === 'amo').map((d) => `    case ${d.op}: return ${js((d.sem as { e: Expr }).e, { old: 'old', b: 'src' })};`).join('\n')}
  }
  return old;
};`,
);
