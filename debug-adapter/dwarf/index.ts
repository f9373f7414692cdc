// The debug information of one ELF (the guest's vmlinux): line table, call frame information
// and functions with their inlined calls, read by this folder's own DWARF reader. Each part is
// optional: a missing or corrupt section costs only what needs it, and `problems` says so in
// words the adapter can show (then the adapter falls back to disassembly and pc/ra frames).

import { ElfFile } from './elf';
import { DwarfError } from './cursor';
import { finish, lineTableSteps, type LineTable } from './line';
import { frameTableSteps, type FrameTable } from './frame';
import { infoSteps, unitSteps, type InfoTable } from './info';
import type { Sections } from './forms';

export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** One frame of the source view at a pc: a function (or an inlined call) and where it is. */
export interface SourceFrame extends SourcePosition {
  name: string;
  /** True for the frames of inlined calls (all but the last at a pc). */
  inlined: boolean;
}

export interface LoadTimes {
  lineMs: number;
  frameMs: number;
  infoMs: number;
  totalMs: number;
}

export class DebugInfo {
  lines: LineTable | null = null;
  frames: FrameTable | null = null;
  info: InfoTable | null = null;
  readonly problems: string[] = [];
  readonly times: LoadTimes = { lineMs: 0, frameMs: 0, infoMs: 0, totalMs: 0 };

  /** Reads what it can; never throws for bad DWARF (an unreadable ELF header does throw). */
  static fromElf(elf: ElfFile, what: { info?: boolean } = {}): DebugInfo {
    return finish(DebugInfo.steps(elf, what));
  }

  /**
   * The same, in slices of about `sliceMs` with the event loop free in between: the inline
   * adapter runs in the extension host, which must not freeze for the seconds vmlinux takes.
   */
  static async load(elf: ElfFile, sliceMs = 15): Promise<DebugInfo> {
    const steps = DebugInfo.steps(elf, {});
    let t = performance.now();
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      if (performance.now() - t >= sliceMs) {
        await new Promise((resolve) => setImmediate(resolve));
        t = performance.now();
      }
    }
  }

  private static *steps(elf: ElfFile, what: { info?: boolean }): Generator<void, DebugInfo> {
    const d = new DebugInfo();
    const t0 = performance.now();
    const sec = (name: string) => {
      try {
        return elf.section(name);
      } catch (e) {
        d.problems.push((e as Error).message);
        return null;
      }
    };
    const info = sec('.debug_info');
    const abbrev = sec('.debug_abbrev');
    const s: Sections | null = info && abbrev ? {
      info, abbrev, str: sec('.debug_str'), lineStr: sec('.debug_line_str'), strOffsets: sec('.debug_str_offsets'),
      addr: sec('.debug_addr'), rnglists: sec('.debug_rnglists'), ranges: sec('.debug_ranges'),
    } : null;
    const units = s ? yield* guarded(d, unitSteps(s)) : null;
    if (units) d.note('.debug_info', units.errors);
    yield;
    const line = sec('.debug_line');
    if (line) {
      const compDirs = new Map<number, string>();
      for (const u of units?.units ?? []) if (u.stmtList >= 0 && u.compDir) compDirs.set(u.stmtList, u.compDir);
      d.lines = yield* guarded(d, lineTableSteps({ line, str: s?.str, lineStr: s?.lineStr }, compDirs));
      if (d.lines) d.note('.debug_line', d.lines.errors);
    } else d.problems.push('no .debug_line: no source lines (build the kernel with debug info)');
    d.times.lineMs = performance.now() - t0;
    const frame = sec('.debug_frame');
    const t1 = performance.now();
    if (frame) {
      d.frames = yield* guarded(d, frameTableSteps(frame));
      if (d.frames) d.note('.debug_frame', d.frames.errors);
    } else d.problems.push('no .debug_frame: the call stack has only the pc and ra frames');
    d.times.frameMs = performance.now() - t1;
    yield;
    const t2 = performance.now();
    if (s && units && what.info !== false) {
      d.info = yield* guarded(d, infoSteps(s, units.units, d.lines));
      if (d.info) d.note('.debug_info', d.info.errors);
    } else if (!s) d.problems.push('no .debug_info: function names come from the symbol table, no inlined calls');
    d.times.infoMs = performance.now() - t2;
    d.times.totalMs = performance.now() - t0;
    return d;
  }

  get hasLines(): boolean {
    return this.lines !== null && this.lines.rowCount > 0;
  }

  private note(section: string, errors: string[]): void {
    if (errors.length === 0) return;
    this.problems.push(`${section}: ${errors.length} unreadable unit${errors.length > 1 ? 's' : ''} skipped (first: ${errors[0]})`);
  }

  /** The source line of pc. */
  position(pc: number): SourcePosition | undefined {
    const l = this.lines?.lookup(pc);
    return l ? { file: l.file, line: l.line, column: l.column } : undefined;
  }

  /**
   * The source frames at pc, innermost first: inlined calls (each at its position in the
   * function it was inlined into), then the function itself. For a caller's frame pass the
   * call instruction's address (ra - 4), so the line is the call's.
   */
  sourceFrames(pc: number, fallbackName: string): SourceFrame[] {
    const pos = this.position(pc);
    const fn = this.info?.functionAt(pc);
    const inl = this.info?.inlinesAt(pc) ?? [];
    const name = fn?.name ?? fallbackName;
    if (!pos) return [];
    const out: SourceFrame[] = [];
    let where: SourcePosition = pos;
    for (let i = inl.length - 1; i >= 0; i--) {
      out.push({ name: inl[i].name, ...where, inlined: true });
      const file = this.lines?.files[inl[i].callFile];
      where = file ? { file, line: inl[i].callLine, column: inl[i].callColumn } : { ...where, line: 0 };
    }
    out.push({ name, ...where, inlined: false });
    return out;
  }
}

/** guard() for a reader's steps. */
function* guarded<T>(d: DebugInfo, steps: Generator<void, T>): Generator<void, T | null> {
  try {
    return yield* steps;
  } catch (e) {
    if (!(e instanceof DwarfError) && !(e instanceof RangeError)) throw e;
    d.problems.push(e.message);
    return null;
  }
}
