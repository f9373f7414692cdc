// virtio-net under the debugger, through the standalone adapter as VS Code drives it: the launch
// attributes `netdev` and `hostForward` put the guest on passt's network; a TX notify breakpoint
// with a condition on the pending frame stops on the guest's answer to a host connection; the
// Devices scope shows the link and live counters. Without passt the launch goes on with one
// `important` output event (VS Code's notification) saying what to install.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findExecutable } from '../../src/devices/virtio-net/backend';
import { SemuClient, guestArtifacts, BOOT_TIMEOUT_MS } from '../dap/client';
import { parseNewc } from '../guest-artifacts/cpio';
import { freePort, get, pathWithout } from './host';

const HAVE_PASST = findExecutable('passt') !== null;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semu-net-dap-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('launch netdev user + hostForward: TX notify breakpoint on the guest answering port 8080, Devices counters, the file intact', { skip: !HAVE_PASST && 'passt is not installed', timeout: 300_000 }, async () => {
  const g = guestArtifacts();
  const fwd = await freePort();
  const dc = new SemuClient();
  await dc.start();
  try {
    await dc.boot(
      {
        kernel: g.kernel, initrd: g.initrd, audioOut: 'null', audioIn: 'null',
        netdev: 'user', hostForward: [`tcp:${fwd}:8080`], consoleInput: ['http serve 8080 / -n 1'],
      },
      async () => {
        const r = await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'virtio-net-tx', condition: 'ip_proto == 6 && src_port == 8080' }] });
        assert.equal(r.body?.breakpoints?.[0]?.verified, true);
      },
    );
    await dc.waitConsole('semu-guest: ready');
    await dc.waitConsole(/\n# /);
    const stop = dc.nextStop(120_000);
    const fetched = get(`http://127.0.0.1:${fwd}/init`);
    const s = await stop;
    assert.equal(s.body.reason, 'exception');
    assert.match(s.body.text ?? '', /virtio-net transmitq1 \(queue 1\) notify/);

    const st = await dc.stackTraceRequest({ threadId: s.body.threadId! });
    const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
    const devices = scopes.body.scopes.find((x) => x.name === 'Devices')!;
    const net = await dc.walk(devices.variablesReference, [/^virtio-net @0xf4100000$/]);
    const top = await dc.vars(net.variablesReference);
    assert.match(top.get('link')!.value, /^up/);
    const rx = await dc.vars(top.get('rx')!.variablesReference);
    assert.ok(Number(rx.get('packets')!.value) > 0, 'the DHCP answer and the host SYN came in');
    // The pending chain, decoded: the guest's SYN-ACK from port 8080.
    const txq = await dc.walk(devices.variablesReference, [/^virtio-net @0xf4100000$/, 'queues', /^transmitq1/]);
    const pending = await dc.vars((await dc.vars(txq.variablesReference)).get('pending')!.variablesReference);
    assert.ok([...pending.values()].some((c) => /TCP .*:8080 → .*\[SYN,ACK\]/.test(c.value)), [...pending.values()].map((c) => c.value).join('\n'));

    await dc.setExceptionBreakpointsRequest({ filters: [] });
    await dc.continueRequest({ threadId: s.body.threadId! });
    const got = await fetched;
    const init = parseNewc(fs.readFileSync(g.initrd)).find((e) => e.name.replace(/^\.?\//, '') === 'init')!;
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(init.data), `the guest's /init, ${got.body.length} bytes`);
  } finally {
    await dc.stop();
  }
});

test('launch netdev user without passt: a notification saying to install it, and the guest boots', { timeout: 240_000 }, async () => {
  const g = guestArtifacts();
  const saved = process.env.PATH;
  process.env.PATH = pathWithout('passt', dir); // the adapter process inherits it
  const dc = new SemuClient();
  const important: string[] = [];
  dc.on('output', (e) => e.body.category === 'important' && important.push(e.body.output));
  try {
    await dc.start();
    process.env.PATH = saved;
    await dc.boot({ kernel: g.kernel, initrd: g.initrd, audioOut: 'null', audioIn: 'null', netdev: 'user' });
    await dc.waitConsole('semu-guest: ready', BOOT_TIMEOUT_MS);
    assert.equal(important.length, 1, important.join(''));
    assert.match(important[0], /virtio-net: passt is not installed.*apt-get install passt/);
  } finally {
    process.env.PATH = saved;
    await dc.stop();
  }
});
