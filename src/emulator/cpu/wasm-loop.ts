// The fast loop's runs in WebAssembly: the same pre-decoded pages (predecode.ts, in the CPU
// area's frames: layout.ts) interpreted by one WebAssembly function generated from the
// instruction table, one case per op. JavaScript's loop (fast.ts) stays in charge between runs
// (interrupts, fetch walks, system instructions, translation) and hands each run here.
//
// Why: kernel-heavy work (fork, exec, page faults) runs thousands of paths a few hundred times
// each, too cold to repay translating them, so it ran in the JavaScript loop at ~50 MIPS: about
// 50 x86 instructions per guest instruction (V8 reloads each typed array's base and length,
// keeps the loop's values in stack slots). In WebAssembly a case is a load of the slot, a few
// register loads and stores at constant offsets and an indexed jump: ~3.5× the speed on the same
// code (bench/RESULTS.md, fourteenth session), with nothing to compile per guest page.
//
// `loop(hs, k, limit, pc, off) → retired` runs from `pc` (RAM offset `off`, whose page is
// decoded and whose slot the caller has counted) until an instruction it leaves to JavaScript,
// a jump it cannot follow, or `limit` instructions. It follows jumps the way the JavaScript loop
// does: within the page directly, to another page when the fetch TLB knows it and it is decoded
// (its frame in the directory), the target slot not hot; it counts each jump target's entries
// and records each run in the crash trace. A target where the page's translation has an entry
// runs translated (through the dispatcher, in the same module) and comes back here where
// translated code misses. Loads, stores and atomics hit the TLBs inline and call the
// translator's slow paths otherwise, with their statuses (FLAGS: Trap, Leave); the CSRs
// translated code accesses inline are inline here too, and the other CSRs and sfence.vma go to
// the reference interpreter in place. ECALL, EBREAK, SRET, WFI, satp, the counters and a jump
// the loop cannot follow end the run with PC where JavaScript goes on (FLAGS: Miss). The
// caller takes a run that retired nothing (its first instruction is one this loop leaves alone,
// such as a misaligned jump) itself.

import { Op, BY_OP } from './decode';
import type { Expr, Leaf } from './ir';
import { CSR_SATP, SSTATUS_MXR, SSTATUS_SIE, SSTATUS_SUM } from './csr';
import { Exit, FDELTA, FLAGS, FRAME_HEAT, FRAME_LABELS, FTAG, HID, HOT_AT, LDELTA, LTAG, MIP, PC, RESERVATION, SDELTA, SIE, SSTATUS, STAG, TRACE, TRACE_LEN, TRACE_POS, VB, X } from './layout';
import { PAGE_END } from './predecode';
import { FETCH_SPREAD, TLB_MASK } from './tlb-size';
import { Code, Hint, W, type Label } from './wasm';

/** What the loop calls: the translator's slow paths (function indices) and its expression emitter. */
export interface LoopEnv {
  ld: number;
  st: number;
  amo: number;
  lr: number;
  sc: number;
  /** The reference interpreter for one instruction word: (hid, word, location) → status. */
  sys: number;
  /** The dispatcher of translated code: (hs, k, budget) → retired (translate.ts engineModule). */
  run: number;
  /** Emits a semantics expression (translate.ts emitExpr, with its division helpers). */
  expr: (c: Code, e: Expr, leaf: (l: Leaf) => void) => void;
  /** Byte offset of the frame directory (Ram.directoryOffset). */
  directory: number;
  /** Guest RAM's physical base as an int32 (LR/SC reserve physical addresses). */
  ramBase: number;
  /** The CSRs accessed inline, by number: their cell and writable bits (translate.ts INLINE_CSRS). */
  csrs: ReadonlyMap<number, { cell: number; writable: number }>;
}

// Parameters, then locals.
const HS = 0, K = 1, LIM = 2, PC0 = 3, OFF0 = 4;
const P = 5, DB = 6, VBL = 7, OB = 8, N = 9, WD = 10, IMM = 11, A = 12, E = 13, T = 14, RS = 15, V = 16;
const LT = 17, LD = 18, ST = 19, SD = 20, FT = 21, FD = 22, R = 23, HOT = 24;
/** Locals after the parameters. */
export const LOOP_LOCALS = 20;

const LOAD_OP = { 1: [W.i32_load8_u, W.i32_load8_s], 2: [W.i32_load16_u, W.i32_load16_s], 4: [W.i32_load, W.i32_load] } as const;
const STORE_OP = { 1: W.i32_store8, 2: W.i32_store16, 4: W.i32_store } as const;

