// Breakpoints on virtio notifications, end to end: the guest plays a sine (`pcm play 440 1`,
// typed by the adapter once the console shows `semu-guest: ready`); with the virtio-snd TX
// filter on, the machine stops right after the guest's QueueNotify on txq, before the device
// saw the kick — the Devices scope shows that queue with avail.idx ahead of used.idx and a
// pending chain whose first descriptor is the 4-byte xfer header naming stream 0. Then,
// running again, semu/streams shows stream 0 running with frames in the host ring.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { SemuClient, guestArtifacts, BOOT_TIMEOUT_MS } from './client';

test('virtio-snd TX notify breakpoint: stop on the kick, inspect the pending xfer chain, stream running', { timeout: 240_000 }, async () => {
  const g = guestArtifacts();
  const dir = mkdtempSync(join(tmpdir(), 'semu-dap-snd-'));
  const dc = new SemuClient();
  await dc.start();
  try {
    const stop = dc.nextStop(BOOT_TIMEOUT_MS);
    await dc.boot(
      {
        kernel: g.kernel, initrd: g.initrd, symbols: g.systemMap, time: 'icount',
        audioOut: `wav:${join(dir, 'tx.wav')}`, audioIn: 'null', consoleInput: ['pcm play 440 1'],
      },
      async () => {
        // A bad condition is refused with the parser's message; the good one is accepted.
        await assert.rejects(dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'virtio-snd-tx', condition: 'stream === 0' }] }), /condition "stream === 0"/);
        const ok = await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'virtio-snd-tx', condition: 'stream == 0' }] });
        assert.equal(ok.body?.breakpoints?.[0]?.verified, true);
      },
    );
    const s = await stop;
    assert.equal(s.body.reason, 'exception', `stopped for ${s.body.reason}: ${s.body.text ?? ''}`);
    assert.match(s.body.text ?? '', /virtio-snd txq \(queue 2\) notify/);
    assert.ok(dc.console.includes('semu-guest: ready'), 'the kick came from the typed command, after the guest was up');

    const info = await dc.exceptionInfoRequest({ threadId: s.body.threadId! });
    assert.equal(info.body.exceptionId, 'virtio-snd-tx');
    assert.equal(info.body.breakMode, 'always');
    assert.match(info.body.description ?? '', /stream 0/);

    // Devices → virtio-snd → queues → txq (2): the kick is pending, the device has not seen it.
    const st = await dc.stackTraceRequest({ threadId: s.body.threadId! });
    const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
    const devices = scopes.body.scopes.find((x) => x.name === 'Devices')!;
    const txq = await dc.walk(devices.variablesReference, [/^virtio-snd @0xf4700000$/, 'queues', 'txq (2)']);
    const q = await dc.vars(txq.variablesReference);
    const availIdx = Number(q.get('avail.idx')!.value);
    const usedIdx = Number(q.get('used.idx')!.value);
    const lastAvail = Number(q.get('last_avail_idx')!.value);
    assert.ok(((availIdx - usedIdx) & 0xffff) > 0, `avail.idx ${availIdx} ahead of used.idx ${usedIdx}`);
    assert.ok(((availIdx - lastAvail) & 0xffff) > 0, `the device has not popped the new chains yet (last_avail_idx ${lastAvail})`);
    assert.ok(q.get('desc')!.memoryReference?.startsWith('phys:0x'), 'ring addresses are guest-physical memory references');

    const pending = await dc.vars(q.get('pending')!.variablesReference);
    assert.ok(pending.size >= 1, 'at least one pending chain');
    const chain: DebugProtocol.Variable = [...pending.values()][0];
    assert.match(chain.value, /^xfer stream 0, \d+ PCM bytes$/);
    const descs = [...(await dc.vars(chain.variablesReference)).values()].filter((v) => /^\[\d+\] (indirect )?desc/.test(v.name));
    assert.ok(descs.length >= 3, 'header, PCM data, status');
    const first = await dc.vars(descs[0].variablesReference);
    assert.equal(first.get('len')!.value, '4', 'the first descriptor is the 4-byte xfer header');
    assert.equal(first.get('direction')!.value, 'device-readable');
    assert.equal(first.get('bytes')!.value, '00 00 00 00', 'stream_id 0, little-endian');
    const last = await dc.vars(descs[descs.length - 1].variablesReference);
    assert.equal(last.get('direction')!.value, 'device-writable', 'the status comes last, device-writable');
    // The header bytes read through the memory reference agree.
    const hdr = await dc.customRequest('readMemory', { memoryReference: first.get('addr')!.memoryReference, count: 4 });
    assert.deepEqual([...Buffer.from(hdr.body.data, 'base64')], [0, 0, 0, 0]);

    // The same snapshot through the custom request the inspector uses (no pause needed).
    const vq = await dc.customRequest('semu/virtqueues');
    const snd = vq.body.devices.find((d: { name: string }) => d.name === 'virtio-snd');
    assert.equal(snd.queues[2].availIdx, availIdx);
    assert.equal(vq.body.running, false);

    // ---- running again without the filter: stream 0 plays, its host ring holds frames ----
    await dc.setExceptionBreakpointsRequest({ filters: [] });
    let levelsEvents = 0;
    dc.on('semu/levels', () => levelsEvents++);
    await dc.continueRequest({ threadId: 1 });
    let seen: { id: number; state: string; ringFill: number; direction: string } | undefined;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const r = await dc.customRequest('semu/streams');
      assert.equal(r.body.running, true);
      seen = r.body.streams.find((x: { id: number }) => x.id === 0);
      if (seen && seen.state === 'running' && seen.ringFill > 0) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    assert.equal(seen?.direction, 'output');
    assert.equal(seen?.state, 'running', `stream 0 state ${seen?.state}`);
    assert.ok((seen?.ringFill ?? 0) > 0, `ring fill ${seen?.ringFill}`);
    if (levelsEvents === 0) await dc.waitForEvent('semu/levels', 2000); // every 50 ms while running
    const lv = await dc.waitForEvent('semu/levels', 2000);
    assert.equal(lv.body.running, true);
    assert.ok(lv.body.streams.some((x: { id: number; direction: string }) => x.id === 0 && x.direction === 'output'), 'levels carry stream 0');

    const code = await dc.disconnectAndWaitExit();
    assert.equal(code, 0);
  } finally {
    await dc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
