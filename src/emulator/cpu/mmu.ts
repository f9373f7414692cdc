// Sv32 address translation (privileged spec §4.3) with a software TLB.
//
// Three direct-mapped TLBs (fetch, load, store) of TLB_SIZE entries, indexed by the low bits of
// the virtual page number. An entry holds a tag — (vpn << 1) | privilege, so U- and S-mode
// translations of one page never alias — and a delta that turns a virtual address of the page
// into a byte offset in guest RAM: `off = (va + delta) | 0`. Only pages that lie in RAM are
// cached; MMIO pages always take the slow path (they are rare and have side effects anyway).
//
// Permission facts baked into an entry: a load entry exists only if the page was readable under
// the MXR/SUM state at fill time; a store entry only if the page was writable with D already
// set and the page holds no translated code. Changing SUM/MXR therefore flushes the data TLBs
// (only when an entry depends on it), and satp writes / sfence.vma flush as the spec requires.

import type { Bus } from '../bus';
import type { Ram } from '../ram';
import { Cause, PRIV_U, SATP_PPN_MASK, SSTATUS_MXR, SSTATUS_SUM } from './csr';
import type { WatchTable } from '../watch';

export const TLB_BITS = 10;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;

/**
 * Tag bit of a load/store entry for a page holding a watched address (src/emulator/watch.ts):
 * the fast paths never match it, so every access takes the slow path, which finds the
 * translation here instead of walking the page table again.
 */
export const TLB_WATCHED = 1 << 30;

export const ACC_FETCH = 0;
export const ACC_LOAD = 1;
export const ACC_STORE = 2;
export type Access = 0 | 1 | 2;

const PTE_V = 1;
const PTE_R = 2;
const PTE_W = 4;
const PTE_X = 8;
const PTE_U = 16;
const PTE_A = 64;
const PTE_D = 128;

const PAGE_FAULT: readonly Cause[] = [Cause.InsnPageFault, Cause.LoadPageFault, Cause.StorePageFault];
const ACCESS_FAULT: readonly Cause[] = [Cause.InsnAccessFault, Cause.LoadAccessFault, Cause.StoreAccessFault];

/** Pages of RAM holding translated code; shared by all harts (see CodeCache). */
export interface CodePages {
  /** 1 when RAM page i (offset >> 12) has translated blocks: stores to it take the slow path. */
  readonly marks: Uint8Array;
}

export class Mmu {
  /** Current privilege (PRIV_U or PRIV_S). */
  priv = 1;
  /** sstatus (only the implemented bits). */
  status = 0;
  satp = 0;

  readonly ftag = new Int32Array(TLB_SIZE).fill(-1);
  readonly fdelta = new Int32Array(TLB_SIZE);
  readonly ltag = new Int32Array(TLB_SIZE).fill(-1);
  readonly ldelta = new Int32Array(TLB_SIZE);
  readonly stag = new Int32Array(TLB_SIZE).fill(-1);
  readonly sdelta = new Int32Array(TLB_SIZE);
  /** RAM page (offset >> 12) of each store entry, to evict entries of pages that become code. */
  readonly spage = new Int32Array(TLB_SIZE).fill(-1);

  /** Data watchpoints, or null when none is set (src/emulator/watch.ts; the machine installs it). */
  watch: WatchTable | null = null;

  /** Set by translate() when it fails: the exception cause to raise. */
  xcause: Cause = 0;
  /** True once a data entry of a U page was filled in S-mode (valid only while SUM=1). */
  private sumEntries = false;
  /** True once a load entry was filled thanks to MXR. */
  private mxrEntries = false;
  /**
   * Per 4 MiB region (va >>> 22): 1 once an entry there came from a superpage. One leaf PTE then
   * backs many 4 KiB entries, so sfence.vma of any address in the region flushes everything.
   */
  private readonly superRegion = new Uint8Array(1024);

  readonly ramBase: number;
  readonly ramSize: number;