/** The loop's function body (type: 5 params → 1 result). */
export function loopCode(env: LoopEnv): Code {
  return new LoopGen(env).code();
}

class LoopGen {
  private readonly c = new Code();
  private out!: Label;
  private stop!: Label;
  private leave!: Label;
  private seq!: Label;
  private jump!: Label;

  constructor(private readonly env: LoopEnv) {}

  code(): Code {
    const c = this.c;
    // Where to start: the frame, the page's virtual base and RAM offset, the slot.
    c.get(OFF0).i32(12).op(W.i32_shr_u).i32(2).op(W.i32_shl).mem(W.i32_load, this.env.directory).set(DB);
    c.get(PC0).i32(-4096).op(W.i32_and).set(VBL);
    c.get(OFF0).i32(-4096).op(W.i32_and).set(OB);
    c.get(DB).get(OFF0).i32(4095).op(W.i32_and).i32(1).op(W.i32_shl).op(W.i32_add).tee(P).set(RS);
    c.get(HS).i32(0).mem(W.i32_store, FLAGS);
    for (const [local, cell] of [[LT, LTAG], [LD, LDELTA], [ST, STAG], [SD, SDELTA], [FT, FTAG], [FD, FDELTA], [HOT, HOT_AT]] as const) c.get(HS).mem(W.i32_load, cell).set(local);
    this.out = c.block();
    this.leave = c.block();
    this.stop = c.block();
    const top = c.loop();
    this.jump = c.block();
    this.seq = c.loop();
    this.cases();
    c.end(); // seq (every case branches)
    c.end(); // jump: T is the target, P past the jump, the run RS..P retired
    this.follow(top);
    c.end(); // top
    c.op(W.unreachable);
    c.end(); // stop: end before the instruction at P
    c.get(HS);
    this.pcOf(P);
    c.mem(W.i32_store, PC);
    c.get(HS).i32(Exit.Miss).mem(W.i32_store, FLAGS);
    this.record();
    c.br(this.out);
    c.end(); // leave: a slow path's status 2, the instruction at P retired (PC set)
    c.get(N).i32(1).op(W.i32_add).set(N);
    c.get(P).i32(8).op(W.i32_add).set(P);
    this.record();
    c.end(); // out
    c.get(N);
    return c;
  }

  // ---- helpers

