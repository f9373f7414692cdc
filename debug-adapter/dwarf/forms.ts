// DWARF attribute forms (§7.5.6) and the per-unit context they are read in: how to skip any
// form, and how to read the classes the reader needs — addresses, strings, references,
// constants and section offsets — resolving the DWARF 5 indexed forms (strx, addrx, rnglistx).

import { Cursor, DwarfError, stringAt } from './cursor';

export const F = {
  addr: 0x01, block2: 0x03, block4: 0x04, data2: 0x05, data4: 0x06, data8: 0x07, string: 0x08, block: 0x09, block1: 0x0a,
  data1: 0x0b, flag: 0x0c, sdata: 0x0d, strp: 0x0e, udata: 0x0f, ref_addr: 0x10, ref1: 0x11, ref2: 0x12, ref4: 0x13,
  ref8: 0x14, ref_udata: 0x15, indirect: 0x16, sec_offset: 0x17, exprloc: 0x18, flag_present: 0x19, strx: 0x1a,
  addrx: 0x1b, ref_sup4: 0x1c, strp_sup: 0x1d, data16: 0x1e, line_strp: 0x1f, ref_sig8: 0x20, implicit_const: 0x21,
  loclistx: 0x22, rnglistx: 0x23, ref_sup8: 0x24, strx1: 0x25, strx2: 0x26, strx3: 0x27, strx4: 0x28, addrx1: 0x29,
  addrx2: 0x2a, addrx3: 0x2b, addrx4: 0x2c, GNU_addr_index: 0x1f01, GNU_str_index: 0x1f02, GNU_ref_alt: 0x1f20,
  GNU_strp_alt: 0x1f21,
} as const;

export interface Sections {
  info: Uint8Array;
  abbrev: Uint8Array;
  str: Uint8Array | null;
  lineStr: Uint8Array | null;
  strOffsets: Uint8Array | null;
  addr: Uint8Array | null;
  rnglists: Uint8Array | null;
  ranges: Uint8Array | null;
}

/** What reading a unit's attributes needs to know about the unit. */
export interface UnitContext {
  offset: number; // of the unit header in .debug_info
  version: number;
  offsetSize: 4 | 8;
  addressSize: number;
  strOffsetsBase: number;
  addrBase: number;
  rnglistsBase: number;
  /** Base address for range lists (the unit's DW_AT_low_pc). */
  lowPc: number;
}

/** Skips one attribute value of `form`. */
export function skipForm(c: Cursor, form: number, u: UnitContext): void {
  switch (form) {
    case F.flag_present: case F.implicit_const: return;
    case F.data1: case F.ref1: case F.flag: case F.strx1: case F.addrx1: c.skip(1); return;
    case F.data2: case F.ref2: case F.strx2: case F.addrx2: c.skip(2); return;
    case F.strx3: case F.addrx3: c.skip(3); return;
    case F.data4: case F.ref4: case F.strx4: case F.addrx4: case F.ref_sup4: c.skip(4); return;
    case F.data8: case F.ref8: case F.ref_sig8: case F.ref_sup8: c.skip(8); return;
    case F.data16: c.skip(16); return;
    case F.addr: c.skip(u.addressSize); return;
    case F.strp: case F.line_strp: case F.sec_offset: case F.strp_sup: case F.GNU_ref_alt: case F.GNU_strp_alt: c.skip(u.offsetSize); return;
    case F.ref_addr: c.skip(u.version <= 2 ? u.addressSize : u.offsetSize); return;
    case F.sdata: case F.udata: case F.ref_udata: case F.strx: case F.addrx: case F.loclistx: case F.rnglistx:
    case F.GNU_addr_index: case F.GNU_str_index:
      c.skipLeb(); return;
    case F.string: while (c.u8() !== 0); return;
    case F.block1: c.skip(c.u8()); return;
    case F.block2: c.skip(c.u16()); return;
    case F.block4: c.skip(c.u32()); return;
    case F.block: case F.exprloc: c.skip(c.uleb()); return;
    case F.indirect: skipForm(c, c.uleb(), u); return;
  }
  c.fail(`unknown attribute form 0x${form.toString(16)}`);
}

