// Pure snapshot functions for the debugger's Devices scope and the virtqueue inspector: given
// guest RAM and a transport's shared state (layout.ts), both SharedArrayBuffers readable from any
// thread, decode a queue the way QEMU's `info virtio-queue-status` / `virtio-queue-element` do —
// registers, ring indices, and the chains that are pending (made available, not yet seen by the
// device) or held (popped by the device, not yet used).
//
// The guest may be running while we read, and a hostile guest may write anything: every value
// read here is validated, every walk is bounded, nothing throws.

import type { Ram } from '../ram';
import type { ChainSnapshot, DescSnapshot, DeviceSnapshot, QueueSnapshot } from '../../shared/protocol';
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from './types';
import { ChainWalker, WALK_BUFFER, WALK_END, WALK_ERROR, WALK_INDIRECT, validQueueSize } from './ring';
import {
  HEADER_INTS,
  NEEDS_RESET_NAMES,
  Q_DESC,
  Q_DESC_HI,
  Q_DEVICE,
  Q_DEVICE_HI,
  Q_DRIVER,
  Q_DRIVER_HI,
  Q_INTERRUPTS,
  Q_INTS,
  Q_IN_FLIGHT,
  Q_LAST_AVAIL,
  Q_NOTIFICATIONS,
  Q_NUM,
  Q_READY,
  ST_DEVICE_FEATURES_HI,
  ST_DEVICE_FEATURES_LO,
  ST_DEVICE_ID,
  ST_DRIVER_FEATURES_HI,
  ST_DRIVER_FEATURES_LO,
  ST_INTERRUPT_STATUS,
  ST_NEEDS_RESET,
  ST_NEEDS_RESET_QUEUE,
  ST_QUEUE_COUNT,
  ST_QUEUE_MAX,
  ST_QUEUE_STRIDE,
  ST_STATUS,
  STATUS_DEVICE_NEEDS_RESET,
  VIRTIO_F_INDIRECT_DESC,
  statusNames,
} from './layout';

/** Bytes of a chain's readable part handed to a decoder. */
const DECODE_BYTES = 64;

/**
 * Describes a chain from the start of its readable part: `readable` holds up to 64 bytes of it;
 * the lengths are the chain's totals. Returns e.g. 'IN sector 2048 × 8'. Each device's descriptor
 * (src/devices/) brings its own.
 */
export type ChainDecoder = (queue: number, readable: Uint8Array, readableLength: number, writableLength: number) => string;

export interface InspectOptions {
  /** Device name for the snapshot ('virtio-blk'). */
  device?: string;
  /** Queue name ('requestq'). */
  name?: string;
  /** The device's chain decoder (none: chains are listed undecoded). */
  decode?: ChainDecoder | null;
  /** At most this many chains per list (default 64). */
  maxChains?: number;
}

