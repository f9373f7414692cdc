// From MachineOptions (paths and specs) to a Machine: reads and checks every input file, builds
// the devices the options ask for (through the device registry), and turns each problem into a
// UsageError that says what is wrong and what to do.

import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { ImageFile } from '../emulator/boot';
import { Machine, type MachineConfig, type MachineIO } from '../emulator/machine';
import type { GuestRam } from '../emulator/ram';
import { deviceBootargs, placeDevices } from '../devices/create';
import { DEFAULT_BOOTARGS, MAX_HARTS, UsageError, type MachineOptions } from '../host/options';

/** A file system error on input file `path` as the error the person sees. */
function cannotRead(e: unknown, path: string, what: string, flag: string): UsageError {
  return new UsageError(`cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Check the path given with ${flag}.`);
}

/** The size of input file `path`, checked: it exists, is a file, and is not empty. */
function inputSize(path: string, what: string, flag: string): number {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`${what} ${path} is not a file (${flag})`);
    size = st.size;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw cannotRead(e, path, what, flag);
  }
  if (size === 0) throw new UsageError(`the ${what} ${path} is empty (${flag}); rebuild it or pick another file.`);
  return size;
}

function readInput(path: string, what: string, flag: string): Uint8Array {
  inputSize(path, what, flag);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read the ${what} ${path}: ${(e as Error).message}`);
  }
}

/** Reads up to dst.length bytes of `path` from offset 0; returns how many it got. */
function readFileInto(path: string, dst: Uint8Array): number {
  const fd = openSync(path, 'r');
  try {
    let got = 0;
    while (got < dst.length) {
      const n = readSync(fd, dst, got, dst.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return got;
  } finally {
    closeSync(fd);
  }
}

function sizeNow(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

/**
 * A kernel or initrd the machine reads straight into guest RAM (emulator/boot.ts ImageFile).
 * Its size is checked now; a file that changes before it is read is a UsageError then.
 */
export function imageFile(path: string, what: string, flag: string): ImageFile {
  const length = inputSize(path, what, flag);
  const read = (dst: Uint8Array): number => {
    try {
      return readFileInto(path, dst);
    } catch (e) {
      throw cannotRead(e, path, what, flag);
    }
  };
  return {
    length,
    head: (n) => {
      const b = new Uint8Array(Math.min(n, length));
      return b.subarray(0, read(b));
    },
    readInto: (dst) => {
      const got = read(dst.subarray(0, length));
      const now = got === length ? sizeNow(path) : got;
      if (now !== length) {
        const was = now < 0 ? 'is gone' : `has ${now}`;
        throw new UsageError(`the ${what} ${path} changed while the machine started: it had ${length} bytes and ${was} (${flag}); start again once it is written.`);
      }
    },
  };
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
    kernel: imageFile(o.kernel, 'kernel image', '-k'),
    initrd: o.initrd ? imageFile(o.initrd, 'initrd', '-i') : undefined,
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
