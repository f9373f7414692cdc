// Worker side of the virtio-notification breakpoints: the transport calls shouldStop() on every
// QueueNotify write, before the device sees the kick. With no filter enabled that is one length
// check. With filters, the condition fields are read from the transport's shared state and the
// rings in guest RAM into one reused object — every guest-controlled value is bounds-checked,
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
  ST_QUEUE_COUNT,
  ST_QUEUE_STRIDE,
} from '../emulator/virtio/layout';
import { VIRTQ_DESC_F_INDIRECT } from '../emulator/virtio/types';
import { filterDef, filterMatches, parseCondition, type Condition, type NotifyFields, type NotifyFilter, type NotifyFilterDef } from './notify-filter';
import type { NotifyStop } from './worker-protocol';
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
  private readonly fields: NotifyFields = {
    queue: 0, avail_idx: 0, used_idx: 0, last_avail_idx: 0, pending: 0, in_flight: 0, notifications: 0, stream: -1,
  };

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
  out.stream = -1;
  const ready = st[sb + Q_READY] === 1 && size > 0 && (size & (size - 1)) === 0 && (st[sb + Q_DRIVER_HI] | st[sb + Q_DESC_HI]) === 0;
  if (!ready) return true;
  const avail = st[sb + Q_DRIVER] >>> 0;
  if (!ram.contains(avail, 4)) return true;
  out.avail_idx = ram.read16(avail + 2);
  out.pending = (out.avail_idx - lastAvail) & 0xffff;
  if (out.pending > 0 && isPcmQueue(t, queue)) out.stream = firstStreamId(ram, st[sb + Q_DESC] >>> 0, avail, size, lastAvail);
  return true;
}

/** virtio-snd's txq and rxq carry xfer chains whose first 4 readable bytes name the stream. */
function isPcmQueue(t: NotifySource, queue: number): boolean {
  if (t.device.name !== 'virtio-snd') return false;
  const q = t.device.queueNames[queue];
  return q === 'txq' || q === 'rxq';
}

/** The le32 stream_id of the xfer header of the next pending chain, or -1 if unreadable. */
function firstStreamId(ram: Ram, descTable: number, avail: number, size: number, lastAvail: number): number {
  const slot = avail + 4 + 2 * (lastAvail & (size - 1));
  if (!ram.contains(slot, 2)) return -1;
  const head = ram.read16(slot);
  if (head >= size) return -1;
  let d = descTable + 16 * head;
  if (!ram.contains(d, 16)) return -1;
  if (ram.read16(d + 12) & VIRTQ_DESC_F_INDIRECT) {
    // The header is the first entry of the indirect table.
    const table = ram.read32(d);
    if (ram.read32(d + 4) !== 0 || ram.read32(d + 8) < 16 || !ram.contains(table, 16)) return -1;
    d = table;
  }
  const addr = ram.read32(d);
  if (ram.read32(d + 4) !== 0 || ram.read32(d + 8) < 4 || !ram.contains(addr, 4)) return -1;
  return ram.read32(addr);
}

function describe(t: NotifySource, queue: number, f: NotifyFields, filter: ActiveFilter): NotifyStop {
  const device = t.device.name;
  const queueName = t.device.queueNames[queue] ?? `queue${queue}`;
  let text = `${device} ${queueName} (queue ${queue}) notify: avail.idx ${f.avail_idx}, used.idx ${f.used_idx}, ${f.pending} new chain${f.pending === 1 ? '' : 's'}`;
  if (f.stream >= 0) text += `, stream ${f.stream}`;
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
