// The page translator: the hot code of one physical page compiled into one WebAssembly function,
// generated from the instruction table (decode.ts) with one template per kind, and run by a
// small dispatcher in WebAssembly that chains translated pages without returning to
// JavaScript (a call from JavaScript into WebAssembly costs about as much as forty guest
// instructions; one page to the next through the function table, a few).
//
// What goes in: the fast loop counts entries into every slot (jump targets and run starts);
// when a slot gets hot, its page is translated with every slot entered so far as an entry.
// From each entry the translator takes the straight-line code up to the first unconditional
// jump, system instruction (but the CSR accesses it makes inline: INLINE_CSRS) or the page end
// (conditional branches fall through and stay in). There is a label at each entry and at each
// in-page target of an included jump, and the instructions from one label to the next are one
// WebAssembly function (a block): a jump to a label is a tail call (blocks chained within the
// page), a jump to the block's own start a loop.
//
// A page function is `page(s, vb, limit, k, hs) → retired`: s the entry slot, vb the page's
// virtual base (every pc is vb + constant, so one function serves every virtual alias of the
// page), limit the instructions it may retire before it leaves at the next jump within the
// page, k the key of load/store TLB tags (privilege and SUM: mmu.ts dataKey), hs the hart's
// state (layout.ts: registers, TLB bank addresses, PC, FLAGS). It leaves with PC set; FLAGS
// says whether the dispatcher must return to JavaScript (a trap, a slow path that changed
// interrupts, stopped the machine or wrote code, or code that is not translated). Guest
// registers live in the hart's state, except in a block that loops on itself: there the
// registers it uses are locals, loaded before the loop and stored back (those it writes) before
// anything leaves the block or calls a slow path, which sees and changes registers in the
// state. (Doing that in every block made the kernel slower: its blocks are a few instructions
// long, so the loads and stores at the edges cost more than they save.) Loads and stores check
// the TLB inline and call the hart's slow paths otherwise; branch hints (wasm.ts Hint) mark the
// TLB hit likely and slow paths, budget and trap checks unlikely, so TurboFan keeps the slow
// paths and their spills out of the straight hot path (enableBranchHints below).
// The pages that get hot within a few milliseconds of each other share one module (ModuleBatch).
// A translation costs about 1.5 ms in the boot (generating it 0.5–0.7, Liftoff compiling it ~0.8:
// bench/RESULTS.md, fifth session); V8 optimizes the hot functions in the background.

import { setFlagsFromString } from 'node:v8';
import type { Ram } from '../ram';
import { Cause, CSR_SCAUSE, CSR_SEPC, CSR_SSCRATCH, CSR_SSTATUS, CSR_STVAL, SEPC_WRITABLE, SSTATUS_MXR, SSTATUS_SIE, SSTATUS_SUM, SSTATUS_WRITABLE } from './csr';
import { BY_OP, Op, SYSTEM, type InsnDef } from './decode';
import type { Hart } from './hart';
import { execute } from './interp';
import { COMPARES, type BinOp, type Expr, type Leaf } from './ir';
import { Exit, FDELTA, FLAGS, FTAG, HID, LDELTA, LTAG, MIP, PC, RESERVATION, SCAUSE, SDELTA, SEPC, SIE, SSCRATCH, SSTATUS, STAG, STVAL, VB, X } from './layout';
import { dataKey } from './mmu';
import { SLOT_WORDS } from './predecode';
import { FETCH_SPREAD, fetchIndex, TLB_MASK } from './tlb-size';
import { Code, encodeModule, Hint, W, type Label } from './wasm';
import { LOOP_LOCALS, loopCode } from './wasm-loop';

const SLOTS = 1024;

/** What one page's translation produced: its functions, to go into a module (ModuleBatch). */
export interface PageCode {
  /** The page's entry, then its blocks; they call each other by index from `base` on. */
  functions: { type: number; locals: number; code: Code }[];
  /** 1 for each slot the function can be entered at. */
  labels: Uint8Array;
  /** Instructions translated. */
  length: number;
}

// Function types and imports of a page module. The slow paths are the hart's, in JavaScript:
// they take the location `slot | run start << 10` (the pc is the page's virtual base in VB plus
// 4·slot), write rd themselves, and return a status: 0 go on, 1 trapped (not retired: its run
// goes to the crash trace), 2 leave after this instruction (PC set).
const T_PAGE = 0; // page(s, vb, limit, k, hs) → retired; st, amo, sc (5 → status)
const T_I4 = 1; // ld, lr (4 → status)
const T_V4 = 2; // raise(hid, cause, tval, slot)
const T_I2 = 3; // the division helpers (x, y) → value
const T_I3 = 5; // run(hs, k, budget) → retired; sys (3 → status)
const TYPES = [
  { params: 5, results: 1 },
  { params: 4, results: 1 },
  { params: 4, results: 0 },
  { params: 2, results: 1 },
  { params: 5, results: 1 },
  { params: 3, results: 1 },
] as const;
const IMPORTS = [
  { name: 'ld', type: T_I4 }, // (hid, va, width | signed << 3 | rd << 4, slot)
  { name: 'st', type: T_PAGE }, // (hid, va, width, value, slot)
  { name: 'amo', type: T_PAGE }, // (hid, op | rd << 8, va, src, slot)
  { name: 'lr', type: T_I4 }, // (hid, va, rd, slot)
  { name: 'sc', type: T_PAGE }, // (hid, va, src, rd, slot)
  { name: 'raise', type: T_V4 },
  { name: 'sys', type: T_I3 }, // (hid, instruction word, slot): a write to sstatus, by the reference interpreter
];
const F_LD = 0, F_ST = 1, F_AMO = 2, F_LR = 3, F_SC = 4, F_RAISE = 5, F_SYS = 6;
const HELPERS: readonly BinOp[] = ['div', 'divu', 'rem', 'remu'];
const F_HELPER = IMPORTS.length;
/** The first page's entry in a module; each page's blocks follow its entry (ModuleBatch). */
const F_PAGES = F_HELPER + HELPERS.length;

/** Slow-path statuses (see above). */
const GO = 0, TRAPPED = 1, LEAVE = 2;

// A page's entry function: (s, vb, limit, k, hs) → retired. Its blocks: (vb, limit, k, hs, n)
// → n plus what they and their successors retired; then their own locals.
const T_BLOCK = 4;
const L_VB = 0, L_LIMIT = 1, L_K = 2, L_HS = 3, L_N = 4;
const L_A = 5, L_E = 6, L_T = 7, L_LT = 8, L_LD = 9, L_ST = 10, L_SD = 11, L_PL = 12;
const LOCALS = 8;
/** The first local holding a guest register (in a looping block: one per register it uses). */
const L_REGS = 13;

