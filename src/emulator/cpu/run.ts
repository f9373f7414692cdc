// The instruction-at-a-time run loop: breakpoints, single-stepping, and the reference for the
// block translator. Returns after `budget` iterations (retired instructions or traps) or when
// the hart asks to stop (WFI, breakpoint, SBI, a device's notify hook, a crash).

import type { Hart } from './hart';
import { execute } from './interp';

/**
 * Interprets up to `budget` instructions on `h`. With `breakpoints`, stops *before* executing an
 * instruction whose pc is in the set (h.stop and h.atBreakpoint set), except for the very first
 * one when `skipFirstBreakpoint` (resuming from that breakpoint). Returns iterations used
 * (instructions retired plus one per trap or interrupt taken).
 */
export function interpret(h: Hart, budget: number, breakpoints: ReadonlySet<number> | null, skipFirstBreakpoint: boolean): number {
  let iter = 0;
  let skip = skipFirstBreakpoint;
  for (; iter < budget && !h.stop; iter++) {
    if ((h.mip & h.sie) !== 0 && h.checkInterrupt()) {
      skip = false; // the breakpointed instruction was not reached: it will stop again later
      continue;
    }
    const pc = h.pc;
    if (breakpoints !== null && !skip && breakpoints.has(pc >>> 0)) {
      h.atBreakpoint = true;
      h.stop = true;
      break;
    }
    skip = false;
    const off = h.fetchOffset(pc);
    if (off < 0) {
      h.trapped = false;
      continue;
    }
    h.record(pc, off, 1);
    execute(h, h.m32[off >> 2], pc);
    if (h.trapped) h.trapped = false;
    else h.instret++;
  }
  return iter;
}
