// Guest memory as the debugger reads it: DAP memory references, and a side-effect-free Sv32
// walk over the shared RAM (privileged spec §4.3.2) so the adapter can read virtual memory
// from the extension host without asking the worker. Unlike the harts' MMU it fills no TLB,
// sets no A/D bits and ignores U/SUM/MXR (a debugger sees what the kernel could map), and it
// never touches MMIO: reading a device register can change the device.
//
// memoryReference syntax (docs/debugger.md):
//   "0xc0001000"                         guest-virtual, through the hart's current satp
//   "p:0x80001000" / "phys:0x80001000"    guest-physical
//   a kernel symbol name                 its (virtual) address

import type { Ram } from '../src/emulator/ram';
import { PHYS_MEMORY_REFERENCE_PREFIX } from '../src/shared/protocol';

export interface MemoryRef {
  address: number; // uint32
  physical: boolean;
}

export class MemoryRefError extends Error {
  override name = 'MemoryRefError';
}

/** Parses a memoryReference (or instructionReference); `symbol` resolves names. */
export function parseMemoryReference(ref: string, symbol?: (name: string) => number | undefined): MemoryRef {
  const s = ref.trim();
  let physical = false;
  let rest = s;
  if (s.startsWith(PHYS_MEMORY_REFERENCE_PREFIX)) {
    physical = true;
    rest = s.slice(PHYS_MEMORY_REFERENCE_PREFIX.length);
  } else if (s.startsWith('p:')) {
    physical = true;
    rest = s.slice(2);
  }
  rest = rest.trim();
  let address: number;
  if (/^0x[0-9a-f]{1,8}$/i.test(rest)) address = parseInt(rest.slice(2), 16);
  else if (/^\d{1,10}$/.test(rest) && Number(rest) <= 0xffffffff) address = Number(rest);
  else {
    const v = !physical && symbol ? symbol(rest) : undefined;
    if (v === undefined) throw new MemoryRefError(`'${ref}' is not a memory reference (use 0xADDRESS, p:0xADDRESS for physical, or a symbol name)`);
    address = v;
  }
  return { address: address >>> 0, physical };
}

export function formatMemoryReference(address: number, physical = false): string {
  const hex = '0x' + (address >>> 0).toString(16).padStart(8, '0');
  return physical ? PHYS_MEMORY_REFERENCE_PREFIX + hex : hex;
}

/** Adds a signed offset to an address, wrapping in 32 bits. */
export function offsetAddress(address: number, offset: number | undefined): number {
  return (address + (offset ?? 0)) >>> 0;
}

const PTE_V = 1;
const PTE_R = 2;
const PTE_W = 4;
const PTE_X = 8;

/** Why a translation failed, for error messages. */
export interface WalkFailure {
  reason: string;
}

/**
 * Translates `va` through the Sv32 tables rooted at satp's PPN, reading only RAM. Returns the
 * physical address (uint32), or a failure. With satp in Bare mode the address is physical.
 */
export function walkSv32(ram: Ram, satp: number, va: number): number | WalkFailure {
  va >>>= 0;
  if ((satp & 0x80000000) === 0) return va;
  let pteAddr = (satp & 0x3fffff) * 4096 + (va >>> 22) * 4;
  if (!ram.contains(pteAddr, 4)) return { reason: `page table at 0x${pteAddr.toString(16)} is outside RAM` };
  let pte = ram.read32(pteAddr);
  if ((pte & PTE_V) === 0 || (pte & (PTE_R | PTE_W)) === PTE_W) return { reason: `0x${va.toString(16).padStart(8, '0')} is not mapped` };
  if ((pte & (PTE_R | PTE_X)) !== 0) {
    if (((pte >>> 10) & 0x3ff) !== 0) return { reason: `misaligned superpage for 0x${va.toString(16)}` };
    const pa = (pte >>> 20) * 0x400000 + (va & 0x3fffff);
    return pa > 0xffffffff ? { reason: 'physical address above 4 GiB' } : pa;
  }
  pteAddr = (pte >>> 10) * 4096 + ((va >>> 12) & 0x3ff) * 4;
  if (!ram.contains(pteAddr, 4)) return { reason: `page table at 0x${pteAddr.toString(16)} is outside RAM` };
  pte = ram.read32(pteAddr);
  if ((pte & PTE_V) === 0 || (pte & (PTE_R | PTE_W)) === PTE_W || (pte & (PTE_R | PTE_X)) === 0) {
    return { reason: `0x${va.toString(16).padStart(8, '0')} is not mapped` };
  }
  const pa = (pte >>> 10) * 4096 + (va & 0xfff);
  return pa > 0xffffffff ? { reason: 'physical address above 4 GiB' } : pa;
}

