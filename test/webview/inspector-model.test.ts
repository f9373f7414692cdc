import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InspectorModel, MAX_CHAINS } from '../../webview/shared/inspector-model';
import { blkDevice, queue, snapshot, sndDevice, xferChain } from './fixtures';

test('inspector model: ignores snapshots without a session, first picks the device the guest kicks most', () => {
  const m = new InspectorModel();
  assert.equal(m.applyVirtqueues(snapshot(true)), false);
  m.applySession('running');
  assert.equal(m.applyVirtqueues(snapshot(true, [blkDevice(), sndDevice()])), true);
  assert.deepEqual(m.selection, { device: 'virtio-snd', queue: 0, desc: null });
  assert.equal(m.selectedQueue()?.name, 'controlq');
  assert.equal(m.running, true);
});

test('inspector model: the selection survives new snapshots and falls back when its queue goes', () => {
  const m = new InspectorModel();
  m.applySession('running');
  m.applyVirtqueues(snapshot(true));
  m.select('virtio-snd', 2);
  m.selectDesc(4);
  m.applyVirtqueues(snapshot(true));
  assert.deepEqual(m.selection, { device: 'virtio-snd', queue: 2, desc: 4 });
  m.select('virtio-snd', 2);
  assert.equal(m.selection?.desc, 4, 're-selecting the same queue keeps the descriptor');
  m.select('virtio-blk', 0);
  assert.equal(m.selection?.desc, null);
  m.applyVirtqueues(snapshot(true, [sndDevice()]));
  assert.equal(m.selection?.device, 'virtio-snd');
  m.select('virtio-snd', 42);
  assert.equal(m.selection?.queue, 0, 'an unknown queue falls back to one that exists');
});

test('inspector model: remembers the previous indices per queue', () => {
  const m = new InspectorModel();
  m.applySession('running');
  m.applyVirtqueues(snapshot(true));
  const dev = sndDevice();
  dev.queues[2].availIdx = 70;
  m.applyVirtqueues(snapshot(true, [dev]));
  assert.deepEqual(m.previous('virtio-snd', 2), { availIdx: 66, usedIdx: 63 });
  assert.equal(m.selectedDevice()?.queues[2].availIdx, 70);
});

test('inspector model: hostile snapshots are trimmed and coerced', () => {
  const m = new InspectorModel();
  m.applySession('paused');
  const many = Array.from({ length: MAX_CHAINS + 10 }, (_, i) => xferChain(i, 0x1000 * i, 16));
  const longChain = { head: 0, descriptors: Array.from({ length: 100 }, (_, i) => ({ index: i, addr: i, len: 1, flags: 1, flagNames: 'NEXT', next: i + 1 })) };
  const bad = {
    ...sndDevice(),
    base: -1,
    deviceFeatures: 'x',
    queues: [
      queue({ index: 0, name: 'q', size: 1e9, availIdx: 70000, pending: many }),
      queue({ index: 1, name: 'q1', held: [longChain] }),
      null,
    ],
  } as never;
  m.applyVirtqueues({ running: false, devices: [bad, 'junk' as never] });
  assert.equal(m.devices.length, 1);
  const d = m.devices[0];
  assert.equal(d.base, 0xffff_ffff);
  assert.deepEqual(d.deviceFeatures, [0, 0]);
  assert.equal(d.queues.length, 2);
  assert.equal(d.queues[0].size, 32768);
  assert.equal(d.queues[0].availIdx, 70000 & 0xffff);
  assert.equal(d.queues[0].pending.length, MAX_CHAINS);
  assert.equal(d.queues[0].pendingDropped, 10);
  assert.equal(d.queues[1].held[0].descriptors.length, 64);
  assert.match(d.queues[1].held[0].malformed ?? '', /36 more descriptors/);
});

test('inspector model: save/restore keeps snapshot and selection; none clears devices', () => {
  const m = new InspectorModel();
  m.applySession('paused', 'Boot semu');
  m.applyVirtqueues(snapshot(false));
  m.select('virtio-blk', 0);
  m.selectDesc(18);
  const r = InspectorModel.restore(JSON.parse(JSON.stringify(m.save())));
  assert.equal(r.session, 'paused');
  assert.deepEqual(r.selection, { device: 'virtio-blk', queue: 0, desc: 18 });
  assert.equal(r.selectedQueue()?.pending[0].decoded, 'IN sector 2048 × 8');
  r.applySession('none');
  assert.equal(r.devices.length, 0);
  assert.equal(InspectorModel.restore({ v: 9 }).devices.length, 0);
});
