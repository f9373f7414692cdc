// From MachineOptions (paths and specs) to a Machine: reads and checks every input file and
// turns each problem into a UsageError that says what is wrong and what to do.

import { readFileSync, statSync } from 'node:fs';
import { Machine, type MachineConfig, type MachineIO } from '../emulator/machine';
import type { GuestRam } from '../emulator/ram';
import { DiskImage } from '../emulator/virtio/disk-image';
import { VirtioSnd } from '../emulator/virtio/snd';
import { createBackend } from '../audio';
import type { AudioBackend } from '../audio/backend';
import { DEFAULT_BOOTARGS, MAX_HARTS, UsageError, type MachineOptions } from './options';

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

/** The host resources a machine holds besides its memory: freed once, when the session ends. */
export interface LoadedMachine {
  machine: Machine;
  dispose(): void;
}

export function machineConfig(o: MachineOptions, ram: GuestRam): Omit<MachineConfig, 'disk' | 'sound'> {
  if (!o.kernel) throw new UsageError('no kernel: give one with -k (or run `npm run guest` for the default guest)');
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
    bootargs: o.bootargs ?? DEFAULT_BOOTARGS,
    time: o.time ?? 'host',
  };
}

function openBackend(spec: string, flag: string): AudioBackend {
  try {
    return createBackend(spec);
  } catch (e) {
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
}

export function loadMachine(o: MachineOptions, ram: GuestRam, io: MachineIO): LoadedMachine {
  const config: MachineConfig = machineConfig(o, ram);
  const owned: { dispose(): void }[] = [];
  const disposeAll = () => {
    for (const r of owned.reverse()) r.dispose();
    owned.length = 0;
  };
  try {
    if (o.disk) {
      try {
        const disk = DiskImage.open(o.disk, { readOnly: o.diskReadOnly ?? false });
        owned.push({ dispose: () => disk.close() });
        config.disk = disk;
      } catch (e) {
        throw new UsageError(`${(e as Error).message} (-d)`);
      }
    }
    const backendOut = openBackend(o.audioOut ?? 'portaudio', '--audio-out');
    owned.push(backendOut);
    const backendIn = openBackend(o.audioIn ?? 'portaudio', '--audio-in');
    owned.push(backendIn);
    const sound = new VirtioSnd({ backendOut, backendIn });
    config.sound = sound;
    let machine: Machine;
    try {
      machine = new Machine(config, io);
    } catch (e) {
      // Boot errors (image too large, corrupt DTB) are the user's to fix.
      if ((e as Error).name === 'BootError') throw new UsageError((e as Error).message);
      throw e;
    }
    sound.setClock(machine.clock);
    // The worker yields between slices: hot code compiles on V8's threads meanwhile.
    machine.code.compileInBackground = true;
    return { machine, dispose: disposeAll };
  } catch (e) {
    disposeAll();
    throw e;
  }
}
