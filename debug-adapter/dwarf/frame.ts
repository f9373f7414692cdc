// Call frame information from .debug_frame (DWARF §6.4): CIEs and FDEs indexed by pc, and the
// CFA program run up to a pc to get the frame's rules — the canonical frame address as
// register + offset, and where each caller register was saved. The kernel is built with
// -fno-asynchronous-unwind-tables (no .eh_frame), so .debug_frame is its only CFI.

import { Cursor, DwarfError } from './cursor';
import { finish } from './line';
import { covering } from './search';

export const RULE_UNDEFINED = 0; // the caller's value is lost
export const RULE_SAME = 1; // unchanged in the caller (also: no rule at all)
export const RULE_OFFSET = 2; // saved at CFA + n
export const RULE_VAL_OFFSET = 3; // the caller's value is CFA + n
export const RULE_REGISTER = 4; // in register n
export const RULE_EXPRESSION = 5; // a DWARF expression (not evaluated: treated as lost)

export interface RegRule {
  kind: number;
  n: number;
}

/** The unwind rules at one pc. */
export interface FrameRow {
  /** First address these rules apply to. */
  loc: number;
  cfaReg: number;
  cfaOffset: number;
  /** CFA given by an expression (not evaluated): unwinding stops here. */
  cfaExpr: boolean;
  regs: Map<number, RegRule>;
}

export interface Cie {
  offset: number;
  version: number;
  codeAlign: number;
  dataAlign: number;
  raReg: number;
  addressSize: number;
  initial: [number, number]; // byte range of the initial instructions
}

export interface Fde {
  offset: number;
  cie: Cie;
  start: number;
  end: number;
  program: [number, number];
}

// CFA instructions (§7.24).
const DW_CFA_advance_loc = 0x40, DW_CFA_offset = 0x80, DW_CFA_restore = 0xc0;
const DW_CFA_nop = 0, DW_CFA_set_loc = 1, DW_CFA_advance_loc1 = 2, DW_CFA_advance_loc2 = 3, DW_CFA_advance_loc4 = 4;
const DW_CFA_offset_extended = 5, DW_CFA_restore_extended = 6, DW_CFA_undefined = 7, DW_CFA_same_value = 8;
const DW_CFA_register = 9, DW_CFA_remember_state = 0xa, DW_CFA_restore_state = 0xb, DW_CFA_def_cfa = 0xc;
const DW_CFA_def_cfa_register = 0xd, DW_CFA_def_cfa_offset = 0xe, DW_CFA_def_cfa_expression = 0xf;
const DW_CFA_expression = 0x10, DW_CFA_offset_extended_sf = 0x11, DW_CFA_def_cfa_sf = 0x12;
const DW_CFA_def_cfa_offset_sf = 0x13, DW_CFA_val_offset = 0x14, DW_CFA_val_offset_sf = 0x15;
const DW_CFA_val_expression = 0x16, DW_CFA_GNU_args_size = 0x2e, DW_CFA_GNU_negative_offset_extended = 0x2f;

export class FrameTable {
  /** FDEs sorted by start address. */
  readonly fdes: Fde[] = [];
  readonly cies = new Map<number, Cie>();
  /** Entries that could not be read, with the reason. */
  readonly errors: string[] = [];

  constructor(readonly data: Uint8Array) {}

  /** The FDE covering `pc`, or undefined. */
  find(pc: number): Fde | undefined {
    const a = this.fdes;
    const i = covering(a.length, (k) => a[k].start, (k) => a[k].end, pc >>> 0);
    return i < 0 ? undefined : a[i];
  }

  /** The rules in effect at `pc` (which must lie in the FDE), or undefined when there is no FDE. */
  rowAt(pc: number): FrameRow | undefined {
    const fde = this.find(pc);
    if (!fde) return undefined;
    try {
      return this.run(fde, pc >>> 0);
    } catch (e) {
      return this.bad(e); // a corrupt CFA program: this frame cannot be unwound
    }
  }

  /** Every row of an FDE's table, in address order (what readelf --debug-dump=frames-interp prints). */
  rows(fde: Fde): FrameRow[] {
    const out: FrameRow[] = [];
    try {
      this.run(fde, 0xffffffff, out);
    } catch (e) {
      this.bad(e);
      return [];
    }
    return out;
  }

  private bad(e: unknown): undefined {
    if (!(e instanceof DwarfError)) throw e;
    if (this.errors.length < 100) this.errors.push(e.message);
    return undefined;
  }

