// One RV32IMA hart running S- and U-mode code (the emulator itself plays M-mode: SBI).
//
// State lives in plain fields and typed arrays (monomorphic, no allocation while running).
// Instruction semantics are in the table (decode.ts); the engines generated from it (interp.ts,
// fast.ts, translate.ts) call the memory helpers here for anything but a TLB hit, and all see a
// trap the same way: the helper enters the trap (scause/sepc/stval/pc) and sets `trapped`,
// which the caller checks once on its slow path. The slow paths — fetchSlow, loadSlow,
// storeSlow, loadReserved, storeConditional, amo — are the only places a hart touches memory
// without a TLB hit (watchpoints hook in there), and Mmu.fill the only place TLBs are filled.

import { tickWord, type CsrClock, type InterruptTarget } from '../types';
import { amoValue } from './interp';
import { HID, MIP, RESERVATION, SCAUSE, SEPC, SIE, SSCRATCH, STVAL, TRACE, TRACE_LEN, TRACE_POS, X } from './layout';
import type { Bus } from '../bus';
import type { Ram } from '../ram';
import { ACC_FETCH, ACC_LOAD, ACC_STORE, dataKey, fetchIndex, Mmu, TLB_MASK, type CodePages } from './mmu';
import {
  Cause,
  CSR_CYCLE,
  CSR_CYCLEH,
  CSR_INSTRET,
  CSR_INSTRETH,
  CSR_SATP,
  CSR_SCAUSE,
  CSR_SCOUNTEREN,
  CSR_SENVCFG,
  CSR_SEPC,
  CSR_SIE,
  CSR_SIP,
  CSR_SSCRATCH,
  CSR_SSTATUS,
  CSR_STVAL,
  CSR_STVEC,
  INTERRUPT_BIT,
  IRQ_SEI,
  IRQ_SSI,
  IRQ_STI,
  PRIV_S,
  PRIV_U,
  SENVCFG_WRITABLE,
  SEPC_WRITABLE,
  SIE_WRITABLE,
  SIP_WRITABLE,
  SSTATUS_SIE,
  SSTATUS_SPIE,
  SSTATUS_SPP,
  SSTATUS_WRITABLE,
  SUPERVISOR_CSRS,
} from './csr';


/** SBI HSM hart states (SBI spec §9). */
export const enum HartState {
  Started = 0,
  Stopped = 1,
  StartPending = 2,
  StopPending = 3,
  Suspended = 4,
}

/** What the hart calls outside itself: the SBI (ecall from S-mode) and the guest clock. */
export interface HartHost {
  readonly clock: CsrClock;
  /** Handles an ecall from S-mode: reads a0-a7, writes a0/a1. May stop the hart or the machine. */
  ecall(hart: Hart): void;
  /** The hart executed its first U-mode instruction (the host clock stops following instret). */
  enteredUserMode(): void;
}

/** Why the last trap looked like the guest is dead (see Hart.crashed). */
export interface TrapLoop {
  cause: number;
  pc: number;
  tval: number;
  reason: string;
}

/**
 * The handler returned (SRET) to the faulting instruction, which faulted again with the same
 * cause and address, this many times in a row: the guest is stuck. (A system call loop returns
 * past the ecall; a loop touching fresh pages faults at the same pc but other addresses.)
 */
const STUCK_LIMIT = 64;

/** CY, TM and IR: what OpenSBI leaves in scounteren. */
const SCOUNTEREN_AT_ENTRY = 7;

export class Hart extends Mmu implements InterruptTarget {
  /** x0..x31, plus x[32]: where the decoded interpreter sends writes to x0 (never read). */
  readonly x: Int32Array;
  pc = 0;

