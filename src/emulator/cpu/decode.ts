// The one instruction table of the harts (RV32IMA + Zicsr + Zifencei + the S-mode system
// instructions). The interpreter, the block translator and the disassembler all decode through
// it, so an encoding is described exactly once.
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

export interface InsnDef {
  readonly name: string;
  readonly op: Op;
  readonly fmt: Fmt;
  readonly mask: number;
  readonly match: number;
}

const OPC = 0x7f;
const F3 = 0x7000;
const F7 = 0xfe000000 | 0;
const RS2 = 0x01f00000;
const RS1 = 0x000f8000;
const RD = 0x00000f80;

function def(name: string, op: Op, fmt: Fmt, opcode: number, f3: number | null, f7: number | null, extraMask = 0, extraMatch = 0): InsnDef {
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
  return { name, op, fmt, mask: mask | 0, match: match | 0 };
}

/** AMOs: funct5 in [31:27]; aq/rl in [26:25] are accepted in any combination. */
function amo(name: string, op: Op, fmt: Fmt, funct5: number, extraMask = 0): InsnDef {
  return { name, op, fmt, mask: (OPC | F3 | 0xf8000000 | extraMask) | 0, match: (0x2f | (2 << 12) | (funct5 << 27)) | 0 };
}

export const TABLE: readonly InsnDef[] = [
  def('lui', Op.LUI, Fmt.U, 0x37, null, null),
  def('auipc', Op.AUIPC, Fmt.U, 0x17, null, null),
  def('jal', Op.JAL, Fmt.JAL, 0x6f, null, null),
  def('jalr', Op.JALR, Fmt.JALR, 0x67, 0, null),
  def('beq', Op.BEQ, Fmt.BRANCH, 0x63, 0, null),
  def('bne', Op.BNE, Fmt.BRANCH, 0x63, 1, null),
  def('blt', Op.BLT, Fmt.BRANCH, 0x63, 4, null),
  def('bge', Op.BGE, Fmt.BRANCH, 0x63, 5, null),
  def('bltu', Op.BLTU, Fmt.BRANCH, 0x63, 6, null),
  def('bgeu', Op.BGEU, Fmt.BRANCH, 0x63, 7, null),
  def('lb', Op.LB, Fmt.LOAD, 0x03, 0, null),
  def('lh', Op.LH, Fmt.LOAD, 0x03, 1, null),
  def('lw', Op.LW, Fmt.LOAD, 0x03, 2, null),
  def('lbu', Op.LBU, Fmt.LOAD, 0x03, 4, null),
  def('lhu', Op.LHU, Fmt.LOAD, 0x03, 5, null),
  def('sb', Op.SB, Fmt.STORE, 0x23, 0, null),
  def('sh', Op.SH, Fmt.STORE, 0x23, 1, null),
  def('sw', Op.SW, Fmt.STORE, 0x23, 2, null),
  def('addi', Op.ADDI, Fmt.I, 0x13, 0, null),
  def('slti', Op.SLTI, Fmt.I, 0x13, 2, null),
  def('sltiu', Op.SLTIU, Fmt.I, 0x13, 3, null),
  def('xori', Op.XORI, Fmt.I, 0x13, 4, null),
  def('ori', Op.ORI, Fmt.I, 0x13, 6, null),
  def('andi', Op.ANDI, Fmt.I, 0x13, 7, null),
  def('slli', Op.SLLI, Fmt.SHIFT, 0x13, 1, 0x00),
  def('srli', Op.SRLI, Fmt.SHIFT, 0x13, 5, 0x00),
  def('srai', Op.SRAI, Fmt.SHIFT, 0x13, 5, 0x20),
  def('add', Op.ADD, Fmt.R, 0x33, 0, 0x00),
  def('sub', Op.SUB, Fmt.R, 0x33, 0, 0x20),
  def('sll', Op.SLL, Fmt.R, 0x33, 1, 0x00),
  def('slt', Op.SLT, Fmt.R, 0x33, 2, 0x00),
  def('sltu', Op.SLTU, Fmt.R, 0x33, 3, 0x00),
  def('xor', Op.XOR, Fmt.R, 0x33, 4, 0x00),
  def('srl', Op.SRL, Fmt.R, 0x33, 5, 0x00),
  def('sra', Op.SRA, Fmt.R, 0x33, 5, 0x20),
  def('or', Op.OR, Fmt.R, 0x33, 6, 0x00),
  def('and', Op.AND, Fmt.R, 0x33, 7, 0x00),
  def('mul', Op.MUL, Fmt.R, 0x33, 0, 0x01),
  def('mulh', Op.MULH, Fmt.R, 0x33, 1, 0x01),
  def('mulhsu', Op.MULHSU, Fmt.R, 0x33, 2, 0x01),
  def('mulhu', Op.MULHU, Fmt.R, 0x33, 3, 0x01),
  def('div', Op.DIV, Fmt.R, 0x33, 4, 0x01),
  def('divu', Op.DIVU, Fmt.R, 0x33, 5, 0x01),
  def('rem', Op.REM, Fmt.R, 0x33, 6, 0x01),
  def('remu', Op.REMU, Fmt.R, 0x33, 7, 0x01),
  // FENCE ignores its fm/pred/succ/rs1/rd fields (FENCE.TSO and PAUSE are FENCEs too).
  def('fence', Op.FENCE, Fmt.FENCE, 0x0f, 0, null),
  def('fence.i', Op.FENCE_I, Fmt.NONE, 0x0f, 1, null),
  def('ecall', Op.ECALL, Fmt.NONE, 0x73, 0, 0x00, RS2 | RS1 | RD, 0 << 20),
  def('ebreak', Op.EBREAK, Fmt.NONE, 0x73, 0, 0x00, RS2 | RS1 | RD, 1 << 20),
  def('sret', Op.SRET, Fmt.NONE, 0x73, 0, 0x08, RS2 | RS1 | RD, 2 << 20),
  def('wfi', Op.WFI, Fmt.NONE, 0x73, 0, 0x08, RS2 | RS1 | RD, 5 << 20),
  def('sfence.vma', Op.SFENCE_VMA, Fmt.SFENCE, 0x73, 0, 0x09, RD, 0),
  def('csrrw', Op.CSRRW, Fmt.CSR, 0x73, 1, null),
  def('csrrs', Op.CSRRS, Fmt.CSR, 0x73, 2, null),
  def('csrrc', Op.CSRRC, Fmt.CSR, 0x73, 3, null),
  def('csrrwi', Op.CSRRWI, Fmt.CSRI, 0x73, 5, null),
  def('csrrsi', Op.CSRRSI, Fmt.CSRI, 0x73, 6, null),
  def('csrrci', Op.CSRRCI, Fmt.CSRI, 0x73, 7, null),
  amo('lr.w', Op.LR_W, Fmt.LR, 0x02, RS2),
  amo('sc.w', Op.SC_W, Fmt.AMO, 0x03),
  amo('amoswap.w', Op.AMOSWAP_W, Fmt.AMO, 0x01),
  amo('amoadd.w', Op.AMOADD_W, Fmt.AMO, 0x00),
  amo('amoxor.w', Op.AMOXOR_W, Fmt.AMO, 0x04),
  amo('amoand.w', Op.AMOAND_W, Fmt.AMO, 0x0c),
  amo('amoor.w', Op.AMOOR_W, Fmt.AMO, 0x08),
  amo('amomin.w', Op.AMOMIN_W, Fmt.AMO, 0x10),
  amo('amomax.w', Op.AMOMAX_W, Fmt.AMO, 0x14),
  amo('amominu.w', Op.AMOMINU_W, Fmt.AMO, 0x18),
  amo('amomaxu.w', Op.AMOMAXU_W, Fmt.AMO, 0x1c),
];

/** Definition by handler id (the disassembler's names and formats). */
export const BY_OP: readonly InsnDef[] = (() => {
  const a: InsnDef[] = new Array(Op.COUNT);
  a[Op.ILLEGAL] = { name: 'unimp', op: Op.ILLEGAL, fmt: Fmt.NONE, mask: 0, match: 0 };
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
  for (let key = 0; key < 1 << 15; key++) {
    const word = (((key >>> 10) << 2) | 3 | (((key >>> 7) & 7) << 12) | ((key & 0x7f) << 25)) | 0;
    const list = TABLE.filter((d) => ((word & d.mask & keyMask) | 0) === ((d.match & keyMask) | 0));
    if (list.length === 0) direct[key] = Op.ILLEGAL;
    else if (list.length === 1 && (list[0].mask & ~keyMask) === 0) direct[key] = list[0].op;
    else {
      direct[key] = AMBIGUOUS;
      candidates[key] = list;
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

/** True for instructions that end a straight-line run of code (control flow or system state). */
export function endsBlock(op: Op): boolean {
  return (op >= Op.JAL && op <= Op.BGEU) || (op >= Op.FENCE_I && op <= Op.CSRRCI) || op === Op.ILLEGAL;
}
