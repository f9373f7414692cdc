// A single-producer single-consumer ring of Ethernet frames in a SharedArrayBuffer: how frames
// cross between the emulator thread (the device) and the network I/O thread (the backend)
// without messages, locks or allocation on the device side.
//
// Each record is a 4-byte little-endian length followed by the frame, laid end to end in a
// power-of-two byte area and wrapping at its end. `head` (bytes written) and `tail` (bytes
// read) are free-running uint32 counters in an Int32Array, stored with Atomics after the bytes
// they publish, so a reader that loads `head` sees every byte before it (the JS memory model's
// happens-before through sequentially consistent atomics).

export class FrameRing {
  readonly capacity: number;
  private readonly mask: number;

  constructor(
    private readonly ctl: Int32Array,
    private readonly headAt: number,
    private readonly tailAt: number,
    private readonly data: Uint8Array,
  ) {
    const cap = data.length;
    if (cap < 64 || cap > 1 << 30 || (cap & (cap - 1)) !== 0) throw new Error(`frame ring capacity ${cap} must be a power of two in 64..2^30`);
    this.capacity = cap;
    this.mask = cap - 1;
  }

  /** Bytes in the ring (records with their length words). */
  used(): number {
    return (Atomics.load(this.ctl, this.headAt) - Atomics.load(this.ctl, this.tailAt)) >>> 0;
  }

  /** Bytes free for records (a frame of n bytes takes n + 4). */
  free(): number {
    return this.capacity - this.used();
  }

  /** True when a frame of `len` bytes fits now. */
  fits(len: number): boolean {
    return len + 4 <= this.free();
  }

  // ---------------- producer ----------------

  /** Appends src[0, len) as one frame; false (nothing written) when it does not fit. */
  push(src: Uint8Array, len: number): boolean {
    if (len < 0 || len > src.length || !this.fits(len)) return false;
    const head = Atomics.load(this.ctl, this.headAt);
    this.putLength(head, len);
    this.copyIn(src, 0, len, (head + 4) >>> 0);
    Atomics.store(this.ctl, this.headAt, (head + 4 + len) | 0);
    return true;
  }

  /**
   * Appends a frame gathered from `parts` (byte arrays laid end to end, `len` bytes in all);
   * false when it does not fit.
   */
  pushParts(parts: readonly Uint8Array[], len: number): boolean {
    if (!this.fits(len)) return false;
    const head = Atomics.load(this.ctl, this.headAt);
    this.putLength(head, len);
    let at = (head + 4) >>> 0;
    let left = len;
    for (let i = 0; i < parts.length && left > 0; i++) {
      const n = Math.min(parts[i].length, left);
      this.copyIn(parts[i], 0, n, at);
      at = (at + n) >>> 0;
      left -= n;
    }
    if (left !== 0) return false; // parts shorter than len: publish nothing
    Atomics.store(this.ctl, this.headAt, (head + 4 + len) | 0);
    return true;
  }

  // ---------------- consumer ----------------

  /** Length of the next frame, or -1 when the ring is empty. */
  peekLength(): number {
    const tail = Atomics.load(this.ctl, this.tailAt);
    if (Atomics.load(this.ctl, this.headAt) === tail) return -1;
    return this.getLength(tail >>> 0);
  }

  /**
   * Copies the next frame into dst and removes it; returns its length, or -1 when empty.
   * A frame longer than dst is removed and -2 returned (the caller counts it as dropped).
   */
  pop(dst: Uint8Array): number {
    const tail = Atomics.load(this.ctl, this.tailAt);
    if (Atomics.load(this.ctl, this.headAt) === tail) return -1;
    const len = this.getLength(tail >>> 0);
    if (len <= dst.length) this.copyOut((tail + 4) >>> 0, dst, len);
    Atomics.store(this.ctl, this.tailAt, (tail + 4 + len) | 0);
    return len <= dst.length ? len : -2;
  }

  /** Removes the next frame without reading it; returns its length or -1 when empty. */
  skip(): number {
    const tail = Atomics.load(this.ctl, this.tailAt);
    if (Atomics.load(this.ctl, this.headAt) === tail) return -1;
    const len = this.getLength(tail >>> 0);
    Atomics.store(this.ctl, this.tailAt, (tail + 4 + len) | 0);
    return len;
  }

  // ---------------- bytes ----------------

  private putLength(pos: number, len: number): void {
    const d = this.data;
    const m = this.mask;
    d[pos & m] = len;
    d[(pos + 1) & m] = len >>> 8;
    d[(pos + 2) & m] = len >>> 16;
    d[(pos + 3) & m] = len >>> 24;
  }

  private getLength(pos: number): number {
    const d = this.data;
    const m = this.mask;
    return (d[pos & m] | (d[(pos + 1) & m] << 8) | (d[(pos + 2) & m] << 16) | (d[(pos + 3) & m] << 24)) >>> 0;
  }

  private copyIn(src: Uint8Array, from: number, n: number, pos: number): void {
    const at = pos & this.mask;
    const first = Math.min(n, this.capacity - at);
    this.data.set(first === src.length && from === 0 ? src : src.subarray(from, from + first), at);
    if (first < n) this.data.set(src.subarray(from + first, from + n), 0);
  }

  private copyOut(pos: number, dst: Uint8Array, n: number): void {
    const at = pos & this.mask;
    const first = Math.min(n, this.capacity - at);
    dst.set(this.data.subarray(at, at + first), 0);
    if (first < n) dst.set(this.data.subarray(0, n - first), first);
  }
}
