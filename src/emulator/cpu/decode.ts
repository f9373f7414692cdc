// The one instruction table of the harts (RV32IMA + Zicsr + Zifencei + the S-mode system
// instructions): each instruction's encoding, operand form and semantics, declared once. The
// decoder, the disassembler and the assembler read the encodings; the three engines — the
// reference interpreter, the fast loop over pre-decoded pages and the page translator — are
// generated from the semantics at start-up (engines.ts), in the spirit of v86's x86_table.
//
// Semantics are expressions of a little language (ir.ts) over the operands, int32 in and out:
//   A, B  the values of rs1 and rs2      I    the format's immediate (see immediateOf)
//   PC    the instruction's address      OLD  the memory word an AMO read
// Loads, stores, jumps and the system instructions are described by their kind; each engine
// has one template per kind. The system instructions, which only the reference interpreter
// runs, carry a statement in its terms (interp.ts: h, w, pc, A, B, rs1, rs2).
//
// Lookup: a 15-bit index made of opcode[6:2], funct3 and funct7 selects a small list of
// candidate definitions; each candidate's mask/match then checks the remaining fixed fields
// (rs2 of ecall/ebreak/sret/wfi, rd of sfence.vma, ...). Built once at module load.

/** Handler ids. Values are dense so switch statements compile to jump tables. */
export const enum Op {
  ILLEGAL = 0,
  LUI, AUIPC, JAL, JALR,
  BEQ, BNE, BLT, BGE, BLTU, BGEU,
  LB, LH, LW, LBU, LHU,
  SB, SH, SW,
  ADDI, SLTI, SLTIU, XORI, ORI, ANDI, SLLI, SRLI, SRAI,
  ADD, SUB, SLL, SLT, SLTU, XOR, SRL, SRA, OR, AND,
  MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU,
  FENCE, FENCE_I,
  ECALL, EBREAK, SRET, WFI, SFENCE_VMA,
  CSRRW, CSRRS, CSRRC, CSRRWI, CSRRSI, CSRRCI,
  LR_W, SC_W,
  AMOSWAP_W, AMOADD_W, AMOXOR_W, AMOAND_W, AMOOR_W, AMOMIN_W, AMOMAX_W, AMOMINU_W, AMOMAXU_W,
  COUNT,
}

/** Operand layouts, used by the disassembler (and by tests to build encodings). */
export const enum Fmt {
  R, // rd, rs1, rs2
  I, // rd, rs1, imm
  SHIFT, // rd, rs1, shamt
  LOAD, // rd, imm(rs1)
  STORE, // rs2, imm(rs1)
  BRANCH, // rs1, rs2, target
  U, // rd, imm20
  JAL, // rd, target
  JALR, // rd, imm(rs1)
  CSR, // rd, csr, rs1
  CSRI, // rd, csr, uimm
  AMO, // rd, rs2, (rs1)
  LR, // rd, (rs1)
  NONE, // no operands
  FENCE, // pred, succ
  SFENCE, // rs1, rs2
}

/** What an instruction does, in the terms of one template per kind (see the header). */
export type Sem =
  | { readonly k: 'alu'; readonly e: Expr } // rd = e
  | { readonly k: 'branch'; readonly e: Expr } // pc += I when e ≠ 0
  | { readonly k: 'jal' } // rd = pc + 4; pc += I
  | { readonly k: 'jalr' } // rd = pc + 4; pc = (A + I) & ~1
  | { readonly k: 'load'; readonly width: 1 | 2 | 4; readonly signed: boolean } // rd = mem[A + I]
  | { readonly k: 'store'; readonly width: 1 | 2 | 4 } // mem[A + I] = B
  | { readonly k: 'amo'; readonly e: Expr } // rd = mem[A]; mem[A] = e
  | { readonly k: 'lr' }
  | { readonly k: 'sc' }
  | { readonly k: 'nop' }
  | { readonly k: 'csr'; readonly mode: 0 | 1 | 2; readonly imm: boolean } // write / set / clear
  | { readonly k: 'sys'; readonly s: string }; // a statement of the reference interpreter
// 'csr', 'sys' and illegal words are "system": only the reference interpreter runs them, the
// other engines end their run before them.

