// Translated code, indexed by guest-physical location: per RAM page that holds code, its decoded
// form (for the interpreter) and one slot per instruction word for translated blocks. Physical indexing means address-space switches (satp,
// sfence.vma) never invalidate it; what does is a change of the bytes themselves:
//  - a hart's store to a marked page: such stores never hit the store TLB (entries for a page
//    are evicted when it becomes code), so they reach Hart.storeSlow, which calls back here;
//  - anything else writing RAM (virtio DMA, the debugger, image loading): Ram.noteWrite.
// So FENCE.I has nothing left to do, and translated code is never stale past a store.

import type { Ram } from '../ram';
import type { CodePages } from './mmu';
import type { Hart } from './hart';
import { decodePage } from './predecode';

/**
 * A translated block: runs on hart `h` with `pc` = its virtual start, retiring about `limit`
 * instructions at most (a block that loops on itself stops there); returns instructions retired.
 */
export type BlockFn = (h: Hart, pc: number, limit: number) => number;

export class Block {
  constructor(
    readonly fn: BlockFn,
    /** Instructions in the block. */
    readonly len: number,
  ) {}
}

const SLOTS = 1024; // 4-byte instruction slots per 4 KiB page
/** Default for CodeCache.jitThreshold (see docs/cpu.md, "Engines"). */
export const JIT_THRESHOLD = 5000;

class PageCode {
  readonly blocks: (Block | null)[] = new Array<Block | null>(SLOTS).fill(null);
  /** Times each slot was entered while still interpreted (saturating). */
  readonly hits = new Uint16Array(SLOTS);
}

export class CodeCache implements CodePages {
  readonly marks: Uint8Array;
  /** Per RAM page: its decoded form, or null (read directly by the fast loop). */
  readonly decodedPages: (Int32Array | null)[];
  /** Per decoded page: how often the fast loop jumped to each slot (saturates at jitThreshold). */
  readonly hotPages: (Uint16Array | null)[];
  /** Jumps to a slot before the fast loop runs it as a translated block (0: never; ≤ 65535). */
  jitThreshold = JIT_THRESHOLD;
  private readonly pages: (PageCode | null)[];
  private readonly harts: Hart[] = [];
  /** Interpreted entries of a block before it is compiled (tests set 1: compile at once). */
  hot = 8;
  /** Statistics for the debugger and benchmarks. */
  translated = 0;
  decodes = 0;
  invalidated = 0;

  constructor(readonly ram: Ram) {
    const n = Math.ceil(ram.size / 4096);
    this.marks = new Uint8Array(n);
    this.pages = new Array<PageCode | null>(n).fill(null);
    this.decodedPages = new Array<Int32Array | null>(n).fill(null);
    this.hotPages = new Array<Uint16Array | null>(n).fill(null);
    ram.onExternalWrite = (pa, len) => this.externalWrite(pa, len);
  }

  addHart(h: Hart): void {
    this.harts.push(h);
    h.onCodeWrite = (page) => this.invalidatePage(page);
  }

  /** The block starting at RAM offset `off`, or null. */
  lookup(off: number): Block | null {
    const p = this.pages[off >>> 12];
    return p === null ? null : p.blocks[(off >>> 2) & (SLOTS - 1)];
  }

  /** Counts an interpreted entry at `off` (engine `jit`); returns the new count (saturates). */
  hit(off: number): number {
    const page = off >>> 12;
    let p = this.pages[page];
    if (p === null) p = this.pages[page] = new PageCode();
    const i = (off >>> 2) & (SLOTS - 1);
    const n = p.hits[i];
    if (n < 65535) p.hits[i] = n + 1;
    return n + 1;
  }

  insert(off: number, b: Block): void {
    const page = off >>> 12;
    this.mark(page);
    let p = this.pages[page];
    if (p === null) p = this.pages[page] = new PageCode();
    p.blocks[(off >>> 2) & (SLOTS - 1)] = b;
    this.translated++;
  }

  /** The decoded form of the RAM page holding offset `off` (see decodePage), decoding it once. */
  decoded(off: number): Int32Array {
    const d = this.decodedPages[off >>> 12];
    return d !== null ? d : this.decode(off >>> 12);
  }

  private decode(page: number): Int32Array {
    this.mark(page);
    const d = decodePage(this.ram.i32, page << 10);
    this.decodedPages[page] = d;
    this.hotPages[page] = new Uint16Array(SLOTS);
    this.decodes++;
    return d;
  }

  /** Marks a page as holding code: from now on stores to it take the invalidating slow path. */
  private mark(page: number): void {
    if (this.marks[page] !== 0) return;
    this.marks[page] = 1;
    for (const h of this.harts) h.evictStorePage(page);
  }

  /** Drops everything translated from RAM page `page` (offset >> 12). */
  invalidatePage(page: number): void {
    if (this.marks[page] === 0) return;
    this.marks[page] = 0;
    this.pages[page] = null;
    this.decodedPages[page] = null;
    this.hotPages[page] = null;
    this.invalidated++;
  }

  /** Drops every translation (tests, debugger writes of unknown extent). */
  invalidateAll(): void {
    for (let p = 0; p < this.marks.length; p++) this.invalidatePage(p);
  }

  private externalWrite(pa: number, len: number): void {
    if (len <= 0) return;
    const off = (pa >>> 0) - this.ram.base;
    const first = Math.max(0, Math.floor(off / 4096));
    const last = Math.min(this.marks.length - 1, Math.floor((off + len - 1) / 4096));
    for (let p = first; p <= last; p++) this.invalidatePage(p);
  }
}