  /** Pushes the pc of the slot at `p` (a local holding a slot address). */
  private pcOf(p: number): void {
    this.c.get(VBL).get(p).get(DB).op(W.i32_sub).i32(1).op(W.i32_shr_u).op(W.i32_add);
  }
  private rs1(): void {
    this.c.get(WD).i32(14).op(W.i32_shr_u).i32(0x3fc).op(W.i32_and).get(HS).op(W.i32_add).mem(W.i32_load, X);
  }
  private rs2(): void {
    this.c.get(WD).i32(22).op(W.i32_shr_u).i32(0x3fc).op(W.i32_and).get(HS).op(W.i32_add).mem(W.i32_load, X);
  }
  /** Pushes rd's address less X (x0 is x[32], the sink). */
  private rdAt(): void {
    this.c.get(WD).i32(6).op(W.i32_shr_u).i32(0x3fc).op(W.i32_and).get(HS).op(W.i32_add);
  }
  /** A slow path's location: slot | run start << 10. */
  private where(): void {
    const c = this.c;
    c.get(P).get(DB).op(W.i32_sub).i32(3).op(W.i32_shr_u);
    c.get(RS).get(DB).op(W.i32_sub).i32(3).op(W.i32_shr_u).i32(10).op(W.i32_shl).op(W.i32_or);
  }
  /** Records the run RS..P (exclusive) in the crash trace, as Hart.record does. */
  private record(): void {
    const c = this.c;
    c.get(P).get(RS).op(W.i32_sub).i32(3).op(W.i32_shr_u).tee(V).if_(Hint.Likely);
    c.get(HS).mem(W.i32_load, TRACE_POS).tee(E).i32(2).op(W.i32_shl).get(HS).op(W.i32_add).set(A);
    c.get(A).get(VBL).get(RS).get(DB).op(W.i32_sub).i32(1).op(W.i32_shr_u).tee(R).op(W.i32_add).mem(W.i32_store, TRACE);
    c.get(A).get(OB).get(R).op(W.i32_add).mem(W.i32_store, TRACE + 4);
    c.get(A).get(V).mem(W.i32_store, TRACE + 8);
    c.get(HS).get(E).i32(3).op(W.i32_add).tee(E).get(E).i32(TRACE_LEN * 3).op(W.i32_ne).op(W.i32_mul).mem(W.i32_store, TRACE_POS);
    c.end();
  }
  /** The instruction at P retired: on to the next, or stop at the budget. */
  private next(): void {
    const c = this.c;
    c.get(P).i32(8).op(W.i32_add).set(P);
    c.get(N).i32(1).op(W.i32_add).tee(N).get(LIM).op(W.i32_lt_s).brIf(this.seq, Hint.Likely);
    c.br(this.stop);
  }
  /** The instruction at P (a jump to T) retired. */
  private jumped(): void {
    const c = this.c;
    c.get(P).i32(8).op(W.i32_add).set(P);
    c.get(N).i32(1).op(W.i32_add).set(N);
    c.br(this.jump);
  }
  /** Ends the run with PC = T (the run is recorded). */
  private exitAt(): void {
    const c = this.c;
    c.get(HS).get(T).mem(W.i32_store, PC);
    c.get(HS).i32(Exit.Miss).mem(W.i32_store, FLAGS);
    c.br(this.out);
  }
  /**
   * A slow-path call (the translator's imports): the hart finds the pc from VB and the slot;
   * status 1 (trapped: nothing retired, the hart recorded the run) ends the run, 2 leaves after it.
   */
  private slow(fn: number, args: () => void): void {
    const c = this.c;
    c.get(HS).get(VBL).mem(W.i32_store, VB);
    args();
    c.call(fn).tee(V).if_(Hint.Unlikely);
    c.get(V).i32(1).op(W.i32_eq).brIf(this.out);
    c.br(this.leave);
    c.end();
  }
  private hid(): void {
    this.c.get(HS).mem(W.i32_load, HID);
  }
  /** A = x[rs1] + imm; pushes whether the TLB entry (tags in local `tags`) covers a `width`-byte access; E its index × 4. */
  private tlbHit(tags: number, width: number, imm: boolean): void {
    const c = this.c;
    this.rs1();
    if (imm) c.get(IMM).op(W.i32_add);
    c.tee(A).i32(10).op(W.i32_shr_u).i32(TLB_MASK << 2).op(W.i32_and).tee(E).get(tags).op(W.i32_add).mem(W.i32_load, 0);
    c.get(A).i32(-4096 | (width - 1)).op(W.i32_and).get(K).op(W.i32_or).op(W.i32_eq);
  }
  /** Pushes A's RAM offset through the entry E of the deltas in local `deltas`. */
  private ramAddr(deltas: number): void {
    this.c.get(A).get(deltas).get(E).op(W.i32_add).mem(W.i32_load, 0).op(W.i32_add);
  }

  // ---- the switch

  private cases(): void {
    const c = this.c;
    c.get(P).mem(W.i32_load, 0).set(WD);
    c.get(P).mem(W.i32_load, 4).set(IMM);
    const ops: Op[] = [];
    for (let op = 1; op < Op.COUNT; op++) if (BY_OP[op].sem.k !== 'sys' || op === Op.SFENCE_VMA) ops.push(op);
    const pageEnd = c.block();
    const labels: Label[] = [];
    for (let i = ops.length - 1; i >= 0; i--) labels[i] = c.block();
    const table: Label[] = [];
    for (let op = 0; op <= PAGE_END; op++) {
      const i = ops.indexOf(op);
      table.push(op === PAGE_END ? pageEnd : i >= 0 ? labels[i] : this.stop);
    }
    c.get(WD).i32(0xff).op(W.i32_and).brTable(table, this.stop);
    for (let i = 0; i < ops.length; i++) {
      c.end();
      this.emit(ops[i]);
    }
    c.end(); // page end: go on at the next page
    c.get(VBL).i32(4096).op(W.i32_add).set(T);
    c.br(this.jump);
  }