  // Supervisor CSRs (sstatus, satp and the privilege live in Mmu). sie, mip and the trap CSRs
  // live in the state region (layout.ts): translated code reads mip & sie and the trap CSRs.
  get sie(): number {
    return this.cells[SIE >> 2];
  }
  set sie(v: number) {
    this.cells[SIE >> 2] = v;
  }
  get mip(): number {
    return this.cells[MIP >> 2];
  }
  set mip(v: number) {
    this.cells[MIP >> 2] = v;
  }
  get sscratch(): number {
    return this.cells[SSCRATCH >> 2];
  }
  set sscratch(v: number) {
    this.cells[SSCRATCH >> 2] = v;
  }
  get sepc(): number {
    return this.cells[SEPC >> 2];
  }
  set sepc(v: number) {
    this.cells[SEPC >> 2] = v;
  }
  get scause(): number {
    return this.cells[SCAUSE >> 2];
  }
  set scause(v: number) {
    this.cells[SCAUSE >> 2] = v;
  }
  get stval(): number {
    return this.cells[STVAL >> 2];
  }
  set stval(v: number) {
    this.cells[STVAL >> 2] = v;
  }
  stvec = 0;
  scounteren = 0;
  senvcfg = 0;

  /** Instructions retired by this hart (float64, exact below 2^53). */
  instret = 0;
  /** HSM state; secondary harts start Stopped. */
  state: HartState = HartState.Started;
  /** Executed WFI with no enabled interrupt pending: waits for mip & sie. */
  idle = false;
  /** Asks the run loop to return after the current instruction (breakpoints, notify, halt). */
  stop = false;
  /** The run loop stopped before the instruction at pc because it is a breakpoint. */
  atBreakpoint = false;
  /** Set by a helper that entered a trap; the caller clears it. */
  trapped = false;
  /** LR reservation: the physical word address, or -1 (in the state region: translated code sets it too). */
  get reservation(): number {
    return this.cells[RESERVATION >> 2];
  }
  set reservation(pa: number) {
    this.cells[RESERVATION >> 2] = pa;
  }

  /**
   * The last TRACE_LEN straight-line runs executed, for crash reports: [pc, RAM offset, count]
   * triples in a ring in the state region (the interpreter records runs of 1, the fast loops
   * theirs — the WebAssembly one too, hence the state region — translated blocks their length).
   */
  readonly trace: Int32Array;
  /** The next triple's index in `trace` (a cell of the state region: the WebAssembly loop records too). */
  get tracePos(): number {
    return this.cells[TRACE_POS >> 2];
  }
  set tracePos(v: number) {
    this.cells[TRACE_POS >> 2] = v;
  }

  /** Set when the guest is found dead (trap loop); the machine stops with StopReason.Crashed. */
  crashed: TrapLoop | null = null;
  private lastTrapCause = -1;
  private lastTrapPc = 0;
  private lastTrapTval = 0;
  private stuckCount = 0;
  private trapsSinceSret = 0;
  /** Where the last SRET returned to. */
  private sretTarget = 1;

  // Typed views of RAM for the interpreter and the translated blocks.
  readonly m32: Int32Array;
  readonly u16: Uint16Array;
  readonly i16: Int16Array;
  readonly u8: Uint8Array;
  readonly i8: Int8Array;

  constructor(
    readonly id: number,
    ram: Ram,
    bus: Bus,
    code: CodePages,
    readonly host: HartHost,
  ) {
    super(ram, bus, code, ram.hartRegion(id));
    this.x = new Int32Array(this.region.buffer, this.region.offset + X, 33);
    this.trace = new Int32Array(this.region.buffer, this.region.offset + TRACE, TRACE_LEN * 3);
    this.cells[HID >> 2] = id;
    this.reservation = -1;
    this.sie = this.mip = this.sscratch = this.sepc = this.scause = this.stval = 0;
    this.m32 = ram.i32;
    this.u16 = ram.u16;
    this.u8 = ram.u8;
    this.i16 = new Int16Array(ram.buffer, 0, ram.size >> 1);
    this.i8 = new Int8Array(ram.buffer, 0, ram.size);
  }

