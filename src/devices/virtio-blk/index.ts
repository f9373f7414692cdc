// virtio-blk, declared for the registry: a raw disk image at semu's blk slot (0xF420_0000, IRQ 3),
// semu's `-d`/`--disk`. The device model is blk.ts; the image file, disk-image.ts.

import type { DeviceDescriptor } from '../descriptor';
import { VIRTIO_ID_BLOCK } from '../../emulator/virtio/types';
import { VirtioBlk } from './blk';
import { DiskImage } from './disk-image';
import { describeBlkChain } from './decode';

export interface BlkOptions {
  /** Raw disk image (-d). */
  disk?: string;
  diskReadOnly?: boolean;
}

export const virtioBlk: DeviceDescriptor<BlkOptions> = {
  name: 'virtio-blk',
  summary: 'block device on a raw disk image',
  deviceId: VIRTIO_ID_BLOCK,
  slot: 'blk',
  queueNames: ['requestq'],
  options: [
    { key: 'disk', cli: ['-d', '--disk'], type: 'file', arg: 'FILE', what: 'disk image', hostAccess: true, help: 'raw disk image for virtio-blk (0xF4200000, IRQ 3): e.g. an ext4 image for root=/dev/vda' },
    { key: 'diskReadOnly', cli: ['--disk-ro'], type: 'boolean', default: false, help: 'open the disk image read-only (the guest sees a read-only device)' },
  ],
  enabled: (o) => o.disk !== undefined && o.disk !== '',
  create(o) {
    const disk = DiskImage.open(o.disk!, { readOnly: o.diskReadOnly ?? false });
    try {
      return new VirtioBlk(disk);
    } catch (e) {
      disk.close();
      throw e;
    }
  },
  notifyFilters: [{ id: 'virtio-blk', label: 'virtio-blk notify', queue: null, description: 'Stop when the guest kicks the block device.' }],
  decodeChain: describeBlkChain,
};
