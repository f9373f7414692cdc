// Code caches, indexed by guest-physical page: per RAM page that holds code, its decoded form
// (for the fast loop), how often each slot was entered, and its translation (translate.ts).
// Physical indexing means address-space switches (satp, sfence.vma) never invalidate them;
// what does is a change of the bytes themselves:
//  - a hart's store to a marked page: such stores never hit the store TLB (entries for a page
//    are evicted when it becomes code), so they reach Hart.storeSlow, which calls back here;
//  - anything else writing RAM (virtio DMA, the debugger, image loading): Ram.noteWrite.
// So FENCE.I has nothing left to do, and translated code is never stale past a store.
//
// Bounded: at most `maxPages` pages are decoded at a time (the least recently decoded page
// goes first; it is decoded again when it runs again; with a CPU area, the page at place i of
// that ring lives in frame i: layout.ts), and a page is translated at most
// `maxVersions` times: each new hot entry retranslates it, the first FREE_VERSIONS times at
// once and then only after twice as many further hot entries each time (after that, new
// entries stay in the fast loop). The backoff is for pages whose entries keep moving: `memset`
// is entered by a computed jump at up to 32 slots and used up four versions in every boot,
// leaving 1.5 M instructions of each `forkbench` in the fast loop.

import { codeFrames, CPU_AREA_HARTS, MAX_DECODED_PAGES, type Ram } from '../ram';
import type { CodePages } from './mmu';
import type { Hart } from './hart';
import { logger } from '../../log';
import { decodePage, PAGE_END } from './predecode';
import { FRAME_BYTES, FRAME_END_SLOT, FRAME_HEAT, FRAME_LABELS } from './layout';
import { Translator, type ModuleBatch } from './translate';

const log = logger('cpu');

const SLOTS = 1024; // 4-byte instruction slots per 4 KiB page

/** Entries into a slot before its page is translated (see docs/cpu.md, "Engines"). */
export const HOT_THRESHOLD = 20000;
/** Translations of one page at most. */
export const MAX_VERSIONS = 12;
/** Translations of one page made as soon as a slot is hot; later ones back off (see above). */
export const FREE_VERSIONS = 4;
/** Background mode: how long a translation waits for others to share its module (ms). */
export const BATCH_MS = 20;
/** Background mode: pages in one module at most. */
export const BATCH_PAGES = 32;

export class CodeCache implements CodePages {
  readonly marks: Uint8Array;
  /** Per RAM page: its decoded form, or null (read directly by the fast loop). */
  readonly decodedPages: (Int32Array | null)[];
  /** Per decoded page: entries into each slot while it ran in the fast loop (saturating). */
  readonly heatPages: (Uint16Array | null)[];
  /** Per translated RAM page: 1 for each slot its function can be entered at (else null). */
  readonly labelPages: (Uint8Array | null)[];
  /** The page translator: null when RAM is not WebAssembly memory (Ram.allocate). */
  readonly translator: Translator | null;
  /** Entries into a slot before its page is translated (0: never translate; ≤ 65535). */
  hotThreshold = HOT_THRESHOLD;
  maxVersions = MAX_VERSIONS;
  /**
   * Compile translations on V8's background threads, installing each when the event loop next
   * turns (the worker yields between slices). Off: compile on the spot (tests, the warm-up).
   */
  compileInBackground = false;
  /**
   * Background mode: a translation waits up to `batchMs` for others to share its module, which
   * holds `batchPages` pages at most (calls between modules cost several times calls within one:
   * translate.ts ModuleBatch).
   */
  batchMs = BATCH_MS;
  batchPages = BATCH_PAGES;
  private batch: ModuleBatch | null = null;
  /** Per page of `batch`: its generation when translated. */
  private batchGenerations: number[] = [];
  private batchTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly versions: Uint8Array;
  /** Per page past FREE_VERSIONS: hot slots refused since its last translation. */
  private readonly refused: Uint16Array;
  /** Per page: 1 while a translation compiles in the background. */
  private readonly pending: Uint8Array;
  /** Per page: bumped when it is invalidated, so a late translation of old bytes is dropped. */
  private readonly generation: Uint32Array;
  private readonly harts: Hart[] = [];
  /** Decoded pages in decode order (a ring), for eviction. */
  private readonly order: Int32Array;
  /** Per page: its place in `order` while decoded, else -1. */
  private readonly ringPos: Int32Array;
  private orderHead = 0;
  private live = 0;
  readonly maxPages: number;
  /**
   * With a CPU area (Ram.allocate), decoded pages live in its frames, frame i holding the page
   * at place i of `order`, and `directory` maps each RAM page to its frame's byte offset (0: not
   * decoded) for the fast loop in WebAssembly. Else they are arrays of their own.
   */
  private readonly framesOffset: number;
  private readonly directory: Int32Array | null;

