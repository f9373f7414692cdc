// .debug_info (DWARF 4 and 5, §7.5) read for what a debugger's call stack needs: every
// function with its address ranges and every inlined call with its call site (§3.3.8.2), so a
// pc maps to "innermost inlined function at file:line, called from ... at file:line" and then
// to the concrete function. Other DIEs are skipped form by form without being materialised.

import { Cursor, DwarfError } from './cursor';
import { F, FormReader, fixedSize, skipForm, type NameKey, type Sections, type UnitContext } from './forms';
import { GrowU32 } from './growable';
import { finish, type LineTable } from './line';
import { covering } from './search';

const TAG_compile_unit = 0x11, TAG_partial_unit = 0x3c, TAG_subprogram = 0x2e, TAG_inlined_subroutine = 0x1d;
const AT_name = 0x03, AT_stmt_list = 0x10, AT_low_pc = 0x11, AT_high_pc = 0x12, AT_comp_dir = 0x1b;
const AT_abstract_origin = 0x31, AT_decl_file = 0x3a, AT_decl_line = 0x3b, AT_specification = 0x47;
const AT_ranges = 0x55, AT_call_column = 0x57, AT_call_file = 0x58, AT_call_line = 0x59;
const AT_str_offsets_base = 0x72, AT_addr_base = 0x73, AT_rnglists_base = 0x74, AT_GNU_addr_base = 0x2133, AT_GNU_ranges_base = 0x2132;
const UT_compile = 1, UT_partial = 3;

interface Abbrev {
  tag: number;
  children: boolean;
  attrs: number[]; // attribute codes
  forms: number[];
  implicit: number[];
  /** Bytes of all attributes when every form has a fixed size, else -1. */
  fixed: number;
}

export interface Unit extends UnitContext {
  name: string;
  compDir: string;
  stmtList: number; // -1 when absent
  /** First DIE and end of the unit in .debug_info. */
  dieStart: number;
  end: number;
  abbrevOffset: number;
  /** Its abbreviation table, read once (readUnits) for both passes. */
  abbrevs?: Abbrev[];
}

/** Where a function's code is, and its name. */
export interface FunctionEntry {
  name: string;
  /** DIE offset of the concrete (out-of-line) instance. */
  die: number;
  /** Global file id and line of the declaration (-1 / 0 when unknown). */
  declFile: number;
  declLine: number;
  /** Its inlined calls: indices [first, last) into InfoTable's inline arrays (pre-order). */
  inlineFirst: number;
  inlineLast: number;
}

export class InfoTable {
  readonly units: Unit[] = [];
  readonly functions: FunctionEntry[] = [];
  /** Function address ranges sorted by lo: rangeLo[i]..rangeHi[i] belongs to functions[rangeFn[i]]. */
  rangeLo = new Uint32Array(0);
  rangeHi = new Uint32Array(0);
  rangeFn = new Uint32Array(0);
  /** Inlined calls, one entry per address range (an inline with 3 ranges has 3 entries). */
  inlLo = new Uint32Array(0);
  inlHi = new Uint32Array(0);
  inlDepth = new Uint32Array(0);
  inlName = new Uint32Array(0); // index into names
  inlCallFile = new Uint32Array(0); // global file id, 0xffffffff unknown
  inlCallLine = new Uint32Array(0);
  inlCallColumn = new Uint32Array(0);
  readonly names: string[] = [];
  readonly errors: string[] = [];

  /** The function whose code holds pc, or undefined. */
  functionAt(pc: number): FunctionEntry | undefined {
    const i = this.rangeAt(pc);
    return i < 0 ? undefined : this.functions[this.rangeFn[i]];
  }

  /** Address range [lo, hi) of the function part holding pc. */
  functionRange(pc: number): [number, number] | undefined {
    const i = this.rangeAt(pc);
    return i < 0 ? undefined : [this.rangeLo[i], this.rangeHi[i]];
  }

  private rangeAt(pc: number): number {
    const lo = this.rangeLo;
    const hi = this.rangeHi;
    return covering(lo.length, (k) => lo[k], (k) => hi[k], pc >>> 0);
  }

