// Boots the real Linux guest (kernel + initramfs from guest/build.sh) and runs its shell.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestRun, READY } from './guest';
import { StopReason } from '../../src/emulator/machine';

test('Linux boots to the ready marker, answers uname and /proc/cpuinfo, and powers off with 0', { timeout: 120_000 }, () => {
  const g = new GuestRun();
  const t0 = performance.now();
  const r = g.runUntil(READY);
  assert.ok(r.at >= 0, `no ready marker (${r.reason}); output:\n${g.output.slice(-3000)}`);
  const bootS = (performance.now() - t0) / 1000;
  assert.match(g.output, /Linux version 6\.12/);
  // Type after the shell's first prompt (see the SMP test below): typed earlier, the tty echo
  // followed by that prompt looks like a finished command with no output.
  assert.ok(g.runUntil('# ', 5e8, r.at).at >= 0, 'the first shell prompt');
  const uname = g.command('uname -a');
  assert.match(uname, /Linux .*riscv32/);
  const cpuinfo = g.command('cat /proc/cpuinfo');
  assert.match(cpuinfo, /isa\s*:\s*rv32ima/);
  assert.match(cpuinfo, /mmu\s*:\s*sv32/);
  g.m.consoleIn(Buffer.from('poweroff\n'));
  const end = g.runUntil(null, 5e8);
  assert.equal(end.reason, StopReason.Halted, g.output.slice(-2000));
  assert.equal(g.m.exitCode, 0);
  assert.equal(g.m.haltReason, 'poweroff');
  assert.ok(bootS < 60, `boot took ${bootS.toFixed(1)} s`);
});

test('two icount boots print byte-identical output and retire the same instructions', { timeout: 180_000 }, () => {
  const runs = [0, 1].map(() => {
    const g = new GuestRun({ time: 'icount' });
    const r = g.runUntil(READY);
    assert.ok(r.at >= 0, `no ready marker; output:\n${g.output.slice(-2000)}`);
    g.command('uname -a');
    g.command('cat /proc/interrupts');
    return { out: g.output, instret: g.m.instret() };
  });
  assert.equal(runs[0].out, runs[1].out);
  assert.equal(runs[0].instret, runs[1].instret);
  assert.match(runs[0].out, /\[\s*\d+\.\d+\]/, 'timestamps are part of what must match');
});

test('an SMP boot on 4 harts brings up 4 CPUs (HSM, IPIs, remote fences)', { timeout: 120_000 }, () => {
  const g = new GuestRun({ harts: 4, time: 'icount' });
  const r = g.runUntil(READY);
  assert.ok(r.at >= 0, `no ready marker (${r.reason}); output:\n${g.output.slice(-3000)}`);
  assert.match(g.output, /smp: Brought up 1 node, 4 CPUs/);
  // The shell's first prompt comes after the marker: typed before it, the line's tty echo would
  // be followed by that prompt and look like a finished command.
  assert.ok(g.runUntil('# ', 5e8, r.at).at >= 0, 'the first shell prompt');
  const cpuinfo = g.command('cat /proc/cpuinfo');
  for (let h = 0; h < 4; h++) assert.match(cpuinfo, new RegExp(`hart\\s*:\\s*${h}\\b`));
  assert.deepEqual(g.m.harts.map((h) => h.state), [0, 0, 0, 0], 'all harts started');
});

test('input typed during boot reaches the shell whole (the 8250 startup does not eat it)', { timeout: 120_000 }, () => {
  const g = new GuestRun({ time: 'icount' });
  g.m.consoleIn(Buffer.from('echo typed-during-boot\n'));
  const r = g.runUntil('\ntyped-during-boot');
  assert.ok(r.at >= 0, `the line did not run whole (${r.reason}); output:\n${g.output.slice(-1500)}`);
  assert.ok(g.output.indexOf(READY) < r.at, 'it ran after the ready marker, in the shell');
});
