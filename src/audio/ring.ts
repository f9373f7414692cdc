// A single-producer/single-consumer byte ring in a SharedArrayBuffer: the only thing the device
// model and the host audio side share. Neither side ever waits, locks or allocates.
//
// The read and write positions are free-running uint32 byte counters (fill = write - read, mod
// 2^32), so they never need resetting and wrap safely; capacity is a power of two ≤ 2^30.
// The producer may drop the oldest data (capture: the freshest audio matters, latency stays
// bounded) by advancing `read` with compare-and-swap; the consumer commits its reads with CAS too,
// so a read that raced with such a drop is detected and retried, never returned torn.

import { copyBytes } from '../shared/bytes';

const READ = 0; // bytes consumed
const WRITE = 1; // bytes produced
const OVERRUNS = 2; // producer found no room (dropped oldest, or refused)
const UNDERRUNS = 3; // consumer found too little (padded with silence)
const BYTES_IN = 4; // total bytes produced (wrapping)
const BYTES_OUT = 5; // total bytes consumed (wrapping)
const HEADER_INTS = 8;
const HEADER_BYTES = HEADER_INTS * 4;

export interface RingStats {
  fill: number;
  capacity: number;
  overruns: number;
  underruns: number;
  bytesIn: number;
  bytesOut: number;
}

export class PcmRing {
  readonly capacity: number;
  private readonly mask: number;
  private readonly hdr: Int32Array;
  private readonly data: Uint8Array;

  /** Attach to a ring made by PcmRing.create (in this or another thread of the process). */
  constructor(readonly buffer: SharedArrayBuffer) {
    this.capacity = buffer.byteLength - HEADER_BYTES;
    if (this.capacity <= 0 || (this.capacity & (this.capacity - 1)) !== 0 || this.capacity > 1 << 30) {
      throw new Error(`PcmRing: capacity ${this.capacity} is not a power of two up to 2^30`);
    }
    this.mask = this.capacity - 1;
    this.hdr = new Int32Array(buffer, 0, HEADER_INTS);
    this.data = new Uint8Array(buffer, HEADER_BYTES);
  }

  /** A ring holding at least `minBytes` (rounded up to a power of two). */
  static create(minBytes: number): PcmRing {
    let cap = 64;
    while (cap < minBytes) cap *= 2;
    return new PcmRing(new SharedArrayBuffer(HEADER_BYTES + cap));
  }

  /** Bytes ready for the consumer. */
  fill(): number {
    return (Atomics.load(this.hdr, WRITE) - Atomics.load(this.hdr, READ)) >>> 0;
  }

  /** Room for the producer without dropping anything. */
  room(): number {
    return this.capacity - this.fill();
  }

  // ---- producer side ----

  /**
   * Appends src[0, len). With dropOldest, makes room by discarding the oldest bytes (in whole
   * `align`-byte frames) and counts an overrun; without it, writes only what fits, counting an
   * overrun if anything was refused. Returns the bytes written.
   */
  write(src: Uint8Array, len = src.length, dropOldest = false, align = 1): number {
    const hdr = this.hdr;
    if (dropOldest && len > this.capacity) {
      // Only the newest `capacity` bytes can survive.
      const skip = len - this.capacity;
      const from = skip + ((align - (skip % align)) % align);
      src = src.subarray(from, len);
      len -= from;
    }
    let room = this.room();
    if (len > room) {
      Atomics.add(hdr, OVERRUNS, 1);
      if (!dropOldest) {
        len = room - (room % align);
      } else {
        for (;;) {
          const r = Atomics.load(hdr, READ);
          const fill = (Atomics.load(hdr, WRITE) - r) >>> 0;
          let need = fill + len - this.capacity;
          if (need <= 0) break;
          need += (align - (need % align)) % align;
          if (Atomics.compareExchange(hdr, READ, r, (r + need) | 0) === r) break;
        }
        room = this.room();
        if (len > room) len = room - (room % align);
      }
    }
    if (len <= 0) return 0;
    const w = Atomics.load(hdr, WRITE) >>> 0;
    const start = w & this.mask;
    const first = Math.min(len, this.capacity - start);
    copyBytes(this.data, start, src, 0, first);
    if (first < len) copyBytes(this.data, 0, src, first, len - first);
    Atomics.store(hdr, WRITE, (w + len) | 0);
    Atomics.add(hdr, BYTES_IN, len);
    return len;
  }

  // ---- consumer side ----

  /** Copies up to `len` bytes (whole `align` frames) into dst and consumes them. Returns the count. */
  read(dst: Uint8Array, len = dst.length, align = 1): number {
    const hdr = this.hdr;
    for (;;) {
      const r = Atomics.load(hdr, READ);
      const fill = (Atomics.load(hdr, WRITE) - r) >>> 0;
      let n = Math.min(len, fill);
      n -= n % align;
      if (n <= 0) return 0;
      const start = (r >>> 0) & this.mask;
      const first = Math.min(n, this.capacity - start);
      copyBytes(dst, 0, this.data, start, first);
      if (first < n) copyBytes(dst, first, this.data, 0, n - first);
      // If the producer dropped what we were copying, our copy may be torn: take the newer data.
      if (Atomics.compareExchange(hdr, READ, r, (r + n) | 0) === r) {
        Atomics.add(hdr, BYTES_OUT, n);
        return n;
      }
    }
  }

  /**
   * Fills dst[0, len) completely: ring data first, then `silence` bytes for what is missing,
   * counting an underrun when anything was missing. Returns the bytes that came from the ring.
   */
  readOrSilence(dst: Uint8Array, len = dst.length, align = 1, silence = 0): number {
    const got = this.read(dst, len, align);
    if (got < len) {
      dst.fill(silence, got, len);
      Atomics.add(this.hdr, UNDERRUNS, 1);
    }
    return got;
  }

  /** Consumer: drop everything queued (e.g. on PCM_STOP / RELEASE). */
  clear(): void {
    const hdr = this.hdr;
    for (;;) {
      const r = Atomics.load(hdr, READ);
      const w = Atomics.load(hdr, WRITE);
      if (Atomics.compareExchange(hdr, READ, r, w) === r) return;
    }
  }

  stats(): RingStats {
    const h = this.hdr;
    return {
      fill: this.fill(),
      capacity: this.capacity,
      overruns: Atomics.load(h, OVERRUNS) >>> 0,
      underruns: Atomics.load(h, UNDERRUNS) >>> 0,
      bytesIn: Atomics.load(h, BYTES_IN) >>> 0,
      bytesOut: Atomics.load(h, BYTES_OUT) >>> 0,
    };
  }
}