  /**
   * Power-on / HSM start state, as OpenSBI hands a hart to the kernel: S-mode, MMU off,
   * interrupts off, and scounteren = 7 so user space may read cycle, time and instret
   * (OpenSBI sets it in its hart init; the kernel may change it).
   */
  reset(pc: number, a0: number, a1: number): void {
    this.x.fill(0);
    this.x[10] = a0;
    this.x[11] = a1;
    this.pc = pc | 0;
    this.priv = PRIV_S;
    this.status = 0;
    this.satp = 0;
    this.sie = 0;
    this.mip = 0;
    this.stvec = 0;
    this.sscratch = 0;
    this.sepc = 0;
    this.scause = 0;
    this.stval = 0;
    this.scounteren = SCOUNTEREN_AT_ENTRY;
    this.senvcfg = 0;
    this.idle = false;
    this.trapped = false;
    this.reservation = -1;
    this.crashed = null;
    this.lastTrapCause = -1;
    this.stuckCount = 0;
    this.trapsSinceSret = 0;
    this.sretTarget = 1;
    this.flushTlb();
  }

  /** Records a run of `count` instructions starting at `pc` (RAM offset `off`) in the trace ring. */
  record(pc: number, off: number, count: number): void {
    if (count <= 0) return;
    const t = this.trace;
    const p = this.tracePos;
    t[p] = pc;
    t[p + 1] = off;
    t[p + 2] = count;
    this.tracePos = p + 3 === TRACE_LEN * 3 ? 0 : p + 3;
  }

  // ---------------------------------------------------------------- interrupts

  setPending(mask: number, on: boolean): void {
    if (on) this.mip |= mask;
    else this.mip &= ~mask;
    if ((this.mip & this.sie) !== 0) this.idle = false; // WFI wakes even with SIE clear
  }

  /**
   * The interrupt to take now (cause code), or -1. Priority SEI > SSI > STI (§4.1.3 order for
   * the S-level interrupts). U-mode always takes S-level interrupts; S-mode only with SIE.
   */
  pendingInterrupt(): number {
    const p = this.mip & this.sie;
    if (p === 0) return -1;
    if (this.priv === PRIV_S && (this.status & SSTATUS_SIE) === 0) return -1;
    if (p & (1 << IRQ_SEI)) return IRQ_SEI;
    if (p & (1 << IRQ_SSI)) return IRQ_SSI;
    return IRQ_STI;
  }

  /** Takes a pending enabled interrupt if there is one; true when it did. */
  checkInterrupt(): boolean {
    const irq = this.pendingInterrupt();
    if (irq < 0) return false;
    this.enterTrap(INTERRUPT_BIT | irq, 0, this.pc);
    this.trapped = false;
    return true;
  }

  // ---------------------------------------------------------------- traps

  /** Raises a synchronous exception for the instruction at `pc`. */
  raise(cause: Cause, tval: number, pc: number): void {
    this.enterTrap(cause, tval, pc);
  }

  private enterTrap(cause: number, tval: number, epc: number): void {
    if (cause >= 0) this.watchTrap(cause, tval, epc);
    const s = this.status;
    let ns = s & ~(SSTATUS_SPP | SSTATUS_SPIE | SSTATUS_SIE);
    if (this.priv === PRIV_S) ns |= SSTATUS_SPP;
    if (s & SSTATUS_SIE) ns |= SSTATUS_SPIE;
    this.status = ns;
    this.priv = PRIV_S;
    this.scause = cause;
    this.sepc = epc;
    this.stval = tval | 0;
    this.reservation = -1;
    const base = this.stvec & ~3;
    this.pc = cause < 0 && (this.stvec & 1) !== 0 ? (base + 4 * (cause & 0x7fffffff)) | 0 : base;
    this.trapped = true;
  }

