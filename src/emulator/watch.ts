// Data watchpoints (DAP data breakpoints, gdb Z2-Z4) implemented in the machine, so the harts'
// accesses and the devices' DMA writes are caught alike.
//
// Cost model: with no watchpoint the harts hold no reference to the table (Hart.watch === null)
// and RAM's write hook is not wrapped, so nothing runs. With watchpoints, the load/store TLB
// entries of pages that hold a watched byte are tagged TLB_WATCHED (Mmu.fill asks blocksPage),
// which the fast paths never match: every access to those pages takes the slow path, finds its
// translation by that tag (no page-table walk), and check() compares it against the few watched
// ranges. Other pages keep their fast path. A hit sets hart.stop: the access completes and the
// instruction retires, then the machine stops (the "after" semantics gdb expects on RISC-V).
//
// The whole interface with the CPU (each spot marked "watchpoint hook"; a new engine carries
// these over and nothing else):
//   Mmu.watch                     the table, or null when no watchpoint is set (Machine sets it)
//   Mmu.fill                      tags a load/store entry TLB_WATCHED when blocksPage(va, pa)
//   Mmu.translate                 a TLB_WATCHED entry answers the slow path without a walk
//   Mmu.flushPage                 compares page numbers only (tag >>> 12), so TLB_WATCHED entries go too
//   Hart.loadSlow / storeSlow (LR/SC go through them) / amo
//                                 check(hart, va, pa, width, isWrite, isAmo, pc) after translating
// Fetches are never watched. A TLB that keeps its tags elsewhere only needs "an entry of a page
// blocksPage() names never matches a fast path" and to be flushed when setWatchpoints() runs.

export const WATCH_READ = 1;
export const WATCH_WRITE = 2;
export const WATCH_ACCESS = 3;

/** Most watchpoints at once (real hardware has 2-8 triggers; this bounds the slow-path scan). */
export const MAX_WATCHPOINTS = 32;

export interface Watchpoint {
  id: number;
  /** Virtual (through the accessing hart's satp) or physical address of the first byte. */
  addr: number;
  /** Bytes watched: 1-8. */
  len: number;
  /** WATCH_READ, WATCH_WRITE or WATCH_ACCESS. */
  kind: number;
  physical: boolean;
}

export interface WatchHit {
  /** The watchpoints the access touched. */
  ids: number[];
  /** WATCH_READ or WATCH_WRITE (an AMO is reported as a write). */
  access: number;
  /** The accessed address (virtual for a hart's access to a virtual watchpoint, else physical). */
  addr: number;
  width: number;
  /** Hart that made the access, or -1 for a device's DMA. */
  hart: number;
  /** pc of the accessing instruction (0 for DMA). */
  pc: number;
}

/** The hart fields the table touches (Hart satisfies it). */
export interface Watcher {
  readonly id: number;
  stop: boolean;
}

export class WatchTable {
  private list: Watchpoint[] = [];
  /** Page numbers holding a watched byte (a few: a scan beats a Set at this size). */
  private virtPages = new Int32Array(0);
  private physPages = new Int32Array(0);
  /** The access that stopped the machine, until the next run clears it. */
  hit: WatchHit | null = null;
  /** DMA writes count only while the machine runs guest work (not the debugger's own writes). */
  armed = false;
  /** Called when a DMA write hits: the machine stops the hart that is running. */
  onDmaHit: () => void = () => {};

  get active(): boolean {
    return this.list.length > 0;
  }

  get watchpoints(): readonly Watchpoint[] {
    return this.list;
  }

  /** Replaces every watchpoint; throws (nothing changed) for a bad one. The caller flushes TLBs. */
  set(list: readonly Watchpoint[]): void {
    if (list.length > MAX_WATCHPOINTS) throw new Error(`at most ${MAX_WATCHPOINTS} data breakpoints at once (${list.length} asked)`);
    for (const w of list) {
      if (!Number.isInteger(w.len) || w.len < 1 || w.len > 8) throw new Error(`a data breakpoint watches 1 to 8 bytes, not ${w.len}`);
      if (w.kind !== WATCH_READ && w.kind !== WATCH_WRITE && w.kind !== WATCH_ACCESS) throw new Error(`unknown data breakpoint kind ${w.kind}`);
      if (!Number.isInteger(w.addr) || w.addr < 0 || w.addr > 0xffffffff) throw new Error(`bad data breakpoint address ${w.addr}`);
    }
    this.list = list.map((w) => ({ ...w, addr: w.addr >>> 0 }));
    const pages = (physical: boolean) => {
      const s = new Set<number>();
      for (const w of this.list) {
        if (w.physical !== physical) continue;
        s.add(w.addr >>> 12);
        s.add(((w.addr + w.len - 1) >>> 0) >>> 12);
      }
      return Int32Array.from(s);
    };
    this.virtPages = pages(false);
    this.physPages = pages(true);
  }

  /** TLB fill: true when the page holds a watched byte (its accesses must take the slow path). */
  blocksPage(va: number, pa: number): boolean {
    const vp = va >>> 12;
    const v = this.virtPages;
    for (let i = 0; i < v.length; i++) if (v[i] === vp) return true;
    const pp = (pa / 4096) | 0;
    const p = this.physPages;
    for (let i = 0; i < p.length; i++) if (p[i] === pp) return true;
    return false;
  }

  /** A hart's data access on the slow path; `write` true for stores and AMOs. */
  check(h: Watcher, va: number, pa: number, width: number, write: boolean, amo: boolean, pc: number): void {
    const list = this.list;
    let ids: number[] | null = null;
    let virtual = false;
    for (let i = 0; i < list.length; i++) {
      const w = list[i];
      const want = amo ? WATCH_ACCESS : write ? WATCH_WRITE : WATCH_READ;
      if ((w.kind & want) === 0) continue;
      const a = w.physical ? pa : va >>> 0;
      if (a + width <= w.addr || a >= w.addr + w.len) continue;
      (ids ??= []).push(w.id);
      if (!w.physical) virtual = true;
    }
    if (ids === null || this.hit !== null) return;
    this.hit = { ids, access: write || amo ? WATCH_WRITE : WATCH_READ, addr: virtual ? va >>> 0 : pa, width, hart: h.id, pc: pc >>> 0 };
    h.stop = true;
  }

  /** A device wrote guest RAM [pa, pa+len): physical write watchpoints fire. */
  dma(pa: number, len: number): void {
    if (!this.armed || this.hit !== null) return;
    const list = this.list;
    let ids: number[] | null = null;
    let first = 0;
    for (let i = 0; i < list.length; i++) {
      const w = list[i];
      if (!w.physical || (w.kind & WATCH_WRITE) === 0) continue;
      if (pa + len <= w.addr || pa >= w.addr + w.len) continue;
      if (ids === null) first = w.addr;
      (ids ??= []).push(w.id);
    }
    if (ids === null) return;
    this.hit = { ids, access: WATCH_WRITE, addr: Math.max(pa, first), width: len, hart: -1, pc: 0 };
    this.onDmaHit();
  }
}