/** Decoded operands of one slot (predecode.ts layout). */
interface Slot {
  op: Op;
  def: InsnDef;
  rd: number;
  rs1: number;
  rs2: number;
  imm: number;
}

function slotAt(d: Int32Array, s: number): Slot {
  const w = d[SLOT_WORDS * s];
  const op = (w & 0xff) as Op;
  const rd = (w >>> 8) & 0xff;
  return { op, def: BY_OP[op], rd: rd === 32 ? 0 : rd, rs1: (w >>> 16) & 0xff, rs2: w >>> 24, imm: d[SLOT_WORDS * s + 1] };
}

/**
 * The CSRs translated code reads and writes inline, by number: their cell in the hart's state
 * (layout.ts) and what a write keeps (hart.ts csrWrite: sstatus keeps its other bits, sepc
 * clears bits 1:0). A trap entry and return access these a dozen times, and Linux toggles
 * sstatus.SIE around every spinlock; each used to end the block for the reference interpreter.
 * The other CSRs (satp, sie, stvec, the counters, ...) still do.
 */
const INLINE_CSRS = new Map<number, { cell: number; writable: number }>([
  [CSR_SSTATUS, { cell: SSTATUS, writable: SSTATUS_WRITABLE }],
  [CSR_SSCRATCH, { cell: SSCRATCH, writable: -1 }],
  [CSR_SEPC, { cell: SEPC, writable: SEPC_WRITABLE }],
  [CSR_SCAUSE, { cell: SCAUSE, writable: -1 }],
  [CSR_STVAL, { cell: STVAL, writable: -1 }],
]);

const CSR_OPS = Uint8Array.from(BY_OP, (d) => (d !== undefined && d.sem.k === 'csr' ? 1 : 0));
const INLINE_CSR = new Uint8Array(4096);
for (const n of INLINE_CSRS.keys()) INLINE_CSR[n] = 1;

/**
 * True for a system instruction translated code runs inline (see INLINE_CSRS), from its decoded
 * op and immediate. The fast loop asks it for every system instruction it runs: such a slot
 * counts its entries like any other, so code that starts with one gets translated too.
 */
export function inlineSystem(op: number, imm: number): boolean {
  return CSR_OPS[op] !== 0 && INLINE_CSR[imm & 0xfff] !== 0;
}

/** The instruction word of a decoded CSR instruction (for stval and the reference interpreter). */
function csrWord(sl: Slot): number {
  return sl.def.match | (sl.rd << 7) | (sl.rs1 << 15) | ((sl.imm & 0xfff) << 20);
}

/** True when control never falls through to the next slot. */
function unconditional(k: string): boolean {
  return k === 'jal' || k === 'jalr';
}

/** Adds the registers expression `e` reads (leaves a and b) to `to`. */
function exprReads(e: Expr, sl: Slot, to: Set<number>): void {
  if (e.o === 'leaf') {
    if (e.leaf === 'a') to.add(sl.rs1);
    else if (e.leaf === 'b') to.add(sl.rs2);
    return;
  }
  if (e.o === 'sel') exprReads(e.c, sl, to);
  exprReads(e.x, sl, to);
  exprReads(e.y, sl, to);
}

/** Adds what one instruction reads to `reads` and what it writes to `writes` (x0 included). */
function regsOf(sl: Slot, reads: Set<number>, writes: Set<number>): void {
  const sem = sl.def.sem;
  switch (sem.k) {
    case 'alu':
    case 'branch':
      exprReads(sem.e, sl, reads);
      break;
    case 'jalr':
    case 'load':
    case 'lr':
      reads.add(sl.rs1);
      break;
    case 'store':
    case 'amo':
    case 'sc':
      reads.add(sl.rs1);
      reads.add(sl.rs2);
      break;
    case 'csr':
      if (!sem.imm) reads.add(sl.rs1);
      break;
  }
  if (sem.k !== 'branch' && sem.k !== 'store' && sem.k !== 'nop') writes.add(sl.rd);
}

/**
 * The slots to translate: straight-line runs from each entry (see the header), and from the
 * return site of each call among them (the slot after a JAL or JALR that links), which becomes
 * an entry too: a call's return comes back through the dispatcher, and a return site that is
 * not an entry sends it back to JavaScript: after the first `forkbench`, the commonest return
 * from kernel code (~150 000 a run, over ~1 000 return sites each too cool to become an entry
 * soon; bench/RESULTS.md, sixth session).
 */
export function selectSlots(d: Int32Array, entries: readonly number[]): { inc: Uint8Array; entries: number[] } {
  const inc = new Uint8Array(SLOTS);
  const all = [...entries];
  const entered = new Uint8Array(SLOTS);
  for (const e of entries) entered[e] = 1;
  for (let i = 0; i < all.length; i++) {
    for (let s = all[i]; s < SLOTS && inc[s] === 0; s++) {
      const w = d[SLOT_WORDS * s];
      const op = w & 0xff;
      if (SYSTEM[op] !== 0 && !inlineSystem(op, d[SLOT_WORDS * s + 1])) break;
      inc[s] = 1;
      if (!unconditional(BY_OP[op].sem.k)) continue;
      const rd = (w >>> 8) & 0xff; // x0 is 32 (predecode.ts)
      if (rd !== 32 && s + 1 < SLOTS && entered[s + 1] === 0) {
        entered[s + 1] = 1;
        all.push(s + 1);
      }
      break;
    }
  }
  return { inc, entries: all };
}

/** The in-page slot a branch or jal goes to, or -1 (another page, or misaligned). */
function staticTarget(sl: Slot, s: number): number {
  const k = sl.def.sem.k;
  if (k !== 'branch' && k !== 'jal') return -1;
  const t = 4 * s + sl.imm;
  return (sl.imm & 3) === 0 && t >= 0 && t < 4096 ? t >> 2 : -1;
}

/** The labels of a translation: entries and in-page jump targets among the included slots. */
function labelsOf(d: Int32Array, inc: Uint8Array, entries: readonly number[]): Uint8Array {
  const labels = new Uint8Array(SLOTS);
  for (const e of entries) if (inc[e]) labels[e] = 1;
  for (let s = 0; s < SLOTS; s++) {
    if (!inc[s]) continue;
    const t = staticTarget(slotAt(d, s), s);
    if (t >= 0 && inc[t]) labels[t] = 1;
  }
  return labels;
}

