// The physical address space: RAM, then MMIO devices in 1 MiB windows (every semu device sits
// in its own window at 0xF000_0000 and above). A failed access sets `fault`; the hart turns that
// into an access-fault trap. Lookups index a 4096-entry table by the address's top 12 bits.

import type { MmioDevice, Width } from './types';
import { Ram } from './ram';

export class Bus {
  /** Set by read/write when nothing answers the address; the caller clears it. */
  fault = false;
  readonly devices: MmioDevice[] = [];
  private readonly window: (MmioDevice | null)[] = new Array(4096).fill(null);

  constructor(readonly ram: Ram) {}

  add(dev: MmioDevice): void {
    const first = dev.base >>> 20;
    const last = (dev.base + dev.size - 1) >>> 20;
    for (let w = first; w <= last; w++) {
      if (this.window[w]) throw new Error(`${dev.name} overlaps ${this.window[w]!.name} at 0x${(w << 20 >>> 0).toString(16)}`);
      this.window[w] = dev;
    }
    this.devices.push(dev);
  }

  deviceAt(paddr: number): MmioDevice | null {
    const dev = this.window[paddr >>> 20];
    if (dev === null) return null;
    const off = (paddr >>> 0) - dev.base;
    return off < dev.size ? dev : null;
  }

  /** Physical load, zero-extended. RAM accesses here are the slow path (harts index RAM directly). */
  read(paddr: number, width: Width): number {
    paddr >>>= 0;
    const ram = this.ram;
    if (ram.contains(paddr, width)) {
      if (width === 4) return ram.read32(paddr);
      if (width === 2) return ram.read16(paddr);
      return ram.read8(paddr);
    }
    const dev = this.deviceAt(paddr);
    if (dev === null) {
      this.fault = true;
      return 0;
    }
    return dev.read(paddr - dev.base, width);
  }

  write(paddr: number, width: Width, value: number): void {
    paddr >>>= 0;
    const ram = this.ram;
    if (ram.contains(paddr, width)) {
      if (width === 4) ram.write32(paddr, value);
      else if (width === 2) ram.write16(paddr, value);
      else ram.write8(paddr, value);
      return;
    }
    const dev = this.deviceAt(paddr);
    if (dev === null) {
      this.fault = true;
      return;
    }
    dev.write(paddr - dev.base, width, value);
  }
}
