// The `launch` arguments of a "semu" debug configuration and their validation into
// MachineOptions. The machine's and the devices' attributes are declared with their CLI flags
// (src/host/options.ts, src/devices/); the debugger's own are declared here. The launch schema in
// package.json is generated from all of them (npm run manifest). Shared by the adapter and the
// extension's configuration provider, so both report a bad field the same way: naming the
// launch.json attribute and what to do.

import type { DebugProtocol } from '@vscode/debugprotocol';
import { machineOptionSpecs, UsageError, type MachineOptions } from '../src/host/options';
import type { OptionSpec } from '../src/host/option-spec';
import { checkLaunch, launchSchema } from '../src/host/option-parse';
import { DEFAULT_GDB_PORT } from '../src/gdb/rsp';

export interface SemuLaunchArguments extends DebugProtocol.LaunchRequestArguments, Partial<MachineOptions> {
  stopOnEntry?: boolean;
  /** System.map or vmlinux, for names in the call stack, disassembly and function breakpoints. */
  symbols?: string;
  /** Lines typed into the guest console once it prints `semu-guest: ready`. */
  consoleInput?: string[];
  /** Base folder for relative paths (VS Code passes the workspace folder). */
  cwd?: string;
  /** Log level of the adapter and the machine: debug, info, warn, error. */
  logLevel?: string;
  /** The kernel source tree here (stands for the tree the DWARF names, found from init/main.c). */
  sourceRoot?: string;
  /** More path rewrites for DWARF source paths: { "/build/path": "/local/path" }. */
  sourceMap?: Record<string, string>;
  /** Start a gdb remote stub on this TCP port of localhost (0: any free port). */
  gdbPort?: number;
}

/** The debugger's own launch attributes (no CLI flags). */
export const ADAPTER_OPTIONS: readonly OptionSpec[] = [
  { key: 'stopOnEntry', type: 'boolean', default: false, help: 'pause before the first instruction' },
  {
    key: 'symbols', type: 'file', what: 'symbol file', hostAccess: true,
    help: "the kernel's vmlinux (with DWARF: source lines, call stacks, source breakpoints, line stepping) or System.map (names only). Defaults to the default guest's vmlinux when it has one, else its System.map",
  },
  { key: 'consoleInput', type: 'strings', default: [] as never, help: 'lines typed into the guest console once it prints "semu-guest: ready", e.g. ["pcm play 440 1"]' },
  { key: 'logLevel', type: 'string', enum: ['debug', 'info', 'warn', 'error'], help: 'log level of the adapter and the machine for this session (default: the semu.logLevel setting)' },
  {
    key: 'sourceRoot', type: 'dir', what: 'kernel source tree', hostAccess: true,
    help: 'the kernel source tree here, when it is not where the kernel was built',
    detail: "The kernel source tree here, when it is not where the kernel was built (the tree DWARF names is found from init/main.c). The default guest's tree is kept in its cache and needs no setting.",
  },
  {
    key: 'sourceMap', type: 'pathMap', hostAccess: true,
    help: 'more rewrites of DWARF source paths, longest prefix first',
    detail: 'More rewrites of DWARF source paths, longest prefix first: { "/build/linux": "${workspaceFolder}/linux" }.',
  },
  {
    // Opens a port on the host: restricted in an untrusted workspace.
    key: 'gdbPort', type: 'integer', min: 0, max: 65535, hostAccess: true,
    help: `start a gdb remote stub on this TCP port of localhost (${DEFAULT_GDB_PORT} as semu's -g; 0: any free port)`,
    detail: `Start a gdb remote stub on this TCP port of localhost (${DEFAULT_GDB_PORT} as semu's -g; 0: any free port), next to this debug session: gdb-multiarch vmlinux -ex 'target remote :${DEFAULT_GDB_PORT}'.`,
  },
];

/** Every launch attribute, in the order the schema lists them. */
export function launchOptionSpecs(): readonly OptionSpec[] {
  return [...machineOptionSpecs(), ...ADAPTER_OPTIONS];
}

export interface ResolvedLaunch {
  options: MachineOptions;
  stopOnEntry: boolean;
  symbols?: string;
  consoleInput: string[];
  sourceRoot?: string;
  sourceMap?: Record<string, string>;
  gdbPort?: number;
}

/** Validates launch arguments; throws UsageError naming the attribute at fault. */
export function resolveLaunch(args: SemuLaunchArguments): ResolvedLaunch {
  const base = typeof args.cwd === 'string' && args.cwd ? args.cwd : process.cwd();
  if (args.kernel === undefined || args.kernel === null || args.kernel === '') {
    throw new UsageError('"kernel" is missing: give the kernel image in launch.json (or leave "kernel" out to use the default guest)');
  }
  const raw = args as unknown as Record<string, unknown>;
  const options = checkLaunch(raw, machineOptionSpecs(), base) as unknown as MachineOptions;
  const own = checkLaunch(raw, ADAPTER_OPTIONS, base);
  return {
    options,
    stopOnEntry: (own.stopOnEntry as boolean | undefined) ?? false,
    symbols: own.symbols as string | undefined,
    consoleInput: (own.consoleInput as string[] | undefined) ?? [],
    sourceRoot: own.sourceRoot as string | undefined,
    sourceMap: own.sourceMap as Record<string, string> | undefined,
    gdbPort: own.gdbPort as number | undefined,
  };
}

/** The launch schema's properties (package.json contributes.debuggers[0].configurationAttributes.launch). */
export function launchProperties(): ReturnType<typeof launchSchema> {
  return launchSchema(launchOptionSpecs());
}