  private emit(op: Op): void {
    const c = this.c;
    const sem = BY_OP[op].sem;
    const leaf = (l: Leaf) => {
      if (l === 'a') this.rs1();
      else if (l === 'b') this.rs2();
      else if (l === 'i') c.get(IMM);
      else if (l === 'pc') this.pcOf(P);
      else c.get(V); // old (AMO)
    };
    switch (sem.k) {
      case 'alu':
        this.rdAt();
        this.env.expr(c, sem.e, leaf);
        c.mem(W.i32_store, X);
        return this.next();
      case 'nop':
        return this.next();
      case 'branch':
        this.env.expr(c, sem.e, leaf);
        c.if_();
        // A misaligned target: JavaScript's loop raises the fault.
        c.get(IMM).i32(3).op(W.i32_and).brIf(this.stop, Hint.Unlikely);
        this.pcOf(P);
        c.get(IMM).op(W.i32_add).set(T);
        this.jumped();
        c.end();
        return this.next();
      case 'jal':
        c.get(IMM).i32(3).op(W.i32_and).brIf(this.stop, Hint.Unlikely);
        this.pcOf(P);
        c.get(IMM).op(W.i32_add).set(T);
        this.rdAt();
        this.pcOf(P);
        c.i32(4).op(W.i32_add).mem(W.i32_store, X);
        return this.jumped();
      case 'jalr':
        this.rs1();
        c.get(IMM).op(W.i32_add).i32(-2).op(W.i32_and).tee(T).i32(2).op(W.i32_and).brIf(this.stop, Hint.Unlikely);
        this.rdAt();
        this.pcOf(P);
        c.i32(4).op(W.i32_add).mem(W.i32_store, X);
        return this.jumped();
      case 'load': {
        const [unsigned, signed] = LOAD_OP[sem.width];
        this.tlbHit(LT, sem.width, true);
        c.if_(Hint.Likely);
        this.rdAt();
        this.ramAddr(LD);
        c.mem(sem.signed ? signed : unsigned, 0).mem(W.i32_store, X);
        c.else_();
        this.slow(this.env.ld, () => {
          this.hid();
          c.get(A).i32(sem.width | (sem.signed ? 8 : 0)).get(WD).i32(4).op(W.i32_shr_u).i32(0xff0).op(W.i32_and).op(W.i32_or);
          this.where();
        });
        c.end();
        return this.next();
      }
      case 'store':
        this.tlbHit(ST, sem.width, true);
        c.if_(Hint.Likely);
        this.ramAddr(SD);
        this.rs2();
        c.mem(STORE_OP[sem.width], 0);
        c.else_();
        this.slow(this.env.st, () => {
          this.hid();
          c.get(A).i32(sem.width);
          this.rs2();
          this.where();
        });
        c.end();
        return this.next();
      case 'amo':
        this.tlbHit(ST, 4, false);
        c.if_(Hint.Likely);
        this.ramAddr(SD);
        c.tee(E).mem(W.i32_load, 0).set(V);
        c.get(E);
        this.env.expr(c, sem.e, leaf);
        c.mem(W.i32_store, 0);
        this.rdAt();
        c.get(V).mem(W.i32_store, X);
        c.else_();
        this.slow(this.env.amo, () => {
          this.hid();
          c.get(WD).i32(0xff).op(W.i32_and).get(WD).i32(0xff00).op(W.i32_and).op(W.i32_or).get(A);
          this.rs2();
          this.where();
        });
        c.end();
        return this.next();
      case 'lr':
        this.tlbHit(LT, 4, false);
        c.if_(Hint.Likely);
        this.ramAddr(LD);
        c.set(E);
        c.get(HS).get(E).i32(this.env.ramBase).op(W.i32_add).mem(W.i32_store, RESERVATION);
        this.rdAt();
        c.get(E).mem(W.i32_load, 0).mem(W.i32_store, X);
        c.else_();
        this.slow(this.env.lr, () => {
          this.hid();
          c.get(A).get(WD).i32(8).op(W.i32_shr_u).i32(0xff).op(W.i32_and);
          this.where();
        });
        c.end();
        return this.next();
      case 'sc':
        this.tlbHit(ST, 4, false);
        c.if_(Hint.Likely);
        this.ramAddr(SD);
        c.set(E);
        c.i32(1).set(V);
        c.get(HS).mem(W.i32_load, RESERVATION).get(E).i32(this.env.ramBase).op(W.i32_add).op(W.i32_eq).if_();
        c.get(E);
        this.rs2();
        c.mem(W.i32_store, 0);
        c.i32(0).set(V);
        c.end();
        c.get(HS).i32(-1).mem(W.i32_store, RESERVATION);
        this.rdAt();
        c.get(V).mem(W.i32_store, X);
        c.else_();
        this.slow(this.env.sc, () => {
          this.hid();
          c.get(A);
          this.rs2();
          c.get(WD).i32(8).op(W.i32_shr_u).i32(0xff).op(W.i32_and);
          this.where();
        });
        c.end();
        return this.next();
      case 'csr':
        return this.csr(op, sem.mode, sem.imm);
      case 'sys':
        if (op !== Op.SFENCE_VMA) throw new Error(`wasm-loop: ${BY_OP[op].name} ends a run`);
        // The reference interpreter flushes the TLBs; then on as after a jump to the next
        // instruction, so a fetch of another page meets the fetch TLB again.
        this.reference(() => {
          c.i32(BY_OP[op].match).get(WD).i32(1).op(W.i32_shr_u).i32(0xf8000).op(W.i32_and).op(W.i32_or);
          c.get(WD).i32(4).op(W.i32_shr_u).i32(0x1f00000).op(W.i32_and).op(W.i32_or);
        });
        this.pcOf(P);
        c.i32(4).op(W.i32_add).set(T);
        c.get(P).i32(8).op(W.i32_add).set(P);
        c.get(N).i32(1).op(W.i32_add).set(N);
        this.record();
        c.get(P).set(RS);
        c.get(T).i32(4096).op(W.i32_xor).set(VBL); // not this page: follow() looks T up
        c.br(this.jump);
        return;
    }
  }

