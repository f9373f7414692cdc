// Stepping by source line (DAP next / stepIn / stepOut with granularity 'statement' or 'line'),
// planned here from the line table and carried out in the worker (src/host/stepper.ts): a step
// is "run while the pc stays in this line's code in this function". After the worker stops,
// follow-up() decides whether the step is really over, as gdb's step does: stepping into a
// function without line info runs back out of it, into a function's entry runs past its
// prologue, and a return into the middle of a caller's line finishes that line.

import type { DebugInfo } from './dwarf/index';
import type { StepRequest } from '../src/worker/stepper';
import type { HartState } from './registers';
import { ROW_END_SEQUENCE, ROW_PROLOGUE_END, ROW_STMT } from './dwarf/line';

export type StepKind = 'over' | 'into';

/** Follow-up steps after the first, before giving up and showing where the hart is. */
const MAX_FOLLOW_UPS = 6;

/** Address ranges [lo, hi) of the line holding `pc`, inside its function; null without line info. */
export function lineRanges(debug: DebugInfo | null, pc: number): [number, number][] | null {
  const lines = debug?.lines;
  if (!lines) return null;
  const row = lines.rowAt(pc);
  if (row < 0 || lines.line[row] === 0) return null;
  let ranges = lines.rangesOfLine(row);
  const fn = debug.info?.functionRange(pc);
  if (fn) ranges = ranges.map(([lo, hi]) => [Math.max(lo, fn[0]), Math.min(hi, fn[1])] as [number, number]).filter(([lo, hi]) => hi > lo);
  // The line's own run must be there even if the function table disagrees.
  if (!ranges.some(([lo, hi]) => pc >= lo && pc < hi)) ranges.push([lines.addr[row], rowEnd(debug, row)]);
  return ranges;
}

function rowEnd(debug: DebugInfo, row: number): number {
  const l = debug.lines!;
  return row + 1 < l.rowCount ? l.addr[row + 1] : (l.addr[row] + 4) >>> 0;
}

/**
 * Where a function's body starts: the prologue_end row if the producer marked one, else the
 * first statement row whose line differs from the entry's (gdb's skip_prologue_using_sal).
 */
export function prologueEnd(debug: DebugInfo | null, entry: number): number | undefined {
  const l = debug?.lines;
  if (!l) return undefined;
  const first = l.rowAt(entry);
  if (first < 0 || l.addr[first] !== entry) return undefined;
  const fn = debug.info?.functionRange(entry);
  const limit = fn ? fn[1] : entry + 256;
  for (let r = first + 1; r < l.rowCount && l.addr[r] < limit; r++) {
    if (l.flags[r] & ROW_END_SEQUENCE) break;
    if (l.flags[r] & ROW_PROLOGUE_END) return l.addr[r];
  }
  for (let r = first + 1; r < l.rowCount && l.addr[r] < limit; r++) {
    if (l.flags[r] & ROW_END_SEQUENCE) break;
    if (l.flags[r] & ROW_STMT && l.line[r] !== l.line[first] && l.addr[r] > entry) return l.addr[r];
  }
  return undefined;
}

/** One line step in progress: what was asked, and how many follow-ups it took. */
export class LineStep {
  private followUps = 0;

  constructor(
    readonly kind: StepKind,
    readonly hart: number,
    /** The ranges the step started in (runtime addresses). */
    readonly ranges: [number, number][],
    private readonly debug: DebugInfo,
    /** Runtime pc → link address (they differ only while the MMU is off). */
    private readonly link: (pc: number) => number,
  ) {}

  first(): StepRequest {
    return { hart: this.hart, ranges: this.ranges, over: this.kind === 'over' };
  }

  /** After the worker's step stop: a further request, or null when the step is done. */
  followUp(s: HartState): StepRequest | null {
    if (++this.followUps > MAX_FOLLOW_UPS) return null;
    const pc = s.pc >>> 0;
    const at = this.link(pc);
    const delta = (pc - at) | 0;
    const lines = this.debug.lines!;
    const row = lines.rowAt(at);
    const sp = s.x[2] >>> 0;
    const ra = s.x[1] >>> 0;
    if (row < 0 || lines.line[row] === 0) {
      // Into code without line info (assembly, or a compiler-made thunk): run back out to the
      // caller and finish the original line there.
      if (this.kind === 'into' && ra !== 0 && !this.inRanges(pc)) {
        return { hart: this.hart, ranges: this.ranges, over: true, until: { pc: ra, minSp: sp } };
      }
      return null;
    }
    const fn = this.debug.info?.functionRange(at);
    if (this.kind === 'into' && fn && fn[0] === at) {
      const body = prologueEnd(this.debug, at);
      if (body !== undefined && body > at) return { hart: this.hart, ranges: [[pc, (body + delta) >>> 0]], over: true };
      return null;
    }
    // Landed inside a line (not at its first instruction): a return into the caller's call line.
    if (lines.addr[row] !== at && !this.inRanges(pc)) {
      const r = lineRanges(this.debug, at);
      if (r) return { hart: this.hart, ranges: r.map(([lo, hi]) => [(lo + delta) >>> 0, (hi + delta) >>> 0]), over: true };
    }
    return null;
  }

  private inRanges(pc: number): boolean {
    return this.ranges.some(([lo, hi]) => pc >= lo && pc < hi);
  }
}
