import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutQueue, polar, ringDistance, ringSlot, runsOf, sectorPath, slotAngle, tickPath } from '../../webview/shared/ring-layout';
import { descFlagNames, featureBits, featureName } from '../../webview/shared/virtio-names';
import { queue, sndDevice, xferChain } from './fixtures';

test('ring indices: 16-bit free-running distance and slot', () => {
  assert.equal(ringDistance(66, 64), 2);
  assert.equal(ringDistance(1, 65535), 2, 'wraps at 2^16');
  assert.equal(ringDistance(5, 5), 0);
  assert.equal(ringSlot(66, 64), 2);
  assert.equal(ringSlot(65535, 256), 255);
  assert.equal(ringSlot(3, 0), 0);
});

test('layout: the TX queue fixture — pending slots, descriptor roles, pointer slots', () => {
  const q = sndDevice().queues[2];
  const lay = layoutQueue(q);
  assert.equal(lay.size, 64);
  assert.equal(lay.pendingCount, 2);
  assert.equal(lay.overrun, false);
  assert.equal(lay.lastAvailSlot, 0);
  assert.equal(lay.availSlot, 2);
  assert.equal(lay.usedSlot, 63);
  assert.deepEqual(runsOf(lay.availRoles, 'idle'), [{ start: 0, count: 2, role: 'pending' }]);
  assert.deepEqual(
    runsOf(lay.descRoles, 'free'),
    [
      { start: 3, count: 6, role: 'pending' },
      { start: 9, count: 3, role: 'held' },
    ],
  );
  assert.equal(lay.availHeads.get(0), 3);
  assert.equal(lay.availHeads.get(1), 6);
  const d = lay.known.get(4)!;
  assert.equal(d.head, 3);
  assert.equal(d.position, 1);
  assert.equal(d.desc.len, 4096);
  assert.equal(lay.known.has(12), false);
});

test('layout: fresh slots since the previous snapshot, across the index wrap', () => {
  const q = queue({ index: 2, name: 'txq', size: 8, availIdx: 2, lastAvailIdx: 2, usedIdx: 1 });
  const lay = layoutQueue(q, { availIdx: 65534, usedIdx: 65535 });
  // avail moved 65534 → 2 (4 entries: slots 6, 7, 0, 1); used moved 65535 → 1 (slots 7, 0).
  assert.deepEqual(runsOf(lay.availRoles, 'idle'), [
    { start: 0, count: 2, role: 'fresh' },
    { start: 6, count: 2, role: 'fresh' },
  ]);
  assert.deepEqual(runsOf(lay.usedRoles, 'idle'), [
    { start: 0, count: 1, role: 'fresh' },
    { start: 7, count: 1, role: 'fresh' },
  ]);
});

test('layout: a descriptor in two chains is a conflict; out-of-table indices are ignored', () => {
  const q = queue({ index: 0, name: 'q', size: 16, availIdx: 2, pending: [xferChain(3, 0x1000, 64), xferChain(5, 0x2000, 64)], held: [xferChain(15, 0x3000, 8)] });
  const lay = layoutQueue(q);
  assert.equal(lay.descRoles[5], 'conflict', 'descriptor 5 ends the first chain and heads the second');
  assert.equal(lay.descRoles[15], 'held');
  assert.equal(lay.known.has(16), false);
});

test('layout: a driver claiming more entries than the ring has is flagged and clamped', () => {
  const lay = layoutQueue(queue({ index: 0, name: 'q', size: 8, availIdx: 100, lastAvailIdx: 0 }));
  assert.equal(lay.pendingCount, 100);
  assert.equal(lay.overrun, true);
  assert.equal(lay.availRoles.filter((r) => r === 'pending').length, 8);
  const empty = layoutQueue(queue({ index: 0, name: 'q', size: 0 }));
  assert.equal(empty.descRoles.length, 0);
});

test('geometry: slot 0 starts at 12 o\'clock, a quarter ring ends at 3 o\'clock', () => {
  const [x, y] = polar(100, 100, 50, slotAngle(0, 8));
  assert.ok(Math.abs(x - 100) < 1e-9 && Math.abs(y - 50) < 1e-9);
  const p = sectorPath(100, 100, 50, 40, 0, 2, 8);
  assert.match(p, /^M100 50A50 50 0 0 1 150 100L140 100A40 40 0 0 0 100 60Z$/);
  assert.match(sectorPath(100, 100, 50, 40, 0, 8, 8), /^M50 100A.*Z.*M60 100A.*Z$/, 'a full ring is two circles');
  assert.match(sectorPath(100, 100, 50, 40, 0, 5, 8), / 0 1 1 /, 'more than half a ring takes the large arc');
  assert.equal(sectorPath(100, 100, 50, 40, 0, 0, 8), '');
  assert.equal(tickPath(100, 100, 10, 20, 2, 8), 'M110 100L120 100');
});

test('runs: contiguous roles collapse, the skipped role is left out', () => {
  assert.deepEqual(runsOf(['a', 'a', 'b', 'x', 'x', 'a'], 'x'), [
    { start: 0, count: 2, role: 'a' },
    { start: 2, count: 1, role: 'b' },
    { start: 5, count: 1, role: 'a' },
  ]);
  assert.deepEqual(runsOf([], 'x'), []);
});

test('names: feature bits by device and transport, descriptor flags', () => {
  assert.equal(featureName(25, 32), 'VERSION_1');
  assert.equal(featureName(2, 9), 'BLK_F_FLUSH');
  assert.equal(featureName(25, 0), 'SND_F_CTLS');
  assert.equal(featureName(4, 3), 'bit 3');
  const bits = featureBits(2, [(1 << 9) | (1 << 29), 1], [1 << 9, 1]);
  assert.deepEqual(
    bits.map((b) => [b.bit, b.name, b.offered, b.accepted]),
    [
      [9, 'BLK_F_FLUSH', true, true],
      [29, 'RING_EVENT_IDX', true, false],
      [32, 'VERSION_1', true, true],
    ],
  );
  assert.equal(featureBits(1, [0x8000_0000, 0x8000_0000], [0, 0]).map((b) => b.bit).join(), '31,63');
  assert.equal(descFlagNames(3), 'NEXT|WRITE');
  assert.equal(descFlagNames(4 | 0x10), 'INDIRECT|0x10');
  assert.equal(descFlagNames(0), '');
});
