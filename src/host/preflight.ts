// Every check a person's input gets before a machine starts, in one place. Each option's own
// host checks are declared with it (OptionSpec.missing and .preflight: the disk in virtio-blk's
// descriptor, the WAV paths in virtio-snd's, the device tree in options.ts); this module runs
// them, plus the one check that spans options (the images fit in RAM). The CLI (src/cli.ts,
// before the worker starts) and a debug launch (debug-adapter/launch.ts, before the adapter
// answers) both call preflight(). Each problem is one line — what is wrong, named as the person
// wrote it (`--ram`, or launch.json "ramMiB"), and a fix that works with the default guest —
// thrown as a UsageError: exit code 2 in the CLI, a launch error in VS Code.

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { BootError, DTB_REGION, imageSize, planBoot } from '../emulator/boot';
import type { InputNamer, OptionSpec } from './option-spec';
import { machineOptionSpecs, RAM_MIB_MAX, UsageError, type MachineOptions } from './options';

const DEFAULT_RAM_MIB = 512;
const RAM_BASE = 0;

function specFor(key: string): OptionSpec | undefined {
  return machineOptionSpecs().find((s) => s.key === key);
}

/** Options as CLI flags: `-d`, `--ram 64`. */
export const CLI_NAMER: InputNamer = {
  name: (key) => specFor(key)?.cli?.[0] ?? key,
  setting(key, value) {
    const flag = specFor(key)?.cli?.[0] ?? key;
    return value === true ? flag : `${flag} ${value}`;
  },
};

/** Options as launch.json attributes: launch.json "disk", "ramMiB": 64. */
export const LAUNCH_NAMER: InputNamer = {
  name: (key) => `launch.json "${key}"`,
  setting: (key, value) => `"${key}": ${JSON.stringify(value)}`,
};

/** Runs every declared host check, then the RAM fit; throws UsageError (one line) on the first problem. */
export function preflight(o: MachineOptions, names: InputNamer): void {
  if (!o.kernel) throw new UsageError(`no kernel: give one with ${names.name('kernel')}, or leave it out for the default guest`);
  const values = o as unknown as Record<string, unknown>;
  for (const spec of machineOptionSpecs()) {
    const v = values[spec.key];
    if (!spec.preflight || v === undefined || v === null || v === '') continue;
    const why = spec.preflight(v as never, { ...names, values });
    if (why !== undefined) throw new UsageError(`${names.name(spec.key)}: ${why}`);
  }
  checkFit(o, names);
}

function size(path: string | undefined): number {
  if (!path) return 0;
  try {
    return statSync(path).size;
  } catch {
    return 0; // the worker reports a file it cannot read, naming it
  }
}

/** Kernel, initrd and device tree must fit in RAM the way the machine lays them out. */
function checkFit(o: MachineOptions, names: InputNamer): void {
  const mib = o.ramMiB ?? DEFAULT_RAM_MIB;
  const kernelBytes = size(o.kernel);
  const initrdBytes = size(o.initrd);
  const footprint = kernelFootprint(o.kernel);
  try {
    planBoot(RAM_BASE, mib << 20, kernelBytes, footprint, initrdBytes, size(o.dtb));
  } catch (e) {
    if (!(e instanceof BootError)) throw e;
    const need = Math.max(kernelBytes, footprint ?? 0) + initrdBytes + DTB_REGION;
    let want = mib;
    while (want < RAM_MIB_MAX && want << 20 < need + (16 << 20)) want *= 2;
    const fix = want > mib ? `give the machine more RAM with ${names.setting('ramMiB', Math.min(want, RAM_MIB_MAX))}` : 'use smaller images';
    throw new UsageError(`${e.message}: ${fix}`);
  }
}

/** The RISC-V Image header's image_size (what the kernel occupies once running), if it has one. */
function kernelFootprint(path: string): number | null {
  const head = new Uint8Array(64);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    if (readSync(fd, head, 0, 64, 0) < 64) return null;
  } finally {
    closeSync(fd);
  }
  return imageSize(head);
}