/** Bytes a form always takes, or -1 when it varies (for precomputed skips). */
export function fixedSize(form: number, u: { offsetSize: number; addressSize: number; version: number }): number {
  switch (form) {
    case F.flag_present: case F.implicit_const: return 0;
    case F.data1: case F.ref1: case F.flag: case F.strx1: case F.addrx1: return 1;
    case F.data2: case F.ref2: case F.strx2: case F.addrx2: return 2;
    case F.strx3: case F.addrx3: return 3;
    case F.data4: case F.ref4: case F.strx4: case F.addrx4: case F.ref_sup4: return 4;
    case F.data8: case F.ref8: case F.ref_sig8: case F.ref_sup8: return 8;
    case F.data16: return 16;
    case F.addr: return u.addressSize;
    case F.strp: case F.line_strp: case F.sec_offset: case F.strp_sup: case F.GNU_ref_alt: case F.GNU_strp_alt: return u.offsetSize;
    case F.ref_addr: return u.version <= 2 ? u.addressSize : u.offsetSize;
  }
  return -1;
}

/** A name not yet decoded: an offset into .debug_str (number) or the text itself. */
export type NameKey = number | string;

export class FormReader {
  private readonly strCache = new Map<number, string>();

  constructor(readonly s: Sections) {}

  /** A name attribute, decoded later (most names read are never shown). */
  nameKey(c: Cursor, form: number, u: UnitContext): NameKey {
    if (form === F.strp) return c.uint(u.offsetSize);
    return this.string(c, form, u);
  }

  nameOf(k: NameKey): string {
    return typeof k === 'string' ? k : this.strp(k);
  }

  /** An unsigned constant (data*, udata, implicit_const via `implicit`), or a signed one for sdata. */
  constant(c: Cursor, form: number, implicit: number): number {
    switch (form) {
      case F.data1: return c.u8();
      case F.data2: return c.u16();
      case F.data4: return c.u32();
      case F.data8: return c.u64();
      case F.udata: return c.uleb();
      case F.sdata: return c.sleb();
      case F.implicit_const: return implicit;
      case F.flag: return c.u8();
      case F.flag_present: return 1;
    }
    return c.fail(`form 0x${form.toString(16)} is not a constant`);
  }

  isConstant(form: number): boolean {
    return form === F.data1 || form === F.data2 || form === F.data4 || form === F.data8 || form === F.udata || form === F.sdata || form === F.implicit_const;
  }

  string(c: Cursor, form: number, u: UnitContext): string {
    switch (form) {
      case F.string: return c.cstr();
      case F.strp: return this.strp(c.uint(u.offsetSize));
      case F.line_strp: {
        const off = c.uint(u.offsetSize);
        if (!this.s.lineStr) return c.fail('DW_FORM_line_strp without .debug_line_str');
        return stringAt(this.s.lineStr, off, '.debug_line_str');
      }
      case F.strx: case F.GNU_str_index: return this.strx(c.uleb(), u);
      case F.strx1: return this.strx(c.u8(), u);
      case F.strx2: return this.strx(c.u16(), u);
      case F.strx3: return this.strx(c.u24(), u);
      case F.strx4: return this.strx(c.u32(), u);
    }
    skipForm(c, form, u);
    return '';
  }

  private strp(off: number): string {
    let v = this.strCache.get(off);
    if (v !== undefined) return v;
    if (!this.s.str) throw new DwarfError('DW_FORM_strp without .debug_str');
    v = stringAt(this.s.str, off, '.debug_str');
    this.strCache.set(off, v);
    return v;
  }

  private strx(i: number, u: UnitContext): string {
    const so = this.s.strOffsets;
    if (!so) throw new DwarfError('DW_FORM_strx without .debug_str_offsets');
    const c = new Cursor(so, '.debug_str_offsets', u.strOffsetsBase + i * u.offsetSize);
    return this.strp(c.uint(u.offsetSize));
  }

  address(c: Cursor, form: number, u: UnitContext): number {
    switch (form) {
      case F.addr: return c.uint(u.addressSize) % 4294967296;
      case F.addrx: case F.GNU_addr_index: return this.addrx(c.uleb(), u);
      case F.addrx1: return this.addrx(c.u8(), u);
      case F.addrx2: return this.addrx(c.u16(), u);
      case F.addrx3: return this.addrx(c.u24(), u);
      case F.addrx4: return this.addrx(c.u32(), u);
    }
    return c.fail(`form 0x${form.toString(16)} is not an address`);
  }