  /**
   * Inlined calls holding pc, outermost first: each names the inlined function and the call
   * site in its caller.
   */
  inlinesAt(pc: number): { name: string; callFile: number; callLine: number; callColumn: number; lo: number; hi: number }[] {
    const f = this.functionAt(pc);
    if (!f) return [];
    pc >>>= 0;
    const out: { name: string; callFile: number; callLine: number; callColumn: number; lo: number; hi: number; depth: number }[] = [];
    for (let i = f.inlineFirst; i < f.inlineLast; i++) {
      if (pc < this.inlLo[i] || pc >= this.inlHi[i]) continue;
      const depth = this.inlDepth[i];
      // Pre-order: a deeper entry follows its parent; keep one chain (drop siblings at depth ≥ this).
      while (out.length && out[out.length - 1].depth >= depth) out.pop();
      out.push({
        name: this.names[this.inlName[i]], callFile: this.inlCallFile[i], callLine: this.inlCallLine[i], callColumn: this.inlCallColumn[i],
        lo: this.inlLo[i], hi: this.inlHi[i], depth,
      });
    }
    return out;
  }
}

/** Unit headers and each unit's root DIE (name, comp_dir, stmt_list, bases): cheap, needed by the line reader. */
export function readUnits(s: Sections): { units: Unit[]; errors: string[] } {
  return finish(unitSteps(s));
}

/** readUnits, yielding every few units. */
export function* unitSteps(s: Sections): Generator<void, { units: Unit[]; errors: string[] }> {
  const units: Unit[] = [];
  const errors: string[] = [];
  const forms = new FormReader(s);
  const abbrevCache = new Map<number, Abbrev[]>();
  const c = new Cursor(s.info, '.debug_info');
  while (c.pos < s.info.length) {
    const offset = c.pos;
    let end = s.info.length;
    try {
      const { length, offsetSize } = c.initialLength();
      end = c.pos + length;
      if (end > s.info.length) c.fail(`unit length 0x${length.toString(16)} runs past the section`, offset);
      const u = new Cursor(s.info, '.debug_info', c.pos, end);
      const version = u.u16();
      if (version < 2 || version > 5) u.fail(`unsupported unit version ${version}`, u.pos - 2);
      let unitType = UT_compile;
      let addressSize: number;
      let abbrevOffset: number;
      if (version >= 5) {
        unitType = u.u8();
        addressSize = u.u8();
        abbrevOffset = u.uint(offsetSize);
        if (unitType === 2 || unitType === 6) u.skip(8 + offsetSize); // type units: signature + type offset
        else if (unitType === 4 || unitType === 5) u.skip(8); // skeleton / split: dwo_id
      } else {
        abbrevOffset = u.uint(offsetSize);
        addressSize = u.u8();
      }
      if (addressSize !== 4 && addressSize !== 8) u.fail(`address size ${addressSize}`);
      const unit: Unit = {
        offset, version, offsetSize, addressSize, strOffsetsBase: 8, addrBase: 8, rnglistsBase: 0, lowPc: 0,
        name: '', compDir: '', stmtList: -1, dieStart: u.pos, end, abbrevOffset,
      };
      if (unitType === UT_compile || unitType === UT_partial) {
        unit.abbrevs = abbrevsAt(s.abbrev, abbrevOffset, abbrevCache, unit);
        readRoot(u, unit, unit.abbrevs, forms);
        units.push(unit);
      }
    } catch (e) {
      if (!(e instanceof DwarfError)) throw e;
      errors.push(e.message);
      if (end <= offset || end > s.info.length) break;
    }
    c.pos = end;
    if (units.length % 4 === 0) yield;
  }
  return { units, errors };
}

