// An empty virtio-mmio slot: what the machine answers at a slot of semu's map that has no
// device behind it. VirtIO 1.2 §4.2.2 lets a platform expose "a transport with no device": the
// magic value, version 2 and DeviceID 0. Linux's virtio_mmio_probe reads the DeviceID, sees 0 and
// skips the node (-ENODEV) — so a device tree written for semu, naming every slot, boots here
// instead of faulting in the probe. Writes are ignored; every other register reads 0.

import type { MmioDevice, Width } from '../types';
import { VIRTIO_MMIO_MAGIC, VIRTIO_MMIO_SIZE, VIRTIO_MMIO_VENDOR } from './mmio';

const MAGIC_VALUE = 0x000;
const VERSION = 0x004;
const VENDOR_ID = 0x00c;

export class EmptyVirtioSlot implements MmioDevice {
  readonly size = VIRTIO_MMIO_SIZE;

  constructor(
    readonly name: string,
    readonly base: number,
  ) {}

  read(offset: number, width: Width): number {
    if (width !== 4) return 0;
    if (offset === MAGIC_VALUE) return VIRTIO_MMIO_MAGIC;
    if (offset === VERSION) return 2;
    if (offset === VENDOR_ID) return VIRTIO_MMIO_VENDOR;
    return 0; // DeviceID 0: no device
  }

  write(): void {}
}