  /** Detects a dead guest: traps that can never reach a handler, or the same fault forever. */
  private watchTrap(cause: number, tval: number, epc: number): void {
    const vector = this.stvec & ~3;
    let reason: string | null = null;
    if (vector === 0) reason = 'trap with stvec = 0';
    else if ((cause === Cause.InsnPageFault || cause === Cause.InsnAccessFault) && epc === vector) reason = 'the trap vector cannot be fetched';
    else if (cause === this.lastTrapCause && epc === this.lastTrapPc && this.trapsSinceSret > 0) reason = 'the trap handler faults on itself';
    if (cause === this.lastTrapCause && epc === this.lastTrapPc && tval === this.lastTrapTval && epc === this.sretTarget) {
      if (++this.stuckCount >= STUCK_LIMIT) reason = `the handler returned to the faulting instruction ${STUCK_LIMIT} times`;
    } else {
      this.stuckCount = 1;
    }
    this.lastTrapCause = cause;
    this.lastTrapPc = epc;
    this.lastTrapTval = tval;
    this.trapsSinceSret++;
    if (reason !== null && this.crashed === null) {
      this.crashed = { cause, pc: epc, tval: tval >>> 0, reason };
      this.stop = true;
    }
  }

  /** SRET (§3.3.2 as seen from S-mode). */
  sret(): void {
    const s = this.status;
    const to = s & SSTATUS_SPP ? PRIV_S : PRIV_U;
    let ns = s & ~(SSTATUS_SPP | SSTATUS_SIE);
    if (s & SSTATUS_SPIE) ns |= SSTATUS_SIE;
    ns |= SSTATUS_SPIE;
    this.status = ns;
    this.priv = to;
    this.pc = this.sepc;
    this.sretTarget = this.sepc;
    this.reservation = -1;
    this.trapsSinceSret = 0;
    if (to === PRIV_U) this.host.enteredUserMode();
  }

  // ---------------------------------------------------------------- memory (slow paths)

  /** Instruction fetch of the word at `pc`. On failure: trap entered, `trapped` set, returns 0. */
  fetch(pc: number): number {
    const i = fetchIndex(pc);
    if (this.ftag[i] === ((pc & -4093) | (this.priv << 11))) return this.m32[(pc + this.fdelta[i]) >> 2];
    return this.fetchSlow(pc);
  }

  /** RAM byte offset of the instruction at `pc`, or -1 (trap entered). Fills the fetch TLB. */
  fetchOffset(pc: number): number {
    const i = fetchIndex(pc);
    if (this.ftag[i] !== ((pc & -4093) | (this.priv << 11))) {
      this.fetchSlow(pc);
      if (this.trapped) return -1;
    }
    return (pc + this.fdelta[i]) | 0;
  }

  private fetchSlow(pc: number): number {
    if ((pc & 3) !== 0) {
      this.raise(Cause.InsnMisaligned, pc, pc);
      return 0;
    }
    const pa = this.translate(pc, ACC_FETCH);
    if (pa < 0) {
      this.raise(this.xcause, pc, pc);
      return 0;
    }
    const off = pa - this.ramBase;
    if (off < 0 || off + 4 > this.ramSize) {
      this.raise(Cause.InsnAccessFault, pc, pc); // no execution from MMIO
      return 0;
    }
    return this.m32[off >> 2];
  }

  /**
   * Load of 1/2/4 bytes, zero-extended for 1 and 2; a word comes back as int32 (a uint32 above
   * 2^31 would be a heap number each time: this path runs thousands of times a second).
   * `trapped` on failure.
   */
  loadSlow(va: number, width: 1 | 2 | 4, pc: number): number {
    if ((va & (width - 1)) !== 0) {
      this.raise(Cause.LoadMisaligned, va, pc);
      return 0;
    }
    const pa = this.translate(va, ACC_LOAD);
    if (pa < 0) {
      this.raise(this.xcause, va, pc);
      return 0;
    }
    if (this.watch !== null) this.watch.check(this, va, pa, width, false, false, pc); // watchpoint hook
    const off = pa - this.ramBase;
    if (off >= 0 && off + width <= this.ramSize) {
      if (width === 4) return this.m32[off >> 2];
      if (width === 2) return this.u16[off >> 1];
      return this.u8[off];
    }
    const bus = this.bus;
    const v = bus.read(pa, width);
    if (bus.fault) {
      bus.fault = false;
      this.raise(Cause.LoadAccessFault, va, pc);
      return 0;
    }
    return v | 0;
  }

