// The `launch` arguments of a "semu" debug configuration (package.json contributes.debuggers
// documents each one) and their validation into MachineOptions. Shared by the adapter and the
// extension's configuration provider, so both report a bad field the same way: naming the
// launch.json attribute and what to do.

import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { MAX_HARTS, UsageError, type MachineOptions, type TimeMode } from '../src/host/options';
import { LAUNCH_NAMES, checkLogLevel, preflight } from '../src/host/preflight';

export interface SemuLaunchArguments extends DebugProtocol.LaunchRequestArguments {
  kernel?: string;
  initrd?: string;
  dtb?: string;
  disk?: string;
  diskReadOnly?: boolean;
  harts?: number;
  audioOut?: string;
  audioIn?: string;
  time?: TimeMode;
  stopOnEntry?: boolean;
  /** System.map or vmlinux, for names in the call stack, disassembly and function breakpoints. */
  symbols?: string;
  /** Lines typed into the guest console once it prints `semu-guest: ready`. */
  consoleInput?: string[];
  bootargs?: string;
  ramMiB?: number;
  /** Base folder for relative paths (VS Code passes the workspace folder). */
  cwd?: string;
  /** Log level of the adapter and the machine: debug, info, warn, error. */
  logLevel?: string;
}

export interface ResolvedLaunch {
  options: MachineOptions;
  stopOnEntry: boolean;
  symbols?: string;
  consoleInput: string[];
}

const AUDIO_SPEC = /^(portaudio(:.*)?|wav:.+|null)$/;

/** Validates launch arguments; throws UsageError naming the attribute at fault. */
export function resolveLaunch(args: SemuLaunchArguments): ResolvedLaunch {
  const base = typeof args.cwd === 'string' && args.cwd ? args.cwd : process.cwd();
  const path = (key: keyof SemuLaunchArguments, what: string, required: boolean, checked = true): string | undefined => {
    const v = args[key];
    if (v === undefined || v === null || v === '') {
      if (required) throw new UsageError(`"${key}" is missing: give the ${what} in launch.json (or leave "kernel" out to use the default guest)`);
      return undefined;
    }
    if (typeof v !== 'string') throw new UsageError(`"${key}" must be a path string, got ${JSON.stringify(v)}`);
    const p = isAbsolute(v) ? v : resolve(base, v);
    if (!checked) return p; // preflight() says what to do about it
    if (!existsSync(p)) throw new UsageError(`the ${what} "${p}" does not exist (launch.json "${key}")`);
    if (!statSync(p).isFile()) throw new UsageError(`the ${what} "${p}" is not a file (launch.json "${key}")`);
    return p;
  };
  const kernel = path('kernel', 'kernel image', true)!;
  const options: MachineOptions = { kernel };
  const initrd = path('initrd', 'initrd', false);
  if (initrd) options.initrd = initrd;
  const dtb = path('dtb', 'device tree blob', false);
  if (dtb) options.dtb = dtb;
  const disk = path('disk', 'disk image', false, false);
  if (disk) options.disk = disk;
  if (args.diskReadOnly !== undefined) options.diskReadOnly = bool(args.diskReadOnly, 'diskReadOnly');
  if (args.harts !== undefined) {
    if (typeof args.harts !== 'number' || !Number.isInteger(args.harts) || args.harts < 1 || args.harts > MAX_HARTS) {
      throw new UsageError(`"harts" must be a whole number from 1 to ${MAX_HARTS}, got ${JSON.stringify(args.harts)}`);
    }
    options.harts = args.harts;
  }
  if (args.time !== undefined) {
    if (args.time !== 'host' && args.time !== 'icount') throw new UsageError(`"time" must be "host" or "icount", got ${JSON.stringify(args.time)}`);
    options.time = args.time;
  }
  for (const key of ['audioOut', 'audioIn'] as const) {
    const v = args[key];
    if (v === undefined || v === '') continue;
    if (typeof v !== 'string' || !AUDIO_SPEC.test(v)) {
      throw new UsageError(`"${key}" must be "portaudio", "portaudio:DEVICE", "wav:PATH" or "null", got ${JSON.stringify(v)}`);
    }
    // A relative WAV path is relative to the workspace, like every other path.
    options[key] = v.startsWith('wav:') && !isAbsolute(v.slice(4)) ? `wav:${resolve(base, v.slice(4))}` : v;
  }
  if (args.bootargs !== undefined) {
    if (typeof args.bootargs !== 'string') throw new UsageError(`"bootargs" must be a string`);
    options.bootargs = args.bootargs;
  }
  if (args.ramMiB !== undefined) {
    if (typeof args.ramMiB !== 'number' || !Number.isInteger(args.ramMiB) || args.ramMiB < 16 || args.ramMiB > 2048) {
      throw new UsageError(`"ramMiB" must be a whole number of MiB from 16 to 2048`);
    }
    options.ramMiB = args.ramMiB;
  }
  let consoleInput: string[] = [];
  if (args.consoleInput !== undefined) {
    const ci = args.consoleInput as unknown;
    if (typeof ci === 'string') consoleInput = [ci];
    else if (Array.isArray(ci) && ci.every((l) => typeof l === 'string')) consoleInput = ci as string[];
    else throw new UsageError(`"consoleInput" must be a list of lines (strings)`);
  }
  const symbols = path('symbols', 'symbol file (System.map or vmlinux)', false);
  if (args.logLevel !== undefined) checkLogLevel(args.logLevel, '"logLevel"');
  preflight(options, LAUNCH_NAMES);
  return {
    options,
    stopOnEntry: args.stopOnEntry === undefined ? false : bool(args.stopOnEntry, 'stopOnEntry'),
    symbols,
    consoleInput,
  };
}

function bool(v: unknown, key: string): boolean {
  if (typeof v !== 'boolean') throw new UsageError(`"${key}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}
