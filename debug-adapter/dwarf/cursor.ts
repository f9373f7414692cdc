// A bounds-checked little-endian reader over one section: every read past the end throws a
// DwarfError naming the section and offset, so a truncated or corrupt section fails one unit
// cleanly instead of reading garbage or throwing a RangeError from deep inside.

export class DwarfError extends Error {
  override name = 'DwarfError';
}

const TWO32 = 4294967296;

export class Cursor {
  pos: number;
  private readonly dv: DataView;

  constructor(
    readonly b: Uint8Array,
    readonly section: string,
    pos = 0,
    /** Reads stop here (a unit's end), not at the section's. */
    public end = b.length,
  ) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.pos = pos;
    if (end > b.length) this.end = b.length;
  }

  fail(what: string, at = this.pos): never {
    throw new DwarfError(`${this.section}: ${what} at offset 0x${at.toString(16)}`);
  }

  private need(n: number): number {
    const p = this.pos;
    if (p + n > this.end || p < 0) this.fail(`truncated (${n} byte${n > 1 ? 's' : ''} wanted)`);
    this.pos = p + n;
    return p;
  }

  get left(): number {
    return this.end - this.pos;
  }

  u8(): number {
    return this.b[this.need(1)];
  }
  i8(): number {
    return this.dv.getInt8(this.need(1));
  }
  u16(): number {
    return this.dv.getUint16(this.need(2), true);
  }
  u24(): number {
    const p = this.need(3);
    return this.b[p] | (this.b[p + 1] << 8) | (this.b[p + 2] << 16);
  }
  u32(): number {
    return this.dv.getUint32(this.need(4), true);
  }
  i32(): number {
    return this.dv.getInt32(this.need(4), true);
  }
  /** A 64-bit value; above 2^53 it is not representable and is an error (no such address on RV32). */
  u64(): number {
    const p = this.need(8);
    const hi = this.dv.getUint32(p + 4, true);
    if (hi >= 0x200000) this.fail('64-bit value out of range', p);
    return hi * TWO32 + this.dv.getUint32(p, true);
  }
  /** An unsigned value of `size` bytes (1, 2, 4 or 8). */
  uint(size: number): number {
    switch (size) {
      case 1: return this.u8();
      case 2: return this.u16();
      case 4: return this.u32();
      case 8: return this.u64();
    }
    return this.fail(`unsupported size ${size}`);
  }

  uleb(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      const byte = this.u8();
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) break;
      mul *= 128;
      if (mul > 2 ** 56) this.fail('LEB128 too long');
    }
    return result;
  }

  sleb(): number {
    let result = 0;
    let mul = 1;
    let byte: number;
    do {
      byte = this.u8();
      result += (byte & 0x7f) * mul;
      mul *= 128;
      if (mul > 2 ** 56) this.fail('LEB128 too long');
    } while (byte & 0x80);
    if (byte & 0x40) result -= mul;
    return result;
  }

  /** Skips a LEB128 without decoding it. */
  skipLeb(): void {
    while (this.u8() & 0x80);
  }

  /** A NUL-terminated string. */
  cstr(): string {
    const start = this.pos;
    const b = this.b;
    let p = start;
    while (p < this.end && b[p] !== 0) p++;
    if (p >= this.end) this.fail('unterminated string', start);
    this.pos = p + 1;
    return latin1OrUtf8(b, start, p);
  }

  skip(n: number): void {
    this.need(n);
  }

  /** An initial length: { length, offsetSize } (DWARF §7.4: 0xffffffff means 64-bit DWARF). */
  initialLength(): { length: number; offsetSize: 4 | 8 } {
    const l = this.u32();
    if (l === 0xffffffff) return { length: this.u64(), offsetSize: 8 };
    if (l >= 0xfffffff0) this.fail(`reserved unit length 0x${l.toString(16)}`, this.pos - 4);
    return { length: l, offsetSize: 4 };
  }
}

const utf8 = new TextDecoder('utf-8');

/** Reads a NUL-terminated string at `off` of a string section (.debug_str, .debug_line_str). */
export function stringAt(b: Uint8Array, off: number, section: string): string {
  if (off < 0 || off >= b.length) throw new DwarfError(`${section}: string offset 0x${off.toString(16)} out of range`);
  let p = off;
  while (p < b.length && b[p] !== 0) p++;
  return latin1OrUtf8(b, off, p);
}

function latin1OrUtf8(b: Uint8Array, start: number, end: number): string {
  // Names are almost always ASCII: one fromCharCode call (no per-character concatenation).
  if (end - start <= 256) {
    let ascii = true;
    for (let i = start; i < end; i++) if (b[i] >= 0x80) { ascii = false; break; }
    if (ascii) return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
  }
  return utf8.decode(b.subarray(start, end));
}