  /** Runs the instruction (its word pushed by `word`) by the reference interpreter, a slow path's statuses. */
  private reference(word: () => void): void {
    this.slow(this.env.sys, () => {
      this.hid();
      word();
      this.where();
    });
  }

  /**
   * A CSR instruction: inline for the CSRs translated code accesses inline (the trap CSRs and
   * sstatus, which Linux toggles around every spinlock), as translate.ts PageGen.csr does; the
   * others through the reference interpreter (its statuses end the run when they must). A satp
   * or counter access, a U-mode access of those (illegal) and a write to sstatus that changes SUM or MXR or
   * sets SIE while an interrupt is pending end the run before it, for JavaScript's loop.
   */
  private csr(op: Op, mode: 0 | 1 | 2, imm: boolean): void {
    const c = this.c;
    c.get(K).i32(1 << 11).op(W.i32_and).op(W.i32_eqz).brIf(this.stop, Hint.Unlikely);
    // E: the cell; R: its writable bits.
    c.get(IMM).i32(0xfff).op(W.i32_and).set(V);
    const found = c.block();
    for (const [n, { cell, writable }] of this.env.csrs) {
      c.i32(cell).set(E).i32(writable).set(R);
      c.get(V).i32(n).op(W.i32_eq).brIf(found);
    }
    // Another CSR: the reference interpreter, unless it is satp (a new address space: the TLB
    // bank this run holds changes).
    c.get(V).i32(CSR_SATP).op(W.i32_eq).brIf(this.stop);
    // The counters (cycle, time, instret: 0xC00-0xC9F) read instret, which counts this run only when it ends.
    c.get(V).i32(0xf00).op(W.i32_and).i32(0xc00).op(W.i32_eq).brIf(this.stop);
    this.reference(() => {
      c.i32(BY_OP[op].match).get(WD).i32(1).op(W.i32_shr_u).i32(0xf80).op(W.i32_and).op(W.i32_or);
      c.get(WD).i32(1).op(W.i32_shr_u).i32(0xf8000).op(W.i32_and).op(W.i32_or);
      c.get(V).i32(20).op(W.i32_shl).op(W.i32_or);
    });
    this.next();
    c.end();
    c.get(E).get(HS).op(W.i32_add).set(E);
    // Read only: CSRRS/CSRRC with x0 (or a zero immediate).
    if (mode !== 0) {
      c.get(WD).i32(16).op(W.i32_shr_u).i32(0xff).op(W.i32_eqz).if_();
      this.rdAt();
      c.get(E).mem(W.i32_load, 0).mem(W.i32_store, X);
      this.next();
      c.end();
    }
    // A: the operand; V: the old value; T: the new one.
    if (imm) c.get(WD).i32(16).op(W.i32_shr_u).i32(0xff).op(W.i32_and).set(A);
    else {
      this.rs1();
      c.set(A);
    }
    c.get(E).mem(W.i32_load, 0).set(V);
    if (mode === 0) c.get(A);
    else if (mode === 1) c.get(V).get(A).op(W.i32_or);
    else c.get(V).get(A).i32(-1).op(W.i32_xor).op(W.i32_and);
    c.get(R).op(W.i32_and);
    // sstatus keeps its other bits; the others have none to keep.
    c.get(V).get(R).i32(-1).op(W.i32_xor).op(W.i32_and).get(E).get(HS).op(W.i32_sub).i32(SSTATUS).op(W.i32_eq).op(W.i32_mul).op(W.i32_or).set(T);
    // sstatus: SUM or MXR changed (the load/store key, the MXR flush), or SIE set with an interrupt pending.
    c.get(E).get(HS).op(W.i32_sub).i32(SSTATUS).op(W.i32_eq).if_(Hint.Unlikely);
    c.get(V).get(T).op(W.i32_xor).i32(SSTATUS_SUM | SSTATUS_MXR).op(W.i32_and).brIf(this.stop);
    c.get(T).get(V).i32(-1).op(W.i32_xor).op(W.i32_and).i32(SSTATUS_SIE).op(W.i32_and).i32(0).op(W.i32_ne);
    c.get(HS).mem(W.i32_load, MIP).get(HS).mem(W.i32_load, SIE).op(W.i32_and).i32(0).op(W.i32_ne).op(W.i32_and).brIf(this.stop);
    c.end();
    c.get(E).get(T).mem(W.i32_store, 0);
    this.rdAt();
    c.get(V).mem(W.i32_store, X);
    this.next();
  }

