// Source-line stepping in the worker (DAP next/stepIn/stepOut by line): one hart runs until
// its pc leaves the address ranges of the current line. Calls made from the line (step over)
// and traps taken inside it (interrupts, page faults, ecalls) are run at full speed to their
// return — a temporary breakpoint at the return address, accepted only once sp is back at or
// above its value at the call, so recursion does not stop early. Everything else the machine
// reports (a user breakpoint, a watchpoint, a halt) ends the step with that reason.

import type { Machine } from '../emulator/machine';
import { StopReason } from '../emulator/machine';
import { ACC_FETCH } from '../emulator/cpu/mmu';

/** run() finished the step: the hart left the ranges (or reached the run-to target). */
export const STEP_DONE = 100;

export interface StepRequest {
  hart: number;
  /** [lo, hi) address ranges of the line; empty = stop as soon as the first target is reached. */
  ranges: [number, number][];
  /** Step over calls (next) instead of into them (stepIn). */
  over: boolean;
  /** Start by running to this return address (stepOut): reached when sp >= minSp. */
  until?: { pc: number; minSp: number };
}

const OP_JAL = 0x6f;
const OP_JALR = 0x67;
const SYSTEM_ECALL = 0x00000073;

export class LineStepper {
  /** While set, the hart runs freely until it comes back here (with sp >= returnSp). */
  private targets: number[] = [];
  private returnSp = 0;

  constructor(
    private readonly m: Machine,
    private readonly req: StepRequest,
  ) {
    if (req.until) this.runTo([req.until.pc >>> 0], req.until.minSp >>> 0);
  }

  get hart(): number {
    return this.req.hart;
  }

  private runTo(pcs: number[], sp: number): void {
    this.targets = pcs;
    this.returnSp = sp;
  }

  private inRanges(pc: number): boolean {
    for (const [lo, hi] of this.req.ranges) if (pc >= lo && pc < hi) return true;
    return false;
  }

  /**
   * Advances up to `budget` instructions. Returns StopReason.Budget / Idle to be called again,
   * STEP_DONE when the step is complete, or the machine's reason for stopping otherwise.
   */
  run(budget: number): number {
    const m = this.m;
    const h = m.harts[this.req.hart];
    for (let n = 0; n < budget; n++) {
      if (this.targets.length > 0) {
        const r = this.runFree(budget - n);
        if (r !== STEP_DONE) return r;
        if (this.req.ranges.length === 0 || !this.inRanges(h.pc >>> 0)) return STEP_DONE;
        continue;
      }
      if (h.idle) {
        // WFI inside the line: let the machine run until the hart is back after it.
        this.runTo([h.pc >>> 0], h.x[2] >>> 0);
        continue;
      }
      const pc = h.pc >>> 0;
      const sp = h.x[2] >>> 0;
      const word = this.wordAt(pc);
      const r = m.step(this.req.hart);
      if (r !== StopReason.Budget) return r;
      const now = h.pc >>> 0;
      if (now === ((h.stvec & ~3) >>> 0) && h.sepc >>> 0 === pc) {
        // A trap instead of (or for) this instruction: run the handler until it returns.
        this.runTo(word === SYSTEM_ECALL ? [pc, (pc + 4) >>> 0] : [pc], sp);
        continue;
      }
      if (this.req.over && isCall(word) && !this.inRanges(now)) {
        this.runTo([(pc + 4) >>> 0], sp);
        continue;
      }
      if (!this.inRanges(now)) return STEP_DONE;
      if (m.breakpoints.has(now)) {
        h.atBreakpoint = true;
        m.stopHart = this.req.hart;
        return StopReason.Breakpoint;
      }
    }
    return StopReason.Budget;
  }

  /** Runs the machine with temporary breakpoints at the targets; STEP_DONE once back. */
  private runFree(budget: number): number {
    const m = this.m;
    const h = m.harts[this.req.hart];
    const bps = m.breakpoints;
    const added = this.targets.filter((t) => !bps.has(t));
    for (const t of added) bps.add(t);
    let r: number;
    try {
      r = m.run(budget);
    } finally {
      for (const t of added) bps.delete(t);
    }
    if (r !== StopReason.Breakpoint) return r;
    const pc = m.harts[m.stopHart].pc >>> 0;
    if (m.stopHart === this.req.hart && this.targets.includes(pc) && (h.x[2] >>> 0) >= this.returnSp) {
      h.atBreakpoint = false;
      this.targets = [];
      return STEP_DONE;
    }
    // Our temporary breakpoint, but a deeper activation (recursion) or another hart: keep going.
    if (added.includes(pc)) return StopReason.Budget;
    return r; // a user breakpoint
  }

  private wordAt(pc: number): number {
    const h = this.m.harts[this.req.hart];
    const pa = h.probe(pc, ACC_FETCH);
    if (pa < 0 || !this.m.ram.contains(pa, 4)) return 0;
    return this.m.ram.read32(pa);
  }
}

/** jal/jalr that link through ra or t0 (the psABI's call forms). */
function isCall(word: number): boolean {
  const op = word & 0x7f;
  if (op !== OP_JAL && op !== OP_JALR) return false;
  const rd = (word >>> 7) & 31;
  return rd === 1 || rd === 5;
}
