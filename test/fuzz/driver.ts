// The fuzzer's virtio driver: it talks to the real virtio-mmio transport only through registers
// and guest RAM, in the order Linux's virtio_mmio.c does (reset, ACKNOWLEDGE, DRIVER, features
// with VIRTIO_F_INDIRECT_DESC when offered, FEATURES_OK, queues, DRIVER_OK), lays out split rings,
// writes descriptor chains (direct or through an indirect table), and reads the used ring back,
// checking every used element against what it made available.

import { Ram } from '../../src/emulator/ram';
import type { IrqLine } from '../../src/emulator/types';
import { VirtioMmio } from '../../src/emulator/virtio/mmio';
import { HEADER_INTS, Q_IN_FLIGHT, Q_LAST_AVAIL, ST_NEEDS_RESET, ST_QUEUE_STRIDE } from '../../src/emulator/virtio/layout';
import type { VirtioDevice } from '../../src/emulator/virtio/types';
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../../src/emulator/virtio/types';
import { R, programQueue } from '../devices/helpers';

const S_ACKNOWLEDGE = 1;
const S_DRIVER = 2;
const S_DRIVER_OK = 4;
const S_FEATURES_OK = 8;
const S_NEEDS_RESET = 64;
const VIRTIO_F_INDIRECT_DESC = 28;
/** Rings live below this address, buffers above it. */
const HEAP_START = 0x40000;

/** One buffer of a chain: readable ones first, then writable (virtqueue_add_sgs order). */
export interface DescSpec {
  addr: number;
  len: number;
  write: boolean;
}

/** A chain written but not yet published: where its descriptors are, for hostile edits. */
export interface Placed {
  q: number;
  head: number;
  /** Ring descriptor slots it uses (the head first). */
  slots: number[];
  /** Where its buffer descriptors live: the ring's table, or an indirect table. */
  table: number;
  /** Index of each buffer descriptor in `table`. */
  index: number[];
  /** Device-writable bytes the chain offers (the most a used length may say). */
  writable: number;
  /** What the generator asked for. */
  specs: DescSpec[];
  /** Given a transport-level hostile edit: no longer what `specs` says. */
  hostile: boolean;
}

export class FuzzQueue {
  desc = 0;
  avail = 0;
  used = 0;
  size = 0;
  availIdx = 0;
  lastUsed = 0;
  free: number[] = [];
  readonly inflight = new Map<number, Placed>();
}

class Irq implements IrqLine {
  level = false;
  setIrq(_source: number, level: boolean): void {
    this.level = level;
  }
}

export class FuzzDriver {
  readonly ram: Ram;
  readonly mmio: VirtioMmio;
  readonly queues: FuzzQueue[] = [];
  indirect = false;
  /** Set when a hostile chain pointed the device at the rings: used entries can no longer be trusted. */
  corrupted = false;
  private heap = HEAP_START;

  constructor(
    readonly device: VirtioDevice,
    ramBytes: number,
    private readonly queueSize: number,
  ) {
    this.ram = Ram.allocate(ramBytes);
    this.mmio = new VirtioMmio(device.name, 0xf4800000, new Irq(), 9, device, this.ram);
  }

  private r(off: number): number {
    return this.mmio.read(off, 4);
  }
  private w(off: number, v: number): void {
    this.mmio.write(off, 4, v);
  }

  get status(): number {
    return this.r(R.STATUS);
  }
  get needsReset(): boolean {
    return (this.status & S_NEEDS_RESET) !== 0;
  }
  /** The transport's needs-reset cause (layout.ts NR_*), 0 when none. */
  get needsResetCode(): number {
    return this.mmio.state[ST_NEEDS_RESET];
  }

