// The platform-level interrupt controller (RISC-V PLIC spec 1.0.0, the register map of
// Linux's irq-sifive-plic driver): 31 level-triggered sources, 3-bit priorities, and one
// context per hart — the hart's S-mode external interrupt, which is all our device tree
// declares (`interrupts-extended = <&cpuN_intc 9>` per hart, as semu). Context N therefore
// belongs to hart N.
//
// Gateway model: a source whose line is high becomes pending unless it is already claimed (in
// service); claim hands out the highest-priority pending enabled source above the context's
// threshold (ties: lowest ID) and clears its pending bit; completion re-opens the gateway, and
// a line still high pends again. A line that drops before the claim withdraws its request
// (level semantics, as QEMU does), so a device that was acknowledged by polling raises no
// spurious interrupt.

import { MIP_SEIP, type InterruptTarget, type IrqLine, type MmioDevice, type Width } from '../types';
import { logger } from '../../log';

const log = logger('plic');

export const PLIC_SOURCES = 32; // source 0 does not exist; 1..31 usable (riscv,ndev = 31)
const PRIORITY_MASK = 7;

// Register map: priorities from 0 (4 bytes per source), then:

const PENDING_BASE = 0x001000;
const ENABLE_BASE = 0x002000;
const ENABLE_STRIDE = 0x80;
const CONTEXT_BASE = 0x200000;
const CONTEXT_STRIDE = 0x1000;
const CONTEXT_THRESHOLD = 0;
const CONTEXT_CLAIM = 4;

/** The window semu's DT gives the PLIC: 64 MiB, up to the UART at +0x400_0000. */
export const PLIC_SIZE = 0x4000000;

export class Plic implements MmioDevice, IrqLine {
  readonly name = 'plic';
  readonly size = PLIC_SIZE;
  private readonly priority = new Uint8Array(PLIC_SOURCES);
  private level = 0; // line levels as the devices drive them
  private pending = 0;
  private claimed = 0; // in service: gateway closed until completion
  private readonly enable: Uint32Array;
  private readonly threshold: Uint8Array;
  private readonly seip: Uint8Array; // last SEIP level driven per context

  /** `contexts[n]` is the hart whose S-mode external interrupt context n drives. */
  constructor(
    readonly base: number,
    private readonly contexts: readonly InterruptTarget[],
  ) {
    this.enable = new Uint32Array(contexts.length);
    this.threshold = new Uint8Array(contexts.length);
    this.seip = new Uint8Array(contexts.length);
  }

  // ---------------- IrqLine ----------------

  setIrq(source: number, level: boolean): void {
    if (source <= 0 || source >= PLIC_SOURCES) return;
    const bit = 1 << source;
    if (level) {
      this.level |= bit;
      if (!(this.claimed & bit)) this.pending |= bit;
    } else {
      this.level &= ~bit;
      this.pending &= ~bit;
    }
    this.update();
  }

  // ---------------- bus side ----------------

  read(offset: number, width: Width): number {
    const word = this.readWord(offset & ~3);
    if (width === 4) return word >>> 0;
    // Narrow reads see the bytes of the word (the driver only uses readl).
    const shift = (offset & 3) * 8;
    return (word >>> shift) & (width === 2 ? 0xffff : 0xff);
  }

  write(offset: number, width: Width, value: number): void {
    if (width !== 4 || offset & 3) {
      log.debug(`ignored ${width}-byte write at +0x${offset.toString(16)}`);
      return;
    }
    this.writeWord(offset, value >>> 0);
  }

  // ---------------- for the debugger ----------------

  get pendingBits(): number {
    return this.pending >>> 0;
  }
  get claimedBits(): number {
    return this.claimed >>> 0;
  }
  enabledBits(context: number): number {
    return (this.enable[context] ?? 0) >>> 0;
  }
  thresholdOf(context: number): number {
    return this.threshold[context] ?? 0;
  }
  priorityOf(source: number): number {
    return this.priority[source] ?? 0;
  }