export interface InsnDef {
  readonly name: string;
  readonly op: Op;
  readonly fmt: Fmt;
  readonly mask: number;
  readonly match: number;
  readonly sem: Sem;
}

import { Cause, PRIV_U } from './csr';
import { A, add, and, B, div, divu, eq, ge, geu, gt, gtu, I, lt, ltu, mul, mulh, mulhsu, mulhu, ne, OLD, or, PC, rem, remu, sel, shl, shr, sra, sub, xor, type Expr } from './ir';

const OPC = 0x7f;
const F3 = 0x7000;
const F7 = 0xfe000000 | 0;
const RS2 = 0x01f00000;
const RS1 = 0x000f8000;
const RD = 0x00000f80;

function def(name: string, op: Op, fmt: Fmt, opcode: number, f3: number | null, f7: number | null, sem: Sem, extraMask = 0, extraMatch = 0): InsnDef {
  let mask = OPC | extraMask;
  let match = opcode | extraMatch;
  if (f3 !== null) {
    mask |= F3;
    match |= f3 << 12;
  }
  if (f7 !== null) {
    mask |= F7;
    match |= f7 << 25;
  }
  return { name, op, fmt, mask: mask | 0, match: match | 0, sem };
}

/** AMOs: funct5 in [31:27]; aq/rl in [26:25] are accepted in any combination. */
function amo(name: string, op: Op, fmt: Fmt, funct5: number, sem: Sem, extraMask = 0): InsnDef {
  return { name, op, fmt, mask: (OPC | F3 | 0xf8000000 | extraMask) | 0, match: (0x2f | (2 << 12) | (funct5 << 27)) | 0, sem };
}

const alu = (e: Expr): Sem => ({ k: 'alu', e });
const br = (e: Expr): Sem => ({ k: 'branch', e });
const ld = (width: 1 | 2 | 4, signed: boolean): Sem => ({ k: 'load', width, signed });
const st = (width: 1 | 2 | 4): Sem => ({ k: 'store', width });
const rmw = (e: Expr): Sem => ({ k: 'amo', e });
const csr = (mode: 0 | 1 | 2, imm: boolean): Sem => ({ k: 'csr', mode, imm });
// System statements: U-mode may not run the privileged ones (illegal instruction, tval = word).
const privileged = (s: string): Sem => ({ k: 'sys', s: `if (h.priv === ${PRIV_U}) h.raise(${Cause.IllegalInsn}, w, pc); else { ${s} }` });

