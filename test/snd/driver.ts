// A scripted virtio driver for the device tests: it owns a little guest RAM, programs the real
// virtio-mmio transport through its registers in the order Linux's virtio_mmio.c does, lays out
// split rings, builds descriptor chains, kicks, and reads the used ring back.

import { Ram } from '../../src/emulator/ram';
import type { IrqLine } from '../../src/emulator/types';
import { VirtioMmio } from '../../src/emulator/virtio/mmio';
import type { VirtioDevice } from '../../src/emulator/virtio/types';
import { VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../../src/emulator/virtio/types';

// Registers (VirtIO 1.2 §4.2.2): one table for every test driver.
import { R, programQueue } from '../devices/helpers';
export { R };

export const S_ACKNOWLEDGE = 1;
export const S_DRIVER = 2;
export const S_DRIVER_OK = 4;
export const S_FEATURES_OK = 8;
export const S_NEEDS_RESET = 64;

export interface Seg {
  addr: number;
  len: number;
  write: boolean;
}

export interface UsedElem {
  id: number;
  len: number;
}

class DriverQueue {
  size = 0;
  desc = 0;
  avail = 0;
  used = 0;
  availIdx = 0;
  lastUsed = 0;
  free: number[] = [];
  /** Descriptor indices of each outstanding chain, by head. */
  chains = new Map<number, number[]>();
}

export class IrqRecorder implements IrqLine {
  level = false;
  raises = 0;
  setIrq(_source: number, level: boolean): void {
    if (level && !this.level) this.raises++;
    this.level = level;
  }
}

export class Driver {
  readonly ram: Ram;
  readonly irq = new IrqRecorder();
  readonly mmio: VirtioMmio;
  readonly queues: DriverQueue[] = [];
  private heapStart: number;
  private heapEnd: number;
  private heap: number;

  constructor(
    readonly device: VirtioDevice,
    ramBytes = 1 << 20,
  ) {
    this.ram = Ram.allocate(ramBytes);
    this.mmio = new VirtioMmio('virtio-snd', 0xf4700000, this.irq, 5, device, this.ram);
    // Rings live in the first 64 KiB, buffers above.
    this.heapStart = 0x10000;
    this.heapEnd = ramBytes;
    this.heap = this.heapStart;
  }

  r(off: number): number {
    return this.mmio.read(off, 4);
  }
  w(off: number, v: number): void {
    this.mmio.write(off, 4, v);
  }
  status(): number {
    return this.r(R.STATUS);
  }
  get needsReset(): boolean {
    return (this.status() & S_NEEDS_RESET) !== 0;
  }
  config32(off: number): number {
    return this.mmio.read(R.CONFIG + off, 4);
  }

  /** virtio_mmio probe + virtio_dev_probe + find_vqs, in Linux's order. */
  init(queueSize?: number): void {
    if (this.r(R.MAGIC) !== 0x74726976 || this.r(R.VERSION) !== 2) throw new Error('not a virtio-mmio v2 device');
    this.w(R.STATUS, 0); // reset
    if (this.status() !== 0) throw new Error('reset did not clear status');
    this.w(R.STATUS, S_ACKNOWLEDGE);
    this.w(R.STATUS, S_ACKNOWLEDGE | S_DRIVER);
    this.w(R.DEVICE_FEATURES_SEL, 1);
    const hi = this.r(R.DEVICE_FEATURES);
    this.w(R.DEVICE_FEATURES_SEL, 0);
    const lo = this.r(R.DEVICE_FEATURES);
    // Accept VERSION_1 (bit 32) and whatever device-specific bits (0-23) are offered; no ring features.
    this.w(R.DRIVER_FEATURES_SEL, 1);
    this.w(R.DRIVER_FEATURES, hi & 1);
    this.w(R.DRIVER_FEATURES_SEL, 0);
    this.w(R.DRIVER_FEATURES, lo & 0x00ffffff);
    this.w(R.STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
    if (!(this.status() & S_FEATURES_OK)) throw new Error('device refused FEATURES_OK');
    const nq = this.device.queueNames.length;
    let ringAt = 0x1000;
    this.queues.length = 0;
    for (let q = 0; q < nq; q++) {
      this.w(R.QUEUE_SEL, q);
      if (this.r(R.QUEUE_READY) !== 0) throw new Error(`queue ${q} already ready`);
      const max = this.r(R.QUEUE_NUM_MAX);
      const n = Math.min(max, queueSize ?? max);
      const dq = new DriverQueue();
      dq.size = n;
      dq.desc = ringAt;
      dq.avail = dq.desc + 16 * n;
      dq.used = (dq.avail + 6 + 2 * n + 3) & ~3;
      ringAt = (dq.used + 6 + 8 * n + 0xfff) & ~0xfff;
      for (let i = n - 1; i >= 0; i--) dq.free.push(i);
      programQueue((off, v) => this.w(off, v), n, dq);
      this.queues.push(dq);
    }
    if (ringAt > this.heapStart) throw new Error('rings overflow their area');
    this.w(R.STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  }

  /** Guest memory for buffers: a bump allocator that wraps (tests keep few buffers live). */
  alloc(len: number, align = 8): number {
    let at = (this.heap + align - 1) & ~(align - 1);
    if (at + len > this.heapEnd) at = this.heapStart;
    if (at + len > this.heapEnd) throw new Error(`cannot allocate ${len} bytes of guest memory`);
    this.heap = at + len;
    return at;
  }
  resetHeap(): void {
    this.heap = this.heapStart;
  }

  put(addr: number, bytes: Uint8Array): void {
    this.ram.u8.set(bytes, addr);
  }
  get(addr: number, len: number): Uint8Array {
    return this.ram.u8.slice(addr, addr + len);
  }

  /** Places a chain of raw descriptors (flags as given, NEXT added between them) in the avail ring. */
  submitRaw(q: number, descs: { addr: number; len: number; flags: number; next?: number }[], headOverride?: number): number {
    const dq = this.queues[q];
    if (dq.free.length < descs.length) throw new Error(`queue ${q}: out of descriptors`);
    const idx = descs.map(() => dq.free.pop()!);
    for (let i = 0; i < descs.length; i++) {
      const d = dq.desc + 16 * idx[i];
      const last = i === descs.length - 1;
      const flags = descs[i].flags | (last ? 0 : VIRTQ_DESC_F_NEXT);
      this.ram.write32(d, descs[i].addr);
      this.ram.write32(d + 4, 0);
      this.ram.write32(d + 8, descs[i].len);
      this.ram.write16(d + 12, flags);
      this.ram.write16(d + 14, descs[i].next ?? (last ? 0 : idx[i + 1]));
    }
    const head = headOverride ?? idx[0];
    dq.chains.set(head, idx);
    this.ram.write16(dq.avail + 4 + 2 * (dq.availIdx % dq.size), head);
    dq.availIdx = (dq.availIdx + 1) & 0xffff;
    this.ram.write16(dq.avail + 2, dq.availIdx);
    return head;
  }

  /** Makes an already submitted chain available once more (a driver bug the device must survive). */
  resubmit(q: number, head: number): void {
    const dq = this.queues[q];
    this.ram.write16(dq.avail + 4 + 2 * (dq.availIdx % dq.size), head);
    dq.availIdx = (dq.availIdx + 1) & 0xffff;
    this.ram.write16(dq.avail + 2, dq.availIdx);
  }

  /** A chain of buffers: readable ones first, then writable (virtqueue_add_sgs order). */
  submit(q: number, segs: Seg[]): number {
    return this.submitRaw(
      q,
      segs.map((s) => ({ addr: s.addr, len: s.len, flags: s.write ? VIRTQ_DESC_F_WRITE : 0 })),
    );
  }

  kick(q: number): void {
    this.w(R.QUEUE_NOTIFY, q);
  }

  /** New used-ring entries since the last call; their descriptors go back to the free list. */
  used(q: number): UsedElem[] {
    const dq = this.queues[q];
    const idx = this.ram.read16(dq.used + 2);
    const out: UsedElem[] = [];
    while (dq.lastUsed !== idx) {
      const e = dq.used + 4 + 8 * (dq.lastUsed % dq.size);
      const id = this.ram.read32(e);
      const len = this.ram.read32(e + 4);
      out.push({ id, len });
      const descs = dq.chains.get(id);
      if (descs) {
        dq.chains.delete(id);
        for (const d of descs) dq.free.push(d);
      }
      dq.lastUsed = (dq.lastUsed + 1) & 0xffff;
    }
    if (out.length > 0) this.w(R.INTERRUPT_ACK, this.r(R.INTERRUPT_STATUS));
    return out;
  }

  /** Chains submitted and not yet seen in the used ring. */
  outstanding(q: number): number {
    return this.queues[q].chains.size;
  }
}