function readRoot(c: Cursor, unit: Unit, abbrevs: Abbrev[], forms: FormReader): void {
  const start = c.pos;
  const code = c.uleb();
  const a = abbrevs[code];
  if (!a) c.fail(`abbreviation ${code} is not defined`, start);
  if (a.tag !== TAG_compile_unit && a.tag !== TAG_partial_unit) return;
  // Pass 1: the bases (they may follow attributes that need them); pass 2: everything else.
  const attrStart = c.pos;
  for (let pass = 0; pass < 2; pass++) {
    c.pos = attrStart;
    for (let i = 0; i < a.attrs.length; i++) {
      const at = a.attrs[i];
      const form = a.forms[i];
      if (pass === 0) {
        if (at === AT_str_offsets_base) unit.strOffsetsBase = forms.offset(c, form, unit);
        else if (at === AT_addr_base || at === AT_GNU_addr_base) unit.addrBase = forms.offset(c, form, unit);
        else if (at === AT_rnglists_base || at === AT_GNU_ranges_base) unit.rnglistsBase = forms.offset(c, form, unit);
        else skipForm(c, form, unit);
        continue;
      }
      switch (at) {
        case AT_name: unit.name = forms.string(c, form, unit); break;
        case AT_comp_dir: unit.compDir = forms.string(c, form, unit); break;
        case AT_stmt_list: unit.stmtList = forms.offset(c, form, unit); break;
        case AT_low_pc: unit.lowPc = forms.address(c, form, unit); break;
        default: skipForm(c, form, unit);
      }
    }
  }
}

/** The abbreviation table at `offset` of .debug_abbrev, indexed by code (§7.5.3). */
function abbrevsAt(abbrev: Uint8Array, offset: number, cache: Map<number, Abbrev[]>, u: UnitContext): Abbrev[] {
  const key = offset * 16 + u.offsetSize * 2 + (u.version <= 2 ? 1 : 0);
  let t = cache.get(key);
  if (t) return t;
  t = [];
  const c = new Cursor(abbrev, '.debug_abbrev', offset);
  for (;;) {
    const code = c.uleb();
    if (code === 0) break;
    if (code > 1_000_000) c.fail(`abbreviation code ${code} too large`);
    const tag = c.uleb();
    const children = c.u8() !== 0;
    const attrs: number[] = [];
    const forms: number[] = [];
    const implicit: number[] = [];
    let fixed = 0;
    for (;;) {
      const at = c.uleb();
      const form = c.uleb();
      if (at === 0 && form === 0) break;
      attrs.push(at);
      forms.push(form);
      implicit.push(form === F.implicit_const ? c.sleb() : 0);
      const size = fixedSize(form, { offsetSize: u.offsetSize, addressSize: u.addressSize, version: u.version });
      fixed = fixed < 0 || size < 0 ? -1 : fixed + size;
    }
    t[code] = { tag, children, attrs, forms, implicit, fixed };
  }
  cache.set(key, t);
  return t;
}

interface Pending {
  /** Names of subprogram DIEs (concrete, abstract and declarations) by offset, as string keys (forms.nameKey). */
  names: Map<number, NameKey>;
  origin: Map<number, number>;
}

/** Walks every unit's DIEs collecting functions and inlined calls. Needs the line table for file ids. */
export function readInfo(s: Sections, units: Unit[], lines: LineTable | null): InfoTable {
  return finish(infoSteps(s, units, lines));
}

