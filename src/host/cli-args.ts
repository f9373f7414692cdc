// The CLI's command line — semu's (`-k -b -i -d -n -c -g -s -H -h` and their long forms), the
// devices' and this project's options, all from their declarations (options.ts, the device
// descriptors) — and its console escape. Apart from src/cli.ts so tests and other tools can use
// them without starting the CLI.

import { machineOptionSpecs, UsageError, type MachineOptions } from './options';
import type { OptionSpec } from './option-spec';
import { parseCli, usageLines } from './option-parse';
import type { LogLevel } from '../log';
import { DEFAULT_GDB_PORT } from '../gdb/rsp';

/** Options of the CLI itself, not of the machine. */
const CLI_OPTIONS: readonly OptionSpec[] = [
  { key: 'headless', cli: ['-H', '--headless'], type: 'boolean', help: "no window (semu's flag; the CLI is always headless)" },
  { key: 'gdbstub', cli: ['-g', '--gdbstub'], type: 'boolean', help: `gdb remote stub on 127.0.0.1:${DEFAULT_GDB_PORT}; the machine waits for gdb, and ends when gdb detaches (as semu)` },
  { key: 'gdbPort', cli: ['--gdb-port'], type: 'integer', arg: 'PORT', min: 0, max: 65535, help: "-g's TCP port instead of 1234 (0: any free one, printed); implies -g" },
  { key: 'timeout', cli: ['--timeout'], type: 'number', arg: 'SEC', min: 0.001, help: 'stop the machine after SEC seconds (exit code 124)' },
  { key: 'log', cli: ['--log'], type: 'string', arg: 'LEVEL', enum: ['debug', 'info', 'warn', 'error', 'silent'], help: 'log level on stderr: debug, info, warn (default), error, silent' },
  { key: 'help', cli: ['-h', '--help'], type: 'boolean', help: 'this text' },
];

function specs(): OptionSpec[] {
  return [...machineOptionSpecs(), ...CLI_OPTIONS];
}

export const USAGE = [
  'usage: semu [options]        (semu: semu -k Image [-b dtb] [-i initrd] [-d disk] [-H])',
  ...usageLines(specs()),
  'Without -k the default guest boots. In the console, Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A.',
].join('\n');

export interface CliArgs {
  options: Partial<MachineOptions>;
  timeout?: number;
  logLevel?: LogLevel;
  headless: boolean;
  help: boolean;
  /** -g / --gdb-port: the gdb stub's port (src/gdb/stub.ts); undefined: no stub. */
  gdbPort?: number;
}

export function parseArgs(argv: string[]): CliArgs {
  const { values, rest } = parseCli(argv, specs(), USAGE);
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}' (options start with -)\n${USAGE}`);
  const { headless, timeout, log, help, gdbstub, gdbPort, ...machine } = values;
  return {
    options: machine as Partial<MachineOptions>,
    timeout: timeout as number | undefined,
    logLevel: log as LogLevel | undefined,
    headless: headless === true,
    help: help === true,
    gdbPort: gdbstub === true || gdbPort !== undefined ? ((gdbPort as number | undefined) ?? DEFAULT_GDB_PORT) : undefined,
  };
}

/** Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A, as in semu. */
export class EscapeFilter {
  private armed = false;
  filter(data: Uint8Array): { forward: Uint8Array; quit: boolean } {
    const out: number[] = [];
    for (const b of data) {
      if (this.armed) {
        this.armed = false;
        if (b === 0x78 /* x */) return { forward: Uint8Array.from(out), quit: true };
        if (b === 0x01) out.push(0x01);
        continue;
      }
      if (b === 0x01) this.armed = true;
      else out.push(b);
    }
    return { forward: Uint8Array.from(out), quit: false };
  }
}
