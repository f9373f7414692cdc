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

/** Retries `f` until it resolves (a connection reset while the guest's server starts), up to `ms`. */
async function until<T>(f: () => Promise<T>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

test('launch netdev user + hostForward: the file intact through the forward, a TX notify breakpoint on the guest answering port 8080, Devices counters', { skip: !HAVE_PASST && 'passt is not installed', timeout: 300_000 }, async () => {
  const g = guestArtifacts();
  const fwd = await freePort();
  const dc = new SemuClient();
  await dc.start();
  try {
    await dc.boot(
      {
        kernel: g.kernel, initrd: g.initrd, audioOut: 'null', audioIn: 'null',
        netdev: 'user', hostForward: [`tcp:${fwd}:8080`], consoleInput: ['http serve 8080 / -n 2'],
      },
    );
    await dc.waitConsole('semu-guest: ready');
    // passt accepts on the host port at once; the guest answers once its server listens.
    const init = parseNewc(fs.readFileSync(g.initrd)).find((e) => e.name.replace(/^\.?\//, '') === 'init')!;
    const first = await until(() => get(`http://127.0.0.1:${fwd}/init`), 60_000);
    assert.ok(first.body.equals(init.data), `the guest's /init, ${first.body.length} bytes`);
    // Now stop on the guest's answer to the next connection (its SYN-ACK leaves from port 8080).
    // The machine runs: the stop can come in the same read as the response, so listen first.
    const stop = dc.nextStop(120_000);
    const r = await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'virtio-net-tx', condition: 'ip_proto == 6 && src_port == 8080' }] });
    assert.equal(r.body?.breakpoints?.[0]?.verified, true);
    const fetched = get(`http://127.0.0.1:${fwd}/init`);
    fetched.catch(() => {}); // awaited below, after the stop
    // The first connection's last ACK/FIN also leave from port 8080: stop until the SYN-ACK is pending.
    let s = await stop;
    let pending: string[] = [];
    let devices = 0;
    for (let n = 0; ; n++) {
      assert.equal(s.body.reason, 'exception');
      assert.match(s.body.text ?? '', /virtio-net transmitq1 \(queue 1\) notify/);
      const st = await dc.stackTraceRequest({ threadId: s.body.threadId! });
      const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
      devices = scopes.body.scopes.find((x) => x.name === 'Devices')!.variablesReference;
      // Devices → virtio-net → queues → transmitq1 → pending: each chain decoded.
      const txq = await dc.walk(devices, [/^virtio-net @0xf4100000$/, 'queues', /^transmitq1/]);
      pending = [...(await dc.vars((await dc.vars(txq.variablesReference)).get('pending')!.variablesReference)).values()].map((c) => c.value);
      assert.match(pending[0] ?? '', /TCP .*:8080 → /, 'the condition holds for the first pending frame');
      if (pending.some((c) => /\[SYN,ACK\]/.test(c)) || n === 10) break;
      const next = dc.nextStop(60_000);
      await dc.continueRequest({ threadId: s.body.threadId! });
      s = await next;
    }
    assert.ok(pending.some((c) => /TCP .*:8080 → .*\[SYN,ACK\]/.test(c)), `the guest's SYN-ACK among:\n${pending.join('\n')}`);
    const top = await dc.vars((await dc.walk(devices, [/^virtio-net @0xf4100000$/])).variablesReference);
    assert.match(top.get('link')!.value, /^up/);
    const rx = await dc.vars(top.get('rx')!.variablesReference);
    assert.ok(Number(rx.get('packets')!.value) > 0, 'the DHCP answer and the host SYN came in');

    await dc.setExceptionBreakpointsRequest({ filters: [] });
    await dc.continueRequest({ threadId: s.body.threadId! });
    const got = await fetched;
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