/**
 * The functions of one translated page, numbered from `base` in the module that will hold them
 * (see ModuleBatch): its entry at `base`, its blocks after it.
 */
export function pageCode(d: Int32Array, page: number, entries: readonly number[], base: number, ramBase: number): PageCode {
  const { inc, entries: all } = selectSlots(d, entries);
  const labels = labelsOf(d, inc, all);
  const order: number[] = [];
  for (let s = 0; s < SLOTS; s++) if (labels[s]) order.push(s);
  const g = new PageGen(page, labels, order, base, ramBase | 0);
  const blocks = order.map((l) => {
    const code = g.block(d, inc, l);
    return { type: T_BLOCK, locals: g.locals, code };
  });
  return { functions: [{ type: T_PAGE, locals: 0, code: g.entry() }, ...blocks], labels, length: g.length };
}

/**
 * Translated pages on their way into one module. A call into a function of another module costs
 * several times one within a module (`bench -- wasm-calls` on the 2026-12-07 machine: 146 against
 * 47 ns per call among 1 024 functions one to a module or eight to a module; 221 against 61
 * among 4 096), and kernel code crosses pages all the time: the worker gathers the pages that get
 * hot within a few milliseconds into one module (CodeCache.flush); elsewhere a batch is one page.
 */
export class ModuleBatch {
  /** The RAM pages in the batch, in the order of their entries' exports (`p0`, `p1`, ...). */
  readonly pages: number[] = [];
  /** Per page, in the same order: what its translation produced. */
  readonly codes: PageCode[] = [];
  private readonly functions: { type: number; locals: number; code: Code }[] = HELPERS.map((h) => ({ type: T_I2, locals: 0, code: helper(h) }));

  constructor(private readonly ramBase: number) {}

  /** Translates RAM page `page` (decoded as `d`) into the batch, entered at `entries`. */
  add(d: Int32Array, page: number, entries: readonly number[]): PageCode {
    const code = pageCode(d, page, entries, F_HELPER + this.functions.length, this.ramBase);
    this.pages.push(page);
    this.codes.push(code);
    for (const f of code.functions) this.functions.push(f);
    return code;
  }

  /** The module: the slow-path imports, the helpers, then each page's entry and blocks. */
  encode(memoryPages: number): Uint8Array<ArrayBuffer> {
    let fn = F_PAGES;
    const exports = this.codes.map((c, i) => {
      const e = { name: `p${i}`, fn };
      fn += c.functions.length;
      return e;
    });
    return encodeModule({ types: TYPES, imports: IMPORTS, memoryPages, functions: this.functions, exports });
  }
}

/** div, divu, rem, remu with the spec's results for a zero divisor and the one overflow. */
function helper(op: BinOp): Code {
  const c = new Code();
  const X_ = 0, Y = 1;
  c.get(Y).op(W.i32_eqz).if_();
  if (op === 'div' || op === 'divu') c.i32(-1);
  else c.get(X_);
  c.op(W.return).end();
  if (op === 'div') {
    c.get(X_).i32(-2147483648).op(W.i32_eq).get(Y).i32(-1).op(W.i32_eq).op(W.i32_and).if_();
    c.get(X_).op(W.return).end();
  }
  c.get(X_).get(Y).op(op === 'div' ? W.i32_div_s : op === 'divu' ? W.i32_div_u : op === 'rem' ? W.i32_rem_s : W.i32_rem_u);
  return c;
}

const CMP: Partial<Record<BinOp, W>> = { lt: W.i32_lt_s, ltu: W.i32_lt_u, ge: W.i32_ge_s, geu: W.i32_ge_u, gt: W.i32_gt_s, gtu: W.i32_gt_u, eq: W.i32_eq, ne: W.i32_ne };
const ARITH: Partial<Record<BinOp, W>> = { add: W.i32_add, sub: W.i32_sub, and: W.i32_and, or: W.i32_or, xor: W.i32_xor, shl: W.i32_shl, shr: W.i32_shr_u, sra: W.i32_shr_s, mul: W.i32_mul };

/** Emits an expression of the table's little language (ir.ts); `leaf` pushes an operand. */
export function emitExpr(c: Code, e: Expr, leaf: (l: Leaf) => void): void {
  if (e.o === 'leaf') return leaf(e.leaf);
  if (e.o === 'sel') {
    emitExpr(c, e.x, leaf);
    emitExpr(c, e.y, leaf);
    emitExpr(c, e.c, leaf);
    c.op(W.select);
    return;
  }
  const wide = e.op === 'mulh' || e.op === 'mulhsu' || e.op === 'mulhu';
  emitExpr(c, e.x, leaf);
  if (wide) c.op(e.op === 'mulhu' ? W.i64_extend_i32_u : W.i64_extend_i32_s);
  emitExpr(c, e.y, leaf);
  if (wide) {
    c.op(e.op === 'mulh' ? W.i64_extend_i32_s : W.i64_extend_i32_u).op(W.i64_mul).i64(32);
    c.op(e.op === 'mulhu' ? W.i64_shr_u : W.i64_shr_s).op(W.i32_wrap_i64);
    return;
  }
  const helperAt = HELPERS.indexOf(e.op);
  if (helperAt >= 0) c.call(F_HELPER + helperAt);
  else c.op((COMPARES.has(e.op) ? CMP[e.op] : ARITH[e.op])!);
}

const LOAD_OP = { '1s': W.i32_load8_s, '1u': W.i32_load8_u, '2s': W.i32_load16_s, '2u': W.i32_load16_u, '4s': W.i32_load, '4u': W.i32_load } as const;
const STORE_OP = { 1: W.i32_store8, 2: W.i32_store16, 4: W.i32_store } as const;

/**
 * Builds the functions of one page: an entry that dispatches on the slot, and one function per
 * label ("block") holding the instructions from that label to the next label, a gap or an
 * unconditional jump. A jump to another label is a tail call; to the block's own start, a
 * loop; falling into the next label, a tail call too.
 */
class PageGen {
  c = new Code();
  /** Instructions translated. */
  length = 0;
  /** Instructions of the current block before the one being emitted. */
  private p = 0;
  private s = 0;
  /** The current block's label slot. */
  private seg = 0;
  private self!: Label;
  /** The block's shared slow-path exit (status in L_T, instructions before it in L_PL). */
  private slow!: Label;
  private readonly fn = new Int32Array(SLOTS).fill(-1);
  /** Locals of the current block (after its parameters). */
  locals = LOCALS;
  /** The local holding each guest register in the current block (0: in the hart's state). */
  private readonly loc = new Int32Array(32);
  /** Registers held in locals that the block writes: stored back before it leaves or calls out. */
  private readonly dirty = new Uint8Array(32);

