// `semu`: boot a machine in the terminal. semu's command line, plus what this project adds.
// The machine runs in the same worker the debugger uses; the terminal is the guest's console.
// Loaded by the entry (cli.ts) once it has started that worker.

import { MachineHost, type ExitedEvent } from './host/machine-host';
import { UsageError, type MachineOptions } from './host/options';
import { EscapeFilter, USAGE, parseArgs } from './host/cli-args';
import { defaultGuest } from './host/default-guest';
import { CLI_NAMER, preflight } from './host/preflight';
import { logger, setLogLevel } from './log';
import { startGdbStub, type GdbEnd } from './gdb/stub';
import type { PrestartedWorker } from './host/prestart';

async function main(prestarted: PrestartedWorker | null): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.logLevel) setLogLevel(args.logLevel);
  if (args.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const o = args.options;
  if (!o.kernel) {
    const g = await defaultGuest({ onProgress: (l) => logger('guest').info(l) });
    o.kernel = g.kernel;
    o.initrd ??= g.initrd;
  }
  preflight(o as MachineOptions, CLI_NAMER); // every user error now, in one line, before the worker starts
  const host = new MachineHost(o as MachineOptions);
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  const restore = () => {
    if (tty) stdin.setRawMode(false);
    stdin.pause();
  };
  host.on('console', (d) => process.stdout.write(d));
  // A device that runs degraded (passt missing: the link stays down) says so once, and the guest boots.
  host.on('warning', (m) => process.stderr.write(`semu: ${m}\n`));
  // A machine that cannot start rejects here (bad input: a UsageError, exit code 2).
  // With -g it waits at its first instruction for gdb, as semu's does.
  await host.start({ logLevel: args.logLevel, stopOnEntry: args.gdbPort !== undefined, prestarted });
  let gdbCode: number | undefined;
  if (args.gdbPort !== undefined) {
    const stub = await startGdbStub(host, args.gdbPort, {
      onDisconnect: (how: GdbEnd) => {
        // semu ends when gdb leaves: 0 after a detach, 1 when gdb killed or hung up.
        if (host.exited) return;
        gdbCode = how === 'detach' ? 0 : 1;
        void host.dispose();
      },
    });
    process.stderr.write(`semu: waiting for gdb on 127.0.0.1:${stub.port} (gdb-multiarch vmlinux -ex 'target remote :${stub.port}')\n`);
  }
  const exited = new Promise<number>((resolve) => {
    const report = (e: ExitedEvent) => {
      if (e.reason === 'crash' || e.reason === 'error') {
        process.stderr.write(`\nsemu: ${e.message ?? 'the machine stopped'}\n`);
        if (e.crash) {
          for (const i of e.crash.lastInstructions) process.stderr.write(`  ${i.pc.toString(16).padStart(8, '0')}: ${i.word.toString(16).padStart(8, '0')}  ${i.text}\n`);
        }
      }
      resolve(e.reason === 'timeout' ? 124 : e.code);
    };
    if (host.exited) report(host.exited);
    else host.on('exited', report);
  });
  const esc = new EscapeFilter();
  if (tty) stdin.setRawMode(true);
  stdin.on('data', (d: Buffer) => {
    const { forward, quit } = esc.filter(d);
    // Back-pressure: a pipe is read only as fast as the guest reads its console (nothing dropped).
    if (forward.length && !host.consoleIn(forward)) {
      stdin.pause();
      host.once('consoleDrain', () => stdin.resume());
    }
    if (quit) void host.dispose();
  });
  stdin.on('end', () => host.consoleClose());
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  if (args.timeout) {
    timer = setTimeout(() => {
      timedOut = true;
      process.stderr.write(`\nsemu: --timeout ${args.timeout}s reached, stopping the machine\n`);
      void host.dispose();
    }, args.timeout * 1000);
  }
  const code = await exited;
  if (timer) clearTimeout(timer);
  restore();
  await host.dispose();
  return timedOut ? 124 : (gdbCode ?? code);
}

/**
 * Runs the CLI to its end: the process exits with the machine's code (2 for a usage error).
 * `prestarted`: the worker the entry started for the machine, if any.
 */
export function runCli(prestarted: PrestartedWorker | null): void {
  main(prestarted).then(
    (code) => process.exit(code),
    (e: Error) => {
      if (e instanceof UsageError || e.name === 'UsageError') {
        process.stderr.write(`semu: ${e.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`semu: internal error: ${e.stack ?? e.message}\n`);
      process.exit(70);
    },
  );
}
