// Disassembler for the debugger, crash reports and tests, driven by the same table as the
// executor (decode.ts). Output follows GNU objdump's conventions: ABI register names, the common
// pseudo-instructions (li, mv, j, ret, beqz, csrr, ...), branch/jump targets as absolute hex.

import { CSR_NAMES } from './csr';
import { BY_OP, csrOf, decodeOp, Fmt, immB, immI, immJ, immS, Op, rd as rdOf, rs1 as rs1Of, rs2 as rs2Of } from './decode';

export const ABI_NAMES: readonly string[] = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2',
  's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7',
  's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];

export interface DisasmOptions {
  /** Print pseudo-instructions where objdump would (default true). */
  aliases?: boolean;
}

const hex = (n: number) => '0x' + (n >>> 0).toString(16);
const reg = (n: number) => ABI_NAMES[n];
const csrName = (c: number) => CSR_NAMES[c] ?? hex(c);

function fenceSet(bits: number): string {
  let s = '';
  if (bits & 8) s += 'i';
  if (bits & 4) s += 'o';
  if (bits & 2) s += 'r';
  if (bits & 1) s += 'w';
  return s || '0';
}

/** One instruction as text, e.g. `addi sp, sp, -16` or `beqz a0, 0xc0001234`. */
export function disassemble(word: number, pc: number, opts: DisasmOptions = {}): string {
  word |= 0;
  const op = decodeOp(word);
  if (op === Op.ILLEGAL) return `.word 0x${(word >>> 0).toString(16).padStart(8, '0')}`;
  const d = BY_OP[op];
  const rd = rdOf(word);
  const rs1 = rs1Of(word);
  const rs2 = rs2Of(word);
  if (opts.aliases ?? true) {
    const alias = pseudo(op, word, pc, rd, rs1, rs2);
    if (alias !== null) return alias;
  }
  const n = d.name;
  switch (d.fmt) {
    case Fmt.R: return `${n} ${reg(rd)}, ${reg(rs1)}, ${reg(rs2)}`;
    case Fmt.I: return `${n} ${reg(rd)}, ${reg(rs1)}, ${immI(word)}`;
    case Fmt.SHIFT: return `${n} ${reg(rd)}, ${reg(rs1)}, ${hex(rs2)}`;
    case Fmt.LOAD: return `${n} ${reg(rd)}, ${immI(word)}(${reg(rs1)})`;
    case Fmt.STORE: return `${n} ${reg(rs2)}, ${immS(word)}(${reg(rs1)})`;
    case Fmt.BRANCH: return `${n} ${reg(rs1)}, ${reg(rs2)}, ${hex(pc + immB(word))}`;
    case Fmt.U: return `${n} ${reg(rd)}, ${hex(word >>> 12)}`;
    case Fmt.JAL: return `${n} ${reg(rd)}, ${hex(pc + immJ(word))}`;
    case Fmt.JALR: return `${n} ${reg(rd)}, ${immI(word)}(${reg(rs1)})`;
    case Fmt.CSR: return `${n} ${reg(rd)}, ${csrName(csrOf(word))}, ${reg(rs1)}`;
    case Fmt.CSRI: return `${n} ${reg(rd)}, ${csrName(csrOf(word))}, ${rs1}`;
    case Fmt.AMO: return `${n}${aqrl(word)} ${reg(rd)}, ${reg(rs2)}, (${reg(rs1)})`;
    case Fmt.LR: return `${n}${aqrl(word)} ${reg(rd)}, (${reg(rs1)})`;
    case Fmt.FENCE:
      // fence.tso (fm = 1000) and pause (Zihintpause) are instructions of their own to binutils.
      if ((word >>> 28) === 8) return 'fence.tso';
      if (word === 0x0100000f) return 'pause';
      return `${n} ${fenceSet((word >>> 24) & 15)}, ${fenceSet((word >>> 20) & 15)}`;
    case Fmt.SFENCE: return `${n} ${reg(rs1)}, ${reg(rs2)}`;
    default: return n;
  }
}

function aqrl(word: number): string {
  const bits = (word >>> 25) & 3;
  return bits === 3 ? '.aqrl' : bits === 2 ? '.aq' : bits === 1 ? '.rl' : '';
}

