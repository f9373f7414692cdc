// virtio-rng, declared for the registry: the entropy device at semu's rng slot (0xF460_0000,
// IRQ 4), always present. Deterministic runs (--time icount) get a seeded generator.

import type { DeviceDescriptor } from '../descriptor';
import { VIRTIO_ID_RNG } from '../../emulator/virtio/types';
import { VirtioRng } from './rng';

export const virtioRng: DeviceDescriptor = {
  name: 'virtio-rng',
  summary: 'entropy source',
  deviceId: VIRTIO_ID_RNG,
  slot: 'rng',
  queueNames: ['requestq'],
  options: [],
  enabled: () => true,
  create: (_o, ctx) => new VirtioRng({ deterministic: ctx.deterministic }),
  notifyFilters: [{ id: 'virtio-rng', label: 'virtio-rng notify', queue: null, description: 'Stop when the guest asks the entropy device for bytes.' }],
};
