// The Devices scope and the semu/virtqueues + semu/streams answers, all from shared memory:
// the transports' state arrays (virtio/layout.ts) and guest RAM decoded by virtio/inspect.ts,
// and each device's own state read by its descriptor (src/devices/registry.ts). Nothing here
// pauses or messages the worker, so it works while the guest runs.

import type { Ram } from '../src/emulator/ram';
import type { VirtioInfo } from '../src/worker/protocol';
import { inspectDevice, needsResetCause } from '../src/emulator/virtio/inspect';
import { descriptorOf } from '../src/devices/registry';
import type { StateNode } from '../src/devices/descriptor';
import { physMemoryReference, type ChainSnapshot, type DescSnapshot, type DeviceSnapshot, type QueueSnapshot, type StreamSnapshot } from '../src/shared/protocol';
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_WRITE } from '../src/emulator/virtio/types';
import { group, leaf, type VarNode } from './variables';
import { hex32 } from './registers';

export interface DeviceSource {
  readonly ram: Ram;
  readonly virtio: readonly VirtioInfo[];
}

export function snapshotDevices(src: DeviceSource): DeviceSnapshot[] {
  return src.virtio.map((d) => inspectDevice(src.ram, d.state, { name: d.name, base: d.base, irq: d.irq, queueNames: d.queueNames, decode: descriptorOf(d.name)?.decodeChain }));
}

/** The buffer behind a device's extra state (an Int32Array view or the SharedArrayBuffer itself). */
function stateBuffer(s: unknown): SharedArrayBuffer | undefined {
  if (s instanceof SharedArrayBuffer) return s;
  if (ArrayBuffer.isView(s) && s.buffer instanceof SharedArrayBuffer) return s.buffer;
  return undefined;
}

/** The PCM streams of every device that has some (the levels panel's feed). */
export function snapshotStreams(src: DeviceSource): StreamSnapshot[] {
  const out: StreamSnapshot[] = [];
  for (const d of src.virtio) {
    const read = descriptorOf(d.name)?.streams;
    const buf = stateBuffer(d.deviceState);
    if (read && buf) out.push(...read(buf));
  }
  return out;
}

/** A device's own state nodes (descriptor.readState), [] when it shares none. */
function deviceStateNodes(info: VirtioInfo | undefined): VarNode[] {
  const read = info ? descriptorOf(info.name)?.readState : undefined;
  const buf = info ? stateBuffer(info.deviceState) : undefined;
  if (!read || !buf) return [];
  try {
    return read(buf).map(stateNode);
  } catch {
    return []; // state being rewritten under us: shown at the next refresh
  }
}

function stateNode(n: StateNode): VarNode {
  const opts = n.address !== undefined ? { memoryReference: physMemoryReference(n.address) } : {};
  if (n.children) return group(n.name, String(n.value), () => n.children!.map(stateNode), opts);
  return leaf(n.name, n.value, opts);
}

// ---------- the Variables tree ----------

/** Transport feature bits worth naming (VirtIO 1.2 §6). Bit numbers over the 64-bit word. */
const FEATURE_NAMES: Record<number, string> = {
  28: 'INDIRECT_DESC', 29: 'EVENT_IDX', 32: 'VERSION_1', 33: 'ACCESS_PLATFORM', 34: 'RING_PACKED', 35: 'IN_ORDER', 36: 'ORDER_PLATFORM', 37: 'SR_IOV', 38: 'NOTIFICATION_DATA',
};

export function featureText([lo, hi]: readonly [number, number]): string {
  const names: string[] = [];
  for (let b = 0; b < 64; b++) {
    const set = b < 32 ? (lo >>> b) & 1 : (hi >>> (b - 32)) & 1;
    if (set) names.push(FEATURE_NAMES[b] ?? `bit ${b}`);
  }
  const hex = '0x' + (hi >>> 0).toString(16).padStart(8, '0') + '_' + (lo >>> 0).toString(16).padStart(8, '0');
  return names.length ? `${hex} ${names.join(' ')}` : hex;
}

export function deviceNodes(devices: DeviceSnapshot[], ram: Ram, info: readonly VirtioInfo[]): VarNode[] {
  return devices.map((d, i) => {
    const state = info[i]?.state;
    const summary = `${d.statusNames || 'reset'}${d.needsReset ? ' (NEEDS RESET)' : ''}, ${d.queues.length} queue${d.queues.length === 1 ? '' : 's'}, irq ${d.irq}`;
    return group(`${d.name} @${hex32(d.base)}`, summary, () => {
      const kids: VarNode[] = [
        leaf('status', `0x${d.status.toString(16).padStart(2, '0')} ${d.statusNames || '(reset)'}`),
      ];
      const why = state ? needsResetCause(state) : '';
      if (why) kids.push(leaf('needs reset', why));
      kids.push(
        leaf('device features', featureText(d.deviceFeatures)),
        leaf('driver features', featureText(d.driverFeatures)),
        leaf('interrupt status', `0x${d.interruptStatus.toString(16)}${d.interruptStatus & 1 ? ' used-buffer' : ''}${d.interruptStatus & 2 ? ' config-change' : ''}`),
        leaf('device id', d.deviceId),
        leaf('mmio base', hex32(d.base), { memoryReference: physMemoryReference(d.base) }),
        leaf('irq', d.irq),
        group('queues', d.queues.map((q) => q.name).join(', '), () => d.queues.map((q) => queueNode(q, ram))),
      );
      kids.push(...deviceStateNodes(info[i]));
      return kids;
    });
  });
}

