// Append-only typed arrays for the tables the reader builds (millions of rows on vmlinux):
// amortised doubling, handed out as a view of the used part.

type Typed = Uint8Array<ArrayBuffer> | Uint32Array<ArrayBuffer>;

class Grow<T extends Typed> {
  a: T;
  n = 0;
  constructor(
    private readonly make: (length: number) => T,
    initial: number,
  ) {
    this.a = make(initial);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = this.make(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  /** The values as a view (no copy: a copy of millions of rows costs a long GC pause). */
  trimmed(): T {
    return this.a.subarray(0, this.n) as T;
  }
}

export class GrowU32 extends Grow<Uint32Array<ArrayBuffer>> {
  constructor(initial = 1024) {
    super((n) => new Uint32Array(n), initial);
  }
}

export class GrowU8 extends Grow<Uint8Array<ArrayBuffer>> {
  constructor(initial = 1024) {
    super((n) => new Uint8Array(n), initial);
  }
}
