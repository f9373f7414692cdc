// gdb and the DAP session on one machine (launch attribute gdbPort): a stop from either side is
// a stop for both views — gdb attaching pauses the DAP session, gdb continuing shows as
// `continued`, a DAP pause answers gdb's pending continue, a gdb breakpoint stops the DAP
// session, and a DAP breakpoint whose condition is false stops neither.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { SemuClient } from '../dap/client';
import { enc } from '../../src/emulator/cpu/asm';
import { open } from './raw';
import { encodePacket } from '../../src/gdb/rsp';

test('gdb and the DAP session see the same stops', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'semu-both-'));
  const kernel = join(dir, 'spin.bin');
  // 0x0: addi a0, a0, 1   0x4: jal zero, -4
  writeFileSync(kernel, Buffer.from(Int32Array.from([enc('addi', 'a0', 'a0', 1), enc('jal', 'zero', -4)]).buffer));
  const dc = new SemuClient();
  let port = 0;
  dc.on('output', (e: DebugProtocol.OutputEvent) => {
    const m = /gdb stub on localhost:(\d+)/.exec(e.body.output);
    if (m) port = Number(m[1]);
  });
  await dc.start();
  try {
    await dc.boot({ kernel, time: 'icount', audioOut: 'null', audioIn: 'null', gdbPort: 0 });
    assert.ok(port > 0, 'the adapter says where the stub listens');

    // gdb attaches: the machine stops, the DAP session sees a pause.
    let dapStop = dc.nextStop();
    const gdb = await open(port);
    assert.match(await gdb.ask('qSupported:swbreak+'), /swbreak\+/);
    assert.equal((await dapStop).body.reason, 'pause');
    assert.match(await gdb.ask('?'), /^T02thread:01;/);

    // gdb continues: the DAP session is told.
    const continued = dc.waitForEvent('continued');
    gdb.s.write(encodePacket('c'));
    await continued;

    // The DAP session pauses: gdb's continue gets its stop reply.
    dapStop = dc.nextStop();
    await dc.pauseRequest({ threadId: 1 });
    assert.equal((await dapStop).body.reason, 'pause');
    assert.match(await gdb.reply(), /^T02thread:01;/);

    // A gdb breakpoint stops the DAP session too, named as gdb's.
    assert.equal(await gdb.ask('Z0,4,4'), 'OK');
    dapStop = dc.nextStop();
    await dc.continueRequest({ threadId: 1 });
    const s = await dapStop;
    assert.equal(s.body.reason, 'breakpoint');
    assert.match(s.body.description ?? '', /set from gdb/);
    assert.match(await gdb.ask('?'), /^T05thread:01;swbreak:;20:04000000;/);
    assert.equal(await gdb.ask('z0,4,4'), 'OK');

    // A DAP breakpoint whose condition is false: neither side sees a stop.
    await dc.setInstructionBreakpointsRequest({ breakpoints: [{ instructionReference: '0x0', condition: 'a0 == 0xffffffff' }] });
    gdb.s.write(encodePacket('c'));
    await new Promise((r) => setTimeout(r, 1500));
    gdb.s.write(Buffer.from([3])); // Ctrl-C
    assert.match(await gdb.reply(), /^T02thread:01;/, 'the first reply is the interrupt: no stop was shown for the false condition');
    const a0 = parseInt((await gdb.ask('pa')).match(/../g)!.reverse().join(''), 16);
    assert.ok(a0 > 100, `the loop ran (a0 = ${a0}) through the conditional breakpoint`);
    gdb.s.destroy();
    assert.equal(await dc.disconnectAndWaitExit(), 0);
  } finally {
    await dc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