  addrx(i: number, u: UnitContext): number {
    const a = this.s.addr;
    if (!a) throw new DwarfError('DW_FORM_addrx without .debug_addr');
    const c = new Cursor(a, '.debug_addr', u.addrBase + i * u.addressSize);
    return c.uint(u.addressSize) % 4294967296;
  }

  /** A reference to a DIE, as an absolute .debug_info offset; -1 for forms pointing elsewhere. */
  ref(c: Cursor, form: number, u: UnitContext): number {
    switch (form) {
      case F.ref1: return u.offset + c.u8();
      case F.ref2: return u.offset + c.u16();
      case F.ref4: return u.offset + c.u32();
      case F.ref8: return u.offset + c.u64();
      case F.ref_udata: return u.offset + c.uleb();
      case F.ref_addr: return c.uint(u.version <= 2 ? u.addressSize : u.offsetSize);
    }
    skipForm(c, form, u); // type signatures, supplementary files: not followed
    return -1;
  }

  /** A section offset (sec_offset, or data4/data8 in DWARF ≤ 3). */
  offset(c: Cursor, form: number, u: UnitContext): number {
    if (form === F.sec_offset) return c.uint(u.offsetSize);
    if (form === F.data4) return c.u32();
    if (form === F.data8) return c.u64();
    return c.fail(`form 0x${form.toString(16)} is not a section offset`);
  }

  /** Address ranges of DW_AT_ranges: [lo, hi) pairs. */
  ranges(c: Cursor, form: number, u: UnitContext): [number, number][] {
    if (form === F.rnglistx) return this.rnglist(this.rnglistxOffset(c.uleb(), u), u);
    const off = this.offset(c, form, u);
    return u.version >= 5 ? this.rnglist(off, u) : this.rangesV4(off, u);
  }

  private rnglistxOffset(i: number, u: UnitContext): number {
    const r = this.s.rnglists;
    if (!r) throw new DwarfError('DW_FORM_rnglistx without .debug_rnglists');
    const c = new Cursor(r, '.debug_rnglists', u.rnglistsBase + i * u.offsetSize);
    return u.rnglistsBase + c.uint(u.offsetSize);
  }

  /** A DWARF 5 range list (§2.17.3, DW_RLE_*). */
  private rnglist(off: number, u: UnitContext): [number, number][] {
    const r = this.s.rnglists;
    if (!r) throw new DwarfError('DW_AT_ranges without .debug_rnglists');
    const c = new Cursor(r, '.debug_rnglists', off);
    const out: [number, number][] = [];
    let base = u.lowPc;
    for (let n = 0; n < 100000; n++) {
      const kind = c.u8();
      switch (kind) {
        case 0: return out; // end_of_list
        case 1: base = this.addrx(c.uleb(), u); break; // base_addressx
        case 2: { const a = this.addrx(c.uleb(), u); push(out, a, this.addrx(c.uleb(), u)); break; } // startx_endx
        case 3: { const a = this.addrx(c.uleb(), u); push(out, a, a + c.uleb()); break; } // startx_length
        case 4: { const a = c.uleb(); push(out, base + a, base + c.uleb()); break; } // offset_pair
        case 5: base = c.uint(u.addressSize); break; // base_address
        case 6: { const a = c.uint(u.addressSize); push(out, a, c.uint(u.addressSize)); break; } // start_end
        case 7: { const a = c.uint(u.addressSize); push(out, a, a + c.uleb()); break; } // start_length
        default: c.fail(`unknown range list entry ${kind}`, c.pos - 1);
      }
    }
    return c.fail('range list does not end');
  }

  /** A DWARF 2-4 .debug_ranges list: address pairs, (0, 0) ends, (max, a) selects a base. */
  private rangesV4(off: number, u: UnitContext): [number, number][] {
    const r = this.s.ranges;
    if (!r) throw new DwarfError('DW_AT_ranges without .debug_ranges');
    const c = new Cursor(r, '.debug_ranges', off);
    const max = u.addressSize === 4 ? 0xffffffff : -1;
    const out: [number, number][] = [];
    let base = u.lowPc;
    for (let n = 0; n < 100000; n++) {
      const a = c.uint(u.addressSize);
      const b = c.uint(u.addressSize);
      if (a === 0 && b === 0) return out;
      if (a === max) base = b;
      else push(out, base + a, base + b);
    }
    return c.fail('range list does not end');
  }
}

function push(out: [number, number][], lo: number, hi: number): void {
  if (hi > lo) out.push([lo % 4294967296, Math.min(hi, 4294967296)]);
}