export function descFlagNames(flags: number): string {
  const names: string[] = [];
  if (flags & VIRTQ_DESC_F_NEXT) names.push('NEXT');
  if (flags & VIRTQ_DESC_F_WRITE) names.push('WRITE');
  if (flags & VIRTQ_DESC_F_INDIRECT) names.push('INDIRECT');
  const rest = flags & ~(VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT);
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

/** Reads a guest halfword only where RAM exists; -1 outside it. */
function rd16(ram: Ram, a: number): number {
  return ram.contains(a, 2) ? ram.read16(a) : -1;
}

/**
 * Walks the chain at `head` of a descriptor table with the device's own walker (ring.ts),
 * recording each descriptor — the indirect one too — and why it is malformed instead of failing.
 * `indirect`: whether VIRTIO_F_INDIRECT_DESC was negotiated (the device refuses it otherwise).
 */
export function decodeChain(ram: Ram, descAddr: number, size: number, head: number, indirect = true, walker = new ChainWalker(ram)): ChainSnapshot {
  const descriptors: DescSnapshot[] = [];
  const chain: ChainSnapshot = { head, descriptors };
  if (!validQueueSize(size)) return withMalformed(chain, `queue size ${size} is invalid`);
  walker.begin(descAddr, size, head, indirect);
  for (;;) {
    const r = walker.step();
    if (r === WALK_END) return chain;
    if (r === WALK_ERROR) {
      // The descriptor that broke the chain is shown too when it could be read.
      if (walker.descRead) pushDesc(descriptors, walker);
      return withMalformed(chain, walker.detail);
    }
    if (r === WALK_BUFFER || r === WALK_INDIRECT) pushDesc(descriptors, walker);
  }
}

function pushDesc(out: DescSnapshot[], w: ChainWalker): void {
  out.push({ index: w.index, addr: w.addr, len: w.len, flags: w.flags, flagNames: descFlagNames(w.flags), next: w.next });
}

function withMalformed(chain: ChainSnapshot, why: string): ChainSnapshot {
  chain.malformed = why;
  return chain;
}

/** The first readable bytes of a decoded chain (for decoders), and its two totals. */
function readablePrefix(ram: Ram, chain: ChainSnapshot): { bytes: Uint8Array; readable: number; writable: number } {
  const out = new Uint8Array(DECODE_BYTES);
  let have = 0;
  let readable = 0;
  let writable = 0;
  for (const d of chain.descriptors) {
    if (d.flags & VIRTQ_DESC_F_INDIRECT) continue;
    if (d.flags & VIRTQ_DESC_F_WRITE) {
      writable += d.len;
      continue;
    }
    readable += d.len;
    const n = Math.min(d.len, DECODE_BYTES - have);
    if (n > 0 && ram.contains(d.addr, n)) {
      out.set(ram.u8.subarray(d.addr - ram.base, d.addr - ram.base + n), have);
      have += n;
    }
  }
  return { bytes: out.subarray(0, have), readable, writable };
}

function decorate(ram: Ram, chain: ChainSnapshot, queue: number, decode: ChainDecoder | null): ChainSnapshot {
  if (decode === null || chain.malformed !== undefined) return chain;
  const p = readablePrefix(ram, chain);
  try {
    chain.decoded = decode(queue, p.bytes, p.readable, p.writable);
  } catch {
    // A decoder tripping over hostile bytes just leaves the chain undecoded.
  }
  return chain;
}

/** Snapshot of queue `q` of the transport whose shared state is `state`. */
export function inspectQueue(ram: Ram, state: Int32Array, q: number, opts: InspectOptions = {}): QueueSnapshot {
  const deviceId = state[ST_DEVICE_ID];
  const decode = opts.decode ?? null;
  const maxChains = opts.maxChains ?? 64;
  const stride = state[ST_QUEUE_STRIDE];
  const qcount = state[ST_QUEUE_COUNT];
  const sb = HEADER_INTS + q * stride;
  const inState = q >= 0 && q < qcount && stride >= Q_INTS && sb + stride <= state.length;
  const at = (k: number) => (inState ? state[sb + k] : 0);

  const size = at(Q_NUM) >>> 0;
  const ready = at(Q_READY) === 1;
  const descAddr = at(Q_DESC) >>> 0;
  const availAddr = at(Q_DRIVER) >>> 0;
  const usedAddr = at(Q_DEVICE) >>> 0;
  const highBits = at(Q_DESC_HI) | at(Q_DRIVER_HI) | at(Q_DEVICE_HI);
  const lastAvailIdx = at(Q_LAST_AVAIL) & 0xffff;
  const snap: QueueSnapshot = {
    device: opts.device ?? `virtio device ${deviceId}`,
    index: q,
    name: opts.name ?? `queue${q}`,
    ready,
    size,
    maxSize: state[ST_QUEUE_MAX] >>> 0,
    descAddr,
    availAddr,
    usedAddr,
    availIdx: 0,
    availFlags: 0,
    usedIdx: 0,
    usedFlags: 0,
    lastAvailIdx,
    inFlight: at(Q_IN_FLIGHT),
    notifications: at(Q_NOTIFICATIONS) >>> 0,
    interrupts: at(Q_INTERRUPTS) >>> 0,
    pending: [],
    held: [],
  };
  if (!ready || !validQueueSize(size) || highBits !== 0) return snap;
  const indirect = (state[ST_DRIVER_FEATURES_LO] & (1 << VIRTIO_F_INDIRECT_DESC)) !== 0;
  const walker = new ChainWalker(ram);
  const chainAt = (head: number) => decorate(ram, decodeChain(ram, descAddr, size, head, indirect, walker), q, decode);

  const availFlags = rd16(ram, availAddr);
  const availIdx = rd16(ram, availAddr + 2);
  const usedFlags = rd16(ram, usedAddr);
  const usedIdx = rd16(ram, usedAddr + 2);
  snap.availFlags = Math.max(availFlags, 0);
  snap.availIdx = Math.max(availIdx, 0);
  snap.usedFlags = Math.max(usedFlags, 0);
  snap.usedIdx = Math.max(usedIdx, 0);
  if (availIdx < 0) return snap;

  // Pending: avail.ring[lastAvail .. avail.idx), never more than the ring holds.
  const waiting = Math.min((availIdx - lastAvailIdx) & 0xffff, size, maxChains);
  for (let k = 0; k < waiting; k++) {
    const head = rd16(ram, availAddr + 4 + 2 * ((lastAvailIdx + k) & (size - 1)));
    if (head < 0) break;
    snap.pending.push(chainAt(head));
  }

  // Held: the heads whose bit is set in the queue's bitmap.
  const words = Math.min((size + 31) >>> 5, stride - Q_INTS);
  for (let w = 0; w < words && snap.held.length < maxChains; w++) {
    let bits = state[sb + Q_INTS + w];
    while (bits !== 0 && snap.held.length < maxChains) {
      const b = 31 - Math.clz32(bits & -bits);
      bits &= bits - 1;
      const head = w * 32 + b;
      if (head < size) snap.held.push(chainAt(head));
    }
  }
  return snap;
}

/** Labels for a transport: what VirtioMmio.info() reports, minus the buffer, and its decoder. */
export interface DeviceLabels {
  name: string; // device model name, 'virtio-blk'
  base: number;
  irq: number;
  queueNames: readonly string[];
  decode?: ChainDecoder;
}

/** Snapshot of a whole transport: registers, status, features and every queue. */
export function inspectDevice(ram: Ram, state: Int32Array, labels: DeviceLabels, opts: Omit<InspectOptions, 'device' | 'name' | 'decode'> = {}): DeviceSnapshot {
  const status = state[ST_STATUS] & 0xff;
  const count = Math.max(0, Math.min(state[ST_QUEUE_COUNT], 64));
  const queues: QueueSnapshot[] = [];
  for (let q = 0; q < count; q++) {
    queues.push(inspectQueue(ram, state, q, { ...opts, device: labels.name, name: labels.queueNames[q] ?? `queue${q}`, decode: labels.decode }));
  }
  return {
    name: labels.name,
    deviceId: state[ST_DEVICE_ID],
    base: labels.base >>> 0,
    irq: labels.irq,
    status,
    statusNames: statusNames(status),
    deviceFeatures: [state[ST_DEVICE_FEATURES_LO] >>> 0, state[ST_DEVICE_FEATURES_HI] >>> 0],
    driverFeatures: [state[ST_DRIVER_FEATURES_LO] >>> 0, state[ST_DRIVER_FEATURES_HI] >>> 0],
    needsReset: (status & STATUS_DEVICE_NEEDS_RESET) !== 0,
    interruptStatus: state[ST_INTERRUPT_STATUS] >>> 0,
    queues,
  };
}

/** Why the device entered DEVICE_NEEDS_RESET, from the shared state ('' when it has not). */
export function needsResetCause(state: Int32Array): string {
  const code = state[ST_NEEDS_RESET];
  if (code === 0) return '';
  const q = state[ST_NEEDS_RESET_QUEUE];
  const what = NEEDS_RESET_NAMES[code] ?? `code ${code}`;
  return q >= 0 ? `queue ${q}: ${what}` : what;
}
