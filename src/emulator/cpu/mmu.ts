// Sv32 address translation (privileged spec §4.3) with a software TLB.
//
// Three direct-mapped TLBs (fetch, load, store) of TLB_SIZE entries, indexed by the low bits of
// the virtual page number (the fetch TLB XORs in a hash of the 4 MiB region: tlb-size.ts
// fetchIndex). An entry holds a tag — the page's address | privilege << 11, so U- and S-mode
// translations of one page never alias — and a delta that turns a virtual address of the page
// into a byte offset in guest RAM: `off = (va + delta) | 0`. Only pages that lie in RAM are
// cached; MMIO pages always take the slow path (they are rare and have side effects anyway).
//
// Permission facts baked into an entry: a load entry exists only if the page was readable under
// the MXR/SUM state at fill time; a store entry only if the page was writable with D already
// set and the page holds no translated code. SUM is part of a data entry's tag (dataKey), so an
// entry filled while S-mode code could reach U pages never hits once SUM is clear, and clearing
// it flushes nothing (Linux sets and clears SUM around every copy to or from user space: the
// flush that used to follow cost the kernel its whole data TLB each time). Clearing MXR flushes
// the load TLB (only when an entry depends on it).
//
// Address spaces: the three TLBs form a bank, and each hart keeps TLB_BANKS banks, one per
// recently used satp value (MODE, ASID and root page table together). A satp write switches to
// the bank of the new value — a context switch back to a recent process finds its translations
// (and the kernel's) still there — or recycles the least recently used bank. So the hit path
// stays one compare, and entries are tagged with their ASID by the bank they live in.
// sfence.vma flushes by address and/or ASID in every matching bank (flushing a global mapping
// with the ASID's non-global ones is allowed over-flushing).

import type { Bus } from '../bus';
import type { HartRegion, Ram } from '../ram';
import { BANK_BYTES, BANKS, FDELTA, FTAG, LDELTA, LTAG, SDELTA, SSTATUS, STAG } from './layout';
import { fetchIndex, TLB_BANKS, TLB_MASK, TLB_SIZE } from './tlb-size';
import { Cause, PRIV_U, SATP_ASID_SHIFT, SATP_PPN_MASK, SSTATUS_MXR, SSTATUS_SUM } from './csr';
import type { WatchTable } from '../watch';

export { TLB_BITS, TLB_SIZE, TLB_MASK, TLB_BANKS, fetchIndex } from './tlb-size';

/**
 * A TLB tag: the page's virtual address with the privilege in bit 11 (a page-offset bit). A
 * lookup compares it with `(va & (-4096 | (width - 1))) | priv << 11`, so one compare checks
 * the page, the privilege and the alignment of the access (a misaligned address never hits).
 * Load/store entries also carry sstatus.SUM (see dataKey).
 */
export function tlbTag(va: number, key: number): number {
  return (va & -4096) | key;
}

/**
 * The key bits of load/store tags: the privilege in bit 11, and sstatus.SUM (bit 18) moved to
 * bit 9, a page-offset bit no address part of a tag has. Fetch tags carry the privilege only.
 */
export function dataKey(priv: number, status: number): number {
  return (priv << 11) | ((status & SSTATUS_SUM) >>> 9);
}

/**
 * Tag bit of a load/store entry for a page holding a watched address (src/emulator/watch.ts):
 * a page-offset bit that no lookup key has (keys carry only bits 0-1 for alignment, 9 for SUM
 * and 11 for the privilege), so the fast paths — JavaScript loops and translated code alike —
 * never match it; every access takes the slow path, which finds the translation here instead
 * of walking the page table again.
 */
export const TLB_WATCHED = 1 << 10;

export const ACC_FETCH = 0;
export const ACC_LOAD = 1;
export const ACC_STORE = 2;
export type Access = 0 | 1 | 2;

const PTE_V = 1;
const PTE_R = 2;
const PTE_W = 4;
const PTE_X = 8;
const PTE_U = 16;
const PTE_G = 32;
const PTE_A = 64;
const PTE_D = 128;

const PAGE_FAULT: readonly Cause[] = [Cause.InsnPageFault, Cause.LoadPageFault, Cause.StorePageFault];
const ACCESS_FAULT: readonly Cause[] = [Cause.InsnAccessFault, Cause.LoadAccessFault, Cause.StoreAccessFault];

/** Pages of RAM holding translated code; shared by all harts (see CodeCache). */
export interface CodePages {
  /** 1 when RAM page i (offset >> 12) has translated blocks: stores to it take the slow path. */
  readonly marks: Uint8Array;
}

