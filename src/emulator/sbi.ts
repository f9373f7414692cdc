// The Supervisor Binary Interface, answered by the emulator itself (there is no M-mode firmware):
// an ECALL from S-mode lands in Sbi.ecall(). RISC-V SBI spec v2.0: a7 = extension ID, a6 =
// function ID, a0-a5 arguments; returns a0 = error, a1 = value (legacy calls: a0 only).

import type { Hart } from './cpu/hart';
import { HartState } from './cpu/hart';
import { logger } from '../log';

const log = logger('sbi');

export const SBI_SUCCESS = 0;
export const SBI_ERR_FAILED = -1;
export const SBI_ERR_NOT_SUPPORTED = -2;
export const SBI_ERR_INVALID_PARAM = -3;
export const SBI_ERR_INVALID_ADDRESS = -5;
export const SBI_ERR_ALREADY_AVAILABLE = -6;

export const EXT_LEGACY_PUTCHAR = 0x01;
export const EXT_LEGACY_GETCHAR = 0x02;
export const EXT_BASE = 0x10;
export const EXT_TIME = 0x54494d45; // "TIME"
export const EXT_IPI = 0x735049; // "sPI"
export const EXT_RFENCE = 0x52464e43; // "RFNC"
export const EXT_HSM = 0x48534d; // "HSM"
export const EXT_SRST = 0x53525354; // "SRST"
export const EXT_DBCN = 0x4442434e; // "DBCN"

/** SBI spec version 2.0: major in bits [30:24], minor in [23:0]. */
export const SBI_SPEC_VERSION = 2 << 24;
/** Implementation ID: not in the SBI registry; reads "semu" as ASCII. */
export const SBI_IMPL_ID = 0x73656d75;
export const SBI_IMPL_VERSION = 1;

/** Bytes one DBCN read/write call moves at most. */
const DBCN_MAX = 4096;

const SUPPORTED = new Set([EXT_BASE, EXT_TIME, EXT_IPI, EXT_RFENCE, EXT_HSM, EXT_SRST, EXT_DBCN, EXT_LEGACY_PUTCHAR, EXT_LEGACY_GETCHAR]);

/** Reset types and reasons (SRST). */
export type ResetKind = 'poweroff' | 'reboot';

/** What the SBI needs from the machine. */
export interface SbiPlatform {
  readonly harts: readonly Hart[];
  /** Program hart's timer compare value (65 MHz ticks); updates STIP at once. */
  setTimer(hart: number, ticks: number): void;
  /** Raise SSIP on a hart (an IPI). */
  sendIpi(hart: number): void;
  /** Console output (legacy putchar, DBCN). */
  putchar(byte: number): void;
  /** Console input: a byte, or -1 when none is waiting. */
  getchar(): number;
  /** SRST: stop the machine. */
  systemReset(kind: ResetKind, failure: boolean): void;
  /** A hart was started by HSM (the machine may need to schedule it). */
  hartStarted(hart: Hart): void;
}

export class Sbi {
  private readonly harts: readonly Hart[];

  constructor(private readonly platform: SbiPlatform) {
    this.harts = platform.harts;
  }

  /** ECALL from S-mode on `h` (pc already points past the ecall). */
  ecall(h: Hart): void {
    const x = h.x;
    const eid = x[17] >>> 0;
    const fid = x[16] >>> 0;
    switch (eid) {
      case EXT_LEGACY_PUTCHAR:
        this.platform.putchar(x[10] & 0xff);
        x[10] = 0;
        return;
      case EXT_LEGACY_GETCHAR:
        x[10] = this.platform.getchar();
        return;
      case EXT_BASE:
        return this.base(h, fid);
      case EXT_TIME:
        if (fid !== 0) return ret(h, SBI_ERR_NOT_SUPPORTED, 0);
        // RV32: the 64-bit stime_value arrives in a0 (low) and a1 (high).
        this.platform.setTimer(h.id, (x[11] >>> 0) * 4294967296 + (x[10] >>> 0));
        return ret(h, SBI_SUCCESS, 0);
      case EXT_IPI:
        if (fid !== 0) return ret(h, SBI_ERR_NOT_SUPPORTED, 0);
        return this.forHarts(h, x[10], x[11], (t) => this.platform.sendIpi(t.id));
      case EXT_RFENCE:
        return this.rfence(h, fid);
      case EXT_HSM:
        return this.hsm(h, fid);
      case EXT_SRST:
        return this.srst(h, fid);
      case EXT_DBCN:
        return this.dbcn(h, fid);
      default:
        log.debug(`unsupported extension 0x${eid.toString(16)} fid ${fid}`);
        return ret(h, SBI_ERR_NOT_SUPPORTED, 0);
    }
  }

  private base(h: Hart, fid: number): void {
    switch (fid) {
      case 0: return ret(h, SBI_SUCCESS, SBI_SPEC_VERSION);
      case 1: return ret(h, SBI_SUCCESS, SBI_IMPL_ID);
      case 2: return ret(h, SBI_SUCCESS, SBI_IMPL_VERSION);
      case 3: return ret(h, SBI_SUCCESS, SUPPORTED.has(h.x[10] >>> 0) ? 1 : 0);
      case 4: // mvendorid
      case 5: // marchid
      case 6: // mimpid
        return ret(h, SBI_SUCCESS, 0);
      default:
        return ret(h, SBI_ERR_NOT_SUPPORTED, 0);
    }
  }

