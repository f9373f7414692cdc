// The block translator: straight-line RISC-V code compiled into JavaScript functions.
//
// A block starts where execution enters it and runs to the first control transfer (included),
// the first system instruction (excluded: those run in the interpreter), the end of its 4 KiB
// page or MAX_BLOCK instructions. Its source is position-independent — every pc is `pc + k`,
// with `pc` the block's virtual start passed at call time — so one compiled function serves
// every virtual alias of the physical code (the kernel runs at 0 and at 0xC000_0000 during
// boot) and identical code at different places (copied user pages) shares one function.
//
// Inside a block, guest registers live in JS locals (loaded once, written back at each exit);
// loads and stores inline the TLB check and fall back to the hart's slow paths, which enter the
// trap and set `h.trapped`; the block then writes back and returns the number of instructions
// retired before the faulting one. Code is interpreted until a block entry has been entered
// `CodeCache.hot` times, so code that runs once is never compiled.

import { Cause } from './csr';
import { Block, type BlockFn, type CodeCache } from './codecache';
import { decodeOp, endsBlock, immB, immI, immJ, immS, immU, Op, rd as rdOf, rs1 as rs1Of, rs2 as rs2Of } from './decode';
import type { Hart } from './hart';
import { div, divu, execute, mulh, mulhsu, mulhu, rem, remu } from './interp';
import { TLB_MASK } from './mmu';

const MAX_BLOCK = 128;
/** Compiled functions kept by source text (identical code at another address reuses one). */
const MAX_MEMO = 40000;

/**
 * The JavaScript of one block, or null when its first instruction is not translatable.
 * The function is `block(h, pc, limit)`: it returns the instructions retired and leaves h.pc at
 * the next instruction. A block whose last instruction branches back to its own start loops
 * inside the function while fewer than `limit` instructions have retired.
 */