/** The fetch, load and store TLBs of one address space (one satp value), in the hart's region. */
class TlbBank {
  readonly ftag: Int32Array;
  readonly fdelta: Int32Array;
  readonly ltag: Int32Array;
  readonly ldelta: Int32Array;
  readonly stag: Int32Array;
  readonly sdelta: Int32Array;
  /** RAM page (offset >> 12) of each store entry, to evict entries of pages that become code. */
  readonly spage: Int32Array;
  /** 1 for entries filled from a global 4 KiB leaf (fetch, load, store: TLB_SIZE each). */
  readonly global = new Uint8Array(3 * TLB_SIZE);
  /**
   * Per 4 MiB region (va >>> 22): 1 once an entry there came from a superpage. One leaf PTE then
   * backs many 4 KiB entries, so sfence.vma of any address in the region flushes the bank.
   */
  readonly superRegion = new Uint8Array(1024);
  /** The satp value these translations belong to; meaningful while `used`. */
  key = 0;
  used = false;
  /** Some entry may be valid (a flush of a clean bank does nothing). */
  filled = false;
  /** True once a load entry was filled thanks to MXR. */
  mxrEntries = false;
  /** Last activation (least recently used banks are recycled first). */
  stamp = 0;

  constructor(buffer: ArrayBufferLike, offset: number) {
    const at = (i: number) => new Int32Array(buffer, offset + i * TLB_SIZE * 4, TLB_SIZE);
    this.ftag = at(0).fill(-1);
    this.fdelta = at(1);
    this.ltag = at(2).fill(-1);
    this.ldelta = at(3);
    this.stag = at(4).fill(-1);
    this.sdelta = at(5);
    this.spage = at(6).fill(-1);
  }

  flush(): void {
    if (!this.filled) return;
    this.ftag.fill(-1);
    this.ltag.fill(-1);
    this.stag.fill(-1);
    this.spage.fill(-1);
    this.global.fill(0);
    this.superRegion.fill(0);
    this.mxrEntries = false;
    this.filled = false;
  }

  /**
   * Drops every entry but those filled from global 4 KiB leaves: sfence.vma x0, asid does not
   * order accesses to global mappings (§4.2.1), and Linux fences a process's ASID on every
   * flush_tlb_mm (exec, exit, munmap): dropping the kernel's entries each time cost ~150 000 of
   * the ~220 000 kernel page walks per `forkbench` (a fetch walk is also a return from
   * translated code to JavaScript).
   */
  flushLocal(): void {
    if (!this.filled) return;
    const g = this.global;
    for (let i = 0; i < TLB_SIZE; i++) {
      if (g[i] === 0) this.ftag[i] = -1;
      if (g[TLB_SIZE + i] === 0) this.ltag[i] = -1;
      if (g[2 * TLB_SIZE + i] === 0) {
        this.stag[i] = -1;
        this.spage[i] = -1;
      }
    }
    // What a superpage or MXR backed is never global (see fill): gone with the rest.
    this.superRegion.fill(0);
    this.mxrEntries = false;
  }

  /** Drops the entries of one virtual page (the whole bank if a superpage covers it). */
  flushPage(va: number): void {
    if (!this.filled) return;
    if (this.superRegion[va >>> 22] !== 0) return this.flush();
    const vpn = va >>> 12;
    const i = vpn & TLB_MASK;
    const f = fetchIndex(va);
    if (this.ftag[f] >>> 12 === vpn) this.ftag[f] = -1;
    if (this.ltag[i] >>> 12 === vpn) this.ltag[i] = -1;
    if (this.stag[i] >>> 12 === vpn) this.stag[i] = -1;
  }

  evictStorePage(page: number): void {
    if (!this.filled) return;
    const sp = this.spage;
    for (let i = 0; i < TLB_SIZE; i++) {
      if (sp[i] === page) {
        this.stag[i] = -1;
        sp[i] = -1;
      }
    }
  }

