// Guest RAM: one SharedArrayBuffer seen through typed views, so the worker runs the guest while
// the extension host's inspectors read the same bytes without copies. The host is little-endian
// (x86-64, arm64), like RISC-V, so aligned 16/32-bit views read guest words directly.

export class Ram {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly size: number;

  /** `base` is the guest-physical address of byte 0 (0 on semu's map). */
  constructor(readonly buffer: SharedArrayBuffer, readonly base = 0) {
    this.size = buffer.byteLength;
    this.u8 = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.i32 = new Int32Array(buffer);
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

  static allocate(size: number, base = 0): Ram {
    return new Ram(new SharedArrayBuffer(size), base);
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