  /** Store of 1/2/4 bytes; `trapped` on failure. */
  storeSlow(va: number, width: 1 | 2 | 4, value: number, pc: number): void {
    if ((va & (width - 1)) !== 0) {
      this.raise(Cause.StoreMisaligned, va, pc);
      return;
    }
    const pa = this.translate(va, ACC_STORE);
    if (pa < 0) {
      this.raise(this.xcause, va, pc);
      return;
    }
    if (this.watch !== null) this.watch.check(this, va, pa, width, true, false, pc); // watchpoint hook
    const off = pa - this.ramBase;
    if (off >= 0 && off + width <= this.ramSize) {
      this.codeWrite(off);
      if (width === 4) this.m32[off >> 2] = value;
      else if (width === 2) this.u16[off >> 1] = value;
      else this.u8[off] = value;
      return;
    }
    const bus = this.bus;
    bus.write(pa, width, width === 4 ? value >>> 0 : value & (width === 2 ? 0xffff : 0xff));
    if (bus.fault) {
      bus.fault = false;
      this.raise(Cause.StoreAccessFault, va, pc);
    }
  }

  /** A store to RAM offset `off` by this hart: drop translated code of that page first. */
  private codeWrite(off: number): void {
    const page = off >>> 12;
    if (this.code.marks[page] !== 0) {
      this.onCodeWrite(page);
      this.codeChanged = true;
    }
  }

  /** Set when this hart's store dropped translated code: run loops re-fetch what they hold. */
  codeChanged = false;

  /** Installed by the code cache: invalidates a page's translated blocks. */
  onCodeWrite: (page: number) => void = () => {};

  // Fast paths used by the interpreter (the block translator inlines the same checks).
  lw(va: number, pc: number): number {
    const vpn = va >>> 12;
    const i = vpn & TLB_MASK;
    if (this.ltag[i] === ((va & -4093) | dataKey(this.priv, this.status))) return this.m32[(va + this.ldelta[i]) >> 2];
    return this.loadSlow(va, 4, pc) | 0;
  }
  lh(va: number, pc: number): number {
    const vpn = va >>> 12;
    const i = vpn & TLB_MASK;
    if (this.ltag[i] === ((va & -4095) | dataKey(this.priv, this.status))) return this.i16[(va + this.ldelta[i]) >> 1];
    return (this.loadSlow(va, 2, pc) << 16) >> 16;
  }
  lhu(va: number, pc: number): number {
    const vpn = va >>> 12;
    const i = vpn & TLB_MASK;
    if (this.ltag[i] === ((va & -4095) | dataKey(this.priv, this.status))) return this.u16[(va + this.ldelta[i]) >> 1];
    return this.loadSlow(va, 2, pc);
  }
  lb(va: number, pc: number): number {
    const vpn = va >>> 12;
    const i = vpn & TLB_MASK;
    if (this.ltag[i] === ((va & -4096) | dataKey(this.priv, this.status))) return this.i8[(va + this.ldelta[i]) | 0];
    return (this.loadSlow(va, 1, pc) << 24) >> 24;
  }
  lbu(va: number, pc: number): number {
    const vpn = va >>> 12;
    const i = vpn & TLB_MASK;
    if (this.ltag[i] === ((va & -4096) | dataKey(this.priv, this.status))) return this.u8[(va + this.ldelta[i]) | 0];
    return this.loadSlow(va, 1, pc);
  }
  sw(va: number, v: number, pc: number): void {
    const vpn = va >>> 12;
    const i = vpn & TLB_MASK;
    if (this.stag[i] === ((va & -4093) | dataKey(this.priv, this.status))) this.m32[(va + this.sdelta[i]) >> 2] = v;
    else this.storeSlow(va, 4, v, pc);
  }
  sh(va: number, v: number, pc: number): void {
    const vpn = va >>> 12;
    const i = vpn & TLB_MASK;
    if (this.stag[i] === ((va & -4095) | dataKey(this.priv, this.status))) this.u16[(va + this.sdelta[i]) >> 1] = v;
    else this.storeSlow(va, 2, v, pc);
  }
  sb(va: number, v: number, pc: number): void {
    const vpn = va >>> 12;
    const i = vpn & TLB_MASK;
    if (this.stag[i] === ((va & -4096) | dataKey(this.priv, this.status))) this.u8[(va + this.sdelta[i]) | 0] = v;
    else this.storeSlow(va, 1, v, pc);
  }