export const TABLE: readonly InsnDef[] = [
  def('lui', Op.LUI, Fmt.U, 0x37, null, null, alu(I)),
  def('auipc', Op.AUIPC, Fmt.U, 0x17, null, null, alu(add(PC, I))),
  def('jal', Op.JAL, Fmt.JAL, 0x6f, null, null, { k: 'jal' }),
  def('jalr', Op.JALR, Fmt.JALR, 0x67, 0, null, { k: 'jalr' }),
  def('beq', Op.BEQ, Fmt.BRANCH, 0x63, 0, null, br(eq(A, B))),
  def('bne', Op.BNE, Fmt.BRANCH, 0x63, 1, null, br(ne(A, B))),
  def('blt', Op.BLT, Fmt.BRANCH, 0x63, 4, null, br(lt(A, B))),
  def('bge', Op.BGE, Fmt.BRANCH, 0x63, 5, null, br(ge(A, B))),
  def('bltu', Op.BLTU, Fmt.BRANCH, 0x63, 6, null, br(ltu(A, B))),
  def('bgeu', Op.BGEU, Fmt.BRANCH, 0x63, 7, null, br(geu(A, B))),
  def('lb', Op.LB, Fmt.LOAD, 0x03, 0, null, ld(1, true)),
  def('lh', Op.LH, Fmt.LOAD, 0x03, 1, null, ld(2, true)),
  def('lw', Op.LW, Fmt.LOAD, 0x03, 2, null, ld(4, true)),
  def('lbu', Op.LBU, Fmt.LOAD, 0x03, 4, null, ld(1, false)),
  def('lhu', Op.LHU, Fmt.LOAD, 0x03, 5, null, ld(2, false)),
  def('sb', Op.SB, Fmt.STORE, 0x23, 0, null, st(1)),
  def('sh', Op.SH, Fmt.STORE, 0x23, 1, null, st(2)),
  def('sw', Op.SW, Fmt.STORE, 0x23, 2, null, st(4)),
  def('addi', Op.ADDI, Fmt.I, 0x13, 0, null, alu(add(A, I))),
  def('slti', Op.SLTI, Fmt.I, 0x13, 2, null, alu(lt(A, I))),
  def('sltiu', Op.SLTIU, Fmt.I, 0x13, 3, null, alu(ltu(A, I))),
  def('xori', Op.XORI, Fmt.I, 0x13, 4, null, alu(xor(A, I))),
  def('ori', Op.ORI, Fmt.I, 0x13, 6, null, alu(or(A, I))),
  def('andi', Op.ANDI, Fmt.I, 0x13, 7, null, alu(and(A, I))),
  def('slli', Op.SLLI, Fmt.SHIFT, 0x13, 1, 0x00, alu(shl(A, I))),
  def('srli', Op.SRLI, Fmt.SHIFT, 0x13, 5, 0x00, alu(shr(A, I))),
  def('srai', Op.SRAI, Fmt.SHIFT, 0x13, 5, 0x20, alu(sra(A, I))),
  def('add', Op.ADD, Fmt.R, 0x33, 0, 0x00, alu(add(A, B))),
  def('sub', Op.SUB, Fmt.R, 0x33, 0, 0x20, alu(sub(A, B))),
  def('sll', Op.SLL, Fmt.R, 0x33, 1, 0x00, alu(shl(A, B))),
  def('slt', Op.SLT, Fmt.R, 0x33, 2, 0x00, alu(lt(A, B))),
  def('sltu', Op.SLTU, Fmt.R, 0x33, 3, 0x00, alu(ltu(A, B))),
  def('xor', Op.XOR, Fmt.R, 0x33, 4, 0x00, alu(xor(A, B))),
  def('srl', Op.SRL, Fmt.R, 0x33, 5, 0x00, alu(shr(A, B))),
  def('sra', Op.SRA, Fmt.R, 0x33, 5, 0x20, alu(sra(A, B))),
  def('or', Op.OR, Fmt.R, 0x33, 6, 0x00, alu(or(A, B))),
  def('and', Op.AND, Fmt.R, 0x33, 7, 0x00, alu(and(A, B))),
  def('mul', Op.MUL, Fmt.R, 0x33, 0, 0x01, alu(mul(A, B))),
  def('mulh', Op.MULH, Fmt.R, 0x33, 1, 0x01, alu(mulh(A, B))),
  def('mulhsu', Op.MULHSU, Fmt.R, 0x33, 2, 0x01, alu(mulhsu(A, B))),
  def('mulhu', Op.MULHU, Fmt.R, 0x33, 3, 0x01, alu(mulhu(A, B))),
  def('div', Op.DIV, Fmt.R, 0x33, 4, 0x01, alu(div(A, B))),
  def('divu', Op.DIVU, Fmt.R, 0x33, 5, 0x01, alu(divu(A, B))),
  def('rem', Op.REM, Fmt.R, 0x33, 6, 0x01, alu(rem(A, B))),
  def('remu', Op.REMU, Fmt.R, 0x33, 7, 0x01, alu(remu(A, B))),
  // FENCE ignores its fm/pred/succ/rs1/rd fields (FENCE.TSO and PAUSE are FENCEs too). FENCE.I
  // has nothing to do: the code caches follow every store (docs/cpu.md).
  def('fence', Op.FENCE, Fmt.FENCE, 0x0f, 0, null, { k: 'nop' }),
  def('fence.i', Op.FENCE_I, Fmt.NONE, 0x0f, 1, null, { k: 'nop' }),
  // ECALL from S-mode is an SBI call, answered by the emulator (which may redirect pc).
  def('ecall', Op.ECALL, Fmt.NONE, 0x73, 0, 0x00,
    { k: 'sys', s: `if (h.priv === ${PRIV_U}) h.raise(${Cause.EcallU}, 0, pc); else { h.pc = (pc + 4) | 0; h.host.ecall(h); }` }, RS2 | RS1 | RD, 0 << 20),
  def('ebreak', Op.EBREAK, Fmt.NONE, 0x73, 0, 0x00, { k: 'sys', s: `h.raise(${Cause.Breakpoint}, pc, pc);` }, RS2 | RS1 | RD, 1 << 20),
  def('sret', Op.SRET, Fmt.NONE, 0x73, 0, 0x08, privileged('h.sret();'), RS2 | RS1 | RD, 2 << 20),
  // WFI with nothing enabled pending idles the hart until mip & sie (even with SIE clear).
  def('wfi', Op.WFI, Fmt.NONE, 0x73, 0, 0x08,
    privileged('h.pc = (pc + 4) | 0; if ((h.mip & h.sie) === 0) { h.idle = true; h.stop = true; }'), RS2 | RS1 | RD, 5 << 20),
  // rs1 = x0: every page; rs2 = x0: every address space (-1), else the ASID in rs2.
  def('sfence.vma', Op.SFENCE_VMA, Fmt.SFENCE, 0x73, 0, 0x09,
    privileged('h.sfenceVma(rs1 !== 0, A, rs2 !== 0 ? B & 0x1ff : -1); h.pc = (pc + 4) | 0;'), RD, 0),
  def('csrrw', Op.CSRRW, Fmt.CSR, 0x73, 1, null, csr(0, false)),
  def('csrrs', Op.CSRRS, Fmt.CSR, 0x73, 2, null, csr(1, false)),
  def('csrrc', Op.CSRRC, Fmt.CSR, 0x73, 3, null, csr(2, false)),
  def('csrrwi', Op.CSRRWI, Fmt.CSRI, 0x73, 5, null, csr(0, true)),
  def('csrrsi', Op.CSRRSI, Fmt.CSRI, 0x73, 6, null, csr(1, true)),
  def('csrrci', Op.CSRRCI, Fmt.CSRI, 0x73, 7, null, csr(2, true)),
  amo('lr.w', Op.LR_W, Fmt.LR, 0x02, { k: 'lr' }, RS2),
  amo('sc.w', Op.SC_W, Fmt.AMO, 0x03, { k: 'sc' }),
  amo('amoswap.w', Op.AMOSWAP_W, Fmt.AMO, 0x01, rmw(B)),
  amo('amoadd.w', Op.AMOADD_W, Fmt.AMO, 0x00, rmw(add(OLD, B))),
  amo('amoxor.w', Op.AMOXOR_W, Fmt.AMO, 0x04, rmw(xor(OLD, B))),
  amo('amoand.w', Op.AMOAND_W, Fmt.AMO, 0x0c, rmw(and(OLD, B))),
  amo('amoor.w', Op.AMOOR_W, Fmt.AMO, 0x08, rmw(or(OLD, B))),
  amo('amomin.w', Op.AMOMIN_W, Fmt.AMO, 0x10, rmw(sel(lt(OLD, B), OLD, B))),
  amo('amomax.w', Op.AMOMAX_W, Fmt.AMO, 0x14, rmw(sel(gt(OLD, B), OLD, B))),
  amo('amominu.w', Op.AMOMINU_W, Fmt.AMO, 0x18, rmw(sel(ltu(OLD, B), OLD, B))),
  amo('amomaxu.w', Op.AMOMAXU_W, Fmt.AMO, 0x1c, rmw(sel(gtu(OLD, B), OLD, B))),
];