  // Statistics for the debugger and benchmarks.
  /** Page translations (retranslations included). */
  translated = 0;
  /** WebAssembly modules compiled (one per translation, or per batch in background mode). */
  modules = 0;
  /** Instructions translated, summed over translations. */
  translatedInsns = 0;
  /** Bytes of WebAssembly generated, summed. */
  translatedBytes = 0;
  /** Milliseconds spent generating and compiling. */
  translateMs = 0;
  decodes = 0;
  invalidated = 0;

  constructor(
    readonly ram: Ram,
    maxPages = MAX_DECODED_PAGES,
  ) {
    const n = Math.ceil(ram.size / 4096);
    this.framesOffset = ram.framesOffset;
    this.directory = ram.directoryOffset >= 0 ? new Int32Array(ram.buffer, ram.directoryOffset, n) : null;
    this.maxPages = Math.min(maxPages, n, this.directory !== null ? codeFrames(ram.size) : n);
    this.marks = new Uint8Array(n);
    this.versions = new Uint8Array(n);
    this.refused = new Uint16Array(n);
    this.pending = new Uint8Array(n);
    this.generation = new Uint32Array(n);
    this.decodedPages = new Array<Int32Array | null>(n).fill(null);
    this.heatPages = new Array<Uint16Array | null>(n).fill(null);
    this.labelPages = new Array<Uint8Array | null>(n).fill(null);
    this.order = new Int32Array(this.maxPages).fill(-1);
    this.ringPos = new Int32Array(n).fill(-1);
    this.translator = ram.memory !== null && ram.cpuArea >= 0 ? new Translator(ram, this.harts) : null;
    ram.onExternalWrite = (pa, len) => this.externalWrite(pa, len);
  }

  addHart(h: Hart): void {
    this.harts.push(h);
    h.onCodeWrite = (page) => this.invalidatePage(page);
  }

  /** The decoded form of RAM page `page` (see decodePage), decoding it now if needed. */
  decode(page: number): Int32Array {
    const have = this.decodedPages[page];
    if (have !== null) return have;
    // Keep at most maxPages: the slot in the ring may hold an older page to let go.
    const old = this.order[this.orderHead];
    if (old >= 0 && this.ringPos[old] === this.orderHead) this.invalidatePage(old);
    const at = this.orderHead;
    this.order[at] = page;
    this.ringPos[page] = at;
    this.orderHead = (at + 1) % this.maxPages;
    this.mark(page);
    let d: Int32Array;
    if (this.directory !== null) {
      const frame = this.framesOffset + at * FRAME_BYTES;
      const buf = this.ram.buffer;
      d = decodePage(this.ram.i32, page << 10, new Int32Array(buf, frame, 2 * SLOTS));
      new Int32Array(buf, frame + FRAME_END_SLOT, 2).set([PAGE_END, 0]);
      this.heatPages[page] = new Uint16Array(buf, frame + FRAME_HEAT, SLOTS).fill(0);
      new Uint8Array(buf, frame + FRAME_LABELS, SLOTS).fill(0);
      this.directory[page] = frame;
    } else {
      d = decodePage(this.ram.i32, page << 10);
      this.heatPages[page] = new Uint16Array(SLOTS);
    }
    this.decodedPages[page] = d;
    this.decodes++;
    this.live++;
    return d;
  }

  /** Installs the labels of page `page`'s new translation (its frame's copy when it has one). */
  private setLabels(page: number, labels: Uint8Array): void {
    if (this.directory === null) {
      this.labelPages[page] = labels;
      return;
    }
    const view = new Uint8Array(this.ram.buffer, this.directory[page] + FRAME_LABELS, SLOTS);
    view.set(labels);
    this.labelPages[page] = view;
  }

  /**
   * Translates RAM page `page` (decoded, and just found hot at slot `slot`). Returns false when
   * the page may not be translated (again).
   */
  translate(h: Hart, page: number, slot: number): boolean {
    const d = this.decodedPages[page];
    const heat = this.heatPages[page];
    const tr = this.translator;
    if (tr === null || d === null || heat === null || h.id >= CPU_AREA_HARTS) return false;
    if (this.pending[page] !== 0 || !this.mayTranslateAgain(page)) {
      // Not now (compiling, backing off) or not again: the slot counts its entries from zero,
      // instead of asking on each of them (tens of thousands a second in a steady guest).
      heat[slot] = 0;
      return false;
    }
    const t0 = performance.now();
    const old = this.labelPages[page];
    // Entries: the hot slot, the old entries, and slots entered at least a quarter as often
    // (code entered a few times is left to the fast loop: compiling it costs more than it saves).
    const warm = Math.max(1, this.hotThreshold >> 2);
    const entries: number[] = [];
    for (let s = 0; s < SLOTS; s++) if (heat[s] >= warm || s === slot || (old !== null && old[s] !== 0)) entries.push(s);
    const bg = this.compileInBackground;
    const batch = bg ? (this.batch ??= tr.batch()) : tr.batch();
    const code = batch.add(d, page, entries);
    this.versions[page]++;
    // The other slots keep their counts: one entered now and then joins the next translation
    // once warm, instead of starting from zero each time another slot of its page gets hot.
    this.translated++;
    this.translatedInsns += code.length;
    if (bg) {
      // The page keeps running in the fast loop until its module is ready (and still current).
      this.pending[page] = 1;
      this.batchGenerations.push(this.generation[page]);
      if (batch.pages.length >= this.batchPages) this.flush();
      else if (this.batchTimer === null) {
        this.batchTimer = setTimeout(() => this.flush(), this.batchMs);
        this.batchTimer.unref?.();
      }
    } else {
      this.translatedBytes += tr.installSync(batch);
      this.modules++;
      this.setLabels(page, code.labels);
    }
    this.translateMs += performance.now() - t0;
    return !bg;
  }