  // ---------------------------------------------------------------- atomics (A extension)

  /** LR.W: load-reserved. Returns the value; `trapped` on failure. */
  loadReserved(va: number, pc: number): number {
    if ((va & 3) !== 0) {
      this.raise(Cause.LoadMisaligned, va, pc);
      return 0;
    }
    const pa = this.translate(va, ACC_LOAD);
    if (pa < 0) {
      this.raise(this.xcause, va, pc);
      return 0;
    }
    const v = this.loadSlow(va, 4, pc) | 0;
    if (!this.trapped) this.reservation = pa;
    return v;
  }

  /** SC.W: returns 0 on success, 1 on failure; `trapped` on a fault. */
  storeConditional(va: number, v: number, pc: number): number {
    if ((va & 3) !== 0) {
      this.raise(Cause.StoreMisaligned, va, pc);
      return 0;
    }
    const pa = this.translate(va, ACC_STORE);
    if (pa < 0) {
      this.raise(this.xcause, va, pc);
      return 0;
    }
    const ok = this.reservation === pa;
    this.reservation = -1;
    if (!ok) return 1;
    this.storeSlow(va, 4, v, pc);
    return 0;
  }

  /**
   * AMO read-modify-write: returns the old value and stores the op's value (amoValue: the
   * table's expression). Needs write permission (store faults, cause 6/7/15), as the spec says.
   */
  amo(op: number, va: number, src: number, pc: number): number {
    if ((va & 3) !== 0) {
      this.raise(Cause.StoreMisaligned, va, pc);
      return 0;
    }
    const pa = this.translate(va, ACC_STORE);
    if (pa < 0) {
      this.raise(this.xcause, va, pc);
      return 0;
    }
    if (this.watch !== null) this.watch.check(this, va, pa, 4, true, true, pc); // watchpoint hook
    let old: number;
    const off = pa - this.ramBase;
    const inRam = off >= 0 && off + 4 <= this.ramSize;
    if (inRam) old = this.m32[off >> 2];
    else {
      old = this.bus.read(pa, 4) | 0;
      if (this.bus.fault) {
        this.bus.fault = false;
        this.raise(Cause.StoreAccessFault, va, pc);
        return 0;
      }
    }
    const v = amoValue(op, old, src);
    if (inRam) {
      this.codeWrite(off);
      this.m32[off >> 2] = v;
    } else {
      this.bus.write(pa, 4, v >>> 0);
      if (this.bus.fault) {
        this.bus.fault = false;
        this.raise(Cause.StoreAccessFault, va, pc);
        return 0;
      }
    }
    return old;
  }

  // ---------------------------------------------------------------- CSRs