/** readInfo, yielding after each unit. */
export function* infoSteps(s: Sections, units: Unit[], lines: LineTable | null): Generator<void, InfoTable> {
  const t = new InfoTable();
  const forms = new FormReader(s);
  const cache = new Map<number, Abbrev[]>();
  const pending: Pending = { names: new Map(), origin: new Map() };
  const ranges = { lo: new GrowU32(1 << 14), hi: new GrowU32(1 << 14), fn: new GrowU32(1 << 14) };
  const inl = { lo: new GrowU32(1 << 14), hi: new GrowU32(1 << 14), depth: new GrowU32(1 << 14), origin: new GrowU32(1 << 14), file: new GrowU32(1 << 14), line: new GrowU32(1 << 14), col: new GrowU32(1 << 14) };
  const fnOrigin: number[] = []; // per function: DIE offset whose name it takes
  for (const unit of units) {
    const mark = { r: ranges.lo.n, i: inl.lo.n, f: t.functions.length };
    try {
      walkUnit(s, unit, unit.abbrevs ?? abbrevsAt(s.abbrev, unit.abbrevOffset, cache, unit), forms, lines, t, pending, ranges, inl, fnOrigin);
    } catch (e) {
      if (!(e instanceof DwarfError)) throw e;
      t.errors.push(`${unit.name || `unit at 0x${unit.offset.toString(16)}`}: ${e.message}`);
      // Keep nothing half-read from this unit.
      for (const g of [ranges.lo, ranges.hi, ranges.fn]) g.n = mark.r;
      for (const g of Object.values(inl)) g.n = mark.i;
      t.functions.length = mark.f;
      fnOrigin.length = mark.f;
    }
    yield;
  }
  // Names: follow abstract_origin / specification chains to a DIE that has one.
  const resolve = (die: number): string => {
    for (let hops = 0; hops < 8 && die >= 0; hops++) {
      const n = pending.names.get(die);
      if (n !== undefined) return forms.nameOf(n);
      die = pending.origin.get(die) ?? -1;
    }
    return '';
  };
  for (let i = 0; i < t.functions.length; i++) t.functions[i].name = resolve(fnOrigin[i]) || `<anonymous@0x${fnOrigin[i].toString(16)}>`;
  yield;
  const nameIds = new Map<string, number>();
  const origins = inl.origin.trimmed();
  const inlName = new Uint32Array(origins.length);
  for (let i = 0; i < origins.length; i++) {
    const n = resolve(origins[i]) || '<inlined>';
    let id = nameIds.get(n);
    if (id === undefined) {
      id = t.names.length;
      t.names.push(n);
      nameIds.set(n, id);
    }
    inlName[i] = id;
    if ((i & 0x3fff) === 0) yield;
  }
  t.inlLo = inl.lo.trimmed();
  t.inlHi = inl.hi.trimmed();
  t.inlDepth = inl.depth.trimmed();
  t.inlName = inlName;
  t.inlCallFile = inl.file.trimmed();
  t.inlCallLine = inl.line.trimmed();
  t.inlCallColumn = inl.col.trimmed();
  // Function ranges sorted by address.
  const n = ranges.lo.n;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const lo = ranges.lo.a;
  order.sort((a, b) => lo[a] - lo[b]);
  t.rangeLo = new Uint32Array(n);
  t.rangeHi = new Uint32Array(n);
  t.rangeFn = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    t.rangeLo[i] = lo[order[i]];
    t.rangeHi[i] = ranges.hi.a[order[i]];
    t.rangeFn[i] = ranges.fn.a[order[i]];
  }
  t.units.push(...units);
  return t;
}

