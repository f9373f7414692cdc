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
/** Entries into a slot at which its page is translated (codecache.ts hotThreshold; 0x10001: never, as a uint16 count + 1 stays below it). */
export const HOT_AT = 208;
/** The crash trace's next triple (hart.ts tracePos). */
export const TRACE_POS = 212;
/** The TLB banks, TLB_ARRAYS Int32Arrays of TLB_SIZE each per bank. */
export const BANKS = 256;
export const TLB_ARRAYS = 7; // ftag, fdelta, ltag, ldelta, stag, sdelta, spage
export const BANK_BYTES = TLB_ARRAYS * TLB_SIZE * 4;
/** The crash trace: TRACE_LEN [pc, RAM offset, count] triples (hart.ts record). */
export const TRACE = BANKS + TLB_BANKS * BANK_BYTES;
export const TRACE_LEN = 32;
export const HART_BYTES = TRACE + TRACE_LEN * 12;

// After the harts, the CPU area holds the decoded pages (codecache.ts), in frames of this layout,
// then a directory: one int32 per RAM page, the byte offset of its frame in memory (0: not
// decoded). The fast loop in WebAssembly (wasm-loop.ts) finds a page's instructions there.

/** A frame: 1 024 decoded slots of two int32 (predecode.ts), then a page-end slot (PAGE_END). */
export const FRAME_END_SLOT = 8192;
/** Per slot: entries counted by the fast loops (uint16). */
export const FRAME_HEAT = 8208;
/** Per slot: 1 where the page's translation can be entered (uint8). */
export const FRAME_LABELS = FRAME_HEAT + 2048;
export const FRAME_BYTES = FRAME_LABELS + 1024;

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