  constructor(
    readonly page: number,
    readonly labels: Uint8Array,
    readonly order: readonly number[],
    /** The entry's index in the module; block i is at base + 1 + i. */
    readonly base: number,
    /** Guest RAM's physical base (LR/SC reserve physical addresses), as an int32. */
    readonly ramBase: number,
  ) {
    order.forEach((l, i) => (this.fn[l] = base + 1 + i));
  }

  /** The entry: `page(s, vb, limit, k, hs)` — a tail call to the block at slot s, or Miss. */
  entry(): Code {
    const c = new Code();
    const S = 0, VB_ = 1, LIMIT = 2, K = 3, HS = 4;
    c.get(HS).get(VB_).mem(W.i32_store, VB); // the slow paths find the pc from it
    const miss = c.block();
    const targets: Label[] = [];
    for (let i = this.order.length - 1; i >= 0; i--) targets[i] = c.block();
    // br_table over [first label, last label]: slot → the block whose end precedes its call.
    const table: Label[] = [];
    const first = this.order[0];
    const last = this.order[this.order.length - 1];
    for (let s = first, i = 0; s <= last; s++) table.push(this.labels[s] ? targets[i++] : miss);
    c.get(S).i32(first).op(W.i32_sub).brTable(table, miss);
    for (let i = 0; i < this.order.length; i++) {
      c.end();
      c.get(VB_).get(LIMIT).get(K).get(HS).i32(0).returnCall(this.base + 1 + i);
    }
    c.end(); // miss: not an entry
    c.get(HS).get(VB_).get(S).i32(2).op(W.i32_shl).op(W.i32_add).mem(W.i32_store, PC);
    c.get(HS).i32(Exit.Miss).mem(W.i32_store, FLAGS);
    c.i32(0);
    return c;
  }

  /** The slots of the block at label `l` (see the class comment). */
  private extent(d: Int32Array, inc: Uint8Array, l: number): number[] {
    const slots: number[] = [];
    for (let s = l; s < SLOTS && inc[s] && (s === l || !this.labels[s]); s++) {
      slots.push(s);
      if (unconditional(slotAt(d, s).def.sem.k)) break;
    }
    return slots;
  }

  /** The block starting at label `l`. */
  block(d: Int32Array, inc: Uint8Array, l: number): Code {
    const c = (this.c = new Code());
    this.seg = l;
    this.p = 0;
    // Load only the hart state this block uses; loop only if it jumps to its own start.
    const slots = this.extent(d, inc, l);
    let loads = false, stores = false, loops = false;
    for (const s of slots) {
      const sl = slotAt(d, s);
      const k = sl.def.sem.k;
      if (k === 'load' || k === 'lr') loads = true;
      if (k === 'store' || k === 'amo' || k === 'sc') stores = true;
      if (staticTarget(sl, s) === l) loops = true;
    }
    if (loads) {
      c.get(L_HS).mem(W.i32_load, LTAG).set(L_LT);
      c.get(L_HS).mem(W.i32_load, LDELTA).set(L_LD);
    }
    if (stores) {
      c.get(L_HS).mem(W.i32_load, STAG).set(L_ST);
      c.get(L_HS).mem(W.i32_load, SDELTA).set(L_SD);
    }
    this.loadRegs(d, slots, loops);
    this.slow = c.block();
    if (loops) this.self = c.loop();
    for (const s of slots) {
      this.s = s;
      const sl = slotAt(d, s);
      this.emit(sl);
      this.length++;
      this.p++;
    }
    const last = slots[slots.length - 1];
    if (!unconditional(slotAt(d, last).def.sem.k)) {
      const next = last + 1;
      if (next < SLOTS && inc[next] && this.labels[next]) {
        // Falling into the next block.
        this.storeRegs();
        c.get(L_VB).get(L_LIMIT).get(L_K).get(L_HS).get(L_N).i32(this.p).op(W.i32_add).returnCall(this.fn[next]);
      } else {
        this.exitTo(next, this.p); // a gap (or the page's end): the dispatcher goes on from there
      }
    }
    if (loops) c.end();
    c.op(W.unreachable);
    c.end(); // slow: trapped (1) retires nothing more, leave (2) retires the instruction
    c.get(L_N).get(L_PL).op(W.i32_add).get(L_T).i32(1).op(W.i32_shr_u).op(W.i32_add);
    return c;
  }

  // ---- guest registers in locals

  /**
   * In a block that loops on itself, gives every register it uses a local and loads them all
   * before the loop, so a local always holds the register's value whichever path got there.
   * Every register the block writes is stored back at each exit: any pass may have written it.
   */
  private loadRegs(d: Int32Array, slots: readonly number[], loops: boolean): void {
    this.loc.fill(0);
    this.dirty.fill(0);
    this.locals = LOCALS;
    if (!loops) return;
    const reads = new Set<number>(), writes = new Set<number>();
    for (const s of slots) regsOf(slotAt(d, s), reads, writes);
    let next = L_REGS;
    for (let r = 1; r < 32; r++) {
      if (!reads.has(r) && !writes.has(r)) continue;
      this.loc[r] = next++;
      this.c.get(L_HS).mem(W.i32_load, X + 4 * r).set(this.loc[r]);
      if (writes.has(r)) this.dirty[r] = 1;
    }
    this.locals = LOCALS + next - L_REGS;
  }

  /** Stores the registers the block writes back to the hart's state (before an exit or a slow path). */
  private storeRegs(): void {
    for (let r = 1; r < 32; r++) if (this.dirty[r] !== 0) this.c.get(L_HS).get(this.loc[r]).mem(W.i32_store, X + 4 * r);
  }

  /** After a slow path that wrote rd in the hart's state: its local takes the new value. */
  private reloadReg(r: number): void {
    if (this.loc[r] !== 0) this.c.get(L_HS).mem(W.i32_load, X + 4 * r).set(this.loc[r]);
  }

  // ---- operands

