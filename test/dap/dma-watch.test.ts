// A physical data breakpoint fired by a device: stopped on the virtio-snd TX notify, the txq's
// used.idx (guest RAM the device writes when it returns a buffer) is watched from the Devices
// scope; continuing, the machine stops when the device's DMA writes it — not a hart's store.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SemuClient, guestArtifacts, BOOT_TIMEOUT_MS } from './client';

test('a data breakpoint on the txq used.idx fires on the device\'s DMA write', { timeout: 300_000 }, async () => {
  const g = guestArtifacts();
  const dc = new SemuClient();
  await dc.start();
  try {
    let stop = dc.nextStop(BOOT_TIMEOUT_MS);
    await dc.boot({ kernel: g.kernel, initrd: g.initrd, symbols: g.systemMap, time: 'icount', audioOut: 'null', audioIn: 'null', consoleInput: ['pcm play 440 1'] }, async () => {
      await dc.setExceptionBreakpointsRequest({ filters: ['virtio-snd-tx'] });
    });
    let s = await stop;
    assert.equal(s.body.reason, 'exception');
    const st = await dc.stackTraceRequest({ threadId: 1 });
    const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
    const devices = scopes.body.scopes.find((x) => x.name === 'Devices')!;
    const txq = await dc.walk(devices.variablesReference, [/^virtio-snd @0xf4700000$/, 'queues', 'txq (2)']);
    const q = await dc.vars(txq.variablesReference);
    const usedAddr = parseInt(q.get('used')!.value, 16);
    const before = Number(q.get('used.idx')!.value);
    const info = await dc.dataBreakpointInfoRequest({ name: 'used.idx', variablesReference: txq.variablesReference });
    assert.equal(info.body.dataId, `p:0x${(usedAddr + 2).toString(16).padStart(8, '0')}/2`, info.body.description);
    const db = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
    assert.equal(db.body.breakpoints[0].verified, true);
    await dc.setExceptionBreakpointsRequest({ filters: [] });
    stop = dc.nextStop(BOOT_TIMEOUT_MS);
    await dc.continueRequest({ threadId: 1 });
    s = await stop;
    assert.equal(s.body.reason, 'data breakpoint', s.body.text);
    assert.deepEqual(s.body.hitBreakpointIds, [db.body.breakpoints[0].id]);
    assert.match(s.body.text ?? '', /^write of \d+ bytes? at 0x[0-9a-f]+ by a device's DMA$/);
    const mem = await dc.customRequest('readMemory', { memoryReference: `p:0x${(usedAddr + 2).toString(16)}`, count: 2 });
    const after = Buffer.from(mem.body.data, 'base64').readUInt16LE(0);
    assert.equal(after, (before + 1) & 0xffff, 'the device returned one buffer');
    await dc.setDataBreakpointsRequest({ breakpoints: [] });
  } finally {
    await dc.stop();
  }
});
