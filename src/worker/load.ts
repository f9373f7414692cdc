// From MachineOptions (paths and specs) to a Machine: reads and checks every input file, builds
// the devices the options ask for (through the device registry), and turns each problem into a
// UsageError that says what is wrong and what to do.

import { readFileSync, statSync } from 'node:fs';
import { Machine, type MachineConfig, type MachineIO } from '../emulator/machine';
import type { GuestRam } from '../emulator/ram';
import { deviceBootargs, placeDevices } from '../devices/create';
import { DEFAULT_BOOTARGS, MAX_HARTS, UsageError, type MachineOptions } from '../host/options';

function readInput(path: string, what: string, flag: string): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`${what} ${path} is not a file (${flag})`);
    size = st.size;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Check the path given with ${flag}.`);
  }
  if (size === 0) throw new UsageError(`the ${what} ${path} is empty (${flag}); rebuild it or pick another file.`);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read the ${what} ${path}: ${(e as Error).message}`);
  }
}

/** The kernel command line: the person's, or the default with what the devices need before it. */
export function bootargsFor(o: MachineOptions): string {
  if (o.bootargs !== undefined) return o.bootargs;
  const words = deviceBootargs(o);
  return words ? `${words} ${DEFAULT_BOOTARGS}` : DEFAULT_BOOTARGS;
}

export function machineConfig(o: MachineOptions, ram: GuestRam): MachineConfig {
  if (!o.kernel) throw new UsageError('no kernel: give one with -k (or leave -k out for the default guest)');
  const harts = o.harts ?? 1;
  if (!Number.isInteger(harts) || harts < 1 || harts > MAX_HARTS) {
    throw new UsageError(`unsupported hart count ${o.harts} (-c): use 1 to ${MAX_HARTS}`);
  }
  if (o.time !== undefined && o.time !== 'host' && o.time !== 'icount') {
    throw new UsageError(`unknown time mode '${o.time}' (--time): use host or icount`);
  }
  return {
    ramSize: ram.size,
    ramBuffer: ram.buffer,
    memory: ram.memory,
    harts,
    kernel: readInput(o.kernel, 'kernel image', '-k'),
    initrd: o.initrd ? readInput(o.initrd, 'initrd', '-i') : undefined,
    dtb: o.dtb ? readInput(o.dtb, 'device tree blob', '-b') : undefined,
    bootargs: bootargsFor(o),
    time: o.time ?? 'host',
    virtio: placeDevices(o),
  };
}

/** Builds the machine; its devices hold their host resources and free them at Machine.shutdown(). */
export function loadMachine(o: MachineOptions, ram: GuestRam, io: MachineIO): Machine {
  const config = machineConfig(o, ram);
  try {
    const machine = new Machine(config, io);
    // The worker yields between slices: hot code compiles on V8's threads meanwhile. Not under
    // --time icount: a translation installed whenever the event loop turns would change where
    // the guest's time advances, and two runs must be identical; there it compiles on the spot.
    machine.code.compileInBackground = o.time !== 'icount';
    return machine;
  } catch (e) {
    // Boot errors (image too large, corrupt DTB) are the user's to fix; so are device errors.
    if ((e as Error).name === 'BootError') throw new UsageError((e as Error).message);
    throw e;
  }
}