function walkUnit(
  s: Sections, unit: Unit, abbrevs: Abbrev[], forms: FormReader, lines: LineTable | null, t: InfoTable, pending: Pending,
  ranges: Record<'lo' | 'hi' | 'fn', GrowU32>, inl: Record<'lo' | 'hi' | 'depth' | 'origin' | 'file' | 'line' | 'col', GrowU32>, fnOrigin: number[],
): void {
  const c = new Cursor(s.info, '.debug_info', unit.dieStart, unit.end);
  const fileMap = unit.stmtList >= 0 && lines ? lines.program(unit.stmtList)?.files : undefined;
  const globalFile = (n: number) => (fileMap && n >= 0 && n < fileMap.length && fileMap[n] >= 0 ? fileMap[n] : 0xffffffff);
  // The stack of open DIEs with children: the tag and, for functions, which function they are.
  const tags: number[] = [];
  const fnAt: number[] = []; // index of the enclosing concrete function per level, -1 none
  const inlDepthAt: number[] = []; // inline nesting depth per level
  let curFn = -1;
  let depth = 0;
  const rs: [number, number][] = [];
  while (c.pos < c.end) {
    const dieOffset = c.pos;
    const code = c.uleb();
    if (code === 0) {
      if (tags.length === 0) continue; // padding after the root's children
      tags.pop();
      curFn = fnAt.pop()!;
      depth = inlDepthAt.pop()!;
      continue;
    }
    const a = abbrevs[code];
    if (!a) c.fail(`abbreviation ${code} is not defined`, dieOffset);
    const tag = a.tag;
    if (tag !== TAG_subprogram && tag !== TAG_inlined_subroutine) {
      if (a.fixed >= 0) c.skip(a.fixed);
      else for (let i = 0; i < a.forms.length; i++) skipForm(c, a.forms[i], unit);
      if (a.children) {
        tags.push(tag);
        fnAt.push(curFn);
        inlDepthAt.push(depth);
      }
      continue;
    }
    // A subprogram or an inlined subroutine: read what the stack needs.
    let name: NameKey | undefined;
    let low = -1;
    let high = -1;
    let highIsOffset = false;
    let origin = -1;
    let spec = -1;
    let declFile = -1;
    let declLine = 0;
    let callFile = -1;
    let callLine = 0;
    let callColumn = 0;
    rs.length = 0;
    for (let i = 0; i < a.attrs.length; i++) {
      const at = a.attrs[i];
      const form = a.forms[i];
      switch (at) {
        case AT_name: name = forms.nameKey(c, form, unit); break;
        case AT_low_pc: low = forms.address(c, form, unit); break;
        case AT_high_pc:
          if (forms.isConstant(form)) {
            high = forms.constant(c, form, a.implicit[i]);
            highIsOffset = true;
          } else high = forms.address(c, form, unit);
          break;
        case AT_ranges: for (const r of forms.ranges(c, form, unit)) rs.push(r); break;
        case AT_abstract_origin: origin = forms.ref(c, form, unit); break;
        case AT_specification: spec = forms.ref(c, form, unit); break;
        case AT_decl_file: declFile = forms.constant(c, form, a.implicit[i]); break;
        case AT_decl_line: declLine = forms.constant(c, form, a.implicit[i]); break;
        case AT_call_file: callFile = forms.constant(c, form, a.implicit[i]); break;
        case AT_call_line: callLine = forms.constant(c, form, a.implicit[i]); break;
        case AT_call_column: callColumn = forms.constant(c, form, a.implicit[i]); break;
        default: skipForm(c, form, unit);
      }
    }
    if (low >= 0 && high >= 0) {
      const hi = highIsOffset ? low + high : high;
      if (hi > low) rs.push([low, Math.min(hi, 4294967296)]);
    }
    if (name !== undefined) pending.names.set(dieOffset, name);
    const ref = origin >= 0 ? origin : spec;
    if (ref >= 0) pending.origin.set(dieOffset, ref);
    let nextFn = curFn;
    let nextDepth = depth;
    if (tag === TAG_subprogram) {
      if (rs.length > 0) {
        // A concrete function (out-of-line code). Nested subprograms (GNU C) start their own entry.
        const idx = t.functions.length;
        t.functions.push({ name: '', die: dieOffset, declFile: declFile >= 0 ? globalFile(declFile) : -1, declLine, inlineFirst: inl.lo.n, inlineLast: inl.lo.n });
        fnOrigin.push(dieOffset);
        for (const [lo, hi] of rs) {
          ranges.lo.push(lo);
          ranges.hi.push(Math.min(hi, 0xffffffff));
          ranges.fn.push(idx);
        }
        nextFn = idx;
        nextDepth = 0;
      }
    } else if (curFn >= 0 && rs.length > 0) {
      nextDepth = depth + 1;
      const target = ref >= 0 ? ref : dieOffset;
      for (const [lo, hi] of rs) {
        inl.lo.push(lo);
        inl.hi.push(Math.min(hi, 0xffffffff));
        inl.depth.push(nextDepth);
        inl.origin.push(target);
        inl.file.push(callFile >= 0 ? globalFile(callFile) : 0xffffffff);
        inl.line.push(callLine);
        inl.col.push(callColumn);
      }
      t.functions[curFn].inlineLast = inl.lo.n;
    }
    if (a.children) {
      tags.push(tag);
      fnAt.push(curFn);
      inlDepthAt.push(depth);
      curFn = nextFn;
      depth = nextDepth;
    }
  }
}
