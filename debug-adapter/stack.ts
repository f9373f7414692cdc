// The call stack of a stopped hart: physical frames from the unwinder (CFI from vmlinux's
// .debug_frame, else frame records, else pc and ra), each expanded into its inlined calls from
// .debug_info and placed at a source line from .debug_line. Without DWARF the frames are
// named from the symbol table, and the stack says plainly how much is known.

import type { HartState } from './registers';
import type { SymbolTable } from './symbols';
import type { DebugInfo } from './dwarf/index';
import type { SourcePaths } from './source-paths';
import { unwind, type UnwindMethod } from './dwarf/unwind';

/** The kernel's physical load address on semu's map (kernel at the start of RAM). */
export const KERNEL_LOAD_PHYS = 0;

export interface FrameInfo {
  hart: number;
  /** Physical frame index (0 = the hart's pc); inlined frames share their physical frame's. */
  depth: number;
  pc: number;
  /** Registers of this physical frame (undefined: not known there). */
  regs: (number | undefined)[];
  name: string;
  /** Local path of the source file, when DWARF gives a line. */
  path?: string;
  line?: number;
  column?: number;
  inlined: boolean;
  how: UnwindMethod;
}

export interface StackInfo {
  frames: FrameInfo[];
  /** Why the walk stopped, when it stopped short of the outermost frame. */
  note?: string;
}

/** Link-time address for a pc: with the MMU off (satp Bare) the kernel runs at its physical address. */
export function linkAddress(pc: number, satp: number, symbols: SymbolTable | null): number {
  if ((satp & 0x80000000) !== 0 || !symbols) return pc >>> 0;
  const start = symbols.address('_start');
  if (start === undefined || start < 0x10000 || pc >= start || pc < KERNEL_LOAD_PHYS) return pc >>> 0;
  return (pc - KERNEL_LOAD_PHYS + start) >>> 0;
}

/** Name for an address: symbol+offset; with the MMU off, the kernel symbol of that physical address. */
export function symbolize(symbols: SymbolTable | null, addr: number, satp: number): string | undefined {
  if (!symbols) return undefined;
  const direct = symbols.describe(addr);
  if (direct || (satp & 0x80000000) !== 0) return direct;
  const link = linkAddress(addr, satp, symbols);
  if (link === addr >>> 0) return undefined;
  const v = symbols.describe(link);
  return v ? `${v} (phys)` : undefined;
}

export interface StackSources {
  debug: DebugInfo | null;
  symbols: SymbolTable | null;
  paths: SourcePaths;
  /** A 32-bit word of virtual memory through the hart's satp. */
  read32: (addr: number) => number | undefined;
}

const MAX_FRAMES = 64;

export function buildStack(s: HartState, src: StackSources): StackInfo {
  const satp = s.csrs.satp ?? 0;
  const link = (pc: number) => linkAddress(pc, satp, src.symbols);
  // The unwinder works in link addresses (CFI is keyed by them); memory reads stay as the hart sees them.
  const isCode = (pc: number) => {
    const hit = src.symbols?.lookup(link(pc));
    return !!hit && /[tTwW]/.test(hit.symbol.type);
  };
  const frames = src.debug?.frames ?? null;
  const u = unwind(frames && frames.fdes.length ? frames : null, link(s.pc), s.x, { read32: src.read32, isCode, maxFrames: MAX_FRAMES });
  const out: FrameInfo[] = [];
  u.frames.forEach((f, depth) => {
    const pc = depth === 0 ? s.pc >>> 0 : f.pc;
    // A caller's line is its call's: the instruction before the return address.
    const at = depth === 0 ? link(pc) : (link(pc) - 4) >>> 0;
    const fallback = symbolize(src.symbols, depth === 0 ? pc : (pc - 4) >>> 0, satp) ?? hex(pc);
    const sf = src.debug?.sourceFrames(at, fallback.replace(/\+0x[0-9a-f]+( \(phys\))?$/, '')) ?? [];
    if (sf.length === 0) {
      out.push({ hart: s.hart, depth, pc, regs: f.regs, name: f.how === 'ra' ? `${fallback} (ra)` : fallback, inlined: false, how: f.how });
      return;
    }
    for (const x of sf) {
      out.push({
        hart: s.hart, depth, pc, regs: f.regs, name: x.inlined ? `${x.name} (inlined)` : x.name,
        path: x.line > 0 ? src.paths.toLocal(x.file) : undefined, line: x.line || undefined, column: x.column || undefined,
        inlined: x.inlined, how: f.how,
      });
    }
  });
  const ended = u.frames.length >= MAX_FRAMES || /only pc and ra|no call frame|not known|progress/.test(u.end);
  return { frames: out, note: ended ? u.end : undefined };
}

function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}
