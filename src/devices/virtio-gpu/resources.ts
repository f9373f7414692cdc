// 2D resources (VirtIO 1.2 §5.7.6.8): host-side pixel storage, their guest backing (scatter
// lists of guest-physical pages) and the per-machine budget every allocation is charged to, so a
// guest that creates resources without end gets ERR_OUT_OF_MEMORY and the host is not hurt.

import { BYTES_PER_PIXEL } from './protocol';

/** Bookkeeping a resource costs besides its pixels (objects, map entry): charged to the budget. */
export const RESOURCE_OVERHEAD = 256;
/** Charged per backing entry (two 32-bit words and a float64 start offset, rounded up). */
export const BACKING_ENTRY_COST = 16;

/** The per-machine limit on host memory the guest can make the device hold. */
export class HostBudget {
  used = 0;
  constructor(readonly limit: number) {}

  /** Charges `bytes` if they fit under the limit. */
  charge(bytes: number): boolean {
    if (!(bytes >= 0) || this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

/**
 * A resource's backing: entries (RAM offsets and lengths, zero-length ones dropped) seen as one
 * contiguous byte range of `total` bytes.
 */
export class Backing {
  readonly total: number;
  /** Byte offset, within the backing, where entry i starts (ascending). */
  private readonly starts: Float64Array;

  constructor(
    readonly ramOffsets: Uint32Array,
    readonly lengths: Uint32Array,
  ) {
    this.starts = new Float64Array(lengths.length);
    let t = 0;
    for (let i = 0; i < lengths.length; i++) {
      this.starts[i] = t;
      t += lengths[i];
    }
    this.total = t;
  }

  get entries(): number {
    return this.lengths.length;
  }

  /** The entry holding backing byte `off` (0 ≤ off < total). */
  private find(off: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= off) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Copies backing bytes [off, off + len) (which the caller checked lie inside `total`) from guest
   * RAM into dst at dstOff.
   */
  copyOut(ram: Uint8Array, off: number, dst: Uint8Array, dstOff: number, len: number): void {
    let i = this.find(off);
    let within = off - this.starts[i];
    while (len > 0) {
      const n = Math.min(this.lengths[i] - within, len);
      const from = this.ramOffsets[i] + within;
      dst.set(ram.subarray(from, from + n), dstOff);
      dstOff += n;
      len -= n;
      within = 0;
      i++;
    }
  }
}

export class Resource {
  readonly stride: number;
  backing: Backing | null = null;

  constructor(
    readonly id: number,
    readonly format: number,
    readonly width: number,
    readonly height: number,
    readonly data: Uint8Array,
  ) {
    this.stride = width * BYTES_PER_PIXEL;
  }

  /** Host bytes this resource is charged for, without its backing. */
  get cost(): number {
    return this.data.length + RESOURCE_OVERHEAD;
  }

  /** True when rectangle (x, y, w, h) lies inside the resource (any uint32 values). */
  contains(x: number, y: number, w: number, h: number): boolean {
    return x + w <= this.width && y + h <= this.height;
  }
}
