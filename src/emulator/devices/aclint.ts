// The RISC-V ACLINT (Advanced Core Local Interruptor) as semu lays it out: an MTIMER
// (mtimecmp[h] at 8*h, mtime at 0x7FF8, 32 KiB window), an MSWI (msip[h] at 4*h, 16 KiB) and an
// SSWI (setssip[h] at 4*h, 16 KiB), each in its own window.
//
// This machine runs no M-mode software: the kernel starts in S-mode and the emulator answers SBI
// itself. So, as semu does, the timer raises the *supervisor* timer interrupt (STIP) and both
// software-interrupt devices raise the *supervisor* software interrupt (SSIP). Linux 6.12 in
// S-mode reaches all of this through SBI (TIME set_timer, IPI send_ipi) — those calls land in
// AclintMtimer.setTimecmp() and AclintSswi.send() — the MMIO views exist for semu-compatible
// firmware and for inspection.
//
// 64-bit registers are kept as two uint32 halves (exact read-back) plus a float64 of the whole
// (exact below 2^53, ample: 2^53 ticks at 65 MHz is 4.4 years). No BigInt.

import { MIP_SSIP, MIP_STIP, type GuestClock, type InterruptTarget, type MmioDevice, type Width } from '../types';

const TWO32 = 4294967296;
const MTIME_OFFSET = 0x7ff8;
export const MTIMER_SIZE = 0x8000;
export const MSWI_SIZE = 0x4000;
export const SSWI_SIZE = 0x4000;

/** Reads byte/halfword lanes of a 32-bit register for narrow accesses. */
function lane(word: number, offset: number, width: Width): number {
  if (width === 4) return word >>> 0;
  const shift = (offset & 3) * 8;
  return (word >>> shift) & (width === 2 ? 0xffff : 0xff);
}

export class AclintMtimer implements MmioDevice {
  readonly name = 'aclint-mtimer';
  readonly size = MTIMER_SIZE;
  private readonly cmpLo: Uint32Array;
  private readonly cmpHi: Uint32Array;
  private readonly cmp: Float64Array;

  constructor(
    readonly base: number,
    private readonly clock: GuestClock,
    private readonly harts: readonly InterruptTarget[],
  ) {
    const n = harts.length;
    this.cmpLo = new Uint32Array(n).fill(0xffffffff);
    this.cmpHi = new Uint32Array(n).fill(0xffffffff);
    // All ones, as firmware leaves it: no timer interrupt until the kernel asks for one.
    this.cmp = new Float64Array(n).fill(0xffffffff * TWO32 + 0xffffffff);
  }

  /** mtime: the machine's clock in whole 65 MHz ticks. */
  mtime(): number {
    return Math.floor(this.clock.now());
  }

  timecmp(hart: number): number {
    return this.cmp[hart];
  }

  /** SBI TIME set_timer: program hart's compare value (ticks) and update its STIP at once. */
  setTimecmp(hart: number, value: number): void {
    if (hart < 0 || hart >= this.cmp.length) return;
    if (!(value < TWO32 * TWO32) || value < 0) {
      this.cmpHi[hart] = 0xffffffff;
      this.cmpLo[hart] = 0xffffffff;
    } else {
      const v = Math.floor(value);
      const hi = Math.floor(v / TWO32);
      this.cmpHi[hart] = hi;
      this.cmpLo[hart] = v - hi * TWO32;
    }
    this.recompute(hart);
    this.updateHart(hart, this.mtime());
  }

  /** clock.now() value at which the earliest compare fires (Infinity when none is armed). */
  nextDeadline(): number {
    let min = Infinity;
    for (let h = 0; h < this.cmp.length; h++) if (this.cmp[h] < min) min = this.cmp[h];
    return min >= TWO32 * TWO32 ? Infinity : min;
  }

  /** Raises or clears STIP on every hart from mtime ≥ mtimecmp. Called by the machine loop. */
  update(): void {
    const now = this.mtime();
    for (let h = 0; h < this.cmp.length; h++) this.updateHart(h, now);
  }

  read(offset: number, width: Width): number {
    const off = offset & ~3;
    let word = 0;
    if (off < MTIME_OFFSET) {
      const h = off >>> 3;
      if (h < this.cmp.length) word = off & 4 ? this.cmpHi[h] : this.cmpLo[h];
    } else if (off < MTIMER_SIZE) {
      const t = this.mtime();
      const hi = Math.floor(t / TWO32);
      word = off & 4 ? hi : t - hi * TWO32;
    }
    return lane(word, offset, width);
  }

  write(offset: number, width: Width, value: number): void {
    // mtime writes are ignored: the time CSR, SBI and this register read one machine clock, and
    // letting the guest rebase one of them would make them disagree.
    if (width !== 4 || offset >= MTIME_OFFSET) return;
    const h = offset >>> 3;
    if (h >= this.cmp.length) return;
    if (offset & 4) this.cmpHi[h] = value >>> 0;
    else this.cmpLo[h] = value >>> 0;
    this.recompute(h);
    this.updateHart(h, this.mtime());
  }

  private recompute(h: number): void {
    this.cmp[h] = this.cmpHi[h] * TWO32 + this.cmpLo[h];
  }

  private updateHart(h: number, now: number): void {
    this.harts[h].setPending(MIP_STIP, now >= this.cmp[h]);
  }
}

/** MSWI: msip[h] bit 0 is a level that drives the hart's SSIP (no M-mode here, see above). */
export class AclintMswi implements MmioDevice {
  readonly name = 'aclint-mswi';
  readonly size = MSWI_SIZE;
  private readonly msip: Uint8Array;

  constructor(
    readonly base: number,
    private readonly harts: readonly InterruptTarget[],
  ) {
    this.msip = new Uint8Array(harts.length);
  }

  read(offset: number, width: Width): number {
    const h = offset >>> 2;
    return h < this.msip.length ? lane(this.msip[h], offset, width) : 0;
  }

  write(offset: number, width: Width, value: number): void {
    const h = offset >>> 2;
    if (width !== 4 || h >= this.msip.length) return;
    this.msip[h] = value & 1;
    this.harts[h].setPending(MIP_SSIP, (value & 1) === 1);
  }
}

/**
 * SSWI: writing 1 to setssip[h] sends an edge to hart h's SSIP; writing 0 does nothing and the
 * register reads 0 (ACLINT spec). The hart clears sip.SSIP itself when it takes the IPI.
 */
export class AclintSswi implements MmioDevice {
  readonly name = 'aclint-sswi';
  readonly size = SSWI_SIZE;

  constructor(
    readonly base: number,
    private readonly harts: readonly InterruptTarget[],
  ) {}

  /** SBI IPI send_ipi lands here. */
  send(hart: number): void {
    if (hart >= 0 && hart < this.harts.length) this.harts[hart].setPending(MIP_SSIP, true);
  }

  read(_offset: number, _width: Width): number {
    return 0;
  }

  write(offset: number, width: Width, value: number): void {
    if (width === 4 && value & 1) this.send(offset >>> 2);
  }
}
