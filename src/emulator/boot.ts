// Where the boot images go in guest RAM (semu's layout) and the checks that turn bad images into
// clear errors before anything runs:
//   kernel  at the start of RAM (a Linux RISC-V Image, or any raw binary)
//   DTB     in the last 1 MiB (0x1FF0_0000 with 512 MiB)
//   initrd  in the 8 MiB below the DTB (0x1F70_0000), or lower when it is larger
// Hart 0 then starts in S-mode at the kernel with a0 = hartid, a1 = DTB address.

import type { Ram } from './ram';
import { FDT_MAGIC } from './fdt';

/** A boot image problem the user must fix (the CLI exits with code 2). */
export class BootError extends Error {
  override readonly name = 'BootError';
}

const MiB = 1024 * 1024;
export const DTB_REGION = 1 * MiB;
export const INITRD_REGION = 8 * MiB;

export interface BootLayout {
  kernelAddr: number;
  /** End of the kernel's footprint: the Image header's image_size when present (covers .bss). */
  kernelEnd: number;
  initrd: { start: number; end: number } | null;
  dtbAddr: number;
}

/**
 * A boot image given as a file: read straight into guest RAM when it is placed, so a large
 * kernel or initrd never sits in memory twice (the process's peak RSS: bench/RESULTS.md).
 */
export interface ImageFile {
  readonly length: number;
  /** Its first `n` bytes (all of it if shorter). */
  head(n: number): Uint8Array;
  /** Reads all `length` bytes into `dst`; throws if the file no longer has them. */
  readInto(dst: Uint8Array): void;
}

/** A kernel or initrd: its bytes, or the file that holds them. */
export type BootImage = Uint8Array | ImageFile;

/** The RISC-V Linux Image header (Documentation/arch/riscv/boot-image-header.rst). */
export function imageSize(image: BootImage): number | null {
  const kernel = image instanceof Uint8Array ? image : image.head(64);
  if (kernel.length < 64) return null;
  const dv = new DataView(kernel.buffer, kernel.byteOffset, kernel.byteLength);
  // magic2 "RSC\x05" at 56 (magic "RISCV\0\0\0" at 48 is deprecated but checked too).
  const magic2 = dv.getUint32(56, true);
  const magic = String.fromCharCode(...kernel.subarray(48, 53));
  if (magic2 !== 0x05435352 && magic !== 'RISCV') return null;
  const lo = dv.getUint32(16, true);
  const hi = dv.getUint32(20, true);
  if (hi !== 0 || lo === 0) return null;
  return lo;
}

/** Plans the layout and validates sizes; throws BootError. */
export function planBoot(ramBase: number, ramSize: number, kernelLen: number, kernelFootprint: number | null, initrdLen: number, dtbLen: number): BootLayout {
  if (kernelLen === 0) throw new BootError('the kernel image is empty');
  if (ramSize < 2 * DTB_REGION) throw new BootError(`RAM of ${ramSize} bytes is too small`);
  const dtbAddr = ramBase + ramSize - DTB_REGION;
  if (dtbLen > DTB_REGION) throw new BootError(`the device tree is ${dtbLen} bytes; at most ${DTB_REGION} fit`);
  const kernelEnd = ramBase + Math.max(kernelLen, kernelFootprint ?? 0);
  if (kernelEnd > dtbAddr) {
    throw new BootError(`the kernel image needs ${mib(kernelEnd - ramBase)} but ${mib(ramSize)} of RAM leave ${mib(dtbAddr - ramBase)} below the device tree`);
  }
  let initrd: BootLayout['initrd'] = null;
  if (initrdLen > 0) {
    let start = dtbAddr - INITRD_REGION;
    if (initrdLen > INITRD_REGION) start = Math.floor((dtbAddr - initrdLen) / 4096) * 4096;
    if (start < kernelEnd) {
      throw new BootError(`the initrd (${mib(initrdLen)}) does not fit between the kernel (ends at 0x${kernelEnd.toString(16)}) and the device tree at 0x${dtbAddr.toString(16)} in ${mib(ramSize)} of RAM`);
    }
    initrd = { start, end: start + initrdLen };
  }
  return { kernelAddr: ramBase, kernelEnd, initrd, dtbAddr };
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(bytes % MiB === 0 ? 0 : 1)} MiB`;
}

/** Throws BootError unless `dtb` starts with the FDT magic and its header size fits. */
export function checkDtb(dtb: Uint8Array): void {
  if (dtb.length < 40) throw new BootError(`the device tree is ${dtb.length} bytes: too short for an FDT header`);
  const dv = new DataView(dtb.buffer, dtb.byteOffset, dtb.byteLength);
  const magic = dv.getUint32(0, false);
  if (magic !== FDT_MAGIC) throw new BootError(`the device tree is not an FDT (magic 0x${magic.toString(16)}, expected 0x${FDT_MAGIC.toString(16)})`);
  const total = dv.getUint32(4, false);
  if (total > dtb.length) throw new BootError(`the device tree says it is ${total} bytes but the file has ${dtb.length}`);
}

/** Copies the images into RAM at the planned addresses and tells the harts' code caches. */
export function loadImages(ram: Ram, layout: BootLayout, kernel: BootImage, initrd: BootImage | undefined, dtb: Uint8Array): void {
  put(ram, layout.kernelAddr, kernel);
  if (initrd && layout.initrd) put(ram, layout.initrd.start, initrd);
  put(ram, layout.dtbAddr, dtb);
}

function put(ram: Ram, addr: number, data: BootImage): void {
  const at = addr - ram.base;
  if (data instanceof Uint8Array) ram.u8.set(data, at);
  else data.readInto(ram.u8.subarray(at, at + data.length));
  ram.noteWrite(addr, data.length);
}
