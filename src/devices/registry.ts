// The device registry: every device the machine can have, one line each, in the order of semu's
// map. Adding a device is one folder under src/devices/ and one line here
// (docs/adding-a-device.md). Everything that knows about devices — the machine and its device
// tree, the CLI and its help, launch.json's schema and validation, the notify breakpoints, the
// inspector's decoders, the debugger's Devices scope, the panels — reads this list.

import type { DeviceDescriptor } from './descriptor';
import { virtioBlk } from './virtio-blk';
import { virtioRng } from './virtio-rng';
import { virtioSnd } from './virtio-snd';
import { virtioFs } from './virtio-fs';
import { virtioKeyboard, virtioTablet } from './virtio-input';
import { virtioGpu } from './virtio-gpu';

export const DEVICES = [
  virtioBlk,
  virtioRng,
  virtioSnd,
  virtioFs,
  virtioKeyboard,
  virtioTablet,
  virtioGpu,
] as const satisfies readonly DeviceDescriptor<never>[];

// ---- derived views ----

type OptionsOf<D> = D extends DeviceDescriptor<infer O> ? O : never;
type Intersect<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
/** Every device option, as one object type (a part of MachineOptions). */
export type DeviceOptions = Intersect<OptionsOf<(typeof DEVICES)[number]>>;

const byName = new Map<string, DeviceDescriptor<never>>(DEVICES.map((d) => [d.name, d]));

/** The descriptor of a device by its name ('virtio-snd'), as transports and snapshots carry it. */
export function descriptorOf(name: string): DeviceDescriptor<never> | undefined {
  return byName.get(name);
}

/** Every device's notify filters, with the device each belongs to. */
export function deviceNotifyFilters(): { device: string; filter: NonNullable<DeviceDescriptor['notifyFilters']>[number] }[] {
  return DEVICES.flatMap((d) => (d.notifyFilters ?? []).map((filter) => ({ device: d.name, filter })));
}
