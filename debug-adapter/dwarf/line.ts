// .debug_line (DWARF 4 and 5, §6.2): every line number program is run into one table of rows
// — address, file, line, column, flags — kept in typed arrays. Files get one global index
// across all units (a header file appears once), paths joined as the producer's directories say.
//
// pc → line: sequences are indexed by address, a binary search picks the sequence and then the
// row. line → pcs: per file, the rows of that line that start a run of it (is_stmt), one
// address per place the line was emitted (inlined copies give several).

import { posix } from 'node:path';
import { Cursor, DwarfError, stringAt } from './cursor';
import { GrowU32, GrowU8 } from './growable';
import { covering, lastAtOrBelow } from './search';

// Standard opcodes (§6.2.5.2), extended opcodes (§6.2.5.3), content types (§6.2.4.1).
const DW_LNS_copy = 1, DW_LNS_advance_pc = 2, DW_LNS_advance_line = 3, DW_LNS_set_file = 4, DW_LNS_set_column = 5;
const DW_LNS_negate_stmt = 6, DW_LNS_set_basic_block = 7, DW_LNS_const_add_pc = 8, DW_LNS_fixed_advance_pc = 9;
const DW_LNS_set_prologue_end = 10, DW_LNS_set_epilogue_begin = 11, DW_LNS_set_isa = 12;
const DW_LNE_end_sequence = 1, DW_LNE_set_address = 2, DW_LNE_define_file = 3, DW_LNE_set_discriminator = 4;
const DW_LNCT_path = 1, DW_LNCT_directory_index = 2;
// Forms a v5 line header may use for its entries (§7.5.6).
const DW_FORM_block = 0x09, DW_FORM_block1 = 0x0a, DW_FORM_block2 = 0x03, DW_FORM_block4 = 0x04;
const DW_FORM_data1 = 0x0b, DW_FORM_data2 = 0x05, DW_FORM_data4 = 0x06, DW_FORM_data8 = 0x07, DW_FORM_data16 = 0x1e;
const DW_FORM_string = 0x08, DW_FORM_strp = 0x0e, DW_FORM_line_strp = 0x1f, DW_FORM_udata = 0x0f, DW_FORM_sdata = 0x0d;
const DW_FORM_strx = 0x1a, DW_FORM_strx1 = 0x25, DW_FORM_strx2 = 0x26, DW_FORM_strx3 = 0x27, DW_FORM_strx4 = 0x28;

export const ROW_STMT = 1;
export const ROW_END_SEQUENCE = 2;
export const ROW_PROLOGUE_END = 4;

export interface LineSections {
  line: Uint8Array;
  str?: Uint8Array | null;
  lineStr?: Uint8Array | null;
}

/** One unit's program as the header describes it. */
export interface LineProgram {
  offset: number;
  version: number;
  /** Global file index of each of the program's file numbers (v5: from 0; v4: from 1, [0] unused). */
  files: number[];
}

export interface LineSequence {
  start: number;
  end: number;
  /** Rows [first, last] of the table; `last` is the end_sequence row. */
  first: number;
  last: number;
}

export class LineTable {
  /** Global file paths, normalised. */
  readonly files: string[] = [];
  readonly programs: LineProgram[] = [];
  /** Programs that could not be read, with the reason (the rest of the table is still usable). */
  readonly errors: string[] = [];
  addr: Uint32Array = new Uint32Array(0);
  line: Uint32Array = new Uint32Array(0);
  file: Uint32Array = new Uint32Array(0);
  column: Uint32Array = new Uint32Array(0);
  flags: Uint8Array = new Uint8Array(0);
  /** Sequences sorted by start address. */
  sequences: LineSequence[] = [];
  private readonly fileIndex = new Map<string, number>();
  private byFile: Map<number, Uint32Array> | null = null;

  get rowCount(): number {
    return this.addr.length;
  }

  fileId(path: string): number {
    let id = this.fileIndex.get(path);
    if (id === undefined) {
      id = this.files.length;
      this.files.push(path);
      this.fileIndex.set(path, id);
    }
    return id;
  }

  private readonly dirIds = new Map<string, number>();
  private readonly joined = new Map<number, number>();
  private readonly joinedText = new Map<string, number>();