  /**
   * Applies `fn` to the harts named by (hart_mask, hart_mask_base); base = -1 means all harts.
   * Any named hart that does not exist → SBI_ERR_INVALID_PARAM, and nothing is done.
   */
  private forHarts(h: Hart, mask: number, maskBase: number, fn: (t: Hart) => void): void {
    const harts = this.harts;
    if (maskBase === -1) {
      for (const t of harts) fn(t);
      return ret(h, SBI_SUCCESS, 0);
    }
    const base = maskBase >>> 0;
    for (let bit = 0; bit < 32; bit++) {
      if ((mask >>> bit) & 1 && base + bit >= harts.length) return ret(h, SBI_ERR_INVALID_PARAM, 0);
    }
    for (let bit = 0; bit < 32; bit++) if ((mask >>> bit) & 1) fn(harts[base + bit]);
    return ret(h, SBI_SUCCESS, 0);
  }

  private rfence(h: Hart, fid: number): void {
    const x = h.x;
    switch (fid) {
      case 0: // remote_fence_i: translated code follows every store already (docs/cpu.md)
        return this.forHarts(h, x[10], x[11], () => {});
      case 1: // remote_sfence_vma(start, size)
      case 2: {
        // remote_sfence_vma_asid(start, size, asid)
        const start = x[12] >>> 0;
        const size = x[13] >>> 0;
        const asid = fid === 2 ? x[14] & 0x1ff : -1;
        return this.forHarts(h, x[10], x[11], (t) => flushRange(t, start, size, asid));
      }
      default:
        return ret(h, SBI_ERR_NOT_SUPPORTED, 0); // hypervisor fences: no H extension
    }
  }

  private hsm(h: Hart, fid: number): void {
    const x = h.x;
    switch (fid) {
      case 0: {
        // hart_start(hartid, start_addr, opaque)
        const id = x[10] >>> 0;
        if (id >= this.harts.length) return ret(h, SBI_ERR_INVALID_PARAM, 0);
        const t = this.harts[id];
        if (t.state !== HartState.Stopped) return ret(h, SBI_ERR_ALREADY_AVAILABLE, 0);
        const start = x[11] >>> 0;
        if ((start & 3) !== 0 || !t.ram.contains(start, 4)) return ret(h, SBI_ERR_INVALID_ADDRESS, 0);
        t.reset(start, id, x[12]);
        t.state = HartState.Started;
        this.platform.hartStarted(t);
        return ret(h, SBI_SUCCESS, 0);
      }
      case 1: // hart_stop(): does not return on success
        h.state = HartState.Stopped;
        h.stop = true;
        return;
      case 2: {
        const id = x[10] >>> 0;
        if (id >= this.harts.length) return ret(h, SBI_ERR_INVALID_PARAM, 0);
        return ret(h, SBI_SUCCESS, this.harts[id].state);
      }
      case 3: {
        // hart_suspend(type, resume_addr, opaque): only the default retentive suspend (a WFI).
        const type = x[10] >>> 0;
        if (type === 0) {
          ret(h, SBI_SUCCESS, 0);
          if ((h.mip & h.sie) === 0) {
            h.idle = true;
            h.stop = true;
          }
          return;
        }
        if (type === 0x80000000) return ret(h, SBI_ERR_NOT_SUPPORTED, 0);
        return ret(h, SBI_ERR_INVALID_PARAM, 0);
      }
      default:
        return ret(h, SBI_ERR_NOT_SUPPORTED, 0);
    }
  }

  private srst(h: Hart, fid: number): void {
    if (fid !== 0) return ret(h, SBI_ERR_NOT_SUPPORTED, 0);
    const type = h.x[10] >>> 0;
    const reason = h.x[11] >>> 0;
    if (type > 2 || reason > 1) return ret(h, SBI_ERR_INVALID_PARAM, 0);
    this.platform.systemReset(type === 0 ? 'poweroff' : 'reboot', reason === 1);
  }

  /** Debug console (DBCN): byte strings in guest-physical memory. */
  private dbcn(h: Hart, fid: number): void {
    const x = h.x;
    const ram = h.ram;
    if (fid === 2) {
      this.platform.putchar(x[10] & 0xff);
      return ret(h, SBI_SUCCESS, 0);
    }
    if (fid !== 0 && fid !== 1) return ret(h, SBI_ERR_NOT_SUPPORTED, 0);
    // Partial transfers are allowed (the value says how many bytes moved): bound the work one
    // ecall can make the emulator do.
    const len = Math.min(x[10] >>> 0, DBCN_MAX);
    const addr = x[11] >>> 0;
    if (x[12] !== 0 || !ram.contains(addr, len)) return ret(h, SBI_ERR_INVALID_PARAM, 0);
    if (fid === 0) {
      for (let i = 0; i < len; i++) this.platform.putchar(ram.u8[addr - ram.base + i]);
      return ret(h, SBI_SUCCESS, len);
    }
    let n = 0;
    while (n < len) {
      const c = this.platform.getchar();
      if (c < 0) break;
      ram.u8[addr - ram.base + n++] = c;
    }
    if (n > 0) ram.noteWrite(addr, n);
    return ret(h, SBI_SUCCESS, n);
  }
}

function ret(h: Hart, error: number, value: number): void {
  h.x[10] = error;
  h.x[11] = value;
}

/**
 * Flushes a hart's TLB for [start, start+size) in address space `asid` (-1: all); size 0 or
 * all-ones (or a large range) = every page.
 */
function flushRange(t: Hart, start: number, size: number, asid: number): void {
  if ((start === 0 && size === 0) || size === 0xffffffff || size > 64 * 4096) {
    t.fence(0, false, asid);
    return;
  }
  const end = start + size;
  for (let a = start - (start % 4096); a < end; a += 4096) t.fence(a, true, asid);
}
