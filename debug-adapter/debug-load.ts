// Loading what the adapter knows about the guest's code from the launch's `symbols` file: a
// System.map (names only) or an ELF vmlinux (its symbol table and, with DWARF, lines, CFI and
// functions). A vmlinux is read once for both. DWARF problems never fail the launch: they are
// reported, and the adapter falls back to names and disassembly.

import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SymbolTable, parseElfSymbols, parseSystemMap } from './symbols';
import { ElfFile, isElf } from './dwarf/elf';
import { DebugInfo } from './dwarf/index';
import { logger } from '../src/log';

const log = logger('dap');

export interface LoadedSymbols {
  symbols: SymbolTable;
  debug: DebugInfo | null;
  /** Lines for the Debug Console: what is missing and why. */
  notes: string[];
}

/** Reads and parses without holding the event loop for long (the extension host stays responsive). */
export async function loadDebugInfo(path: string): Promise<LoadedSymbols> {
  const bytes = await readFile(path);
  if (!isElf(bytes)) {
    const notes = [`${path} has names only: no source lines, C breakpoints or full call stacks; give the kernel's vmlinux in "symbols" for them`];
    return { symbols: new SymbolTable(parseSystemMap(bytes.toString('utf8')), path), debug: null, notes };
  }
  const elf = new ElfFile(bytes);
  const symbols = new SymbolTable(parseElfSymbols(bytes), path);
  const notes: string[] = [];
  let debug: DebugInfo | null = null;
  if (!elf.header('.debug_info') && !elf.header('.debug_line')) {
    notes.push(`${path} has no DWARF: the call stack shows pc and ra only, no source lines (build the kernel with CONFIG_DEBUG_INFO_DWARF5)`);
  } else {
    debug = await DebugInfo.load(elf);
    const t = debug.times;
    log.info(`DWARF of ${path}: ${debug.lines?.rowCount ?? 0} line rows, ${debug.frames?.fdes.length ?? 0} FDEs, ${debug.info?.functions.length ?? 0} functions in ${t.totalMs.toFixed(0)} ms (lines ${t.lineMs.toFixed(0)}, frames ${t.frameMs.toFixed(0)}, info ${t.infoMs.toFixed(0)})`);
    for (const p of debug.problems) notes.push(`debug info: ${p}`);
  }
  return { symbols, debug, notes };
}

/** Where guest/build.sh caches its builds (guest/lib/common.sh: SEMU_GUEST_CACHE). */
export function guestCacheDir(): string {
  return process.env.SEMU_GUEST_CACHE || join(process.env.HOME || '/tmp', '.cache', 'vscode-semu', 'guest');
}

/**
 * The vmlinux of `kernel` when only its System.map is at hand (the packaged guest carries no
 * vmlinux): a guest cache entry (kernel-*) whose Image is byte for byte `kernel`, with a vmlinux
 * beside it — the same build, so its DWARF describes this kernel exactly.
 */
export async function cachedVmlinuxFor(kernel: string, cache = guestCacheDir()): Promise<string | undefined> {
  let want: Buffer | undefined;
  let entries: string[];
  try {
    entries = (await readdir(cache)).filter((n) => n.startsWith('kernel-')).sort();
  } catch {
    return undefined;
  }
  const size = (await stat(kernel)).size;
  for (const e of entries) {
    const image = join(cache, e, 'Image');
    const vmlinux = join(cache, e, 'vmlinux');
    try {
      if ((await stat(image)).size !== size || !(await stat(vmlinux)).isFile()) continue;
      want ??= await readFile(kernel);
      if ((await readFile(image)).equals(want)) return vmlinux;
    } catch {
      /* an entry being built or pruned: not this one */
    }
  }
  return undefined;
}