  private reg(r: number): void {
    if (r === 0) this.c.i32(0);
    else if (this.loc[r] !== 0) this.c.get(this.loc[r]);
    else this.c.get(L_HS).mem(W.i32_load, X + 4 * r);
  }
  private pcOf(s: number): void {
    this.c.get(L_VB).i32(4 * s).op(W.i32_add);
  }
  /** Stores the value `value` pushes into rd (x0: computed and dropped). */
  private setReg(rd: number, value: () => void): void {
    const c = this.c;
    if (rd === 0) {
      value();
      c.op(W.drop);
      return;
    }
    if (this.loc[rd] !== 0) {
      value();
      c.set(this.loc[rd]);
      return;
    }
    c.get(L_HS);
    value();
    c.mem(W.i32_store, X + 4 * rd);
  }

  /** Pushes the hart's index, a slow path's first argument (read there, off the hot path). */
  private hid(): Code {
    return this.c.get(L_HS).mem(W.i32_load, HID);
  }

  /** A slow path's location argument: this slot, and where its straight-line run began. */
  private where(): number {
    return this.s | (this.seg << 10);
  }

  // ---- exits

  /** Leave for pc = vb + 4·slot after `retired` more instructions (the dispatcher goes on). */
  private exitTo(slot: number, retired: number): void {
    this.c.get(L_HS);
    this.pcOf(slot);
    this.c.mem(W.i32_store, PC);
    this.ret(retired);
  }
  private ret(retired: number, storeRegs = true): void {
    if (storeRegs) this.storeRegs();
    this.c.get(L_N).i32(retired).op(W.i32_add).op(W.return);
  }
  /**
   * A slow-path call: `args` pushes the arguments; a status other than 0 leaves the block. The
   * hart sees the registers in its state, and writes `rd` there (-1: none).
   */
  private slowCall(fn: number, rd: number, args: () => void): void {
    const c = this.c;
    this.storeRegs();
    c.i32(this.p).set(L_PL);
    args();
    c.call(fn).tee(L_T).brIf(this.slow, Hint.Unlikely);
    if (rd > 0) this.reloadReg(rd);
  }

  /** Go on at in-page label t (checking the budget) or leave for vb + target. */
  private jump(target: number): void {
    const c = this.c;
    const t = target >> 2;
    if ((target & 3) === 0 && target >= 0 && target < 4096 && this.labels[t]) {
      c.get(L_N).i32(this.p + 1).op(W.i32_add).set(L_N);
      c.get(L_N).get(L_LIMIT).op(W.i32_ge_s).if_(Hint.Unlikely);
      this.exitTo(t, 0);
      c.end();
      if (t === this.seg) c.br(this.self); // registers stay in their locals around the loop
      else {
        this.storeRegs();
        c.get(L_VB).get(L_LIMIT).get(L_K).get(L_HS).get(L_N).returnCall(this.fn[t]);
      }
    } else {
      c.get(L_HS).get(L_VB).i32(target).op(W.i32_add).mem(W.i32_store, PC);
      this.ret(this.p + 1);
    }
  }
  private misaligned(tval: () => void): void {
    this.raiseTrap(Cause.InsnMisaligned, tval);
  }
  /** Raises `cause` (stval pushed by `tval`) for this instruction and leaves. */
  private raiseTrap(cause: Cause, tval: () => void): void {
    this.storeRegs();
    this.hid();
    this.c.i32(cause);
    tval();
    this.c.i32(this.where()).call(F_RAISE);
    this.ret(this.p, false);
  }

  // ---- templates, one per kind

  private emit(sl: Slot): void {
    const c = this.c;
    const sem = sl.def.sem;
    const leaf = (l: Leaf) => {
      if (l === 'a') this.reg(sl.rs1);
      else if (l === 'b') this.reg(sl.rs2);
      else if (l === 'i') c.i32(sl.imm);
      else if (l === 'pc') this.pcOf(this.s);
      else c.get(L_T); // old
    };
    switch (sem.k) {
      case 'alu':
        if (sl.rd !== 0) this.setReg(sl.rd, () => emitExpr(c, sem.e, leaf));
        return;
      case 'branch':
        emitExpr(c, sem.e, leaf);
        c.if_();
        if ((sl.imm & 3) !== 0) this.misaligned(() => c.get(L_VB).i32(4 * this.s + sl.imm).op(W.i32_add));
        else this.jump(4 * this.s + sl.imm);
        c.end();
        return;
      case 'jal':
        if ((sl.imm & 3) !== 0) return this.misaligned(() => c.get(L_VB).i32(4 * this.s + sl.imm).op(W.i32_add));
        if (sl.rd !== 0) this.setReg(sl.rd, () => this.pcOf(this.s + 1));
        this.jump(4 * this.s + sl.imm);
        return;
      case 'jalr':
        return this.jalr(sl);
      case 'load':
        return this.load(sl, sem.width, sem.signed);
      case 'store':
        return this.store(sl, sem.width);
      case 'amo':
        return this.amo(sl, sem.e);
      case 'lr':
        return this.lr(sl);
      case 'sc':
        return this.sc(sl);
      case 'nop':
        return;
      case 'csr': // only those of INLINE_CSRS are selected
        return this.csr(sl, sem.mode, sem.imm);
      case 'sys':
        throw new Error(`translate: ${sl.def.name} is a system instruction`); // never selected
    }
  }