export function blockSource(words: Int32Array, start: number, limit: number): { src: string; len: number; loops: boolean } | null {
  const body: string[] = [];
  const used = new Set<number>();
  const written = new Set<number>();
  let mem = false;
  let len = 0;
  let ended = false;
  let loops = false;
  const r = (n: number): string => {
    if (n === 0) return '0';
    used.add(n);
    return `r${n}`;
  };
  const w = (n: number): string => {
    if (n === 0) return 't'; // x0: the value is computed (side effects) and dropped
    used.add(n);
    written.add(n);
    return `r${n}`;
  };
  const pcAt = (i: number, delta = 0) => `(pc + ${4 * i + delta}) | 0`;
  // Exits are emitted as placeholders and patched once the written set is known.
  const WB = '\u0001';
  /** Leave after instruction i retired (a slow path changed something the loop must see). */
  const leaveAfter = (i: number) => `{ ${WB} h.pc = ${pcAt(i, 4)}; return done + ${i + 1}; }`;
  const trapAt = (i: number) => `{ ${WB} return done + ${i}; }`;
  for (let i = 0; i < limit && i < MAX_BLOCK && !ended; i++) {
    const word = words[start + i];
    const op = decodeOp(word);
    if (op === Op.ILLEGAL || (endsBlock(op) && op > Op.BGEU)) break; // system: interpreter
    len = i + 1;
    const rd = rdOf(word);
    const a = r(rs1Of(word));
    const b = () => r(rs2Of(word));
    const ii = immI(word);
    const slowLoad = (width: number, ext: string) =>
      `{ t = ${ext.replace('$', `h.loadSlow(a, ${width}, ${pcAt(i)})`)}; if (h.trapped) ${trapAt(i)} ${w(rd)} = t; ` +
      `if (h.stop || (h.mip & h.sie) !== 0) ${leaveAfter(i)} }`;
    const load = (check: string, fast: string, width: number, ext: string) => {
      mem = true;
      body.push(
        `a = (${a} + ${ii}) | 0; v = a >>> 12; e = v & ${TLB_MASK};`,
        `if (ltag[e] === ((v << 1) | k)${check}) ${w(rd)} = ${fast}; else ${slowLoad(width, ext)}`,
      );
    };
    const afterStore = (i: number) => `if (h.stop || h.codeChanged || (h.mip & h.sie) !== 0) ${leaveAfter(i)}`;
    const store = (check: string, fast: string, width: number) => {
      mem = true;
      const val = b();
      body.push(
        `a = (${a} + ${immS(word)}) | 0; v = a >>> 12; e = v & ${TLB_MASK};`,
        `if (stag[e] === ((v << 1) | k)${check}) ${fast.replace('$', val)};`,
        `else { h.storeSlow(a, ${width}, ${val}, ${pcAt(i)}); if (h.trapped) ${trapAt(i)} ${afterStore(i)} }`,
      );
    };
    const branch = (cond: string) => {
      const off = immB(word);
      ended = true;
      let taken: string;
      if ((off & 3) !== 0) taken = `{ ${WB} h.raise(${Cause.InsnMisaligned}, ${pcAt(i, off)}, ${pcAt(i)}); return done + ${i}; }`;
      else if (off === -4 * i) {
        // Back to the block's start: loop here while the budget lasts.
        loops = true;
        taken = `{ done += ${i + 1}; if (done + ${i + 1} <= limit) continue; ${WB} h.pc = pc; return done; }`;
      } else taken = `{ ${WB} h.pc = ${pcAt(i, off)}; return done + ${i + 1}; }`;
      body.push(`if (${cond}) ${taken}`, `${WB} h.pc = ${pcAt(i, 4)}; return done + ${i + 1};`);
    };
    const alu = (expr: string) => body.push(`${w(rd)} = ${expr};`);
    switch (op) {
      case Op.LUI: alu(`${immU(word)}`); break;
      case Op.AUIPC: alu(pcAt(i, immU(word))); break;
      case Op.JAL: {
        const off = immJ(word);
        ended = true;
        if ((off & 3) !== 0) body.push(`${WB} h.raise(${Cause.InsnMisaligned}, ${pcAt(i, off)}, ${pcAt(i)}); return done + ${i};`);
        else body.push(`${w(rd)} = ${pcAt(i, 4)};`, `${WB} h.pc = ${pcAt(i, off)}; return done + ${i + 1};`);
        break;
      }
      case Op.JALR:
        ended = true;
        body.push(
          `a = (${a} + ${ii}) & -2;`,
          `if (a & 2) { ${WB} h.raise(${Cause.InsnMisaligned}, a, ${pcAt(i)}); return done + ${i}; }`,
          `${w(rd)} = ${pcAt(i, 4)};`,
          `${WB} h.pc = a; return done + ${i + 1};`,
        );
        break;
      case Op.BEQ: branch(`${a} === ${b()}`); break;
      case Op.BNE: branch(`${a} !== ${b()}`); break;
      case Op.BLT: branch(`${a} < ${b()}`); break;
      case Op.BGE: branch(`${a} >= ${b()}`); break;
      case Op.BLTU: branch(`(${a} >>> 0) < (${b()} >>> 0)`); break;
      case Op.BGEU: branch(`(${a} >>> 0) >= (${b()} >>> 0)`); break;
      case Op.LB: load('', 'i8[(a + ldelta[e]) | 0]', 1, '($ << 24) >> 24'); break;
      case Op.LH: load(' && (a & 1) === 0', 'i16[(a + ldelta[e]) >> 1]', 2, '($ << 16) >> 16'); break;
      case Op.LW: load(' && (a & 3) === 0', 'm32[(a + ldelta[e]) >> 2]', 4, '$ | 0'); break;
      case Op.LBU: load('', 'u8[(a + ldelta[e]) | 0]', 1, '$'); break;
      case Op.LHU: load(' && (a & 1) === 0', 'u16[(a + ldelta[e]) >> 1]', 2, '$'); break;
      case Op.SB: store('', 'u8[(a + sdelta[e]) | 0] = $', 1); break;
      case Op.SH: store(' && (a & 1) === 0', 'u16[(a + sdelta[e]) >> 1] = $', 2); break;
      case Op.SW: store(' && (a & 3) === 0', 'm32[(a + sdelta[e]) >> 2] = $', 4); break;
      case Op.ADDI: alu(`(${a} + ${ii}) | 0`); break;
      case Op.SLTI: alu(`${a} < ${ii} ? 1 : 0`); break;
      case Op.SLTIU: alu(`(${a} >>> 0) < ${ii >>> 0} ? 1 : 0`); break;
      case Op.XORI: alu(`${a} ^ ${ii}`); break;
      case Op.ORI: alu(`${a} | ${ii}`); break;
      case Op.ANDI: alu(`${a} & ${ii}`); break;
      case Op.SLLI: alu(`${a} << ${rs2Of(word)}`); break;
      case Op.SRLI: alu(`(${a} >>> ${rs2Of(word)}) | 0`); break;
      case Op.SRAI: alu(`${a} >> ${rs2Of(word)}`); break;
      case Op.ADD: alu(`(${a} + ${b()}) | 0`); break;
      case Op.SUB: alu(`(${a} - ${b()}) | 0`); break;
      case Op.SLL: alu(`${a} << ${b()}`); break; // JS masks shift counts to 5 bits, as RV32 does
      case Op.SLT: alu(`${a} < ${b()} ? 1 : 0`); break;
      case Op.SLTU: alu(`(${a} >>> 0) < (${b()} >>> 0) ? 1 : 0`); break;
      case Op.XOR: alu(`${a} ^ ${b()}`); break;
      case Op.SRL: alu(`(${a} >>> ${b()}) | 0`); break;
      case Op.SRA: alu(`${a} >> ${b()}`); break;
      case Op.OR: alu(`${a} | ${b()}`); break;
      case Op.AND: alu(`${a} & ${b()}`); break;
      case Op.MUL: alu(`Math.imul(${a}, ${b()})`); break;
      case Op.MULH: alu(`mulh(${a}, ${b()})`); break;
      case Op.MULHSU: alu(`mulhsu(${a}, ${b()})`); break;
      case Op.MULHU: alu(`mulhu(${a}, ${b()})`); break;
      case Op.DIV: alu(`div(${a}, ${b()})`); break;
      case Op.DIVU: alu(`divu(${a}, ${b()})`); break;
      case Op.REM: alu(`rem(${a}, ${b()})`); break;
      case Op.REMU: alu(`remu(${a}, ${b()})`); break;
      case Op.FENCE: break;
      case Op.LR_W:
        body.push(`t = h.loadReserved(${a}, ${pcAt(i)}); if (h.trapped) ${trapAt(i)} ${w(rd)} = t;`);
        break;
      case Op.SC_W:
      case Op.AMOSWAP_W:
      case Op.AMOADD_W:
      case Op.AMOXOR_W:
      case Op.AMOAND_W:
      case Op.AMOOR_W:
      case Op.AMOMIN_W:
      case Op.AMOMAX_W:
      case Op.AMOMINU_W:
      case Op.AMOMAXU_W: {
        const call = op === Op.SC_W ? `h.storeConditional(${a}, ${b()}, ${pcAt(i)})` : `h.amo(${word >>> 27}, ${a}, ${b()}, ${pcAt(i)})`;
        body.push(`t = ${call}; if (h.trapped) ${trapAt(i)} ${w(rd)} = t; ${afterStore(i)}`);
        break;
      }
      default:
        throw new Error(`jit: no template for op ${op}`);
    }
  }
  if (len === 0) return null;
  if (!ended) body.push(`${WB} h.pc = ${pcAt(len)}; return done + ${len};`);
  const regs = [...used].sort((p, q) => p - q);
  const wb = [...written].sort((p, q) => p - q).map((n) => `x[${n}] = r${n};`).join(' ');
  const head = [`const x = h.x;`, `let t = 0, a = 0, v = 0, e = 0, done = 0;`];
  if (regs.length) head.push(`let ${regs.map((n) => `r${n} = x[${n}]`).join(', ')};`);
  if (mem) head.push(`const k = h.priv, ltag = h.ltag, ldelta = h.ldelta, stag = h.stag, sdelta = h.sdelta;`);
  const code = loops ? ['for (;;) {', ...body, '}'] : body;
  const src = [...head, ...code].join('\n').split(WB).join(wb);
  return { src, len, loops };
}

