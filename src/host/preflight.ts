// Every check a person's input gets before a machine starts, in one place: the CLI (through
// load.ts, in the worker, before anything is built) and a debug launch (launch.ts, before the
// worker starts) both call preflight(). Each problem is one line — what is wrong, named as the
// person wrote it (`--ram`, or launch.json "ramMiB"), and a fix that works with the default
// guest — thrown as a UsageError: exit code 2 in the CLI, a launch error in VS Code.

import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseAudioSpec } from '../audio';
import { readWavInfo } from '../audio/wav-format';
import { BootError, DTB_REGION, imageSize, planBoot } from '../emulator/boot';
import { type FdtNode, parseFdt, propString, propStrings } from '../emulator/fdt';
import type { LogLevel } from '../log';
import { UsageError, type MachineOptions } from './options';

/** How a person named each input: CLI flags or launch.json attributes. */
export interface InputNames {
  kernel: string;
  initrd: string;
  dtb: string;
  disk: string;
  diskReadOnly: string;
  audioOut: string;
  audioIn: string;
  /** How to ask for `mib` MiB of RAM. */
  ram(mib: number): string;
}

export const CLI_NAMES: InputNames = {
  kernel: '-k',
  initrd: '-i',
  dtb: '-b',
  disk: '-d',
  diskReadOnly: '--disk-ro',
  audioOut: '--audio-out',
  audioIn: '--audio-in',
  ram: (mib) => `--ram ${mib}`,
};

export const LAUNCH_NAMES: InputNames = {
  kernel: 'launch.json "kernel"',
  initrd: 'launch.json "initrd"',
  dtb: 'launch.json "dtb"',
  disk: 'launch.json "disk"',
  diskReadOnly: '"diskReadOnly": true',
  audioOut: 'launch.json "audioOut"',
  audioIn: 'launch.json "audioIn"',
  ram: (mib) => `"ramMiB": ${mib}`,
};

const DEFAULT_RAM_MIB = 512;
const MAX_RAM_MIB = 2048;
const RAM_BASE = 0;
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
const MKDISK = (p: string) => `truncate -s 64M ${p} && mkfs.ext4 -q -F ${p}`;

/** Checks everything a machine will read or write; throws UsageError (one line) on the first problem. */
export function preflight(o: MachineOptions, names: InputNames): void {
  if (!o.kernel) throw new UsageError(`no kernel: give one with ${names.kernel}, or leave it out for the default guest`);
  const kernelBytes = inputFile(o.kernel, 'kernel image', names.kernel);
  const initrdBytes = o.initrd ? inputFile(o.initrd, 'initrd', names.initrd) : 0;
  const dtbBytes = o.dtb ? inputFile(o.dtb, 'device tree blob', names.dtb) : 0;
  if (o.dtb) checkDeviceTree(o.dtb, names.dtb);
  checkFit(o, kernelBytes, initrdBytes, dtbBytes, names);
  if (o.disk) checkDisk(o.disk, o.diskReadOnly === true, names);
  if (o.audioOut !== undefined) checkAudio(o.audioOut, 'output', names.audioOut);
  if (o.audioIn !== undefined) checkAudio(o.audioIn, 'input', names.audioIn);
}

/** A log level as typed (`--log`, "logLevel"): one of debug, info, warn, error, silent. */
export function checkLogLevel(value: unknown, name: string): LogLevel {
  if (typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new UsageError(`${name} ${JSON.stringify(value)} is not a log level: use ${LOG_LEVELS.join(', ')}`);
}

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** A file the machine reads: present, a file, readable, not empty. Returns its size. */
function inputFile(path: string, what: string, name: string): number {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`the ${what} ${path} is not a file (${name})`);
    size = st.size;
    accessSync(path, constants.R_OK);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const why = code(e) === 'ENOENT' ? 'does not exist' : `cannot be read (${code(e)})`;
    throw new UsageError(`the ${what} ${path} ${why}: check the path given with ${name}`);
  }
  if (size === 0) throw new UsageError(`the ${what} ${path} is empty (${name}): rebuild it or pick another file`);
  return size;
}

/** Kernel, initrd and device tree must fit in RAM the way the machine lays them out. */
function checkFit(o: MachineOptions, kernelBytes: number, initrdBytes: number, dtbBytes: number, names: InputNames): void {
  const mib = o.ramMiB ?? DEFAULT_RAM_MIB;
  const footprint = kernelFootprint(o.kernel);
  try {
    planBoot(RAM_BASE, mib << 20, kernelBytes, footprint, initrdBytes, dtbBytes);
  } catch (e) {
    if (!(e instanceof BootError)) throw e;
    const need = Math.max(kernelBytes, footprint ?? 0) + initrdBytes + DTB_REGION;
    let want = mib;
    while (want < MAX_RAM_MIB && want << 20 < need + (16 << 20)) want *= 2;
    const fix = want > mib ? `give the machine more RAM with ${names.ram(Math.min(want, MAX_RAM_MIB))}` : 'use smaller images';
    throw new UsageError(`${e.message}: ${fix}`);
  }
}