  /**
   * A CSR access of INLINE_CSRS: illegal in U-mode (the key's privilege bit), else read the
   * cell and write it as csrWrite would. A write to sstatus that changes SUM or MXR (the
   * load/store key; MXR may flush the load TLB) or sets SIE with an interrupt pending goes to
   * the reference interpreter instead (`sys`), and translated code leaves after it if it must.
   */
  private csr(sl: Slot, mode: 0 | 1 | 2, imm: boolean): void {
    const c = this.c;
    const { cell, writable } = INLINE_CSRS.get(sl.imm & 0xfff)!;
    c.get(L_K).i32(1 << 11).op(W.i32_and).op(W.i32_eqz).if_(Hint.Unlikely);
    this.raiseTrap(Cause.IllegalInsn, () => c.i32(csrWord(sl)));
    c.end();
    if (mode !== 0 && sl.rs1 === 0) {
      // CSRRS/CSRRC with x0 (or 0) read only.
      if (sl.rd !== 0) this.setReg(sl.rd, () => c.get(L_HS).mem(W.i32_load, cell));
      return;
    }
    // L_A the operand, L_E the old value, L_T the new one.
    if (imm) c.i32(sl.rs1);
    else this.reg(sl.rs1);
    c.set(L_A);
    c.get(L_HS).mem(W.i32_load, cell).set(L_E);
    if (mode === 0) c.get(L_A);
    else if (mode === 1) c.get(L_E).get(L_A).op(W.i32_or);
    else c.get(L_E).get(L_A).i32(-1).op(W.i32_xor).op(W.i32_and);
    if (writable !== -1) c.i32(writable).op(W.i32_and);
    if (cell === SSTATUS) c.get(L_E).i32(~writable).op(W.i32_and).op(W.i32_or);
    c.set(L_T);
    const inline = () => {
      c.get(L_HS).get(L_T).mem(W.i32_store, cell);
      if (sl.rd !== 0) this.setReg(sl.rd, () => c.get(L_E));
    };
    if (cell !== SSTATUS) return inline();
    // SUM or MXR changed, or SIE newly set while mip & sie: the hart does it.
    c.get(L_E).get(L_T).op(W.i32_xor).i32(SSTATUS_SUM | SSTATUS_MXR).op(W.i32_and);
    c.get(L_HS).mem(W.i32_load, MIP).get(L_HS).mem(W.i32_load, SIE).op(W.i32_and).i32(0);
    c.get(L_T).get(L_E).i32(-1).op(W.i32_xor).op(W.i32_and).i32(SSTATUS_SIE).op(W.i32_and);
    c.op(W.select).op(W.i32_or).if_(Hint.Unlikely);
    this.slowCall(F_SYS, sl.rd, () => this.hid().i32(csrWord(sl)).i32(this.where()));
    c.else_();
    inline();
    c.end();
  }

  private jalr(sl: Slot): void {
    const c = this.c;
    this.reg(sl.rs1);
    c.i32(sl.imm).op(W.i32_add).i32(-2).op(W.i32_and).tee(L_T).i32(2).op(W.i32_and).if_(Hint.Unlikely);
    this.misaligned(() => c.get(L_T));
    c.end();
    if (sl.rd !== 0) this.setReg(sl.rd, () => this.pcOf(this.s + 1));
    c.get(L_HS).get(L_T).mem(W.i32_store, PC); // the dispatcher finds the target's page
    this.ret(this.p + 1);
  }

  /** a = base + imm; e = TLB index × 4; pushes whether the TLB entry covers the access (mmu.ts tlbTag). */
  private tlbHit(rs1: number, imm: number, tags: number, width: number): void {
    const c = this.c;
    this.reg(rs1);
    if (imm !== 0) c.i32(imm).op(W.i32_add);
    c.tee(L_A).i32(10).op(W.i32_shr_u).i32(TLB_MASK << 2).op(W.i32_and).tee(L_E).get(tags).op(W.i32_add).mem(W.i32_load, 0);
    c.get(L_A).i32(-4096 | (width - 1)).op(W.i32_and).get(L_K).op(W.i32_or);
    c.op(W.i32_eq);
  }
  /** Pushes the RAM offset of `a` through the TLB entry `e` of the delta array `deltas`. */
  private ramAddr(deltas: number): void {
    this.c.get(L_A).get(deltas).get(L_E).op(W.i32_add).mem(W.i32_load, 0).op(W.i32_add);
  }

  /**
   * Every memory access: `inline` when the TLB entry `tags` covers base + imm (the address in
   * L_A, the entry in L_E), else the slow path `fn` with the arguments `args` pushes.
   */
  private access(sl: Slot, imm: number, tags: number, width: number, inline: () => void, fn: number, rd: number, args: () => void): void {
    const c = this.c;
    this.tlbHit(sl.rs1, imm, tags, width);
    c.if_(Hint.Likely);
    inline();
    c.else_();
    this.slowCall(fn, rd, args);
    c.end();
  }

  private load(sl: Slot, width: 1 | 2 | 4, signed: boolean): void {
    const c = this.c;
    const key = `${width}${signed ? 's' : 'u'}` as const;
    const inline = () =>
      this.setReg(sl.rd, () => {
        this.ramAddr(L_LD);
        c.mem(LOAD_OP[key], 0);
      });
    this.access(sl, sl.imm, L_LT, width, inline, F_LD, sl.rd, () => this.hid().get(L_A).i32(width | (signed ? 8 : 0) | (sl.rd << 4)).i32(this.where()));
  }

  private store(sl: Slot, width: 1 | 2 | 4): void {
    const c = this.c;
    const inline = () => {
      this.ramAddr(L_SD);
      this.reg(sl.rs2);
      c.mem(STORE_OP[width], 0);
    };
    this.access(sl, sl.imm, L_ST, width, inline, F_ST, -1, () => {
      this.hid().get(L_A).i32(width);
      this.reg(sl.rs2);
      c.i32(this.where());
    });
  }

  /** LR.W through the load TLB, reserving the word's physical address; the hart otherwise. */
  private lr(sl: Slot): void {
    const c = this.c;
    const inline = () => {
      this.ramAddr(L_LD);
      c.set(L_E);
      c.get(L_HS).get(L_E).i32(this.ramBase).op(W.i32_add).mem(W.i32_store, RESERVATION);
      this.setReg(sl.rd, () => c.get(L_E).mem(W.i32_load, 0));
    };
    this.access(sl, 0, L_LT, 4, inline, F_LR, sl.rd, () => this.hid().get(L_A).i32(sl.rd).i32(this.where()));
  }

  /**
   * SC.W through the store TLB: stores and writes 0 to rd when the word is reserved, else 1;
   * either way the reservation is gone. The hart otherwise. (Linux's trap return runs an SC
   * with no LR before it, to drop any reservation: one per system call.)
   */
  private sc(sl: Slot): void {
    const c = this.c;
    const inline = () => {
      this.ramAddr(L_SD);
      c.set(L_E);
      c.i32(1).set(L_T);
      // No hint: Linux's trap return runs an SC that always fails, its atomics ones that succeed.
      c.get(L_HS).mem(W.i32_load, RESERVATION).get(L_E).i32(this.ramBase).op(W.i32_add).op(W.i32_eq).if_();
      c.get(L_E);
      this.reg(sl.rs2);
      c.mem(W.i32_store, 0);
      c.i32(0).set(L_T);
      c.end();
      c.get(L_HS).i32(-1).mem(W.i32_store, RESERVATION);
      this.setReg(sl.rd, () => c.get(L_T));
    };
    this.access(sl, 0, L_ST, 4, inline, F_SC, sl.rd, () => {
      this.hid().get(L_A);
      this.reg(sl.rs2);
      c.i32(sl.rd).i32(this.where());
    });
  }