  /**
   * CSR read-modify-write for the Zicsr instructions. `mode`: 0 write, 1 set, 2 clear;
   * `write` false for CSRRS/CSRRC with rs1 = x0 (no write, so read-only CSRs are fine).
   * Returns the old value; `trapped` (illegal instruction) when not allowed.
   */
  csrAccess(csr: number, mode: number, operand: number, write: boolean, word: number, pc: number): number {
    // Bits [9:8]: lowest privilege; [11:10] = 3: read-only (§2.1 of the privileged spec).
    if (((csr >>> 8) & 3) > this.priv || (write && csr >>> 10 === 3)) {
      this.raise(Cause.IllegalInsn, word, pc);
      return 0;
    }
    const old = this.csrRead(csr);
    if (this.trapped || old === undefined) {
      if (!this.trapped) this.raise(Cause.IllegalInsn, word, pc);
      return 0;
    }
    if (write) {
      const v = mode === 0 ? operand : mode === 1 ? old | operand : old & ~operand;
      this.csrWrite(csr, v | 0);
    }
    return old;
  }

  /** Reads a CSR (value as int32), or undefined when it does not exist / is not accessible. */
  csrRead(csr: number): number | undefined {
    switch (csr) {
      case CSR_SSTATUS: return this.status;
      case CSR_SIE: return this.sie;
      case CSR_STVEC: return this.stvec;
      case CSR_SCOUNTEREN: return this.scounteren;
      case CSR_SENVCFG: return this.senvcfg;
      case CSR_SSCRATCH: return this.sscratch;
      case CSR_SEPC: return this.sepc;
      case CSR_SCAUSE: return this.scause;
      case CSR_STVAL: return this.stval;
      case CSR_SIP: return this.mip & SIE_WRITABLE;
      case CSR_SATP: return this.satp;
    }
    if ((csr >= CSR_CYCLE && csr <= CSR_INSTRET) || (csr >= CSR_CYCLEH && csr <= CSR_INSTRETH)) {
      const n = csr & 3;
      if (this.priv === PRIV_U && (this.scounteren & (1 << n)) === 0) return undefined;
      if (n === 1) return this.host.clock.word(csr >= CSR_CYCLEH);
      return tickWord(this.instret, csr >= CSR_CYCLEH);
    }
    return undefined;
  }

  /** Writes a CSR already known to exist and be writable (WARL fields legalised here). */
  csrWrite(csr: number, v: number): void {
    switch (csr) {
      case CSR_SSTATUS: {
        const old = this.status;
        this.status = (old & ~SSTATUS_WRITABLE) | (v & SSTATUS_WRITABLE);
        this.statusChanged(old, this.status);
        break;
      }
      case CSR_SIE:
        this.sie = v & SIE_WRITABLE;
        if ((this.mip & this.sie) !== 0) this.idle = false;
        break;
      case CSR_STVEC:
        this.stvec = v & ~2; // modes 2/3 are reserved: keep direct (0) or vectored (1)
        break;
      case CSR_SCOUNTEREN:
        this.scounteren = v & 7;
        break;
      case CSR_SENVCFG:
        this.senvcfg = v & SENVCFG_WRITABLE;
        break;
      case CSR_SSCRATCH:
        this.sscratch = v;
        break;
      case CSR_SEPC:
        this.sepc = v & SEPC_WRITABLE;
        break;
      case CSR_SCAUSE:
        this.scause = v;
        break;
      case CSR_STVAL:
        this.stval = v;
        break;
      case CSR_SIP:
        this.mip = (this.mip & ~SIP_WRITABLE) | (v & SIP_WRITABLE);
        break;
      case CSR_SATP:
        // MODE is one bit on RV32: bare and Sv32 are both legal; ASID kept (9 bits). No flush:
        // the new value's address space has its own TLB bank (mmu.ts).
        this.satp = v;
        break;
    }
  }

  /** SFENCE.VMA: rs1 = x0 flushes every page, rs2 = x0 every address space (`asid` -1). */
  sfenceVma(hasAddr: boolean, va: number, asid: number): void {
    this.fence(va, hasAddr, asid);
  }

  /** The supervisor CSRs this hart implements (besides the counters), for CSR views. */
  static readonly CSRS: readonly number[] = SUPERVISOR_CSRS;
}