  /**
   * fileId(joinPath(dir, name)), remembered per (directory, name): headers repeat in every
   * unit, and with DW_FORM_line_strp a name is just an offset, decoded only the first time.
   */
  fileIn(dir: string, name: number | string, decode: (off: number) => string): number {
    let d = this.dirIds.get(dir);
    if (d === undefined) {
      d = this.dirIds.size;
      this.dirIds.set(dir, d);
    }
    if (typeof name === 'number') {
      const key = d * 4294967296 + name;
      let id = this.joined.get(key);
      if (id === undefined) {
        id = this.fileId(joinPath(dir, decode(name)));
        this.joined.set(key, id);
      }
      return id;
    }
    const key = d + '\0' + name;
    let id = this.joinedText.get(key);
    if (id === undefined) {
      id = this.fileId(joinPath(dir, name));
      this.joinedText.set(key, id);
    }
    return id;
  }

  findFile(path: string): number | undefined {
    return this.fileIndex.get(path);
  }

  program(offset: number): LineProgram | undefined {
    let lo = 0;
    let hi = this.programs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const o = this.programs[mid].offset;
      if (o === offset) return this.programs[mid];
      if (o < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** The row whose range holds `pc` (the last row at or below pc in its sequence), or -1. */
  rowAt(pc: number): number {
    pc >>>= 0;
    const seqs = this.sequences;
    const i = covering(seqs.length, (k) => seqs[k].start, (k) => seqs[k].end, pc);
    return i < 0 ? -1 : this.rowIn(seqs[i], pc);
  }

  private rowIn(s: LineSequence, pc: number): number {
    const a = this.addr;
    const best = Math.max(s.first, lastAtOrBelow(s.first, s.last - 1, (k) => a[k], pc));
    // Several rows at one address: prefer a statement row, as gdb does (find_pc_sect_line).
    if ((this.flags[best] & ROW_STMT) === 0) {
      for (let r = best; r > s.first && a[r - 1] === a[best]; r--) {
        if (this.flags[r - 1] & ROW_STMT) return r - 1;
      }
    }
    return best;
  }

  /** Source position of `pc`, or undefined when no sequence covers it. */
  lookup(pc: number): { file: string; fileId: number; line: number; column: number; row: number } | undefined {
    const r = this.rowAt(pc);
    if (r < 0) return undefined;
    return { file: this.files[this.file[r]], fileId: this.file[r], line: this.line[r], column: this.column[r], row: r };
  }

  /** Row indices of one file, in table order (built for all files on first use). */
  rowsOf(fileId: number): Uint32Array {
    if (!this.byFile) this.byFile = this.indexFiles();
    return this.byFile.get(fileId) ?? new Uint32Array(0);
  }

  private indexFiles(): Map<number, Uint32Array> {
    const counts = new Uint32Array(this.files.length);
    const n = this.rowCount;
    for (let i = 0; i < n; i++) if ((this.flags[i] & ROW_END_SEQUENCE) === 0) counts[this.file[i]]++;
    const lists = new Map<number, Uint32Array>();
    const fill = new Uint32Array(this.files.length);
    for (let f = 0; f < counts.length; f++) if (counts[f]) lists.set(f, new Uint32Array(counts[f]));
    for (let i = 0; i < n; i++) {
      if (this.flags[i] & ROW_END_SEQUENCE) continue;
      const f = this.file[i];
      lists.get(f)![fill[f]++] = i;
    }
    return lists;
  }

  /**
   * Addresses where `line` of file `fileId` begins: statement rows of that line whose previous
   * row (same sequence) is another line or file. Empty when the line has no code.
   */
  addressesOf(fileId: number, line: number, includeDiscarded = false): number[] {
    const out: number[] = [];
    for (const r of this.rowsOf(fileId)) {
      if (this.line[r] !== line || (this.flags[r] & ROW_STMT) === 0) continue;
      if (r > 0 && (this.flags[r - 1] & ROW_END_SEQUENCE) === 0 && this.line[r - 1] === line && this.file[r - 1] === fileId) continue;
      if (!includeDiscarded && this.inDiscarded(r)) continue;
      out.push(this.addr[r]);
    }
    return [...new Set(out)].sort((a, b) => a - b);
  }

  /** Lines of a file that have code, sorted (for "nearest line with code"). */
  linesOf(fileId: number): number[] {
    const s = new Set<number>();
    for (const r of this.rowsOf(fileId)) if (this.flags[r] & ROW_STMT && !this.inDiscarded(r)) s.add(this.line[r]);
    return [...s].sort((a, b) => a - b);
  }

  /**
   * Address ranges [lo, hi) in the sequence of `row` whose rows carry the same file and line
   * (a line's code may be split by other lines' rows): what "step over this line" stays inside.
   */
  rangesOfLine(row: number): [number, number][] {
    const f = this.file[row];
    const l = this.line[row];
    const s = this.sequenceOf(row);
    if (!s) return [];
    const out: [number, number][] = [];
    for (let r = s.first; r < s.last; r++) {
      if (this.file[r] !== f || this.line[r] !== l) continue;
      const lo = this.addr[r];
      const hi = this.addr[r + 1];
      if (hi <= lo) continue;
      const last = out[out.length - 1];
      if (last && last[1] === lo) last[1] = hi;
      else out.push([lo, hi]);
    }
    return out;
  }

  sequenceOf(row: number): LineSequence | undefined {
    const seqs = this.sequencesByRow;
    let lo = 0;
    let hi = seqs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = seqs[mid];
      if (row < s.first) hi = mid - 1;
      else if (row > s.last) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  private sequencesByRowCache: LineSequence[] | null = null;
  private get sequencesByRow(): LineSequence[] {
    if (!this.sequencesByRowCache) this.sequencesByRowCache = [...this.sequences].sort((a, b) => a.first - b.first);
    return this.sequencesByRowCache;
  }

  /** Sequences at address 0 belong to sections the linker discarded (vmlinux: .exit.text...). */
  private inDiscarded(row: number): boolean {
    const s = this.sequenceOf(row);
    return s !== undefined && s.start === 0 && this.hasHighText;
  }

  /** True when some code lives well above 0 (a kernel): then address-0 sequences are discarded code. */
  hasHighText = false;
}

/** Runs every line program of .debug_line. `compDirs` gives DW_AT_comp_dir per program offset (v4's directory 0). */
export function readLineTable(sec: LineSections, compDirs?: Map<number, string>): LineTable {
  return finish(lineTableSteps(sec, compDirs));
}

/** Runs a reader's steps to the end (the steps yield between units so a caller can pause). */
export function finish<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** readLineTable, yielding after each unit's program. */
export function* lineTableSteps(sec: LineSections, compDirs?: Map<number, string>): Generator<void, LineTable> {
  const t = new LineTable();
  const rows = { addr: new GrowU32(1 << 16), line: new GrowU32(1 << 16), file: new GrowU32(1 << 16), column: new GrowU32(1 << 16), flags: new GrowU8(1 << 16) };
  const seqs: LineSequence[] = [];
  const c = new Cursor(sec.line, '.debug_line');
  while (c.pos < sec.line.length) {
    const offset = c.pos;
    let next = sec.line.length;
    try {
      const { length, offsetSize } = c.initialLength();
      next = c.pos + length;
      if (length === 0) continue;
      if (next > sec.line.length) c.fail(`unit length 0x${length.toString(16)} runs past the section`, offset);
      const unit = new Cursor(sec.line, '.debug_line', c.pos, next);
      const before = rows.addr.n;
      const nseq = seqs.length;
      try {
        const prog = readProgram(unit, offset, offsetSize, sec, t, compDirs?.get(offset), rows, seqs);
        t.programs.push(prog);
      } catch (e) {
        // Drop the unit's partial rows: a half-run program would give wrong answers.
        rows.addr.n = rows.line.n = rows.file.n = rows.column.n = rows.flags.n = before;
        seqs.length = nseq;
        throw e;
      }
    } catch (e) {
      if (!(e instanceof DwarfError)) throw e;
      t.errors.push(e.message);
      if (next <= offset || next > sec.line.length) break; // the length itself is bad: nothing after it can be found
    }
    c.pos = next;
    yield;
  }
  t.addr = rows.addr.trimmed();
  t.line = rows.line.trimmed();
  t.file = rows.file.trimmed();
  yield;
  t.column = rows.column.trimmed();
  t.flags = rows.flags.trimmed();
  yield;
  yield;
  seqs.sort((a, b) => a.start - b.start || a.first - b.first);
  t.sequences = seqs;
  t.hasHighText = seqs.some((s) => s.start >= 0x10000);
  t.programs.sort((a, b) => a.offset - b.offset);
  return t;
}

type Rows = Record<'addr' | 'line' | 'file' | 'column', GrowU32> & { flags: GrowU8 };

function readProgram(
  c: Cursor, offset: number, offsetSize: 4 | 8, sec: LineSections, t: LineTable, compDir: string | undefined, rows: Rows, seqs: LineSequence[],
): LineProgram {
  const version = c.u16();
  if (version < 2 || version > 5) c.fail(`unsupported line table version ${version}`, c.pos - 2);
  let addressSize = 4;
  if (version >= 5) {
    addressSize = c.u8();
    c.u8(); // segment_selector_size
  }
  const headerLength = c.uint(offsetSize);
  const programStart = c.pos + headerLength;
  if (programStart > c.end) c.fail('header length runs past the unit');
  const minInsn = c.u8();
  const maxOps = version >= 4 ? c.u8() : 1;
  const defaultStmt = c.u8() !== 0;
  const lineBase = c.i8();
  const lineRange = c.u8();
  const opcodeBase = c.u8();
  if (lineRange === 0) c.fail('line_range is 0');
  if (maxOps !== 1) c.fail(`maximum_operations_per_instruction ${maxOps} (VLIW) is not supported`);
  const opLengths: number[] = [0];
  for (let i = 1; i < opcodeBase; i++) opLengths.push(c.u8());

  const files: number[] = [];
  if (version >= 5) {
    const decode = (off: number) => stringAt(sec.lineStr!, off, '.debug_line_str');
    const text = (p: number | string) => (typeof p === 'number' ? decode(p) : p);
    const dirs = readEntries(c, offsetSize, sec, true).map((e) => text(e.path));
    const base = dirs[0] ?? compDir ?? '';
    const fullDirs = dirs.map((d, i) => (i === 0 ? d : joinPath(base, d)));
    for (const e of readEntries(c, offsetSize, sec, false)) {
      files.push(t.fileIn(fullDirs[e.dir] ?? base, e.path, decode));
    }
  } else {
    const base = compDir ?? '';
    const dirs = [base];
    for (;;) {
      const d = c.cstr();
      if (d === '') break;
      dirs.push(joinPath(base, d));
    }
    files.push(-1); // v4 file numbers start at 1
    for (;;) {
      const name = c.cstr();
      if (name === '') break;
      const dir = c.uleb();
      c.uleb(); // mtime
      c.uleb(); // length
      files.push(t.fileIn(dirs[dir] ?? base, name, () => ''));
    }
  }
  c.pos = programStart;

  // The state machine (§6.2.2).
  let address = 0, file = 1, line = 1, column = 0, isStmt = defaultStmt, prologueEnd = false;
  let seqStart = -1;
  let seqFirst = rows.addr.n;
  const emit = (flags: number) => {
    const g = files[file];
    if (g === undefined || g < 0) c.fail(`file number ${file} is not in the header`);
    if (seqStart < 0) {
      seqStart = address;
      seqFirst = rows.addr.n;
    }
    rows.addr.push(address);
    rows.line.push(line);
    rows.file.push(g);
    rows.column.push(column);
    rows.flags.push((isStmt ? ROW_STMT : 0) | (prologueEnd ? ROW_PROLOGUE_END : 0) | flags);
  };
  const reset = () => {
    address = 0;
    file = 1;
    line = 1;
    column = 0;
    isStmt = defaultStmt;
    prologueEnd = false;
    seqStart = -1;
  };
  while (c.pos < c.end) {
    const op = c.u8();
    if (op >= opcodeBase) {
      const adj = op - opcodeBase;
      address = (address + Math.floor(adj / lineRange) * minInsn) >>> 0;
      line += lineBase + (adj % lineRange);
      emit(0);
      prologueEnd = false;
      continue;
    }
    switch (op) {
      case 0: {
        const len = c.uleb();
        const end = c.pos + len;
        if (len === 0 || end > c.end) c.fail('bad extended opcode length');
        const sub = c.u8();
        if (sub === DW_LNE_end_sequence) {
          emit(ROW_END_SEQUENCE);
          seqs.push({ start: seqStart, end: address, first: seqFirst, last: rows.addr.n - 1 });
          reset();
        } else if (sub === DW_LNE_set_address) {
          const n = len - 1;
          if (n !== 4 && n !== 8 && n !== addressSize) c.fail(`DW_LNE_set_address with a ${n}-byte operand`);
          address = c.uint(n) % 4294967296 >>> 0;
        } else if (sub === DW_LNE_define_file) {
          const name = c.cstr();
          c.uleb();
          c.uleb();
          c.uleb();
          files.push(t.fileId(joinPath(compDir ?? '', name)));
        } else if (sub !== DW_LNE_set_discriminator) {
          // Unknown (vendor) extended opcode: its length lets us skip it.
        }
        c.pos = end;
        break;
      }
      case DW_LNS_copy:
        emit(0);
        prologueEnd = false;
        break;
      case DW_LNS_advance_pc:
        address = (address + c.uleb() * minInsn) >>> 0;
        break;
      case DW_LNS_advance_line:
        line += c.sleb();
        break;
      case DW_LNS_set_file:
        file = c.uleb();
        break;
      case DW_LNS_set_column:
        column = c.uleb();
        break;
      case DW_LNS_negate_stmt:
        isStmt = !isStmt;
        break;
      case DW_LNS_set_basic_block:
      case DW_LNS_set_epilogue_begin:
        break;
      case DW_LNS_const_add_pc:
        address = (address + Math.floor((255 - opcodeBase) / lineRange) * minInsn) >>> 0;
        break;
      case DW_LNS_fixed_advance_pc:
        address = (address + c.u16()) >>> 0;
        break;
      case DW_LNS_set_prologue_end:
        prologueEnd = true;
        break;
      case DW_LNS_set_isa:
        c.uleb();
        break;
      default:
        for (let i = 0; i < opLengths[op]; i++) c.uleb(); // an opcode this reader does not know
    }
  }
  return { offset, version, files };
}

interface Entry {
  /** The path, or its offset in .debug_line_str (decoded by the caller when needed). */
  path: number | string;
  dir: number;
}

/** v5 directory or file name entries: a format description, then the entries (§6.2.4 items 14-22). */
function readEntries(c: Cursor, offsetSize: 4 | 8, sec: LineSections, dirs: boolean): Entry[] {
  const nformats = c.u8();
  const formats: [number, number][] = [];
  for (let i = 0; i < nformats; i++) formats.push([c.uleb(), c.uleb()]);
  const count = c.uleb();
  if (count > c.left) c.fail(`${count} ${dirs ? 'directories' : 'files'} cannot fit in the header`);
  const out: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const e: Entry = { path: '', dir: 0 };
    for (const [type, form] of formats) {
      const v = entryValue(c, form, offsetSize, sec);
      if (type === DW_LNCT_path) {
        if (form === DW_FORM_line_strp && typeof v === 'number') e.path = v;
        else if (typeof v !== 'string') c.fail(`path in form 0x${form.toString(16)}`);
        else e.path = v;
      } else if (type === DW_LNCT_directory_index) {
        if (typeof v !== 'number') c.fail(`directory index in form 0x${form.toString(16)}`);
        e.dir = v;
      }
    }
    out.push(e);
  }
  return out;
}

function entryValue(c: Cursor, form: number, offsetSize: 4 | 8, sec: LineSections): string | number | null {
  switch (form) {
    case DW_FORM_string: return c.cstr();
    case DW_FORM_line_strp: {
      const off = c.uint(offsetSize);
      if (!sec.lineStr) c.fail('DW_FORM_line_strp without .debug_line_str');
      if (off >= sec.lineStr.length) c.fail(`.debug_line_str offset 0x${off.toString(16)} out of range`);
      return off; // decoded by the caller, once per distinct path
    }
    case DW_FORM_strp: {
      const off = c.uint(offsetSize);
      if (!sec.str) c.fail('DW_FORM_strp without .debug_str');
      return stringAt(sec.str, off, '.debug_str');
    }
    case DW_FORM_udata: return c.uleb();
    case DW_FORM_sdata: return c.sleb();
    case DW_FORM_data1: return c.u8();
    case DW_FORM_data2: return c.u16();
    case DW_FORM_data4: return c.u32();
    case DW_FORM_data8: c.skip(8); return null;
    case DW_FORM_data16: c.skip(16); return null;
    case DW_FORM_block: c.skip(c.uleb()); return null;
    case DW_FORM_block1: c.skip(c.u8()); return null;
    case DW_FORM_block2: c.skip(c.u16()); return null;
    case DW_FORM_block4: c.skip(c.u32()); return null;
    case DW_FORM_strx: case DW_FORM_strx1: case DW_FORM_strx2: case DW_FORM_strx3: case DW_FORM_strx4:
      c.fail('DW_FORM_strx in a line table header needs .debug_str_offsets (not supported)');
  }
  return c.fail(`unknown form 0x${form.toString(16)} in a line table header`);
}

/** Joins a directory and a name the way DWARF producers mean it (an absolute name wins). */
export function joinPath(dir: string, name: string): string {
  if (name.startsWith('/') || dir === '') return posix.normalize(name);
  return posix.normalize(`${dir}/${name}`);
}