  /** An AMO on a RAM word through the store TLB (writable, D set, not code); the hart otherwise. */
  private amo(sl: Slot, e: Expr): void {
    const c = this.c;
    const inline = () => {
      this.ramAddr(L_SD);
      c.tee(L_E).mem(W.i32_load, 0).set(L_T);
      c.get(L_E);
      emitExpr(c, e, (l) => (l === 'old' ? c.get(L_T) : this.reg(sl.rs2)));
      c.mem(W.i32_store, 0);
      this.setReg(sl.rd, () => c.get(L_T));
    };
    this.access(sl, 0, L_ST, 4, inline, F_AMO, sl.rd, () => {
      this.hid().i32(sl.op | (sl.rd << 8)).get(L_A);
      this.reg(sl.rs2);
      c.i32(this.where());
    });
  }
}

// ---------------------------------------------------------------- the engine

/**
 * The engine module: run(hs, k, budget) chains translated pages through the table; miss is the
 * table's default entry; and it imports the slow paths from JavaScript once and exports them
 * as WebAssembly functions for the page modules (a module importing JavaScript functions
 * compiles a wrapper for each when it is instantiated; importing WebAssembly ones costs
 * nothing).
 */
function engineModule(memoryPages: number, tablePages: number, directory: number, ramBase: number): Uint8Array<ArrayBuffer> {
  const run = new Code();
  const HS = 0, K = 1, BUDGET = 2, N = 3, PCV = 4, E = 5, OFF = 6;
  const top = run.loop();
  // Fetch TLB: a miss goes back to JavaScript, which walks the page table.
  // k is the data key (mmu.ts dataKey); fetch tags carry only its privilege bit.
  run.get(HS).mem(W.i32_load, PC).tee(PCV).i32(-4093).op(W.i32_and).get(K).i32(1 << 11).op(W.i32_and).op(W.i32_or);
  // E = fetchIndex(pc) × 4 (tlb-size.ts).
  run.get(PCV).i32(10).op(W.i32_shr_u);
  run.get(PCV).i32(22).op(W.i32_shr_u).i32(FETCH_SPREAD).op(W.i32_mul).i32(22).op(W.i32_shr_u).i32(2).op(W.i32_shl).op(W.i32_xor);
  run.i32(TLB_MASK << 2).op(W.i32_and).tee(E).get(HS).mem(W.i32_load, FTAG).op(W.i32_add).mem(W.i32_load, 0);
  run.op(W.i32_ne).if_(Hint.Unlikely);
  run.get(HS).i32(Exit.Miss).mem(W.i32_store, FLAGS).get(N).op(W.return);
  run.end();
  run.get(PCV).get(HS).mem(W.i32_load, FDELTA).get(E).op(W.i32_add).mem(W.i32_load, 0).op(W.i32_add).set(OFF);
  run.get(N);
  run.get(OFF).i32(2).op(W.i32_shr_u).i32(1023).op(W.i32_and);
  run.get(PCV).i32(-4096).op(W.i32_and);
  run.get(BUDGET).get(N).op(W.i32_sub);
  run.get(K).get(HS);
  run.get(OFF).i32(12).op(W.i32_shr_u).callIndirect(T_PAGE);
  run.op(W.i32_add).set(N);
  run.get(HS).mem(W.i32_load, FLAGS).if_(Hint.Unlikely);
  run.get(N).op(W.return).end();
  run.get(N).get(BUDGET).op(W.i32_lt_s).brIf(top, Hint.Likely);
  run.end();
  run.get(N);
  // The table's default entry: nothing translated here.
  const miss = new Code();
  miss.get(4).i32(Exit.Miss).mem(W.i32_store, FLAGS).i32(0);
  // Thunks: each forwards its arguments to the imported JavaScript function of the same index.
  const thunks = IMPORTS.map((im, i) => {
    const c = new Code();
    for (let a = 0; a < TYPES[im.type].params; a++) c.get(a);
    return { type: im.type, locals: 0, code: c.returnCall(i) };
  });
  // The fast loop's runs (wasm-loop.ts), when the CPU area holds the decoded pages: it calls the
  // slow paths directly, and the division helpers as a page module does (emitExpr).
  const loop = directory >= 0 ? [{ type: T_PAGE, locals: LOOP_LOCALS, code: loopCode({ ld: F_LD, st: F_ST, amo: F_AMO, lr: F_LR, sc: F_SC, sys: F_SYS, run: F_PAGES, expr: emitExpr, directory, ramBase, csrs: INLINE_CSRS }) }] : [];
  const helpers = HELPERS.map((h) => ({ type: T_I2, locals: 0, code: helper(h) }));
  const F_RUN = F_PAGES;
  const F_LOOP = F_RUN + 2 + thunks.length;
  return encodeModule({
    types: TYPES,
    imports: IMPORTS,
    memoryPages,
    tablePages,
    functions: [...helpers, { type: T_I3, locals: 4, code: run }, { type: T_PAGE, locals: 0, code: miss }, ...thunks, ...loop],
    exports: [
      { name: 'run', fn: F_RUN },
      { name: 'miss', fn: F_RUN + 1 },
      ...IMPORTS.map((im, i) => ({ name: im.name, fn: F_RUN + 2 + i })),
      ...loop.map(() => ({ name: 'loop', fn: F_LOOP })),
    ],
  });
}

/**
 * TurboFan lays out translated code by its branch hints (Hint: slow paths and exits out of the
 * hot path, their spills with them) only with this V8 feature on: off by default before V8 13.x,
 * shipped after (where the flag may be gone: V8 prints an error for an unknown flag). V8 reads
 * it at each compile, so setting it once, before the first module compiles, is enough. Only in
 * plain Node (the CLI, code-server's extension host, tests): Node keeps V8's flags writable
 * after start-up for this API, while an embedder may freeze them, and setting a frozen flag is a
 * fatal error that would take VS Code's extension host down with the machine. Under Electron the
 * hints are ignored: the same code, laid out as before.
 */
let branchHintsSet = false;
function enableBranchHints(): void {
  if (branchHintsSet || process.versions.electron !== undefined) return;
  branchHintsSet = true;
  if (Number.parseInt(process.versions.v8, 10) <= 13) setFlagsFromString('--experimental-wasm-branch-hinting');
}