/** The RISC-V Image header's image_size (what the kernel occupies once running), if it has one. */
function kernelFootprint(path: string): number | null {
  const head = new Uint8Array(64);
  const fd = openSync(path, 'r');
  try {
    if (readSync(fd, head, 0, 64, 0) < 64) return null;
  } finally {
    closeSync(fd);
  }
  return imageSize(head);
}

function checkDeviceTree(path: string, name: string): void {
  const blob = new Uint8Array(statSync(path).size);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, blob, 0, blob.length, 0);
  } finally {
    closeSync(fd);
  }
  let root: FdtNode;
  try {
    root = parseFdt(blob).root;
  } catch (e) {
    throw new UsageError(`the device tree blob ${path} (${name}) is not usable: ${(e as Error).message}`);
  }
  const missing = missingFromTree(root);
  if (missing.length > 0) {
    throw new UsageError(`the device tree blob ${path} (${name}) has no ${missing.join(', no ')}: add ${missing.length > 1 ? 'them' : 'it'}, or leave ${name} out to use the generated tree`);
  }
}

/** What Linux cannot boot without, as the missing parts' descriptions. */
export function missingFromTree(root: FdtNode): string[] {
  const all: FdtNode[] = [];
  const walk = (n: FdtNode) => {
    all.push(n);
    n.children.forEach(walk);
  };
  walk(root);
  const missing: string[] = [];
  if (!all.some((n) => propString(n, 'device_type') === 'memory' && n.props.has('reg'))) missing.push('memory node (device_type "memory" with a reg)');
  const cpus = root.children.find((c) => c.name === 'cpus');
  if (!cpus || !cpus.children.some((c) => propString(c, 'device_type') === 'cpu')) missing.push('cpus (a /cpus node with device_type "cpu" children)');
  const serial = all.some((n) => (propStrings(n, 'compatible') ?? []).some((c) => /^ns(16550a?|8250|16450|16750)$/.test(c)));
  const chosen = root.children.find((c) => c.name === 'chosen');
  if (!serial && !(chosen && chosen.props.has('stdout-path'))) missing.push('console (an ns16550a serial node for the UART at 0xf4000000, or a /chosen stdout-path)');
  return missing;
}

function checkDisk(path: string, readOnly: boolean, names: InputNames): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if (code(e) === 'ENOENT') throw new UsageError(`the disk image ${path} does not exist (${names.disk}): create one with "${MKDISK(path)}"`);
    throw new UsageError(`the disk image ${path} cannot be read (${code(e)}) (${names.disk})`);
  }
  if (!st.isFile()) throw new UsageError(`the disk image ${path} is not a file (${names.disk}): give a raw image, e.g. made with "${MKDISK('disk.img')}"`);
  if (st.size === 0) throw new UsageError(`the disk image ${path} is empty (${names.disk}): make a file system on it with "${MKDISK(path)}"`);
  try {
    accessSync(path, readOnly ? constants.R_OK : constants.R_OK | constants.W_OK);
  } catch (e) {
    const fix = readOnly ? 'make it readable' : `make it writable (chmod u+w ${path}) or open it read-only with ${names.diskReadOnly}`;
    throw new UsageError(`the disk image ${path} cannot be ${readOnly ? 'read' : 'written'} (${code(e)}) (${names.disk}): ${fix}`);
  }
}

function checkAudio(spec: string, direction: 'output' | 'input', name: string): void {
  let p;
  try {
    p = parseAudioSpec(spec);
  } catch (e) {
    throw new UsageError(`${name}: ${(e as Error).message}`);
  }
  if (p.kind !== 'wav') return;
  const path = resolve(p.path);
  if (direction === 'output') checkWavOutput(path, `${name} ${spec}`);
  else checkWavInput(path, `${name} ${spec}`);
}

function checkWavOutput(path: string, what: string): void {
  const dir = dirname(path);
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch {
    throw new UsageError(`${what}: the folder ${dir} does not exist: create it, or write the WAV file somewhere else`);
  }
  if (!dirStat.isDirectory()) throw new UsageError(`${what}: ${dir} is not a folder`);
  let exists = true;
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`${what}: ${path} is a folder: name a file in it, e.g. ${resolve(path, 'out.wav')}`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    exists = false;
  }
  try {
    accessSync(exists ? path : dir, constants.W_OK);
  } catch (e) {
    throw new UsageError(`${what}: cannot write ${exists ? path : `in ${dir}`} (${code(e)}): choose a place you can write to`);
  }
}

function checkWavInput(path: string, what: string): void {
  try {
    if (!statSync(path).isFile()) throw new UsageError(`${what}: ${path} is not a file`);
    accessSync(path, constants.R_OK);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${what}: ${path} ${code(e) === 'ENOENT' ? 'does not exist' : `cannot be read (${code(e)})`}: give a WAV file to capture from`);
  }
  try {
    readWavInfo(path);
  } catch (e) {
    throw new UsageError(`${what}: ${(e as Error).message}: give a PCM or float WAV file (e.g. made with "sox -n -r 48000 -c 2 -b 16 in.wav synth 3 sine 1000")`);
  }
}
