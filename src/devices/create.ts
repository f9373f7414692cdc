// Building the machine's devices from a person's options, through the registry (emulator worker
// only: this is where device models and their host resources come to life).

import { VIRTIO_SLOTS } from '../emulator/devices/map';
import type { PlacedVirtio } from '../emulator/machine';
import { UsageError, type MachineOptions } from '../host/options';
import { DEVICES } from './registry';
import type { DeviceDescriptor } from './descriptor';

/** The devices these options ask for, each at its semu slot, built when the machine calls it. */
export function placeDevices(o: MachineOptions): PlacedVirtio[] {
  return DEVICES.filter((d) => (d as DeviceDescriptor<MachineOptions>).enabled(o)).map((d) => {
    const desc = d as DeviceDescriptor<MachineOptions>;
    const slot = VIRTIO_SLOTS[desc.slot];
    return {
      base: slot.base,
      irq: slot.irq,
      device: (ctx) => {
        try {
          return desc.create(o, ctx);
        } catch (e) {
          // A device that cannot start is the person's to fix (a missing image, a bad backend).
          throw new UsageError(`${desc.name}: ${(e as Error).message}`);
        }
      },
    };
  });
}

/** Kernel command-line words the enabled devices need (descriptor.bootargs), in registry order. */
export function deviceBootargs(o: MachineOptions): string {
  return DEVICES.filter((d) => (d as DeviceDescriptor<MachineOptions>).enabled(o))
    .map((d) => (d as DeviceDescriptor<MachineOptions>).bootargs?.(o) ?? '')
    .filter((w) => w !== '')
    .join(' ');
}
