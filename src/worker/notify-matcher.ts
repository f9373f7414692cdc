// Worker side of the virtio-notification breakpoints: the transport calls shouldStop() on every
// QueueNotify write, before the device sees the kick. With no filter enabled that is one length
// check. With filters, the condition fields are read from the transport's shared state and the
// rings in guest RAM (through the one ring walker, virtio/ring.ts) into one reused object; the
// device's own fields come from its descriptor. Every guest-controlled value is bounds-checked,
// so a hostile ring can make a condition false, never throw.

import type { Ram } from '../emulator/ram';
import {
  HEADER_INTS,
  Q_DESC,
  Q_DESC_HI,
  Q_DRIVER,
  Q_DRIVER_HI,
  Q_IN_FLIGHT,
  Q_INTS,
  Q_LAST_AVAIL,
  Q_NOTIFICATIONS,
  Q_NUM,
  Q_READY,
  Q_USED_IDX,
  ST_DRIVER_FEATURES_LO,
  ST_QUEUE_COUNT,
  ST_QUEUE_STRIDE,
  VIRTIO_F_INDIRECT_DESC,
} from '../emulator/virtio/layout';
import { ChainWalker, readAvailHead, readAvailIdx, readChainPrefix, validQueueSize } from '../emulator/virtio/ring';
import { descriptorOf } from '../devices/registry';
import { CONDITION_FIELDS, filterDef, filterMatches, parseCondition, type Condition, type NotifyFields, type NotifyFilter, type NotifyFilterDef } from '../host/notify-filter';
import type { NotifyStop } from './protocol';
import { logger } from '../log';

const log = logger('notify');

/** What the matcher sees of a transport (VirtioMmio satisfies it). */
export interface NotifySource {
  readonly device: { readonly name: string; readonly queueNames: readonly string[] };
  readonly state: Int32Array;
  readonly ram: Ram;
}

interface ActiveFilter {
  def: NotifyFilterDef;
  condition: Condition;
  text: string;
}

export class NotifyMatcher {
  /** Details of the notification that last made shouldStop() return true. */
  lastStop: NotifyStop | null = null;
  private filters: ActiveFilter[] = [];
  private readonly fields: NotifyFields = Object.fromEntries(CONDITION_FIELDS.map((f) => [f, 0]));

  // The machine argument keeps the constructor shape session.ts uses; transports bring their RAM.
  constructor(_machine?: unknown) {}

  /**
   * Replaces the enabled filters. Conditions were validated by the adapter; one that still fails
   * to parse here (another client) is dropped with a warning rather than breaking the machine.
   */
  setFilters(filters: NotifyFilter[]): void {
    const active: ActiveFilter[] = [];
    for (const f of filters) {
      const def = filterDef(f.id);
      if (!def) {
        log.warn(`unknown notify filter '${f.id}' ignored`);
        continue;
      }
      const text = (f.condition ?? '').trim();
      try {
        active.push({ def, condition: parseCondition(text), text });
      } catch (e) {
        log.warn(`${f.id}: ${(e as Error).message}; filter ignored`);
      }
    }
    this.filters = active;
  }

  get enabled(): number {
    return this.filters.length;
  }

  shouldStop(t: NotifySource, queue: number): boolean {
    const filters = this.filters;
    if (filters.length === 0) return false;
    const name = t.device.name;
    let fieldsRead = false;
    for (let i = 0; i < filters.length; i++) {
      const f = filters[i];
      if (!filterMatches(f.def, name, queue)) continue;
      if (!fieldsRead) {
        if (!readFields(t, queue, this.fields)) return false; // no such queue: nothing to show
        fieldsRead = true;
      }
      let hit: boolean;
      try {
        hit = f.condition(this.fields);
      } catch {
        hit = false;
      }
      if (!hit) continue;
      this.lastStop = describe(t, queue, this.fields, f);
      return true;
    }
    return false;
  }
}

/** Bytes a condition field may read from a chain's start. */
const PREFIX_BYTES = 64;
const prefix = new Uint8Array(PREFIX_BYTES);
const walkers = new WeakMap<Ram, ChainWalker>();
const QUEUE_FIELD_SET: Record<string, true> = { queue: true, avail_idx: true, used_idx: true, last_avail_idx: true, pending: true, in_flight: true, notifications: true };
/** Fills `out` from the transport state and the rings; false when the queue does not exist. */
export function readFields(t: NotifySource, queue: number, out: NotifyFields): boolean {
  const st = t.state;
  const stride = st[ST_QUEUE_STRIDE];
  if (queue < 0 || queue >= st[ST_QUEUE_COUNT] || stride < Q_INTS) return false;
  const sb = HEADER_INTS + queue * stride;
  if (sb + Q_INTS > st.length) return false;
  const ram = t.ram;
  const size = st[sb + Q_NUM] >>> 0;
  const lastAvail = st[sb + Q_LAST_AVAIL] & 0xffff;
  out.queue = queue;
  out.last_avail_idx = lastAvail;
  out.used_idx = st[sb + Q_USED_IDX] & 0xffff;
  out.in_flight = st[sb + Q_IN_FLIGHT];
  out.notifications = st[sb + Q_NOTIFICATIONS] >>> 0;
  out.avail_idx = lastAvail;
  out.pending = 0;
  const device = descriptorOf(t.device.name);
  const extra = device?.conditionFields ?? [];
  for (const name of CONDITION_FIELDS) if (!(name in QUEUE_FIELD_SET)) out[name] = -1;
  const ready = st[sb + Q_READY] === 1 && validQueueSize(size) && (st[sb + Q_DRIVER_HI] | st[sb + Q_DESC_HI]) === 0;
  if (!ready) return true;
  const avail = st[sb + Q_DRIVER] >>> 0;
  const availIdx = readAvailIdx(ram, avail);
  if (availIdx < 0) return true;
  out.avail_idx = availIdx;
  out.pending = (availIdx - lastAvail) & 0xffff;
  if (out.pending === 0 || extra.length === 0) return true;
  // The device's own fields read the first pending chain's readable start.
  const head = readAvailHead(ram, avail, size, lastAvail);
  if (head < 0 || head >= size) return true;
  let walker = walkers.get(ram);
  if (walker === undefined) walkers.set(ram, (walker = new ChainWalker(ram)));
  const indirect = (st[ST_DRIVER_FEATURES_LO] & (1 << VIRTIO_F_INDIRECT_DESC)) !== 0;
  let have = -2; // not read yet
  for (const f of extra) {
    if (!f.queues.includes(queue)) continue;
    if (have === -2) have = readChainPrefix(walker, ram, st[sb + Q_DESC] >>> 0, size, head, indirect, prefix);
    out[f.name] = have >= f.bytes ? f.read(prefix) : -1;
  }
  return true;
}

function describe(t: NotifySource, queue: number, f: NotifyFields, filter: ActiveFilter): NotifyStop {
  const device = t.device.name;
  const queueName = t.device.queueNames[queue] ?? `queue${queue}`;
  let text = `${device} ${queueName} (queue ${queue}) notify: avail.idx ${f.avail_idx}, used.idx ${f.used_idx}, ${f.pending} new chain${f.pending === 1 ? '' : 's'}`;
  for (const extra of descriptorOf(device)?.conditionFields ?? []) if (f[extra.name] >= 0) text += `, ${extra.name} ${f[extra.name]}`;
  if (filter.text) text += ` [${filter.text}]`;
  return {
    device,
    queue,
    queueName,
    availIdx: f.avail_idx,
    usedIdx: f.used_idx,
    lastAvailIdx: f.last_avail_idx,
    filter: filter.def.id,
    description: text,
  };
}
