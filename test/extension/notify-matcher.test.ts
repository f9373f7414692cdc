import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ram } from '../../src/emulator/ram';
import { NotifyMatcher, readFields, type NotifySource } from '../../src/worker/notify-matcher';
import { parseCondition, ConditionError, type NotifyFields } from '../../src/host/notify-filter';
import * as L from '../../src/emulator/virtio/layout';

const QSIZE = 8;
const DESC = 0x1000;
const AVAIL = 0x2000;
const USED = 0x3000;
const BUF = 0x4000;

/** A virtio-snd-like transport: 4 queues, txq (2) set up in RAM with `chains` xfer chains pending. */
function sndTransport(opts: { streamId?: number; pending?: number; lastAvail?: number; usedIdx?: number } = {}): NotifySource & { ram: Ram; state: Int32Array } {
  const ram = Ram.allocate(1 << 16);
  const qcount = 4;
  const state = new Int32Array(L.stateInts(qcount, QSIZE));
  state[L.ST_QUEUE_COUNT] = qcount;
  state[L.ST_QUEUE_MAX] = QSIZE;
  state[L.ST_QUEUE_STRIDE] = L.queueStride(QSIZE);
  const q = L.queueBase(state, 2);
  const lastAvail = opts.lastAvail ?? 3;
  const pending = opts.pending ?? 2;
  state[q + L.Q_NUM] = QSIZE;
  state[q + L.Q_READY] = 1;
  state[q + L.Q_DESC] = DESC;
  state[q + L.Q_DRIVER] = AVAIL;
  state[q + L.Q_DEVICE] = USED;
  state[q + L.Q_LAST_AVAIL] = lastAvail;
  state[q + L.Q_USED_IDX] = opts.usedIdx ?? lastAvail;
  state[q + L.Q_IN_FLIGHT] = 1;
  state[q + L.Q_NOTIFICATIONS] = 7;
  // Each pending chain: head h = slot; desc h → 4-byte xfer header at BUF + 16h (stream id), NEXT → PCM.
  for (let k = 0; k < pending; k++) {
    const slot = (lastAvail + k) % QSIZE;
    const head = slot;
    ram.write16(AVAIL + 4 + 2 * slot, head);
    const d = DESC + 16 * head;
    ram.write32(d, BUF + 16 * head);
    ram.write32(d + 4, 0);
    ram.write32(d + 8, 4);
    ram.write16(d + 12, 1); // NEXT
    ram.write32(BUF + 16 * head, opts.streamId ?? 0);
  }
  ram.write16(AVAIL + 2, (lastAvail + pending) & 0xffff);
  return { device: { name: 'virtio-snd', queueNames: ['controlq', 'eventq', 'txq', 'rxq'] }, state, ram };
}

const blank = (): NotifyFields => ({ queue: 0, avail_idx: 0, used_idx: 0, last_avail_idx: 0, pending: 0, in_flight: 0, notifications: 0, stream: -1 });

test('fields come from the transport state and the rings in RAM', () => {
  const t = sndTransport({ streamId: 1, pending: 2, lastAvail: 3, usedIdx: 2 });
  const f = blank();
  assert.equal(readFields(t, 2, f), true);
  const want: Record<string, number> = { queue: 2, avail_idx: 5, used_idx: 2, last_avail_idx: 3, pending: 2, in_flight: 1, notifications: 7, stream: 1 };
  // Other devices' condition fields (virtio-fs's opcode, …) read -1 on a sound queue.
  assert.deepEqual(f, { ...Object.fromEntries(Object.keys(f).map((k) => [k, -1])), ...want });
});

test('a queue that is not ready or does not exist gives no stream and no throw', () => {
  const t = sndTransport();
  const f = blank();
  assert.equal(readFields(t, 9, f), false);
  assert.equal(readFields(t, 0, f), true); // controlq: not set up
  assert.equal(f.pending, 0);
  assert.equal(f.stream, -1);
});

test('hostile rings (head out of range, descriptor outside RAM, ring outside RAM) give stream -1', () => {
  const t = sndTransport({ pending: 1, lastAvail: 0 });
  const f = blank();
  t.ram.write16(AVAIL + 4, 200); // head ≥ size
  readFields(t, 2, f);
  assert.equal(f.stream, -1);
  t.ram.write16(AVAIL + 4, 0);
  t.ram.write32(DESC, 0xfffffff0); // header buffer outside RAM
  readFields(t, 2, f);
  assert.equal(f.stream, -1);
  const q = L.queueBase(t.state, 2);
  t.state[q + L.Q_DRIVER] = 0x7ffffff0; // the avail ring itself outside RAM
  assert.equal(readFields(t, 2, f), true);
  assert.equal(f.pending, 0);
});

test('matcher: filters select device and queue; conditions decide; lastStop describes the kick', () => {
  const t = sndTransport({ streamId: 0, pending: 2, lastAvail: 3, usedIdx: 3 });
  const m = new NotifyMatcher();
  assert.equal(m.shouldStop(t, 2), false, 'no filters: never stops');
  m.setFilters([{ id: 'virtio-snd-rx' }]);
  assert.equal(m.shouldStop(t, 2), false, 'rx filter ignores the tx queue');
  m.setFilters([{ id: 'virtio-snd-tx', condition: 'stream == 1' }]);
  assert.equal(m.shouldStop(t, 2), false, 'condition false');
  m.setFilters([{ id: 'virtio-snd-tx', condition: 'stream == 0 && avail_idx - used_idx >= 2' }]);
  assert.equal(m.shouldStop(t, 2), true);
  const s = m.lastStop!;
  assert.equal(s.device, 'virtio-snd');
  assert.equal(s.queue, 2);
  assert.equal(s.queueName, 'txq');
  assert.equal(s.availIdx, 5);
  assert.equal(s.usedIdx, 3);
  assert.equal(s.filter, 'virtio-snd-tx');
  assert.match(s.description, /virtio-snd txq \(queue 2\) notify: avail.idx 5, used.idx 3, 2 new chains, stream 0/);
  m.setFilters([{ id: 'virtio-notify' }]);
  assert.equal(m.shouldStop(t, 0), true, 'any-notify matches every queue');
  m.setFilters([{ id: 'virtio-blk' }]);
  assert.equal(m.shouldStop(t, 2), false, 'blk filter ignores the sound card');
});

test('matcher: unknown ids and bad conditions are dropped, not thrown into the machine loop', () => {
  const m = new NotifyMatcher();
  m.setFilters([{ id: 'nope' }, { id: 'virtio-snd-tx', condition: 'stream ==' }]);
  assert.equal(m.enabled, 0);
  assert.equal(m.shouldStop(sndTransport(), 2), false);
});

test('condition parser: precedence, fields and clear errors', () => {
  const f: NotifyFields = { ...blank(), avail_idx: 10, used_idx: 4, stream: 1, pending: 3 };
  assert.equal(parseCondition('avail_idx - used_idx > 5')(f), true);
  assert.equal(parseCondition('stream == 1 && pending >= 3 || queue == 7')(f), true);
  assert.equal(parseCondition('!(stream == 1)')(f), false);
  assert.equal(parseCondition('')(f), true);
  assert.throws(() => parseCondition('streem == 1'), (e: Error) => e instanceof ConditionError && /unknown name 'streem'/.test(e.message) && /Fields: queue/.test(e.message));
  assert.throws(() => parseCondition('stream == '), /unexpected end/);
  assert.throws(() => parseCondition('stream = 1'), ConditionError);
});