/** Translated code of one machine: its function table, dispatcher and slow-path imports. */
export class Translator {
  /** Runs translated code from the PC in hart state `hs` at privilege k, at most about `budget` instructions. */
  readonly run: (hs: number, k: number, budget: number) => number;
  /** The fast loop's runs in WebAssembly (wasm-loop.ts); null without decoded-page frames. */
  readonly loop: ((hs: number, k: number, limit: number, pc: number, off: number) => number) | null;
  private readonly table: WebAssembly.Table;
  private readonly miss: unknown;
  private readonly imports: WebAssembly.Imports;
  private readonly memoryPages: number;
  private readonly ramBase: number;

  constructor(
    ram: Ram,
    readonly harts: Hart[],
  ) {
    enableBranchHints();
    const memory = ram.memory!;
    this.memoryPages = memory.buffer.byteLength / 65536;
    this.ramBase = ram.base;
    const pages = Math.ceil(ram.size / 4096);
    // One entry per RAM page, `miss` in each: grown once the engine exists (filling it with a
    // value as it grows takes 9 ms for 512 MiB; setting each entry from JavaScript took 15).
    this.table = new WebAssembly.Table({ element: 'anyfunc', initial: 1 });
    // The slow paths' status (see IMPORTS); a trap records the instruction in the crash trace.
    const status = (h: Hart, at: number): number => {
      const c = h.cells;
      const s = at & 1023;
      const pc = (c[VB >> 2] + 4 * s) | 0;
      if (h.trapped) {
        const run = (c[VB >> 2] + 4 * (at >>> 10)) | 0;
        h.record(run, (run + h.fdelta[fetchIndex(run)]) | 0, s - (at >>> 10) + 1);
        c[FLAGS >> 2] = Exit.Trap;
        return TRAPPED;
      }
      if (h.stop || h.codeChanged || (h.mip & h.sie) !== 0) {
        c[PC >> 2] = (pc + 4) | 0;
        c[FLAGS >> 2] = Exit.Leave;
        return LEAVE;
      }
      return GO;
    };
    const write = (h: Hart, rd: number, v: number) => {
      if (rd !== 0 && !h.trapped) h.x[rd] = v;
    };
    const slow = {
      ld: (hid: number, va: number, code: number, s: number) => {
        const h = harts[hid];
        const width = (code & 7) as 1 | 2 | 4;
        let v = h.loadSlow(va, width, (h.cells[VB >> 2] + 4 * (s & 1023)) | 0);
        if (code & 8) v = width === 1 ? (v << 24) >> 24 : width === 2 ? (v << 16) >> 16 : v | 0;
        write(h, code >>> 4, v | 0);
        return status(h, s);
      },
      st: (hid: number, va: number, width: 1 | 2 | 4, value: number, s: number) => {
        const h = harts[hid];
        h.storeSlow(va, width, value, (h.cells[VB >> 2] + 4 * (s & 1023)) | 0);
        return status(h, s);
      },
      amo: (hid: number, code: number, va: number, src: number, s: number) => {
        const h = harts[hid];
        write(h, code >>> 8, h.amo(code & 0xff, va, src, (h.cells[VB >> 2] + 4 * (s & 1023)) | 0));
        return status(h, s);
      },
      lr: (hid: number, va: number, rd: number, s: number) => {
        const h = harts[hid];
        write(h, rd, h.loadReserved(va, (h.cells[VB >> 2] + 4 * (s & 1023)) | 0));
        return status(h, s);
      },
      sc: (hid: number, va: number, src: number, rd: number, s: number) => {
        const h = harts[hid];
        write(h, rd, h.storeConditional(va, src, (h.cells[VB >> 2] + 4 * (s & 1023)) | 0));
        return status(h, s);
      },
      // A write to sstatus the translated code hands back (PageGen.csr), by the reference
      // interpreter. Translated code goes on after it unless it changed the load/store key
      // (sstatus.SUM), which that code holds fixed.
      sys: (hid: number, word: number, s: number) => {
        const h = harts[hid];
        const key = dataKey(h.priv, h.status);
        const pc = (h.cells[VB >> 2] + 4 * (s & 1023)) | 0;
        execute(h, word, pc);
        const st = status(h, s);
        if (st !== GO || dataKey(h.priv, h.status) === key) return st;
        h.cells[PC >> 2] = (pc + 4) | 0;
        h.cells[FLAGS >> 2] = Exit.Leave;
        return LEAVE;
      },
      raise: (hid: number, cause: number, tval: number, s: number) => {
        const h = harts[hid];
        h.raise(cause, tval, (h.cells[VB >> 2] + 4 * (s & 1023)) | 0);
        status(h, s);
      },
    };
    const engine = new WebAssembly.Instance(new WebAssembly.Module(engineModule(this.memoryPages, 1, ram.directoryOffset, ram.base | 0)), { m: { mem: memory, table: this.table, ...slow } });
    const ex = engine.exports;
    this.run = ex.run as (hs: number, k: number, budget: number) => number;
    this.loop = (ex.loop as ((hs: number, k: number, limit: number, pc: number, off: number) => number) | undefined) ?? null;
    this.miss = ex.miss;
    this.table.set(0, this.miss);
    this.table.grow(pages - 1, this.miss);
    const m: Record<string, unknown> = { mem: memory };
    for (const im of IMPORTS) m[im.name] = ex[im.name];
    this.imports = { m: m as WebAssembly.ModuleImports };
  }

  /** An empty batch of pages for one module. */
  batch(): ModuleBatch {
    return new ModuleBatch(this.ramBase);
  }

  /** Compiles a batch's module now and installs its pages (tests, the warm-up, in-process runs). Returns its size in bytes. */
  installSync(batch: ModuleBatch): number {
    const bytes = batch.encode(this.memoryPages);
    const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), this.imports).exports;
    batch.pages.forEach((page, i) => this.table.set(page, ex[`p${i}`]));
    return bytes.length;
  }

  /**
   * Compiles a batch's module on V8's background threads. Once it is done, `ready(i)` (called on
   * this thread for each page in turn) decides whether page i is still wanted, which is then
   * installed, and `done` resolves (or rejects if the module failed). `size`: its bytes.
   */
  installAsync(batch: ModuleBatch, ready: (i: number) => boolean): { size: number; done: Promise<void> } {
    const bytes = batch.encode(this.memoryPages);
    const done = WebAssembly.instantiate(bytes, this.imports).then((r) => {
      const ex = r.instance.exports;
      batch.pages.forEach((page, i) => {
        if (ready(i)) this.table.set(page, ex[`p${i}`] as unknown as null);
      });
    });
    return { size: bytes.length, done };
  }

  /** Forgets the translation of RAM page `page`. */
  drop(page: number): void {
    this.table.set(page, this.miss);
  }
}
