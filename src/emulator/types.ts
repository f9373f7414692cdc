// The contracts between the parts of the machine. Each part (harts, bus, devices, debugger)
// depends on these, not on each other's classes.

/** Access width in bytes. */
export type Width = 1 | 2 | 4;

/**
 * A device on the physical bus (semu's map, DESIGN.md §3). Offsets are relative to `base`.
 * read() returns the value zero-extended (a uint32 as a JS number); a device answers any offset
 * inside [0, size) and never throws: unknown registers read 0 and ignore writes.
 */
export interface MmioDevice {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  read(offset: number, width: Width): number;
  write(offset: number, width: Width, value: number): void;
}

/** mip/sip bits a device can raise on a hart (RISC-V privileged spec, §3.1.9 / §4.1.3). */
export const MIP_SSIP = 1 << 1;
export const MIP_STIP = 1 << 5;
export const MIP_SEIP = 1 << 9;

/** What a device sees of a hart: its interrupt-pending lines. */
export interface InterruptTarget {
  /** Set or clear the given mip bits (level-triggered lines). */
  setPending(mask: number, on: boolean): void;
}

/** What a device sees of the interrupt controller (the PLIC). Source 0 does not exist. */
export interface IrqLine {
  setIrq(source: number, level: boolean): void;
}

/** The guest's clock as devices and SBI see it: 65 MHz ticks since power-on (a float64, exact below 2^53). */
export interface GuestClock {
  now(): number;
}

/**
 * The clock as the `time`/`timeh` CSRs read it: one 32-bit half of now() as an int32. A float64
 * returned across a call is a heap number; a guest reads these thousands of times a second.
 */
export interface CsrClock extends GuestClock {
  word(high: boolean): number;
}

const TWO32 = 4294967296;

/** The low or high 32 bits of a tick count (≥ 0, below 2^53) as an int32. */
export function tickWord(ticks: number, high: boolean): number {
  return high ? (ticks / TWO32) | 0 : ticks % TWO32 | 0;
}
