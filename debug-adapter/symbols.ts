// Kernel symbols for the call stack, the disassembly and function breakpoints: read from a
// System.map (`nm -n` text) or straight from an ELF32 vmlinux's .symtab (no binutils needed).
// Lookups are a binary search over one sorted array; a symbol's extent is its ELF size when
// known, else the distance to the next symbol, so "addr → name+offset" never names a symbol
// that ends before the address.

import { readFileSync } from 'node:fs';
import { lastAtOrBelow } from './dwarf/search';
import { ElfError, ElfFile, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS, SHT_SYMTAB, isElf } from './dwarf/elf';

export interface KernelSymbol {
  name: string;
  addr: number; // uint32
  /** Bytes covered: the ELF st_size, or the gap to the next symbol (0 when unknown). */
  size: number;
  /** nm-style type letter: T/t text, D/d data, B/b bss, R/r read-only, W/w weak... */
  type: string;
}

export interface SymbolHit {
  symbol: KernelSymbol;
  offset: number;
}

/** Beyond this, "name+offset" is more misleading than useful (a hole between symbols). */
const MAX_IMPLIED_SIZE = 1 << 20;

export class SymbolTable {
  /** Sorted by address; at one address the most useful name comes first. */
  private readonly sorted: KernelSymbol[];
  private readonly byName = new Map<string, KernelSymbol>();

  constructor(symbols: KernelSymbol[], readonly source = '') {
    this.sorted = symbols.slice().sort((a, b) => a.addr - b.addr || rank(b) - rank(a));
    for (let i = 0; i < this.sorted.length; i++) {
      const s = this.sorted[i];
      if (s.size === 0) {
        // The extent is up to the next symbol at a higher address.
        let j = i + 1;
        while (j < this.sorted.length && this.sorted[j].addr === s.addr) j++;
        if (j < this.sorted.length) s.size = Math.min(this.sorted[j].addr - s.addr, MAX_IMPLIED_SIZE);
      }
      // A global definition wins over a static of the same name (there are many static duplicates).
      const old = this.byName.get(s.name);
      if (!old || (isGlobal(s) && !isGlobal(old))) this.byName.set(s.name, s);
    }
  }

  get size(): number {
    return this.sorted.length;
  }

  /** The symbol covering `addr`, or undefined. */
  lookup(addr: number): SymbolHit | undefined {
    addr >>>= 0;
    const a = this.sorted;
    let best = lastAtOrBelow(0, a.length - 1, (i) => a[i].addr, addr);
    if (best < 0) return undefined;
    // Step back to the first (best ranked) symbol at that address.
    while (best > 0 && a[best - 1].addr === a[best].addr) best--;
    // Among symbols at this address, take the first whose extent covers addr.
    for (let i = best; i < a.length && a[i].addr === a[best].addr; i++) {
      const s = a[i];
      const off = addr - s.addr;
      if (off === 0 || off < s.size) return { symbol: s, offset: off };
    }
    return undefined;
  }

  /** "name+0x1c", or undefined when nothing covers addr. */
  describe(addr: number): string | undefined {
    const hit = this.lookup(addr);
    if (!hit) return undefined;
    return hit.offset === 0 ? hit.symbol.name : `${hit.symbol.name}+0x${hit.offset.toString(16)}`;
  }

  /** Address of a symbol by exact name. */
  address(name: string): number | undefined {
    return this.byName.get(name)?.addr;
  }

  symbol(name: string): KernelSymbol | undefined {
    return this.byName.get(name);
  }

  /** Names starting with `prefix` (for completions), at most `limit`. */
  complete(prefix: string, limit = 50): string[] {
    const out: string[] = [];
    for (const name of this.byName.keys()) {
      if (name.startsWith(prefix)) {
        out.push(name);
        if (out.length >= limit) break;
      }
    }
    return out.sort();
  }