  private run(fde: Fde, pc: number, all?: FrameRow[]): FrameRow {
    const cie = fde.cie;
    const row: FrameRow = { loc: fde.start, cfaReg: 0, cfaOffset: 0, cfaExpr: false, regs: new Map() };
    exec(this.data, cie, cie.initial, row, null, 0xffffffff, undefined);
    const initial = new Map(row.regs);
    return exec(this.data, cie, fde.program, row, initial, pc, all);
  }
}

/** Parses .debug_frame. Bad entries are skipped (and listed in `errors`); good ones stay usable. */
export function readFrameTable(data: Uint8Array, addressSize = 4): FrameTable {
  return finish(frameTableSteps(data, addressSize));
}

/** readFrameTable, yielding every few thousand entries. */
export function* frameTableSteps(data: Uint8Array, addressSize = 4): Generator<void, FrameTable> {
  const t = new FrameTable(data);
  const c = new Cursor(data, '.debug_frame');
  const pendingFdes: { offset: number; ciePtr: number; body: number; end: number }[] = [];
  while (c.pos + 4 <= data.length) {
    const offset = c.pos;
    let end = data.length;
    try {
      const { length, offsetSize } = c.initialLength();
      end = c.pos + length;
      if (length === 0) continue;
      if (end > data.length) c.fail('entry runs past the section', offset);
      const lo = c.u32();
      const hi = offsetSize === 8 ? c.u32() : 0;
      const isCie = lo === 0xffffffff && (offsetSize === 4 || hi === 0xffffffff);
      const id = hi * 4294967296 + lo;
      if (isCie) t.cies.set(offset, readCie(new Cursor(data, '.debug_frame', c.pos, end), offset, addressSize));
      else pendingFdes.push({ offset, ciePtr: id, body: c.pos, end });
    } catch (e) {
      if (!(e instanceof DwarfError)) throw e;
      t.errors.push(e.message);
      if (end <= offset || end > data.length) break;
    }
    c.pos = end;
    if ((pendingFdes.length & 0xfff) === 0) yield;
  }
  yield;
  for (const f of pendingFdes) {
    try {
      const cie = t.cies.get(f.ciePtr);
      if (!cie) throw new DwarfError(`.debug_frame: FDE at 0x${f.offset.toString(16)} points at no CIE (0x${f.ciePtr.toString(16)})`);
      const fc = new Cursor(data, '.debug_frame', f.body, f.end);
      const start = fc.uint(cie.addressSize) >>> 0;
      const range = fc.uint(cie.addressSize);
      t.fdes.push({ offset: f.offset, cie, start, end: Math.min(start + range, 0x100000000), program: [fc.pos, f.end] });
    } catch (e) {
      if (!(e instanceof DwarfError)) throw e;
      t.errors.push(e.message);
    }
  }
  t.fdes.sort((a, b) => a.start - b.start || a.offset - b.offset);
  return t;
}

function readCie(c: Cursor, offset: number, addressSize: number): Cie {
  const version = c.u8();
  if (version !== 1 && version !== 3 && version !== 4) c.fail(`CIE version ${version}`);
  const aug = c.cstr();
  if (aug !== '') c.fail(`CIE augmentation "${aug}" (.eh_frame style) in .debug_frame`);
  let asize = addressSize;
  if (version === 4) {
    asize = c.u8();
    c.u8(); // segment_selector_size
    if (asize !== 4 && asize !== 8) c.fail(`CIE address size ${asize}`);
  }
  const codeAlign = c.uleb();
  const dataAlign = c.sleb();
  const raReg = version === 1 ? c.u8() : c.uleb();
  return { offset, version, codeAlign, dataAlign, raReg, addressSize: asize, initial: [c.pos, c.end] };
}

function setRule(row: FrameRow, reg: number, kind: number, n: number): void {
  row.regs.set(reg, { kind, n });
}

/**
 * Runs CFA instructions [range) into `row` until the location passes `pc`. With `all`, every
 * row is recorded (a new row starts at each advance that moves the location).
 */
