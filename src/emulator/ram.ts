// Guest RAM: one SharedArrayBuffer seen through typed views, so the worker runs the guest while
// the extension host's inspectors read the same bytes without copies. The host is little-endian
// (x86-64, arm64), like RISC-V, so aligned 16/32-bit views read guest words directly.
//
// Ram.allocate makes that buffer the memory of WebAssembly (shared), with a CPU area after RAM
// for the harts' registers and TLBs (cpu/layout.ts): translated code then reaches guest RAM
// and hart state directly. RAM built on any other SharedArrayBuffer works the same, untranslated.

import { FRAME_BYTES, HART_BYTES } from './cpu/layout';

/** Harts whose state fits in the CPU area (the machine's maximum). */
export const CPU_AREA_HARTS = 4;
/** Decoded pages kept at most (codecache.ts): frames in the CPU area. */
export const MAX_DECODED_PAGES = 2048;
const WASM_PAGE = 65536;
const HARTS_BYTES = CPU_AREA_HARTS * HART_BYTES;

/** Frames for decoded pages in the CPU area of `ramSize` bytes of RAM. */
export function codeFrames(ramSize: number): number {
  return Math.min(MAX_DECODED_PAGES, Math.ceil(ramSize / 4096));
}

/** The CPU area after `ramSize` bytes of RAM: the harts, the decoded-page frames, their directory (cpu/layout.ts). */
function cpuAreaBytes(ramSize: number): number {
  const bytes = HARTS_BYTES + codeFrames(ramSize) * FRAME_BYTES + Math.ceil(ramSize / 4096) * 4;
  return Math.ceil(bytes / WASM_PAGE) * WASM_PAGE;
}

/** Guest RAM as it travels between threads: the buffer, how much of it is RAM, its wasm memory. */
export interface GuestRam {
  buffer: SharedArrayBuffer;
  size: number;
  memory: WebAssembly.Memory | null;
}

/** Where one hart's state lives: a buffer and a byte offset in it (cpu/layout.ts). */
export interface HartRegion {
  buffer: ArrayBufferLike;
  offset: number;
}

export class Ram implements GuestRam {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly size: number;
  /** Byte offset of the CPU area in `buffer` (-1: none). */
  readonly cpuArea: number;
  /** Byte offset of the first decoded-page frame (codeFrames(size) of them), then of their directory (-1: none). */
  readonly framesOffset: number;
  readonly directoryOffset: number;

  /**
   * `base` is the guest-physical address of byte 0 (0 on semu's map); RAM is the first `size`
   * bytes of `buffer`. `memory`: the WebAssembly memory whose buffer this is, when it has a
   * CPU area after RAM.
   */
  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly base = 0,
    size = buffer.byteLength,
    readonly memory: WebAssembly.Memory | null = null,
  ) {
    this.size = size;
    this.u8 = new Uint8Array(buffer, 0, size);
    this.u16 = new Uint16Array(buffer, 0, size >> 1);
    this.i32 = new Int32Array(buffer, 0, size >> 2);
    this.cpuArea = memory !== null && buffer.byteLength >= size + cpuAreaBytes(size) ? size : -1;
    this.framesOffset = this.cpuArea >= 0 ? this.cpuArea + HARTS_BYTES : -1;
    this.directoryOffset = this.cpuArea >= 0 ? this.framesOffset + codeFrames(size) * FRAME_BYTES : -1;
  }

  /** The state region of hart `id`: in the CPU area when there is one, else a private buffer. */
  hartRegion(id: number): HartRegion {
    if (this.cpuArea >= 0 && id < CPU_AREA_HARTS) return { buffer: this.buffer, offset: this.cpuArea + id * HART_BYTES };
    return { buffer: new ArrayBuffer(HART_BYTES), offset: 0 };
  }

  /**
   * Installed by the harts: called after anything but a hart's own store changes guest RAM (a
   * device's DMA, the debugger's writeMemory, image loading), so decoded-instruction caches of
   * those pages are dropped. Every writer outside the hart must call noteWrite().
   */
  onExternalWrite: ((paddr: number, len: number) => void) | null = null;

  noteWrite(paddr: number, len: number): void {
    if (this.onExternalWrite !== null) this.onExternalWrite(paddr, len);
  }

  /** RAM of `size` bytes (a multiple of 4 KiB) in a new shared WebAssembly memory with a CPU area. */
  static allocate(size: number, base = 0): Ram {
    const memory = guestMemory(size);
    return new Ram(memory.buffer as unknown as SharedArrayBuffer, base, size, memory);
  }

  /** True when [paddr, paddr+len) lies inside RAM. Safe for any uint32 paddr and len. */
  contains(paddr: number, len: number): boolean {
    const off = (paddr >>> 0) - this.base;
    return off >= 0 && len >= 0 && off + len <= this.size;
  }

  // Little helpers for devices and tests (not the CPU's hot path, which indexes the views itself).
  read8(paddr: number): number {
    return this.u8[paddr - this.base];
  }
  read16(paddr: number): number {
    const o = paddr - this.base;
    return this.u8[o] | (this.u8[o + 1] << 8);
  }
  read32(paddr: number): number {
    const o = paddr - this.base;
    return (this.u8[o] | (this.u8[o + 1] << 8) | (this.u8[o + 2] << 16) | (this.u8[o + 3] << 24)) >>> 0;
  }
  write8(paddr: number, v: number): void {
    this.u8[paddr - this.base] = v;
  }
  write16(paddr: number, v: number): void {
    const o = paddr - this.base;
    this.u8[o] = v;
    this.u8[o + 1] = v >>> 8;
  }
  write32(paddr: number, v: number): void {
    const o = paddr - this.base;
    this.u8[o] = v;
    this.u8[o + 1] = v >>> 8;
    this.u8[o + 2] = v >>> 16;
    this.u8[o + 3] = v >>> 24;
  }
}

/** A shared WebAssembly memory for `ramSize` bytes of RAM and the CPU area after it. */
export function guestMemory(ramSize: number): WebAssembly.Memory {
  const pages = Math.ceil((ramSize + cpuAreaBytes(ramSize)) / WASM_PAGE);
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}