  /** Loads a System.map or an ELF vmlinux (decided by the file's magic). */
  static load(path: string): SymbolTable {
    const bytes = readFileSync(path);
    if (isElf(bytes)) {
      return new SymbolTable(parseElfSymbols(bytes), path);
    }
    return new SymbolTable(parseSystemMap(bytes.toString('utf8')), path);
  }
}

function isGlobal(s: KernelSymbol): boolean {
  return s.type >= 'A' && s.type <= 'Z';
}

/**
 * Preference among aliases at one address: text over data, global over local, then plain names
 * over "_"-prefixed markers (`_stext`) and "__" internals (`__pi_*`).
 */
function rank(s: KernelSymbol): number {
  let r = 0;
  if (s.type === 'T' || s.type === 't') r += 8;
  if (isGlobal(s)) r += 4;
  if (!s.name.startsWith('__')) r += 2;
  if (!s.name.startsWith('_')) r += 1;
  return r;
}

/** `nm -n` / System.map lines: "c032e76c T start_kernel". Types U/N/a/A carry no location. */
export function parseSystemMap(text: string): KernelSymbol[] {
  const out: KernelSymbol[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]{1,16})\s+([A-Za-z?-])\s+(\S+)/.exec(line);
    if (!m) continue;
    const type = m[2];
    if (type === 'U' || type === 'N' || type === 'a' || type === 'A' || type === '?' || type === '-') continue;
    const addr = parseInt(m[1], 16);
    if (!Number.isFinite(addr) || addr > 0xffffffff) continue;
    out.push({ name: m[3], addr: addr >>> 0, size: 0, type });
  }
  return out;
}

// ---- ELF32 little-endian symbol table (System V gABI, "Symbol Table") ----

const STT_OBJECT = 1;
const STT_FUNC = 2;
const STT_NOTYPE = 0;
const STB_LOCAL = 0;
const STB_WEAK = 2;

export { ElfError };

export function parseElfSymbols(b: Uint8Array): KernelSymbol[] {
  const elf = new ElfFile(b);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: KernelSymbol[] = [];
  const decoder = new TextDecoder();
  for (const s of elf.sections) {
    if (s.type !== SHT_SYMTAB) continue;
    const str = elf.sections[s.link];
    if (!str) throw new ElfError('symbol table links to a missing string table');
    if (s.offset + s.size > b.length || str.offset + str.size > b.length) throw new ElfError('symbol table out of range');
    const ent = s.entsize || 16;
    for (let o = s.offset; o + 16 <= s.offset + s.size; o += ent) {
      const nameOff = dv.getUint32(o, true);
      const value = dv.getUint32(o + 4, true);
      const size = dv.getUint32(o + 8, true);
      const info = b[o + 12];
      const shndx = dv.getUint16(o + 14, true);
      const type = info & 0xf;
      const bind = info >> 4;
      if (type !== STT_FUNC && type !== STT_OBJECT && type !== STT_NOTYPE) continue;
      if (shndx === 0 || shndx >= 0xff00) continue; // undefined, absolute, common
      if (nameOff === 0 || nameOff >= str.size) continue;
      let end = str.offset + nameOff;
      while (end < str.offset + str.size && b[end] !== 0) end++;
      const name = decoder.decode(b.subarray(str.offset + nameOff, end));
      // Mapping symbols ($x, $d) and assembler locals (.L*) are not names a person looks for.
      if (name === '' || name.startsWith('$') || name.startsWith('.L')) continue;
      out.push({ name, addr: value, size, type: nmLetter(elf.sections[shndx] ?? null, bind) });
    }
  }
  if (out.length === 0) throw new ElfError('the ELF file has no symbol table (stripped?)');
  return out;
}

function nmLetter(sec: { type: number; flags: number } | null, bind: number): string {
  let c = 'd';
  if (sec) {
    if (sec.flags & SHF_EXECINSTR) c = 't';
    else if (sec.type === SHT_NOBITS) c = 'b';
    else if (!(sec.flags & SHF_WRITE)) c = 'r';
  }
  if (bind === STB_WEAK) return c === 't' ? 'W' : 'V';
  return bind === STB_LOCAL ? c : c.toUpperCase();
}