/** Definition by handler id (the disassembler's names and formats). */
export const BY_OP: readonly InsnDef[] = (() => {
  const a: InsnDef[] = new Array(Op.COUNT);
  a[Op.ILLEGAL] = { name: 'unimp', op: Op.ILLEGAL, fmt: Fmt.NONE, mask: 0, match: 0, sem: { k: 'sys', s: `h.raise(${Cause.IllegalInsn}, w, pc);` } };
  for (const d of TABLE) a[d.op] = d;
  return a;
})();

function keyOf(word: number): number {
  return (((word >>> 2) & 0x1f) << 10) | (((word >>> 12) & 7) << 7) | ((word >>> 25) & 0x7f);
}

// For each key: the op when exactly one definition can match and its mask has no bits outside
// opcode/funct3/funct7 (so the key alone decides); AMBIGUOUS otherwise (check the candidates).
const AMBIGUOUS = 255;
const direct = new Uint8Array(1 << 15);
const candidates: InsnDef[][] = [];
(() => {
  const keyMask = (OPC | F3 | F7) | 0;
  // Built at every start-up, in both threads, so it is kept cheap (~2 ms; filtering the whole
  // table for each of the 32 768 keys took ~14 ms): a key only tries the definitions whose
  // opcode field can match it, and a list is made only for keys with several candidates.
  for (let opc = 0; opc < 32; opc++) {
    const defs = TABLE.filter((d) => (((opc << 2) | 3) & d.mask & OPC) === (d.match & OPC));
    if (defs.length === 0) continue; // direct[] is 0, Op.ILLEGAL
    for (let key = opc << 10; key < (opc + 1) << 10; key++) {
      const word = (((key >>> 10) << 2) | 3 | (((key >>> 7) & 7) << 12) | ((key & 0x7f) << 25)) | 0;
      let first: InsnDef | null = null;
      let list: InsnDef[] | null = null;
      for (let i = 0; i < defs.length; i++) {
        const d = defs[i];
        if (((word & d.mask & keyMask) | 0) !== ((d.match & keyMask) | 0)) continue;
        if (first === null) first = d;
        else (list ??= [first]).push(d);
      }
      if (first === null) direct[key] = Op.ILLEGAL;
      else if (list === null && (first.mask & ~keyMask) === 0) direct[key] = first.op;
      else {
        direct[key] = AMBIGUOUS;
        candidates[key] = list ?? [first];
      }
    }
  }
})();