export interface ReadResult {
  /** Bytes read, from the start address on (possibly fewer than asked). */
  data: Uint8Array;
  /** Why reading stopped early ('' when everything was read). */
  stoppedBecause: string;
}

/**
 * Copies `count` bytes starting at `address` (virtual through satp unless physical), page by
 * page, stopping at the first byte that is unmapped or not RAM.
 */
export function readGuest(ram: Ram, satp: number, address: number, count: number, physical: boolean): ReadResult {
  const out = new Uint8Array(count);
  let done = 0;
  while (done < count) {
    const va = (address + done) >>> 0;
    const pageLeft = 4096 - (va & 0xfff);
    const n = Math.min(pageLeft, count - done);
    const pa = physical ? va : walkSv32(ram, satp, va);
    if (typeof pa !== 'number') return { data: out.subarray(0, done), stoppedBecause: pa.reason };
    if (!ram.contains(pa, n)) {
      // Partial page in RAM (RAM's end): copy what exists.
      const avail = ram.contains(pa, 1) ? ram.base + ram.size - pa : 0;
      if (avail > 0) out.set(ram.u8.subarray(pa - ram.base, pa - ram.base + avail), done);
      return { data: out.subarray(0, done + avail), stoppedBecause: `0x${(pa + avail).toString(16)} is not RAM (device registers are not read by the debugger)` };
    }
    out.set(ram.u8.subarray(pa - ram.base, pa - ram.base + n), done);
    done += n;
    if (va + n > 0xffffffff) break; // wrapped around the address space
  }
  return { data: out.subarray(0, done), stoppedBecause: done < count ? 'end of the address space' : '' };
}

/**
 * The 32-bit words at start, start+4, ... (count of them), each null where unreadable. Unlike
 * readGuest it does not stop at a hole: the Disassembly view asks for instructions on both sides
 * of the pc, and an unmapped page before it must not hide the mapped code after it.
 */
export function readWords(ram: Ram, satp: number, start: number, count: number, physical: boolean): (number | null)[] {
  const out: (number | null)[] = new Array(count);
  let page = -1;
  let base: number | null = null; // physical address of the current page, or null if unreadable
  for (let i = 0; i < count; i++) {
    const va = (start + i * 4) >>> 0;
    if (va >>> 12 !== page) {
      page = va >>> 12;
      const pa = physical ? va & ~0xfff : walkSv32(ram, satp, va & ~0xfff);
      base = typeof pa === 'number' && ram.contains(pa, 4096) ? pa : null;
    }
    out[i] = base === null || (va & 3) !== 0 ? null : ram.read32(base + (va & 0xfff));
  }
  return out;
}

/**
 * Physical ranges of RAM that back [address, address+count), for writes: each page translated,
 * every byte must be RAM, else an error naming the first bad address.
 */
export function physicalRanges(ram: Ram, satp: number, address: number, count: number, physical: boolean): { pa: number; len: number }[] {
  const out: { pa: number; len: number }[] = [];
  let done = 0;
  while (done < count) {
    const va = (address + done) >>> 0;
    const n = Math.min(4096 - (va & 0xfff), count - done);
    const pa = physical ? va : walkSv32(ram, satp, va);
    if (typeof pa !== 'number') throw new MemoryRefError(`cannot write 0x${va.toString(16)}: ${pa.reason}`);
    if (!ram.contains(pa, n)) throw new MemoryRefError(`cannot write 0x${va.toString(16)}: physical 0x${pa.toString(16)} is not RAM`);
    const last = out[out.length - 1];
    if (last && last.pa + last.len === pa) last.len += n;
    else out.push({ pa, len: n });
    done += n;
  }
  return out;
}