  /**
   * Takes over the global entries of another address space's bank: global mappings (the
   * kernel's) are the same in every address space (§4.3.1), so a new process starts with the
   * kernel's translations instead of walking for each again.
   */
  inherit(from: TlbBank): void {
    const g = from.global;
    for (let i = 0; i < TLB_SIZE; i++) {
      if (g[i] !== 0) this.copy(from.ftag, from.fdelta, this.ftag, this.fdelta, i, 0);
      if (g[TLB_SIZE + i] !== 0) this.copy(from.ltag, from.ldelta, this.ltag, this.ldelta, i, TLB_SIZE);
      if (g[2 * TLB_SIZE + i] !== 0 && from.stag[i] !== -1) {
        this.copy(from.stag, from.sdelta, this.stag, this.sdelta, i, 2 * TLB_SIZE);
        this.spage[i] = from.spage[i];
      }
    }
  }

  private copy(tags: Int32Array, deltas: Int32Array, toTags: Int32Array, toDeltas: Int32Array, i: number, base: number): void {
    toTags[i] = tags[i];
    toDeltas[i] = deltas[i];
    this.global[base + i] = 1;
    this.filled = true;
  }

  /** True when sfence.vma with rs2 = `asid` (or -1: rs2 = x0, every address space) covers this bank. */
  matches(asid: number): boolean {
    return this.used && (asid < 0 || ((this.key >>> SATP_ASID_SHIFT) & 0x1ff) === asid);
  }
}

export class Mmu {
  /** Current privilege (PRIV_U or PRIV_S). */
  priv = 1;
  /** sstatus (only the implemented bits), in the state region (translated code writes it too). */
  get status(): number {
    return this.cells[SSTATUS >> 2];
  }
  set status(v: number) {
    this.cells[SSTATUS >> 2] = v;
  }

  private readonly banks: TlbBank[] = [];
  private bank: TlbBank;
  private bankClock = 0;
  private satpValue = 0;

  // The current bank's TLBs (swapped by satp writes; the run loops read them once per run).
  ftag: Int32Array;
  fdelta: Int32Array;
  ltag: Int32Array;
  ldelta: Int32Array;
  stag: Int32Array;
  sdelta: Int32Array;

  /** Set by translate() when it fails: the exception cause to raise. */
  xcause: Cause = 0;
  /** Data watchpoints, or null when none is set (src/emulator/watch.ts; the machine installs it). */
  watch: WatchTable | null = null;

  readonly ramBase: number;
  readonly ramSize: number;
  /** The hart's state region (layout.ts) and its header words. */
  readonly region: HartRegion;
  readonly cells: Int32Array;

  constructor(
    readonly ram: Ram,
    readonly bus: Bus,
    readonly code: CodePages,
    region: HartRegion,
  ) {
    this.ramBase = ram.base;
    this.ramSize = ram.size;
    this.region = region;
    this.cells = new Int32Array(region.buffer, region.offset, BANKS >> 2);
    this.status = 0;
    for (let i = 0; i < TLB_BANKS; i++) this.banks.push(new TlbBank(region.buffer, region.offset + BANKS + i * BANK_BYTES));
    this.bank = this.banks[0];
    this.publish(this.bank);
    this.bank.used = true;
    this.ftag = this.bank.ftag;
    this.fdelta = this.bank.fdelta;
    this.ltag = this.bank.ltag;
    this.ldelta = this.bank.ldelta;
    this.stag = this.bank.stag;
    this.sdelta = this.bank.sdelta;
  }

  /** satp. Writing it switches to that address space's TLBs (WARL: every value is kept). */
  get satp(): number {
    return this.satpValue;
  }
  set satp(v: number) {
    v |= 0;
    this.satpValue = v;
    if (this.bank.key === v) return;
    let b: TlbBank | null = null;
    let lru: TlbBank | null = null;
    for (const c of this.banks) {
      if (c.used && c.key === v) b = c;
      if (c !== this.bank && (lru === null || c.stamp < lru.stamp)) lru = c;
    }
    if (b === null) {
      b = lru!;
      b.flush();
      b.key = v;
      b.used = true;
      b.inherit(this.bank);
    }
    this.activate(b);
  }

  private activate(b: TlbBank): void {
    b.stamp = ++this.bankClock;
    this.bank = b;
    // Load entries filled under MXR in this address space earlier must not outlive the bit.
    if (b.mxrEntries && (this.status & SSTATUS_MXR) === 0) {
      b.ltag.fill(-1);
      b.mxrEntries = false;
    }
    this.ftag = b.ftag;
    this.fdelta = b.fdelta;
    this.ltag = b.ltag;
    this.ldelta = b.ldelta;
    this.stag = b.stag;
    this.sdelta = b.sdelta;
    this.publish(b);
  }