  // ---------------- registers ----------------

  private readWord(off: number): number {
    if (off < PENDING_BASE) {
      const src = off >>> 2;
      return src < PLIC_SOURCES ? this.priority[src] : 0;
    }
    if (off === PENDING_BASE) return this.pending;
    if (off >= ENABLE_BASE && off < CONTEXT_BASE) {
      const ctx = ((off - ENABLE_BASE) / ENABLE_STRIDE) | 0;
      const wordIdx = ((off - ENABLE_BASE) % ENABLE_STRIDE) >>> 2;
      return ctx < this.contexts.length && wordIdx === 0 ? this.enable[ctx] : 0;
    }
    if (off >= CONTEXT_BASE) {
      const ctx = ((off - CONTEXT_BASE) / CONTEXT_STRIDE) | 0;
      if (ctx >= this.contexts.length) return 0;
      const reg = (off - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (reg === CONTEXT_THRESHOLD) return this.threshold[ctx];
      if (reg === CONTEXT_CLAIM) return this.claim(ctx);
    }
    return 0;
  }

  private writeWord(off: number, value: number): void {
    if (off < PENDING_BASE) {
      const src = off >>> 2;
      if (src > 0 && src < PLIC_SOURCES) {
        this.priority[src] = value & PRIORITY_MASK;
        this.update();
      }
      return;
    }
    if (off >= ENABLE_BASE && off < CONTEXT_BASE) {
      const ctx = ((off - ENABLE_BASE) / ENABLE_STRIDE) | 0;
      const wordIdx = ((off - ENABLE_BASE) % ENABLE_STRIDE) >>> 2;
      if (ctx < this.contexts.length && wordIdx === 0) {
        this.enable[ctx] = value & ~1; // source 0 does not exist
        this.update();
      }
      return;
    }
    if (off >= CONTEXT_BASE) {
      const ctx = ((off - CONTEXT_BASE) / CONTEXT_STRIDE) | 0;
      if (ctx >= this.contexts.length) return;
      const reg = (off - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (reg === CONTEXT_THRESHOLD) {
        this.threshold[ctx] = value & PRIORITY_MASK;
        this.update();
      } else if (reg === CONTEXT_CLAIM) {
        this.complete(ctx, value);
      }
    }
    // Pending bits are read-only.
  }

  /** The best source this context may take now, or 0. */
  private best(ctx: number): number {
    let cand = this.pending & this.enable[ctx];
    let bestId = 0;
    let bestPrio = this.threshold[ctx]; // must beat the threshold strictly
    while (cand !== 0) {
      const id = 31 - Math.clz32(cand & -cand); // lowest set bit first: ties keep the lowest ID
      cand &= cand - 1;
      const p = this.priority[id];
      if (p > bestPrio) {
        bestPrio = p;
        bestId = id;
      }
    }
    return bestId;
  }

  private claim(ctx: number): number {
    const id = this.best(ctx);
    if (id !== 0) {
      const bit = 1 << id;
      this.pending &= ~bit;
      this.claimed |= bit;
      this.update();
    }
    return id;
  }

  private complete(ctx: number, id: number): void {
    if (id <= 0 || id >= PLIC_SOURCES) return;
    const bit = 1 << id;
    // The spec ignores a completion for a source not enabled on this context (Linux's
    // plic_irq_eoi briefly re-enables a masked source to complete it for that reason).
    if (!(this.enable[ctx] & bit)) return;
    this.claimed &= ~bit;
    if (this.level & bit) this.pending |= bit;
    this.update();
  }

  /** Drives SEIP on each context's hart from the pending/enabled/priority/threshold state. */
  private update(): void {
    for (let ctx = 0; ctx < this.contexts.length; ctx++) {
      const on = this.best(ctx) !== 0 ? 1 : 0;
      if (on !== this.seip[ctx]) {
        this.seip[ctx] = on;
        this.contexts[ctx].setPending(MIP_SEIP, on === 1);
      }
    }
  }
}
