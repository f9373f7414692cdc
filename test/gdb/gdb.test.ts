// The gdb stub driven by the real gdb-multiarch (Debian) in batch mode, with the guest's own
// vmlinux, while the machine runs the default guest: connect, break at a kernel function (a
// virtual address), read registers, CSRs and memory, watch a driver structure field and see
// the write, continue and interrupt with Ctrl-C (SIGINT to gdb), detach — the guest goes on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MachineHost } from '../../src/host/machine-host';
import { startGdbStub } from '../../src/gdb/stub';
import { guestArtifacts, GUEST_READY_MARKER } from '../guest-artifacts/artifacts';
import { runGdb, waitFor } from './batch';

test('gdb-multiarch against the stub on the running default guest', { timeout: 600_000 }, async () => {
  const g = guestArtifacts();
  const host = new MachineHost({ kernel: g.kernel, initrd: g.initrd, audioOut: 'null', audioIn: 'null', time: 'icount' });
  let console = '';
  host.on('console', (d) => (console += Buffer.from(d).toString('latin1')));
  await host.start();
  const stub = await startGdbStub(host, 0);
  try {
    await waitFor(() => console, new RegExp(GUEST_READY_MARKER), 300_000, 'the guest console');
    const script = [
      'set architecture riscv:rv32', 'set pagination off', 'set confirm off',
      `target remote :${stub.port}`,
      'echo @CONNECTED\\n',
      'info registers pc sp',
      'break virtsnd_pcm_msg_send',
      'echo @BREAK-SET\\n',
      'continue',
      'bt',
      'info registers a0 ra',
      'x/2wx $sp',
      'p/x $satp',
      'p $priv',
      'info threads',
      'watch -l ((struct virtio_pcm_substream *)$a0)->hw_ptr',
      'delete 1',
      'continue',
      'bt 2',
      'delete',
      'echo @RUN-FREE\\n',
      'continue',
      'echo @INTERRUPTED\\n',
      'info registers pc',
      'detach',
    ];
    const gdb = runGdb(script, g.vmlinux);
    const out = gdb.out;
    try {
      await waitFor(out, /@BREAK-SET/, 120_000, 'gdb');
      // The machine is stopped for gdb; the command runs once gdb continues.
      host.consoleIn('pcm play 440 1\n');
      await waitFor(out, /@RUN-FREE/, 240_000, 'gdb');
      await new Promise((r) => setTimeout(r, 1000));
      gdb.proc.kill('SIGINT'); // Ctrl-C: gdb sends the interrupt byte, the stub stops the machine
      assert.equal(await gdb.exited, 0, out());
    } finally {
      gdb.kill();
    }
    assert.match(out(), /@CONNECTED/);
    assert.match(out(), /^pc\s+0x[0-9a-f]+\s/m, 'registers read');
    assert.match(out(), /Breakpoint 1 at 0xc[0-9a-f]+: file .*virtio_pcm_msg\.c, line \d+\./, 'a breakpoint at a kernel virtual address');
    assert.match(out(), /Breakpoint 1, virtsnd_pcm_msg_send \(vss=0x[0-9a-f]+/, 'hit, with its arguments from DWARF');
    assert.match(out(), /^#3 /m, 'a backtrace of at least four frames');
    assert.match(out(), /^a0\s+0xc[0-9a-f]+/m);
    assert.match(out(), /^0xc[0-9a-f]+:\s+0x[0-9a-f]{8}\s+0x[0-9a-f]{8}/m, 'memory at sp');
    assert.match(out(), /^\$1 = 0x8[0-9a-f]{7}$/m, 'satp: Sv32 on');
    assert.match(out(), /^\$2 = /m, 'the privilege register');
    assert.match(out(), /\* 1\s+Thread 1 \(hart 0\)/, 'harts are threads');
    assert.match(out(), /Hardware watchpoint 2: -location/);
    assert.match(out(), /Old value = \d+\s+New value = \d+/, 'the watchpoint fired on a write');
    assert.match(out(), /virtsnd_pcm_msg_complete/, 'in the driver\'s completion');
    assert.match(out(), /Program received signal SIGINT/, 'interrupted');
    assert.match(out(), /@INTERRUPTED/);
    assert.match(out(), /Inferior 1 \[Remote target\] detached|\[Inferior 1 \(Remote target\) detached\]/);
    // Detached: the machine runs on, the console answers.
    const before = console.length;
    host.consoleIn('echo still-alive\n');
    await waitFor(() => console.slice(before), /still-alive/, 60_000, 'the guest after detach');
    assert.equal(host.breakpointsOf('gdb').length, 0, 'gdb\'s breakpoints are gone');
  } finally {
    await stub.close();
    await host.dispose();
  }
});
