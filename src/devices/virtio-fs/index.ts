// virtio-fs, declared for the registry: a host folder shared with the guest through FUSE over
// virtio (VirtIO 1.2 §5.11) at semu's fs slot (0xF480_0000, IRQ 6), tag "myfs" as in semu, with
// semu's `-s`/`--shared_dir`. The device model is device.ts (rings, request slots, async
// completion), its FUSE server server.ts and ops*.ts; docs/virtio-fs.md has the safety model.

import type { DeviceDescriptor } from '../descriptor';
import { VirtioFs } from './device';
import { describeFuseChain, FS_CONDITION_FIELDS, FS_NOTIFY_FILTERS } from './decode';
import { readFsState } from './state';
import { VIRTIO_ID_FS } from './abi';

export interface FsOptions {
  /** The host folder the guest mounts (tag myfs; the default guest mounts it on /mnt). */
  sharedDir?: string;
  /** Every write to the share fails with EROFS. */
  sharedDirReadOnly?: boolean;
}

export const virtioFs: DeviceDescriptor<FsOptions> = {
  name: 'virtio-fs',
  summary: 'a host folder shared with the guest (FUSE, tag myfs)',
  deviceId: VIRTIO_ID_FS,
  slot: 'fs',
  queueNames: ['hiprio', 'requests.0'],
  options: [
    {
      key: 'sharedDir', cli: ['-s', '--shared_dir', '--shared-dir'], type: 'dir', arg: 'DIR', what: 'shared folder', hostAccess: true,
      help: 'host folder shared with the guest over virtio-fs (0xF4800000, IRQ 6, tag myfs; the default guest mounts it on /mnt)',
      detail: 'Host folder shared with the guest over virtio-fs (tag "myfs"); the default guest mounts it on /mnt. In VS Code on Linux it defaults to the workspace folder; in an untrusted workspace that folder is shared read-only and naming one here is refused. "" shares nothing.',
    },
    { key: 'sharedDirReadOnly', cli: ['--shared-ro'], type: 'boolean', default: false, help: 'share the folder read-only: every write from the guest fails with EROFS' },
  ],
  enabled: (o) => o.sharedDir !== undefined && o.sharedDir !== '',
  create: (o, ctx) =>
    new VirtioFs({
      root: o.sharedDir!,
      readOnly: o.sharedDirReadOnly ?? false,
      // With guest time from the instruction count, the machine never sleeps: no poll deadline.
      clock: { now: () => ctx.clock.now(), followsInstructions: () => ctx.deterministic },
    }),
  notifyFilters: FS_NOTIFY_FILTERS,
  conditionFields: FS_CONDITION_FIELDS,
  decodeChain: describeFuseChain,
  readState: readFsState,
};