  /**
   * Compiles the pages gathered for one module (background mode) on V8's threads; each is
   * installed when it is done, unless its page changed meanwhile. The promise settles then.
   */
  flush(): Promise<void> {
    const { batch, generations } = this.takeBatch();
    if (batch === null) return Promise.resolve();
    const t0 = performance.now();
    this.modules++;
    const { size, done } = this.translator!.installAsync(batch, (i) => {
      const page = batch.pages[i];
      this.pending[page] = 0;
      if (this.generation[page] !== generations[i]) return false; // the page changed meanwhile
      this.setLabels(page, batch.codes[i].labels);
      return true;
    });
    this.translatedBytes += size;
    this.translateMs += performance.now() - t0;
    return done.catch((e: Error) => {
      for (const page of batch.pages) this.pending[page] = 0;
      log.warn(`translation of RAM pages ${batch.pages.join(', ')} failed: ${e.message}`);
    });
  }

  /** Drops translations not compiled yet and their timer (the machine shuts down). */
  dispose(): void {
    this.takeBatch();
  }

  /** The batch waiting to be compiled (and its pages' generations); the cache starts a new one. */
  private takeBatch(): { batch: ModuleBatch | null; generations: number[] } {
    if (this.batchTimer !== null) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    const taken = { batch: this.batch, generations: this.batchGenerations };
    this.batch = null;
    this.batchGenerations = [];
    return taken;
  }

  /**
   * Whether a page may be translated once more: its first FREE_VERSIONS translations at once,
   * version v after 2^(v - FREE_VERSIONS) hot slots were refused since the last one, none past
   * maxVersions.
   */
  private mayTranslateAgain(page: number): boolean {
    const v = this.versions[page];
    if (v >= this.maxVersions) return false;
    if (v < FREE_VERSIONS) return true;
    if (++this.refused[page] < 1 << (v - FREE_VERSIONS)) return false;
    this.refused[page] = 0;
    return true;
  }

  /** The fast loop's runs in WebAssembly for hart `h` (wasm-loop.ts), or null (no CPU area for it). */
  loopFor(h: Hart): ((hs: number, k: number, limit: number, pc: number, off: number) => number) | null {
    return this.translator !== null && h.id < CPU_AREA_HARTS ? this.translator.loop : null;
  }

  /**
   * Runs translated code (see Translator.run). A method, so the fast loop calls one function
   * whichever machine it runs: each machine's dispatcher is another function to V8.
   */
  enter(hs: number, k: number, budget: number): number {
    return this.translator!.run(hs, k, budget);
  }

  /** Marks a page as holding code: from now on stores to it take the invalidating slow path. */
  private mark(page: number): void {
    if (this.marks[page] !== 0) return;
    this.marks[page] = 1;
    for (const h of this.harts) h.evictStorePage(page);
  }

  /** Drops everything decoded or translated from RAM page `page` (offset >> 12). */
  invalidatePage(page: number): void {
    if (this.marks[page] === 0) return;
    this.marks[page] = 0;
    if (this.decodedPages[page] !== null) this.live--;
    this.ringPos[page] = -1;
    this.versions[page] = 0;
    this.refused[page] = 0;
    this.generation[page]++;
    this.decodedPages[page] = null;
    this.heatPages[page] = null;
    if (this.labelPages[page] !== null) this.translator!.drop(page);
    this.labelPages[page] = null;
    // Its frame is out of the directory; decode() clears the counts and labels when it reuses it.
    if (this.directory !== null) this.directory[page] = 0;
    this.invalidated++;
  }

  /** Drops every translation (tests, debugger writes of unknown extent). */
  invalidateAll(): void {
    for (let p = 0; p < this.marks.length; p++) this.invalidatePage(p);
  }

  /** Pages decoded now. */
  get decodedCount(): number {
    return this.live;
  }

  private externalWrite(pa: number, len: number): void {
    if (len <= 0) return;
    const off = (pa >>> 0) - this.ram.base;
    const first = Math.max(0, Math.floor(off / 4096));
    const last = Math.min(this.marks.length - 1, Math.floor((off + len - 1) / 4096));
    for (let p = first; p <= last; p++) this.invalidatePage(p);
  }
}