  /** Tells translated code where the current bank's arrays are (byte offsets in memory). */
  private publish(b: TlbBank): void {
    const c = this.cells;
    c[FTAG >> 2] = b.ftag.byteOffset;
    c[FDELTA >> 2] = b.fdelta.byteOffset;
    c[LTAG >> 2] = b.ltag.byteOffset;
    c[LDELTA >> 2] = b.ldelta.byteOffset;
    c[STAG >> 2] = b.stag.byteOffset;
    c[SDELTA >> 2] = b.sdelta.byteOffset;
  }

  /** Forgets every translation of every address space. */
  flushTlb(): void {
    for (const b of this.banks) b.flush();
  }

  /** Drops the entries of one virtual page in every address space. */
  flushTlbPage(va: number): void {
    for (const b of this.banks) b.flushPage(va);
  }

  /**
   * SFENCE.VMA (§4.2.1): `va` < 0 means rs1 = x0 (every page), `asid` < 0 means rs2 = x0
   * (every address space). Non-global entries of other ASIDs stay.
   */
  fence(va: number, hasVa: boolean, asid: number): void {
    for (const b of this.banks) {
      if (!b.matches(asid)) continue;
      if (hasVa) b.flushPage(va);
      else if (asid >= 0) b.flushLocal();
      else b.flush();
    }
  }

  /** Evicts store entries that point into RAM page `page` (it now holds translated code). */
  evictStorePage(page: number): void {
    for (const b of this.banks) b.evictStorePage(page);
  }

  /**
   * Called when sstatus changes: load entries filled under MXR may now be too permissive. (SUM
   * needs nothing: it is part of the data entries' key.)
   */
  protected statusChanged(old: number, now: number): void {
    const b = this.bank;
    if ((old & ~now & SSTATUS_MXR) !== 0 && b.mxrEntries) {
      b.ltag.fill(-1);
      b.mxrEntries = false;
    }
  }

  /**
   * Translates `va` for an access; returns the physical address (uint32 as a number) or -1 with
   * `xcause` set. Fills the matching TLB when the page is in RAM.
   */
  translate(va: number, acc: Access): number {
    // Watchpoint hook: a watched page's entry carries TLB_WATCHED (see fill).
    if (this.watch !== null && acc !== ACC_FETCH) {
      const i = (va >>> 12) & TLB_MASK;
      const key = tlbTag(va, dataKey(this.priv, this.status)) | TLB_WATCHED;
      if (acc === ACC_LOAD ? this.ltag[i] === key : this.stag[i] === key) return ((va + (acc === ACC_LOAD ? this.ldelta[i] : this.sdelta[i])) | 0) + this.ramBase;
    }
    return this.walk(va, acc, true);
  }

  /**
   * The same translation for a debugger or an inspector: no TLB fill, no A/D update, no fault
   * state. Returns the physical address or -1. `priv` defaults to the hart's current mode.
   */
  probe(va: number, acc: Access, priv = this.priv): number {
    const saved = this.priv;
    const savedCause = this.xcause;
    this.priv = priv;
    const pa = this.walk(va, acc, false);
    this.priv = saved;
    this.xcause = savedCause;
    return pa;
  }