/** objdump's default aliases for the forms it prints them. */
function pseudo(op: Op, word: number, pc: number, rd: number, rs1: number, rs2: number): string | null {
  const imm = immI(word);
  switch (op) {
    case Op.ADDI:
      if (rd === 0 && rs1 === 0 && imm === 0) return 'nop';
      if (rs1 === 0) return `li ${reg(rd)}, ${imm}`;
      if (imm === 0) return `mv ${reg(rd)}, ${reg(rs1)}`;
      return null;
    case Op.XORI:
      return imm === -1 ? `not ${reg(rd)}, ${reg(rs1)}` : null;
    case Op.SLTIU:
      return imm === 1 ? `seqz ${reg(rd)}, ${reg(rs1)}` : null;
    case Op.SUB:
      return rs1 === 0 ? `neg ${reg(rd)}, ${reg(rs2)}` : null;
    case Op.SLTU:
      return rs1 === 0 ? `snez ${reg(rd)}, ${reg(rs2)}` : null;
    case Op.SLT:
      if (rs2 === 0) return `sltz ${reg(rd)}, ${reg(rs1)}`;
      if (rs1 === 0) return `sgtz ${reg(rd)}, ${reg(rs2)}`;
      return null;
    case Op.JAL: {
      const t = hex(pc + immJ(word));
      if (rd === 0) return `j ${t}`;
      if (rd === 1) return `jal ${t}`;
      return null;
    }
    case Op.JALR:
      if (rd === 0 && rs1 === 1 && imm === 0) return 'ret';
      if (rd === 0 && imm === 0) return `jr ${reg(rs1)}`;
      if (rd === 1 && imm === 0) return `jalr ${reg(rs1)}`;
      return null;
    case Op.BEQ:
    case Op.BNE:
    case Op.BLT:
    case Op.BGE: {
      const t = hex(pc + immB(word));
      const z = { [Op.BEQ]: 'beqz', [Op.BNE]: 'bnez', [Op.BLT]: 'bltz', [Op.BGE]: 'bgez' }[op];
      const zl = { [Op.BEQ]: null, [Op.BNE]: null, [Op.BLT]: 'bgtz', [Op.BGE]: 'blez' }[op];
      if (rs2 === 0) return `${z} ${reg(rs1)}, ${t}`;
      if (rs1 === 0 && zl) return `${zl} ${reg(rs2)}, ${t}`;
      return null;
    }
    case Op.CSRRS:
      if (rs1 === 0) {
        const c = csrOf(word);
        // objdump names the unprivileged counters' reads rdcycle/rdtime/rdinstret(h).
        const rdName = { 0xc00: 'rdcycle', 0xc01: 'rdtime', 0xc02: 'rdinstret', 0xc80: 'rdcycleh', 0xc81: 'rdtimeh', 0xc82: 'rdinstreth' }[c];
        if (rdName) return `${rdName} ${reg(rd)}`;
        return `csrr ${reg(rd)}, ${csrName(c)}`;
      }
      return rd === 0 ? `csrs ${csrName(csrOf(word))}, ${reg(rs1)}` : null;
    case Op.CSRRW:
      return rd === 0 ? `csrw ${csrName(csrOf(word))}, ${reg(rs1)}` : null;
    case Op.CSRRC:
      return rd === 0 ? `csrc ${csrName(csrOf(word))}, ${reg(rs1)}` : null;
    case Op.CSRRWI:
      return rd === 0 ? `csrwi ${csrName(csrOf(word))}, ${rs1}` : null;
    case Op.CSRRSI:
      return rd === 0 ? `csrsi ${csrName(csrOf(word))}, ${rs1}` : null;
    case Op.CSRRCI:
      return rd === 0 ? `csrci ${csrName(csrOf(word))}, ${rs1}` : null;
    case Op.FENCE:
      if (((word >>> 20) & 0xfff) === 0x0ff && rd === 0 && rs1 === 0) return 'fence';
      return null;
    case Op.SFENCE_VMA:
      if (rs1 === 0 && rs2 === 0) return 'sfence.vma';
      if (rs2 === 0) return `sfence.vma ${reg(rs1)}`;
      return null;
    default:
      return null;
  }
}
