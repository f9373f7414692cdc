// What a person chooses about a machine, as the CLI flags, launch.json attributes and the
// extension settings all spell it. Paths, not bytes: the worker reads the files itself, so a
// launch never copies a kernel through postMessage.
//
// The machine's own options are declared here (MACHINE_OPTIONS); each device declares its own in
// its descriptor (src/devices/), and MachineOptions is the union of both.

import type { DeviceOptions } from '../devices/registry';
import { DEVICES } from '../devices/registry';
import type { OptionSpec } from './option-spec';

export type TimeMode = 'host' | 'icount';

export interface CoreOptions {
  kernel: string;
  initrd?: string;
  dtb?: string;
  harts?: number;
  time?: TimeMode;
  bootargs?: string;
  ramMiB?: number;
}

export type MachineOptions = CoreOptions & DeviceOptions;

/** The default kernel command line: semu's, with the 16550 console (guest/bootargs.txt documents it). */
export const DEFAULT_BOOTARGS = 'earlycon=uart8250,mmio,0xf4000000 console=ttyS0 panic=-1';

export const MAX_HARTS = 4;
export const RAM_MIB_MIN = 16;
export const RAM_MIB_MAX = 2048;

/** The machine's own options, in the order of the CLI help. */
export const MACHINE_OPTIONS: readonly OptionSpec[] = [
  { key: 'kernel', cli: ['-k', '--kernel'], type: 'file', arg: 'FILE', what: 'kernel image', hostAccess: true, help: 'kernel image: a Linux RISC-V Image or a raw RV32 binary, loaded at guest-physical 0 (default: the default guest)', detail: 'Linux RISC-V kernel Image (or a raw RV32 binary) loaded at guest-physical 0. Leave it out to boot the default guest.' },
  { key: 'initrd', cli: ['-i', '--initrd'], type: 'file', arg: 'FILE', what: 'initrd', hostAccess: true, help: 'initramfs (cpio), placed at the end of RAM (default with the default guest: its own)', detail: 'initramfs (cpio) placed at the end of RAM. Defaults to the default guest\'s when "kernel" is left out.' },
  { key: 'dtb', cli: ['-b', '--dtb'], type: 'file', arg: 'FILE', what: 'device tree blob', hostAccess: true, help: "device tree blob to use instead of the one generated for semu's machine" },
  { key: 'harts', cli: ['-c', '--smp'], type: 'integer', arg: 'N', min: 1, max: MAX_HARTS, default: 1, help: `harts (RV32IMA, S/U modes), 1 to ${MAX_HARTS}; each is a thread in the debugger` },
  { key: 'bootargs', cli: ['-a', '--append'], type: 'string', arg: 'ARGS', help: `kernel command line (default: ${DEFAULT_BOOTARGS})` },
  { key: 'time', cli: ['--time'], type: 'string', arg: 'MODE', enum: ['host', 'icount'], enumHelp: ['Guest time follows the host clock (real-time audio).', 'Guest time is derived from the instruction count: runs are reproducible.'], default: 'host', help: 'where guest time comes from: host (follows the host clock) or icount (instructions retired: runs are reproducible)' },
  { key: 'ramMiB', cli: ['--ram'], type: 'integer', arg: 'MIB', min: RAM_MIB_MIN, max: RAM_MIB_MAX, default: 512, help: 'guest RAM in MiB' },
];

/**
 * semu's flags whose device is not here yet: accepted so semu's command lines parse, and refused
 * with a sentence that says so. Each moves into its device's descriptor when the device lands.
 */
export const PENDING_OPTIONS: readonly OptionSpec[] = [
  { key: 'netdev', cli: ['-n', '--netdev'], type: 'string', arg: 'NETDEV', help: 'network backend for virtio-net', unavailable: 'virtio-net is not available yet in this version (leave -n out)' },
];

/** Every option of a machine: its own, then each device's in registry order. */
export function machineOptionSpecs(): readonly OptionSpec[] {
  const claimed = new Set(DEVICES.flatMap((d) => d.options.map((o) => o.key)));
  return [...MACHINE_OPTIONS, ...DEVICES.flatMap((d) => d.options), ...PENDING_OPTIONS.filter((o) => !claimed.has(o.key))];
}

/** An error a person caused and can fix: reported with its message alone, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
