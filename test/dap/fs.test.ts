// virtio-fs through the debugger, end to end: a launch with "sharedDir" boots the default guest
// with the folder on /mnt; the `virtio-fs` notify filter with the condition `opcode == 1` stops on
// the guest's LOOKUP of the file `cat` names (typed by the adapter once the guest is up), before
// the device saw it. The Devices scope then shows the request queue with that chain pending,
// decoded as a FUSE request with its name, and the device's own state (tag, session, folder).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SemuClient, guestArtifacts, BOOT_TIMEOUT_MS } from './client';

test('virtio-fs notify breakpoint with an opcode condition: stop on the LOOKUP, decoded in Devices; the file reads after continue', { timeout: 240_000 }, async () => {
  const g = guestArtifacts();
  const share = mkdtempSync(join(tmpdir(), 'semu-dap-fs-'));
  writeFileSync(join(share, 'hello.txt'), 'hello from the host folder\n');
  const dc = new SemuClient();
  await dc.start();
  try {
    const stop = dc.nextStop(BOOT_TIMEOUT_MS);
    await dc.boot(
      { kernel: g.kernel, initrd: g.initrd, symbols: g.systemMap, audioOut: 'null', audioIn: 'null', sharedDir: share, consoleInput: ['cat /mnt/hello.txt'] },
      async () => {
        await assert.rejects(dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'virtio-fs', condition: 'opcode =' }] }), /condition "opcode ="/);
        const ok = await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'virtio-fs', condition: 'opcode == 1 && nodeid == 1' }] });
        assert.equal(ok.body?.breakpoints?.[0]?.verified, true);
      },
    );
    const s = await stop;
    assert.equal(s.body.reason, 'exception', `stopped for ${s.body.reason}: ${s.body.text ?? ''}`);
    assert.match(s.body.text ?? '', /^virtio-fs requests\.0 \(queue 1\) notify: .*, opcode 1, nodeid 1, unique \d+/);
    assert.ok(dc.console.includes('semu-guest: ready'), 'the LOOKUP came from the typed command, after the guest was up');
    const info = await dc.exceptionInfoRequest({ threadId: s.body.threadId! });
    assert.equal(info.body.exceptionId, 'virtio-fs');

    const st = await dc.stackTraceRequest({ threadId: s.body.threadId! });
    const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
    const devices = scopes.body.scopes.find((x) => x.name === 'Devices')!;
    const fs = await dc.walk(devices.variablesReference, [/^virtio-fs @0xf4800000$/]);
    const dev = await dc.vars(fs.variablesReference);
    assert.equal(dev.get('device id')!.value, '26');
    assert.equal(dev.get('irq')!.value, '6');
    assert.equal(dev.get('tag')!.value, 'myfs');
    assert.equal(dev.get('shared folder')!.value, share);
    assert.match(dev.get('session')!.value, /^FUSE 7\.\d+$/, 'INIT was answered at mount');
    const q = await dc.vars((await dc.walk(fs.variablesReference, ['queues', 'requests.0 (1)'])).variablesReference);
    const pending = [...(await dc.vars(q.get('pending')!.variablesReference)).values()];
    assert.equal(pending.length, 1, 'one request pending: the kick has not reached the device');
    assert.match(pending[0].value, /^LOOKUP #\d+ node 1 'hello\.txt'/);

    // The inspector's feed carries the same decoded chain.
    const vq = await dc.customRequest('semu/virtqueues');
    const vfs = vq.body.devices.find((d: { name: string }) => d.name === 'virtio-fs');
    assert.deepEqual(vfs.queues.map((x: { name: string }) => x.name), ['hiprio', 'requests.0']);
    assert.match(vfs.queues[1].pending[0].decoded, /^LOOKUP #\d+ node 1 'hello\.txt'/);

    await dc.setExceptionBreakpointsRequest({ filters: [] });
    await dc.continueRequest({ threadId: 1 });
    await dc.waitConsole('hello from the host folder', 60_000);
    assert.equal(await dc.disconnectAndWaitExit(), 0);
  } finally {
    await dc.stop();
    rmSync(share, { recursive: true, force: true });
  }
});