  /** Reset, then virtio_dev_probe + find_vqs as Linux does them; false if the device refuses. */
  init(): boolean {
    this.w(R.STATUS, 0);
    this.corrupted = false;
    this.w(R.STATUS, S_ACKNOWLEDGE);
    this.w(R.STATUS, S_ACKNOWLEDGE | S_DRIVER);
    this.w(R.DEVICE_FEATURES_SEL, 1);
    const hi = this.r(R.DEVICE_FEATURES);
    this.w(R.DEVICE_FEATURES_SEL, 0);
    const lo = this.r(R.DEVICE_FEATURES);
    this.indirect = (lo & (1 << VIRTIO_F_INDIRECT_DESC)) !== 0;
    this.w(R.DRIVER_FEATURES_SEL, 1);
    this.w(R.DRIVER_FEATURES, hi & 1);
    this.w(R.DRIVER_FEATURES_SEL, 0);
    this.w(R.DRIVER_FEATURES, (lo & 0x00ffffff) | (this.indirect ? 1 << VIRTIO_F_INDIRECT_DESC : 0));
    this.w(R.STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
    if (!(this.status & S_FEATURES_OK)) return false;
    this.queues.length = 0;
    let at = 0x1000;
    for (let q = 0; q < this.device.queueNames.length; q++) {
      this.w(R.QUEUE_SEL, q);
      const n = Math.min(this.r(R.QUEUE_NUM_MAX), this.queueSize);
      const fq = new FuzzQueue();
      fq.size = n;
      fq.desc = at;
      fq.avail = at + 16 * n;
      fq.used = (fq.avail + 6 + 2 * n + 0xfff) & ~0xfff;
      at = (fq.used + 6 + 8 * n + 0xfff) & ~0xfff;
      this.ram.u8.fill(0, fq.desc, at);
      for (let i = n - 1; i >= 0; i--) fq.free.push(i);
      programQueue((off, v) => this.w(off, v), n, fq);
      this.queues.push(fq);
    }
    if (at > HEAP_START) throw new Error('fuzz driver: rings overflow their area (lower queueSize)');
    this.w(R.STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    return true;
  }

  /** Guest memory for buffers: a bump allocator that wraps (chains are short-lived). */
  alloc(len: number, align = 8): number {
    let at = (this.heap + align - 1) & ~(align - 1);
    if (at + len > this.ram.size) at = HEAP_START;
    if (at + len > this.ram.size) throw new Error(`fuzz driver: cannot allocate ${len} bytes`);
    this.heap = at + len;
    return at;
  }

  put(addr: number, bytes: Uint8Array): void {
    this.ram.u8.set(bytes, addr);
  }

  writeDesc(table: number, i: number, addr: number, len: number, flags: number, next: number, addrHi = 0): void {
    const d = table + 16 * i;
    this.ram.write32(d, addr >>> 0);
    this.ram.write32(d + 4, addrHi >>> 0);
    this.ram.write32(d + 8, len >>> 0);
    this.ram.write16(d + 12, flags & 0xffff);
    this.ram.write16(d + 14, next & 0xffff);
  }

  /**
   * Writes a chain into free ring slots (or one slot and an indirect table), not yet published.
   * Null when the ring has no room (the device holds the rest).
   */
  place(q: number, descs: DescSpec[], indirect: boolean): Placed | null {
    const fq = this.queues[q];
    const n = descs.length;
    const writable = descs.reduce((s, d) => s + (d.write ? d.len : 0), 0);
    if (indirect && this.indirect && n > 0) {
      if (fq.free.length < 1) return null;
      const head = fq.free.pop()!;
      const table = this.alloc(16 * n, 16);
      descs.forEach((d, i) => this.writeDesc(table, i, d.addr, d.len, (d.write ? VIRTQ_DESC_F_WRITE : 0) | (i < n - 1 ? VIRTQ_DESC_F_NEXT : 0), i + 1));
      this.writeDesc(fq.desc, head, table, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
      return { q, head, slots: [head], table, index: descs.map((_, i) => i), writable, specs: descs, hostile: false };
    }
    if (n === 0 || fq.free.length < n) return null;
    const slots = descs.map(() => fq.free.pop()!);
    descs.forEach((d, i) => this.writeDesc(fq.desc, slots[i], d.addr, d.len, (d.write ? VIRTQ_DESC_F_WRITE : 0) | (i < n - 1 ? VIRTQ_DESC_F_NEXT : 0), i < n - 1 ? slots[i + 1] : 0));
    return { q, head: slots[0], slots, table: fq.desc, index: slots, writable, specs: descs, hostile: false };
  }

  /** Makes a placed chain available (avail.ring, then avail.idx). */
  publish(p: Placed): void {
    const fq = this.queues[p.q];
    fq.inflight.set(p.head, p);
    this.publishHead(p.q, p.head);
  }

  /** Puts any head value in the next avail slot: a driver bug the device must survive. */
  publishHead(q: number, head: number): void {
    const fq = this.queues[q];
    this.ram.write16(fq.avail + 4 + 2 * (fq.availIdx % fq.size), head);
    fq.availIdx = (fq.availIdx + 1) & 0xffff;
    this.ram.write16(fq.avail + 2, fq.availIdx);
  }

  /** Moves avail.idx by `by` without filling the slots (stale or never-written heads). */
  jumpAvail(q: number, by: number): void {
    const fq = this.queues[q];
    fq.availIdx = (fq.availIdx + by) & 0xffff;
    this.ram.write16(fq.avail + 2, fq.availIdx);
  }

  kick(q: number): void {
    this.w(R.QUEUE_NOTIFY, q);
  }

  /** Chains the transport has popped and the device not yet returned. */
  inFlight(q: number): number {
    const st = this.mmio.state;
    return st[HEADER_INTS + q * st[ST_QUEUE_STRIDE] + Q_IN_FLIGHT];
  }

  /** Chains made available that the device has not popped yet. */
  pending(q: number): number {
    const st = this.mmio.state;
    return (this.queues[q].availIdx - st[HEADER_INTS + q * st[ST_QUEUE_STRIDE] + Q_LAST_AVAIL]) & 0xffff;
  }

  /**
   * New used elements, their descriptors freed. Each must name a chain in flight, once, with a
   * used length within what the chain offered; otherwise `problems` gets a line (unless the
   * rings were corrupted on purpose).
   */
  reap(q: number, problems: string[]): { id: number; len: number; placed: Placed | null }[] {
    const fq = this.queues[q];
    const out: { id: number; len: number; placed: Placed | null }[] = [];
    const idx = this.ram.read16(fq.used + 2);
    const ahead = (idx - fq.lastUsed) & 0xffff;
    if (ahead > fq.size) {
      if (!this.corrupted) problems.push(`queue ${q}: used.idx ${idx} is ${ahead} ahead of ${fq.lastUsed} (ring of ${fq.size})`);
      this.corrupted = true;
      return out;
    }
    while (fq.lastUsed !== idx) {
      const e = fq.used + 4 + 8 * (fq.lastUsed % fq.size);
      const id = this.ram.read32(e);
      const len = this.ram.read32(e + 4);
      fq.lastUsed = (fq.lastUsed + 1) & 0xffff;
      const p = fq.inflight.get(id) ?? null;
      if (p === null) {
        if (!this.corrupted) problems.push(`queue ${q}: used element names head ${id}, which is not in flight`);
        this.corrupted = true;
      } else {
        fq.inflight.delete(id);
        for (const s of p.slots) fq.free.push(s);
        if (len > p.writable && !this.corrupted) problems.push(`queue ${q}: used length ${len} for head ${id}, which offered ${p.writable} writable bytes`);
      }
      out.push({ id, len, placed: p });
    }
    return out;
  }
}