  private walk(va: number, acc: Access, commit: boolean): number {
    va >>>= 0;
    const priv = this.priv;
    if (this.satp >= 0) {
      // Bare: identity, no protection.
      if (commit) this.fill(va, va, acc, false, false, false, false);
      return va;
    }
    const ram = this.ram;
    const i32 = ram.i32;
    const base = this.ramBase;
    const size = this.ramSize;
    // Level 1.
    let pteAddr = (this.satp & SATP_PPN_MASK) * 4096 + (va >>> 22) * 4;
    let off = pteAddr - base;
    if (off < 0 || off >= size) return this.fail(ACCESS_FAULT[acc]);
    let pte = i32[off >> 2];
    if ((pte & PTE_V) === 0 || (pte & (PTE_R | PTE_W)) === PTE_W) return this.fail(PAGE_FAULT[acc]);
    let superpage = true;
    if ((pte & (PTE_R | PTE_X)) === 0) {
      // Pointer to the next level.
      superpage = false;
      pteAddr = (pte >>> 10) * 4096 + ((va >>> 12) & 0x3ff) * 4;
      off = pteAddr - base;
      if (off < 0 || off >= size) return this.fail(ACCESS_FAULT[acc]);
      pte = i32[off >> 2];
      if ((pte & PTE_V) === 0 || (pte & (PTE_R | PTE_W)) === PTE_W) return this.fail(PAGE_FAULT[acc]);
      if ((pte & (PTE_R | PTE_X)) === 0) return this.fail(PAGE_FAULT[acc]); // no level below 0
    } else if (((pte >>> 10) & 0x3ff) !== 0) {
      return this.fail(PAGE_FAULT[acc]); // misaligned superpage
    }
    // Permissions.
    let viaSum = false;
    if ((pte & PTE_U) !== 0) {
      if (priv !== PRIV_U) {
        if (acc === ACC_FETCH || (this.status & SSTATUS_SUM) === 0) return this.fail(PAGE_FAULT[acc]);
        viaSum = true;
      }
    } else if (priv === PRIV_U) {
      return this.fail(PAGE_FAULT[acc]);
    }
    let viaMxr = false;
    if (acc === ACC_FETCH) {
      if ((pte & PTE_X) === 0) return this.fail(PAGE_FAULT[acc]);
    } else if (acc === ACC_LOAD) {
      if ((pte & PTE_R) === 0) {
        if ((pte & PTE_X) === 0 || (this.status & SSTATUS_MXR) === 0) return this.fail(PAGE_FAULT[acc]);
        viaMxr = true;
      }
    } else if ((pte & PTE_W) === 0) {
      return this.fail(PAGE_FAULT[acc]);
    }
    // Accessed/dirty, set by the walker (Svadu-style, as semu does).
    const want = acc === ACC_STORE ? PTE_A | PTE_D : PTE_A;
    if ((pte & want) !== want && commit) {
      pte |= want;
      i32[off >> 2] = pte;
    }
    // Physical address: PPN is 22 bits, so it can exceed 32 bits; nothing answers up there.
    const ppn = pte >>> 10;
    const pa = superpage ? (ppn >>> 10) * 0x400000 + (va & 0x3fffff) : ppn * 4096 + (va & 0xfff);
    if (pa > 0xffffffff) return this.fail(ACCESS_FAULT[acc]);
    // A data access fills the other data TLB too when the PTE allows that access without another
    // walk: a store entry needs W with D already set; a load entry needs R, which W implies (W
    // without R faulted above). Early boot reads and then writes a PTE through the fixmap
    // ~130 000 times, one pair of walks each.
    const both = acc === ACC_STORE || (acc === ACC_LOAD && (pte & (PTE_W | PTE_D)) === (PTE_W | PTE_D));
    if (commit) this.fill(va, pa, acc, viaSum, viaMxr, superpage, (pte & PTE_G) !== 0, both);
    return pa;
  }

  private fail(cause: Cause): number {
    this.xcause = cause;
    return -1;
  }

  private fill(va: number, pa: number, acc: Access, viaSum: boolean, viaMxr: boolean, superpage: boolean, global: boolean, both = false): void {
    const off = (pa - (pa & 0xfff)) - this.ramBase;
    if (off < 0 || off + 4096 > this.ramSize) return;
    const b = this.bank;
    b.filled = true;
    if (superpage) b.superRegion[va >>> 22] = 1;
    const vpn = va >>> 12;
    const i = vpn & TLB_MASK;
    // Watchpoint hook: a page holding a watched address is tagged so the fast paths miss it.
    const watched = acc !== ACC_FETCH && this.watch !== null && this.watch.blocksPage(va, pa);
    const tag = tlbTag(va, acc === ACC_FETCH ? this.priv << 11 : dataKey(this.priv, this.status)) | (watched ? TLB_WATCHED : 0);
    const delta = (off - (va & ~0xfff)) | 0;
    // Entries a new address space may inherit: global 4 KiB leaves that no SUM/MXR state allowed.
    const inheritable = global && !superpage && !viaSum && !viaMxr ? 1 : 0;
    if (acc === ACC_FETCH) {
      const f = fetchIndex(va);
      this.ftag[f] = tag;
      this.fdelta[f] = delta;
      b.global[f] = inheritable;
      return;
    }
    if (acc === ACC_LOAD || both) {
      this.ltag[i] = tag;
      this.ldelta[i] = delta;
      b.global[TLB_SIZE + i] = inheritable;
      if (viaMxr) b.mxrEntries = true;
    }
    // Stores to a code page must reach the slow path, which invalidates its code.
    if ((acc === ACC_STORE || both) && this.code.marks[off >>> 12] === 0) {
      this.stag[i] = tag;
      this.sdelta[i] = delta;
      b.spage[i] = off >>> 12;
      b.global[2 * TLB_SIZE + i] = inheritable;
    }
  }
}