const memo = new Map<string, BlockFn>();
let memoViews: Int32Array | null = null;

/** Compiles a block source over RAM views (shared by all harts of a machine). */
function compile(src: string, h: Hart): BlockFn {
  if (memoViews !== h.m32) {
    memo.clear(); // another machine: its functions close over other RAM views
    memoViews = h.m32;
  }
  let fn = memo.get(src);
  if (fn === undefined) {
    if (memo.size >= MAX_MEMO) memo.clear();
    const factory = new Function('m32', 'u16', 'i16', 'u8', 'i8', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu', `return function block(h, pc, limit) {\n${src}\n};`);
    fn = factory(h.m32, h.u16, h.i16, h.u8, h.i8, mulh, mulhsu, mulhu, div, divu, rem, remu) as BlockFn;
    memo.set(src, fn);
  }
  return fn;
}

/** True when the block at RAM offset `off` ends with a branch back to its start. */
export function loopsAt(m32: Int32Array, off: number): boolean {
  const s = blockSource(m32, off >> 2, (4096 - (off & 4095)) >> 2);
  return s !== null && s.loops;
}

/** A system instruction (or an illegal one) where a block would start: run by the interpreter. */
function interpretOne(h: Hart, pc: number, _limit: number): number {
  const off = h.fetchOffset(pc); // a TLB hit: the dispatcher just translated pc
  execute(h, h.m32[off >> 2], pc);
  return h.trapped ? 0 : 1;
}

/** Translates the block at RAM offset `off` and caches it. */
export function translate(h: Hart, cache: CodeCache, off: number): Block {
  const limit = (4096 - (off & 4095)) >> 2;
  const s = blockSource(h.m32, off >> 2, limit);
  const b = s === null ? new Block(interpretOne, 1) : new Block(compile(s.src, h), s.len);
  cache.insert(off, b);
  return b;
}

/**
 * Interprets from the current pc up to and including the first instruction that would end a
 * block (or a trap/stop). Returns iterations used (retired instructions plus one per trap).
 */
function interpretRun(h: Hart, pc: number, off: number, budget: number): number {
  let n = 0;
  const m32 = h.m32;
  const start = pc;
  for (;;) {
    const word = m32[off >> 2];
    execute(h, word, pc);
    if (h.trapped) {
      h.trapped = false;
      h.record(start, off - 4 * n, n + 1);
      h.instret += n;
      return n + 1;
    }
    n++;
    const next = (pc + 4) | 0;
    if (endsBlock(decodeOp(word)) || h.pc !== next || n >= budget || h.stop || (next & 4095) === 0) break;
    pc = next;
    off += 4;
  }
  h.record(start, off - 4 * (n - 1), n);
  h.instret += n;
  return n;
}

/**
 * Runs `h` for about `budget` iterations through translated blocks (interpreting cold code).
 * Returns iterations used: instructions retired plus one per trap taken.
 */
export function runBlocks(h: Hart, cache: CodeCache, budget: number): number {
  let iter = 0;
  while (iter < budget && !h.stop) {
    if ((h.mip & h.sie) !== 0 && h.checkInterrupt()) {
      iter++;
      continue;
    }
    const pc = h.pc;
    const off = h.fetchOffset(pc);
    if (off < 0) {
      h.trapped = false;
      iter++;
      continue;
    }
    let b = cache.lookup(off);
    if (b === null && cache.hit(off) >= cache.hot) b = translate(h, cache, off);
    if (b === null) {
      iter += interpretRun(h, pc, off, budget - iter);
      continue;
    }
    const n = b.fn(h, pc, budget - iter);
    h.instret += n;
    // (A block that looped records one pass: the trace holds runs of straight-line code.)
    if (h.trapped) {
      h.trapped = false;
      h.record(pc, off, Math.min(n + 1, b.len));
      iter += n + 1;
    } else {
      h.record(pc, off, Math.min(n, b.len));
      iter += n;
    }
  }
  return iter;
}
