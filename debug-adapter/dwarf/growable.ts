// Append-only typed arrays for the tables the reader builds (millions of rows on vmlinux):
// amortised doubling, then trimmed to size once.

export class GrowU32 {
  a: Uint32Array<ArrayBuffer>;
  n = 0;
  constructor(initial = 1024) {
    this.a = new Uint32Array(initial);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Uint32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  /** The values as a view (no copy: a copy of millions of rows costs a long GC pause). */
  trimmed(): Uint32Array<ArrayBuffer> {
    return this.a.subarray(0, this.n);
  }
}

export class GrowU8 {
  a: Uint8Array<ArrayBuffer>;
  n = 0;
  constructor(initial = 1024) {
    this.a = new Uint8Array(initial);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Uint8Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  trimmed(): Uint8Array<ArrayBuffer> {
    return this.a.subarray(0, this.n);
  }
}
