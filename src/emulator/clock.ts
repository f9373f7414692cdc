// The guest's time base: 65 MHz ticks (semu's timebase-frequency), read by the `time` CSR, the
// ACLINT mtimer and SBI set_timer.
//
// Two clocks:
// - `icount`: time is a pure function of the instructions retired (plus the idle time skipped
//   when every hart waits in WFI). Same inputs → same console output and the same instruction
//   count at every device event, whatever the host's speed.
// - `host` (default): the same as icount until the first U-mode instruction — so a slow host does
//   not make the kernel's boot-time delays and timeouts longer in instructions — then it follows
//   the host's monotonic clock from where boot left it, never jumping backwards, and never
//   forwards by more than MAX_STEP_MS between two looks: time the emulator could not run (the
//   OS did not schedule it on a loaded host, a debugger held it paused) is lost, as a paused
//   VM's. The guest ran no instruction in it, so it must not see it pass: a 150 ms hold-up
//   made every blocked ALSA read/write fail with EIO (Linux allows 100 ms without a period)
//   even with null audio, and woke watchdogs with nothing to show.

import { tickWord, type CsrClock } from './types';

export const TIMEBASE_HZ = 65_000_000;
/** Guest ticks per retired instruction while time follows the instruction count (a 65 MIPS hart). */
export const TICKS_PER_INSN = 1;
/** Host time the guest sees pass between two looks at the clock, at most (ms). */
export const MAX_STEP_MS = 20;

export type ClockMode = 'host' | 'icount';

export interface MachineClock extends CsrClock {
  readonly mode: ClockMode;
  /** True while time is derived from instructions (icount, or host before user space starts). */
  followsInstructions(): boolean;
  /** The first U-mode instruction is about to run. */
  enteredUserMode(): void;
  /** All harts idle: jump time forward to `ticks` (only while following instructions). */
  skipTo(ticks: number): void;
  /** Instructions until now() reaches `ticks` (≥ 1; Infinity when never) — while following instructions. */
  insnsUntil(ticks: number): number;
}

/** Where a clock gets the instruction count from (the machine: all harts' instret). */
export type InstretSource = () => number;

export class IcountClock implements MachineClock {
  readonly mode: ClockMode = 'icount';
  private skipped = 0;

  constructor(private readonly instret: InstretSource) {}

  now(): number {
    return this.instret() * TICKS_PER_INSN + this.skipped;
  }
  word(high: boolean): number {
    return tickWord(this.now(), high);
  }
  followsInstructions(): boolean {
    return true;
  }
  enteredUserMode(): void {}
  skipTo(ticks: number): void {
    const now = this.now();
    if (ticks > now && ticks !== Infinity) this.skipped += ticks - now;
  }
  insnsUntil(ticks: number): number {
    if (ticks === Infinity) return Infinity;
    return Math.max(1, Math.ceil((ticks - this.now()) / TICKS_PER_INSN));
  }
}

/** Host milliseconds from a monotonic source (injectable for tests). */
export type HostMs = () => number;

export class HostClock implements MachineClock {
  readonly mode: ClockMode = 'host';
  private readonly boot: IcountClock;
  private booted = false;
  private baseTicks = 0;
  private baseMs = 0;
  private last = 0;
  private lastMs = 0; // host ms at the previous look
  private lostMs = 0; // host time the guest did not see (steps beyond MAX_STEP_MS)

  constructor(
    instret: InstretSource,
    private readonly hostMs: HostMs = () => performance.now(),
  ) {
    this.boot = new IcountClock(instret);
  }

  now(): number {
    if (!this.booted) return this.boot.now();
    const ms = this.hostMs();
    const step = ms - this.lastMs;
    if (step > MAX_STEP_MS) this.lostMs += step - MAX_STEP_MS;
    this.lastMs = ms;
    const t = this.baseTicks + Math.floor((ms - this.baseMs - this.lostMs) * (TIMEBASE_HZ / 1000));
    if (t > this.last) this.last = t; // monotonic even if the host source misbehaves
    return this.last;
  }
  word(high: boolean): number {
    return tickWord(this.now(), high);
  }
  followsInstructions(): boolean {
    return !this.booted;
  }
  enteredUserMode(): void {
    if (this.booted) return;
    this.baseTicks = this.boot.now();
    this.last = this.baseTicks;
    this.baseMs = this.hostMs();
    this.lastMs = this.baseMs;
    this.booted = true;
  }
  skipTo(ticks: number): void {
    if (!this.booted) this.boot.skipTo(ticks);
  }
  insnsUntil(ticks: number): number {
    return this.booted ? Infinity : this.boot.insnsUntil(ticks);
  }
}

export function createClock(mode: ClockMode, instret: InstretSource, hostMs?: HostMs): MachineClock {
  return mode === 'icount' ? new IcountClock(instret) : new HostClock(instret, hostMs);
}