export function queueSummary(q: QueueSnapshot): string {
  if (!q.ready) return 'not ready';
  return `avail.idx ${q.availIdx}, used.idx ${q.usedIdx}, ${q.pending.length} pending, ${q.inFlight} in flight`;
}

export function queueNode(q: QueueSnapshot, ram: Ram): VarNode {
  return group(`${q.name} (${q.index})`, queueSummary(q), () => [
    leaf('ready', String(q.ready)),
    leaf('size', `${q.size} (max ${q.maxSize})`),
    leaf('desc', hex32(q.descAddr), { memoryReference: physMemoryReference(q.descAddr), type: 'descriptor table (guest-physical)' }),
    leaf('avail', hex32(q.availAddr), { memoryReference: physMemoryReference(q.availAddr), type: 'driver area (guest-physical)' }),
    leaf('used', hex32(q.usedAddr), { memoryReference: physMemoryReference(q.usedAddr), type: 'device area (guest-physical)' }),
    leaf('avail.idx', q.availIdx, { data: { addr: q.availAddr + 2, len: 2, physical: true } }),
    leaf('avail.flags', `0x${q.availFlags.toString(16)}${q.availFlags & 1 ? ' NO_INTERRUPT' : ''}`),
    leaf('used.idx', q.usedIdx, { data: { addr: q.usedAddr + 2, len: 2, physical: true } }),
    leaf('used.flags', `0x${q.usedFlags.toString(16)}${q.usedFlags & 1 ? ' NO_NOTIFY' : ''}`),
    leaf('last_avail_idx', q.lastAvailIdx),
    leaf('in flight', q.inFlight),
    leaf('notifications', q.notifications),
    leaf('interrupts', q.interrupts),
    group('pending', `${q.pending.length} chain${q.pending.length === 1 ? '' : 's'}`, () => q.pending.map((c) => chainNode(c, ram))),
    group('held', `${q.held.length} chain${q.held.length === 1 ? '' : 's'}`, () => q.held.map((c) => chainNode(c, ram))),
  ], { menuContext: 'semu.virtqueue' });
}

export function chainNode(c: ChainSnapshot, ram: Ram): VarNode {
  const value = c.malformed ? `MALFORMED: ${c.malformed}` : (c.decoded ?? `${c.descriptors.length} descriptor${c.descriptors.length === 1 ? '' : 's'}`);
  return group(`chain ${c.head}`, value, () => {
    // Buffer descriptors are numbered in chain order ([0] is what the device reads first); an
    // indirect descriptor is shown as the table it points to, its entries following it.
    const kids: VarNode[] = [];
    let k = 0;
    let indirect = false;
    for (const d of c.descriptors) {
      if (d.flags & VIRTQ_DESC_F_INDIRECT) {
        indirect = true;
        kids.push(leaf(`indirect table (desc ${d.index})`, `${hex32(d.addr)}, ${d.len >>> 4} entries`, { memoryReference: physMemoryReference(d.addr) }));
        continue;
      }
      kids.push(descNode(`[${k++}] ${indirect ? 'indirect ' : ''}desc ${d.index}`, d, ram));
    }
    if (c.malformed) kids.unshift(leaf('malformed', c.malformed));
    if (c.decoded) kids.unshift(leaf('decoded', c.decoded));
    return kids;
  }, { memoryReference: c.descriptors[0] ? physMemoryReference(c.descriptors[0].addr) : undefined });
}

function descNode(name: string, d: DescSnapshot, ram: Ram): VarNode {
  return group(name, `${hex32(d.addr)} len ${d.len}${d.flagNames ? ' ' + d.flagNames : ''}`, () => {
    const out: VarNode[] = [
      leaf('addr', hex32(d.addr), { memoryReference: physMemoryReference(d.addr) }),
      leaf('len', d.len),
      leaf('flags', `0x${d.flags.toString(16)}${d.flagNames ? ' ' + d.flagNames : ''}`),
      leaf('next', d.next),
      leaf('direction', d.flags & VIRTQ_DESC_F_WRITE ? 'device-writable' : 'device-readable'),
    ];
    const preview = bytePreview(ram, d.addr, Math.min(d.len, 16));
    if (preview) out.push(leaf('bytes', preview + (d.len > 16 ? ' …' : ''), { memoryReference: physMemoryReference(d.addr) }));
    return out;
  }, { memoryReference: physMemoryReference(d.addr) });
}

function bytePreview(ram: Ram, addr: number, len: number): string {
  if (len <= 0 || !ram.contains(addr, len)) return '';
  const parts: string[] = [];
  for (let i = 0; i < len; i++) parts.push(ram.read8(addr + i).toString(16).padStart(2, '0'));
  return parts.join(' ');
}
