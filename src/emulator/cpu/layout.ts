// Where a hart's state lives in guest memory's CPU area (after RAM, see ram.ts), so translated
// WebAssembly code reads registers and TLBs where the JavaScript engines do: every offset
// below is in bytes from the hart's base. Without a CPU area (RAM not made by Ram.allocate) a
// hart keeps the same layout in a private buffer and nothing is translated.

import { TLB_BANKS, TLB_SIZE } from './tlb-size';

/** x0..x31 and x[32] (the fast loop's sink for writes to x0). */
export const X = 0;
/** Where execution continues after translated code returns (written by it). */
export const PC = 136;
/** Set by translated code and its slow paths: why it returned early (see Exit). */
export const FLAGS = 140;
/** The hart's index (the slow paths' first argument). */
export const HID = 144;
/** The LR reservation: a physical word address, or -1. */
export const RESERVATION = 148;
/** Byte offsets (from the start of memory) of the current TLB bank's arrays. */
export const FTAG = 152;
export const FDELTA = 156;
export const LTAG = 160;
export const LDELTA = 164;
export const STAG = 168;
export const SDELTA = 172;
/** The virtual base of the page translated code is running (its slow paths name slots). */
export const VB = 176;
/**
 * sstatus, sie, mip and the trap CSRs (the hart's accessors read and write them here, so
 * translated code reads and writes the trap CSRs and sstatus inline: see translate.ts csr).
 */
export const SSTATUS = 180;
export const SIE = 184;
export const MIP = 188;
export const SSCRATCH = 192;
export const SEPC = 196;
export const SCAUSE = 200;
export const STVAL = 204;
/** The TLB banks, TLB_ARRAYS Int32Arrays of TLB_SIZE each per bank. */
export const BANKS = 256;
export const TLB_ARRAYS = 7; // ftag, fdelta, ltag, ldelta, stag, sdelta, spage
export const BANK_BYTES = TLB_ARRAYS * TLB_SIZE * 4;
export const HART_BYTES = BANKS + TLB_BANKS * BANK_BYTES;

/** FLAGS values: why translated code returned before its budget. */
export const enum Exit {
  None = 0,
  /** A trap was entered (h.trapped). */
  Trap = 1,
  /** A slow path changed what the run loop must see (stop, interrupts, code written). */
  Leave = 2,
  /** Execution reached code that is not translated (or not an entry): the fast loop goes on. */
  Miss = 4,
}