function exec(data: Uint8Array, cie: Cie, range: [number, number], row: FrameRow, initial: Map<number, RegRule> | null, pc: number, all: FrameRow[] | undefined): FrameRow {
  const c = new Cursor(data, '.debug_frame', range[0], range[1]);
  const stack: { regs: Map<number, RegRule>; cfaReg: number; cfaOffset: number; cfaExpr: boolean }[] = [];
  const ca = cie.codeAlign;
  const da = cie.dataAlign;
  const advance = (to: number) => {
    if (to > pc) return false; // the rules up to here are the answer
    if (all && to !== row.loc) all.push(snapshot(row));
    row.loc = to;
    return true;
  };
  const restore = (reg: number) => {
    const r = initial?.get(reg);
    if (r) row.regs.set(reg, r);
    else row.regs.delete(reg);
  };
  while (c.pos < c.end) {
    const op = c.u8();
    const hi = op & 0xc0;
    const low = op & 0x3f;
    if (hi === DW_CFA_advance_loc) {
      if (!advance(row.loc + low * ca)) return row;
      continue;
    }
    if (hi === DW_CFA_offset) {
      setRule(row, low, RULE_OFFSET, c.uleb() * da);
      continue;
    }
    if (hi === DW_CFA_restore) {
      restore(low);
      continue;
    }
    switch (op) {
      case DW_CFA_nop:
        break;
      case DW_CFA_set_loc:
        if (!advance(c.uint(cie.addressSize) >>> 0)) return row;
        break;
      case DW_CFA_advance_loc1:
        if (!advance(row.loc + c.u8() * ca)) return row;
        break;
      case DW_CFA_advance_loc2:
        if (!advance(row.loc + c.u16() * ca)) return row;
        break;
      case DW_CFA_advance_loc4:
        if (!advance(row.loc + c.u32() * ca)) return row;
        break;
      case DW_CFA_offset_extended:
        setRule(row, c.uleb(), RULE_OFFSET, c.uleb() * da);
        break;
      case DW_CFA_restore_extended:
        restore(c.uleb());
        break;
      case DW_CFA_undefined:
        setRule(row, c.uleb(), RULE_UNDEFINED, 0);
        break;
      case DW_CFA_same_value:
        setRule(row, c.uleb(), RULE_SAME, 0);
        break;
      case DW_CFA_register: {
        const reg = c.uleb();
        setRule(row, reg, RULE_REGISTER, c.uleb());
        break;
      }
      case DW_CFA_remember_state:
        if (stack.length > 64) c.fail('DW_CFA_remember_state nested too deep');
        stack.push({ regs: new Map(row.regs), cfaReg: row.cfaReg, cfaOffset: row.cfaOffset, cfaExpr: row.cfaExpr });
        break;
      case DW_CFA_restore_state: {
        const s = stack.pop();
        if (!s) return c.fail('DW_CFA_restore_state without a remembered state');
        row.regs = s.regs;
        row.cfaReg = s.cfaReg;
        row.cfaOffset = s.cfaOffset;
        row.cfaExpr = s.cfaExpr;
        break;
      }
      case DW_CFA_def_cfa:
        row.cfaReg = c.uleb();
        row.cfaOffset = c.uleb();
        row.cfaExpr = false;
        break;
      case DW_CFA_def_cfa_sf:
        row.cfaReg = c.uleb();
        row.cfaOffset = c.sleb() * da;
        row.cfaExpr = false;
        break;
      case DW_CFA_def_cfa_register:
        row.cfaReg = c.uleb();
        row.cfaExpr = false;
        break;
      case DW_CFA_def_cfa_offset:
        row.cfaOffset = c.uleb();
        break;
      case DW_CFA_def_cfa_offset_sf:
        row.cfaOffset = c.sleb() * da;
        break;
      case DW_CFA_def_cfa_expression:
        c.skip(c.uleb());
        row.cfaExpr = true;
        break;
      case DW_CFA_expression:
      case DW_CFA_val_expression: {
        const reg = c.uleb();
        c.skip(c.uleb());
        setRule(row, reg, RULE_EXPRESSION, 0);
        break;
      }
      case DW_CFA_offset_extended_sf: {
        const reg = c.uleb();
        setRule(row, reg, RULE_OFFSET, c.sleb() * da);
        break;
      }
      case DW_CFA_val_offset: {
        const reg = c.uleb();
        setRule(row, reg, RULE_VAL_OFFSET, c.uleb() * da);
        break;
      }
      case DW_CFA_val_offset_sf: {
        const reg = c.uleb();
        setRule(row, reg, RULE_VAL_OFFSET, c.sleb() * da);
        break;
      }
      case DW_CFA_GNU_args_size:
        c.uleb();
        break;
      case DW_CFA_GNU_negative_offset_extended: {
        const reg = c.uleb();
        setRule(row, reg, RULE_OFFSET, -c.uleb() * da);
        break;
      }
      default:
        c.fail(`unknown CFA instruction 0x${op.toString(16)}`, c.pos - 1);
    }
  }
  if (all) all.push(snapshot(row));
  return row;
}

function snapshot(row: FrameRow): FrameRow {
  return { loc: row.loc, cfaReg: row.cfaReg, cfaOffset: row.cfaOffset, cfaExpr: row.cfaExpr, regs: new Map(row.regs) };
}