  constructor(
    readonly ram: Ram,
    readonly bus: Bus,
    readonly code: CodePages,
  ) {
    this.ramBase = ram.base;
    this.ramSize = ram.size;
  }

  flushTlb(): void {
    this.ftag.fill(-1);
    this.ltag.fill(-1);
    this.stag.fill(-1);
    this.sumEntries = false;
    this.mxrEntries = false;
    this.superRegion.fill(0);
  }

  /** Drops the entries of one virtual page (sfence.vma with rs1 != x0). */
  flushTlbPage(va: number): void {
    if (this.superRegion[va >>> 22] !== 0) {
      this.flushTlb();
      return;
    }
    const vpn = va >>> 12;
    const i = vpn & TLB_MASK;
    if (this.ftag[i] >> 1 === vpn) this.ftag[i] = -1;
    if ((this.ltag[i] & ~TLB_WATCHED) >> 1 === vpn) this.ltag[i] = -1;
    if ((this.stag[i] & ~TLB_WATCHED) >> 1 === vpn) this.stag[i] = -1;
  }

  /** Evicts store entries that point into RAM page `page` (it now holds translated code). */
  evictStorePage(page: number): void {
    const sp = this.spage;
    for (let i = 0; i < TLB_SIZE; i++) {
      if (sp[i] === page) {
        this.stag[i] = -1;
        sp[i] = -1;
      }
    }
  }

  /** Called when sstatus changes: entries filled under the old SUM/MXR may now be too permissive. */
  protected statusChanged(old: number, now: number): void {
    if ((old & ~now & SSTATUS_SUM) !== 0 && this.sumEntries) {
      this.ltag.fill(-1);
      this.stag.fill(-1);
      this.sumEntries = false;
    }
    if ((old & ~now & SSTATUS_MXR) !== 0 && this.mxrEntries) {
      this.ltag.fill(-1);
      this.mxrEntries = false;
    }
  }

  /**
   * Translates `va` for an access; returns the physical address (uint32 as a number) or -1 with
   * `xcause` set. Fills the matching TLB when the page is in RAM.
   */
  translate(va: number, acc: Access): number {
    // Watchpoint hook: a watched page's entry carries TLB_WATCHED (see fill).
    if (this.watch !== null && acc !== ACC_FETCH) {
      const vpn = va >>> 12;
      const i = vpn & TLB_MASK;
      const key = (vpn << 1) | this.priv | TLB_WATCHED;
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
      if (commit) this.fill(va, va, acc, false, false, false);
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
    if (commit) this.fill(va, pa, acc, viaSum, viaMxr, superpage);
    return pa;
  }

  private fail(cause: Cause): number {
    this.xcause = cause;
    return -1;
  }

  private fill(va: number, pa: number, acc: Access, viaSum: boolean, viaMxr: boolean, superpage: boolean): void {
    const off = (pa - (pa & 0xfff)) - this.ramBase;
    if (off < 0 || off + 4096 > this.ramSize) return;
    if (superpage) this.superRegion[va >>> 22] = 1;
    const vpn = va >>> 12;
    const i = vpn & TLB_MASK;
    // Watchpoint hook: a page holding a watched address is tagged so the fast paths miss it.
    const watched = acc !== ACC_FETCH && this.watch !== null && this.watch.blocksPage(va, pa);
    const tag = (vpn << 1) | this.priv | (watched ? TLB_WATCHED : 0);
    const delta = (off - (va & ~0xfff)) | 0;
    if (acc === ACC_FETCH) {
      this.ftag[i] = tag;
      this.fdelta[i] = delta;
    } else if (acc === ACC_LOAD) {
      this.ltag[i] = tag;
      this.ldelta[i] = delta;
      if (viaMxr) this.mxrEntries = true;
    } else {
      if (this.code.marks[off >>> 12] !== 0) return; // stores to code pages must invalidate it
      this.stag[i] = tag;
      this.sdelta[i] = delta;
      this.spage[i] = off >>> 12;
    }
    if (viaSum) this.sumEntries = true;
  }
}
