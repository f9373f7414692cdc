// semu's -g through the CLI, driven by the real gdb-multiarch with the default guest's vmlinux:
// as semu, the machine waits at its first instruction until gdb connects and continues, and the
// CLI ends when gdb detaches (exit 0). In between: a breakpoint at a kernel function, registers,
// CSRs, memory, a hardware watchpoint on jiffies, Ctrl-C.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { distFile } from '../../src/paths';
import { parseArgs } from '../../src/host/cli-args';
import { guestArtifacts } from '../guest-artifacts/artifacts';
import { runGdb, waitFor } from './batch';

test("cli: -g is semu's flag (port 1234), --gdb-port picks another and implies -g", () => {
  assert.equal(parseArgs([]).gdbPort, undefined);
  assert.equal(parseArgs(['-g']).gdbPort, 1234);
  assert.equal(parseArgs(['--gdbstub']).gdbPort, 1234);
  assert.equal(parseArgs(['-gH']).gdbPort, 1234);
  assert.equal(parseArgs(['--gdb-port', '0']).gdbPort, 0);
  assert.equal(parseArgs(['-g', '--gdb-port=4321']).gdbPort, 4321);
  assert.throws(() => parseArgs(['-g', '1234']), /unexpected argument '1234'/);
  assert.throws(() => parseArgs(['--gdb-port', '65536']), /--gdb-port must be a whole number from 0 to 65535/);
});

test('cli -g: gdb-multiarch drives the default guest; gdb detaching ends the CLI', { timeout: 600_000 }, async () => {
  const g = guestArtifacts();
  // --gdb-port 0: a free port (others may hold 1234 on a shared machine); the CLI prints it.
  const cli = spawn(process.execPath, [distFile('cli.js'), '-g', '--gdb-port', '0', '-k', g.kernel, '-i', g.initrd, '--audio-out', 'null', '--audio-in', 'null', '--time', 'icount', '--timeout', '500'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let consoleOut = '';
  let err = '';
  cli.stdout.on('data', (d: Buffer) => (consoleOut += d.toString('latin1')));
  cli.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const cliExit = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
  let gdb: ReturnType<typeof runGdb> | undefined;
  try {
    await waitFor(() => err, /waiting for gdb on 127\.0\.0\.1:\d+/, 60_000, 'the CLI');
    const port = /127\.0\.0\.1:(\d+)/.exec(err)![1];
    // Before gdb comes, nothing runs.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(consoleOut, '', 'the machine waits for gdb');
    gdb = runGdb([
      'set architecture riscv:rv32', 'set pagination off', 'set confirm off',
      `target remote :${port}`,
      'echo @CONNECTED\\n',
      'p/x $pc',
      'break start_kernel',
      'continue',
      'bt',
      'p/x $satp',
      'x/2wx $sp',
      'watch -l jiffies_64',
      'delete 1',
      'continue',
      'delete',
      'echo @RUN-FREE\\n',
      'continue',
      'echo @INTERRUPTED\\n',
      'info registers pc',
      'detach',
    ], g.vmlinux);
    const out = gdb.out;
    await waitFor(out, /@RUN-FREE/, 300_000, 'gdb');
    await new Promise((r) => setTimeout(r, 1000));
    gdb.proc.kill('SIGINT'); // Ctrl-C
    assert.equal(await gdb.exited, 0, out());
    assert.match(out(), /@CONNECTED\s+\$1 = 0x0\b/, 'gdb finds the machine at its first instruction');
    assert.match(out(), /Breakpoint 1, (0x[0-9a-f]+ in )?start_kernel \(\) at \S*init\/main\.c:\d+/, 'a breakpoint at a kernel virtual address');
    assert.match(out(), /^\$2 = 0x8[0-9a-f]{7}$/m, 'satp: Sv32 on');
    assert.match(out(), /^0xc[0-9a-f]+.*:\s+0x[0-9a-f]{8}\s+0x[0-9a-f]{8}/m, 'memory at sp');
    assert.match(out(), /Hardware watchpoint 2: -location jiffies_64/);
    assert.match(out(), /Old value = \d+\s+New value = \d+/, 'the watchpoint fired on a write');
    assert.match(out(), /Program received signal SIGINT/, 'interrupted');
    assert.match(out(), /Inferior 1 \[Remote target\] detached|\[Inferior 1 \(Remote target\) detached\]/);
    assert.equal(await cliExit, 0, `the CLI ends with gdb's detach, as semu; stderr:\n${err}`);
    assert.match(consoleOut, /Linux version 6\.12/, 'the kernel ran once gdb continued');
  } finally {
    gdb?.kill();
    if (cli.exitCode === null) cli.kill('SIGKILL');
  }
});