/** The handler id of an instruction word (Op.ILLEGAL when nothing matches). */
export function decodeOp(word: number): Op {
  if ((word & 3) !== 3) return Op.ILLEGAL; // no C extension: 16-bit encodings are illegal
  const key = keyOf(word);
  const op = direct[key];
  if (op !== AMBIGUOUS) return op as Op;
  const list = candidates[key];
  for (let i = 0; i < list.length; i++) {
    const d = list[i];
    if (((word & d.mask) | 0) === d.match) return d.op;
  }
  return Op.ILLEGAL;
}

// Operand fields (RISC-V unprivileged spec, §2.3). All return int32.
export function rd(w: number): number {
  return (w >>> 7) & 31;
}
export function rs1(w: number): number {
  return (w >>> 15) & 31;
}
export function rs2(w: number): number {
  return (w >>> 20) & 31;
}
export function immI(w: number): number {
  return w >> 20;
}
export function immS(w: number): number {
  return ((w >> 25) << 5) | ((w >>> 7) & 31);
}
export function immB(w: number): number {
  return ((w >> 31) << 12) | (((w >>> 7) & 1) << 11) | (((w >>> 25) & 0x3f) << 5) | (((w >>> 8) & 0xf) << 1);
}
export function immU(w: number): number {
  return w & 0xfffff000;
}
export function immJ(w: number): number {
  return ((w >> 31) << 20) | (((w >>> 12) & 0xff) << 12) | (((w >>> 20) & 1) << 11) | (((w >>> 21) & 0x3ff) << 1);
}
export function csrOf(w: number): number {
  return w >>> 20;
}

/** The immediate of an instruction word as its format defines I (0 where there is none). */
export function immediateOf(fmt: Fmt, w: number): number {
  switch (fmt) {
    case Fmt.I: case Fmt.LOAD: case Fmt.JALR: return immI(w);
    case Fmt.SHIFT: return rs2(w); // shamt
    case Fmt.STORE: return immS(w);
    case Fmt.BRANCH: return immB(w);
    case Fmt.U: return immU(w);
    case Fmt.JAL: return immJ(w);
    case Fmt.CSR: case Fmt.CSRI: return csrOf(w);
    default: return 0;
  }
}

/** Per op: 1 when only the reference interpreter runs it (CSR and system instructions, illegal words). */
export const SYSTEM: Uint8Array = (() => {
  const a = new Uint8Array(256);
  for (let op = 0; op < Op.COUNT; op++) {
    const k = BY_OP[op].sem.k;
    a[op] = k === 'sys' || k === 'csr' ? 1 : 0;
  }
  return a;
})();

/** True for instructions that end a straight-line run of code (control flow or system state). */
export function endsBlock(op: Op): boolean {
  const k = BY_OP[op].sem.k;
  return SYSTEM[op] !== 0 || k === 'branch' || k === 'jal' || k === 'jalr';
}