  // ---- following a jump

  /**
   * After a jump to T: record the run, then go on at T if the loop may (see the header), with
   * the target's entry counted; else end the run there.
   */
  private follow(top: Label): void {
    const c = this.c;
    const again = c.loop();
    this.record();
    c.get(N).get(LIM).op(W.i32_ge_s).if_(Hint.Unlikely);
    this.exitAt();
    c.end();
    c.get(T).get(VBL).op(W.i32_xor).i32(-4096).op(W.i32_and).if_(Hint.Unlikely);
    {
      // Another page: the fetch TLB (tlb-size.ts fetchIndex, × 4), then the page's frame.
      c.get(T).i32(10).op(W.i32_shr_u);
      c.get(T).i32(22).op(W.i32_shr_u).i32(FETCH_SPREAD).op(W.i32_mul).i32(22).op(W.i32_shr_u).i32(2).op(W.i32_shl).op(W.i32_xor);
      c.i32(TLB_MASK << 2).op(W.i32_and).tee(E).get(FT).op(W.i32_add).mem(W.i32_load, 0);
      c.get(T).i32(-4093).op(W.i32_and).get(K).i32(1 << 11).op(W.i32_and).op(W.i32_or).op(W.i32_ne).if_(Hint.Unlikely);
      this.exitAt();
      c.end();
      c.get(T).get(FD).get(E).op(W.i32_add).mem(W.i32_load, 0).op(W.i32_add).tee(V);
      c.i32(12).op(W.i32_shr_u).i32(2).op(W.i32_shl).mem(W.i32_load, this.env.directory).tee(A).op(W.i32_eqz).if_(Hint.Unlikely);
      this.exitAt();
      c.end();
      c.get(A).set(DB);
      c.get(T).i32(-4096).op(W.i32_and).set(VBL);
      c.get(V).i32(-4096).op(W.i32_and).set(OB);
    }
    c.end();
    c.get(DB).get(T).i32(4095).op(W.i32_and).tee(E).i32(1).op(W.i32_shl).op(W.i32_add).set(P);
    // Translated at that slot: translated code takes it from here (the dispatcher, in this
    // module), and this loop again where it misses.
    c.get(DB).get(E).i32(2).op(W.i32_shr_u).op(W.i32_add).mem(W.i32_load8_u, FRAME_LABELS).if_(Hint.Unlikely);
    c.get(HS).get(T).mem(W.i32_store, PC);
    c.get(N).get(HS).get(K).get(LIM).get(N).op(W.i32_sub).call(this.env.run).op(W.i32_add).set(N);
    c.get(HS).mem(W.i32_load, FLAGS).i32(Exit.Miss).op(W.i32_ne).brIf(this.out);
    c.get(HS).i32(0).mem(W.i32_store, FLAGS);
    c.get(HS).mem(W.i32_load, PC).set(T);
    c.get(P).set(RS);
    c.br(again);
    c.end();
    // Count the entry; a hot slot goes back for translation (JavaScript counts it there).
    c.get(DB).get(E).i32(1).op(W.i32_shr_u).op(W.i32_add).tee(E).mem(W.i32_load16_u, FRAME_HEAT).i32(1).op(W.i32_add).tee(V);
    c.get(HOT).op(W.i32_ge_u).if_(Hint.Unlikely);
    this.exitAt();
    c.end();
    c.get(E).get(V).mem(W.i32_store16, FRAME_HEAT);
    c.get(P).set(RS);
    c.br(top);
    c.end(); // again
  }
}
