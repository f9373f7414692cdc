// Test doubles and a minimal virtio driver that talks to a transport only through guest-physical
// memory and MMIO stores, in the order Linux's virtio_mmio.c / virtio_ring.c do.

import { Bus } from '../../src/emulator/bus';
import { Ram } from '../../src/emulator/ram';
import type { InterruptTarget, IrqLine } from '../../src/emulator/types';
import { VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../../src/emulator/virtio/types';

/** Records the level of every IRQ source. */
export class FakeIrq implements IrqLine {
  readonly levels = new Map<number, boolean>();
  raised = 0;
  setIrq(source: number, level: boolean): void {
    if (level && !this.levels.get(source)) this.raised++;
    this.levels.set(source, level);
  }
  level(source: number): boolean {
    return this.levels.get(source) === true;
  }
}

/** A hart's mip as devices drive it. */
export class FakeHart implements InterruptTarget {
  mip = 0;
  setPending(mask: number, on: boolean): void {
    this.mip = on ? this.mip | mask : this.mip & ~mask;
  }
}

export const STATUS = { ACK: 1, DRIVER: 2, DRIVER_OK: 4, FEATURES_OK: 8, NEEDS_RESET: 64, FAILED: 128 };

// virtio-mmio register offsets
export const R = {
  MAGIC: 0x000,
  VERSION: 0x004,
  DEVICE_ID: 0x008,
  VENDOR_ID: 0x00c,
  DEVICE_FEATURES: 0x010,
  DEVICE_FEATURES_SEL: 0x014,
  DRIVER_FEATURES: 0x020,
  DRIVER_FEATURES_SEL: 0x024,
  QUEUE_SEL: 0x030,
  QUEUE_NUM_MAX: 0x034,
  QUEUE_NUM: 0x038,
  QUEUE_READY: 0x044,
  QUEUE_NOTIFY: 0x050,
  INTERRUPT_STATUS: 0x060,
  INTERRUPT_ACK: 0x064,
  STATUS: 0x070,
  QUEUE_DESC_LOW: 0x080,
  QUEUE_DESC_HIGH: 0x084,
  QUEUE_DRIVER_LOW: 0x090,
  QUEUE_DRIVER_HIGH: 0x094,
  QUEUE_DEVICE_LOW: 0x0a0,
  QUEUE_DEVICE_HIGH: 0x0a4,
  SHM_LEN_LOW: 0x0b0,
  CONFIG_GENERATION: 0x0fc,
  CONFIG: 0x100,
};

/** Programs the selected queue's size and ring addresses and sets it ready, as virtio_mmio.c does. */
export function programQueue(w: (off: number, v: number) => void, n: number, q: { desc: number; avail: number; used: number }): void {
  w(R.QUEUE_NUM, n);
  w(R.QUEUE_DESC_LOW, q.desc);
  w(R.QUEUE_DESC_HIGH, 0);
  w(R.QUEUE_DRIVER_LOW, q.avail);
  w(R.QUEUE_DRIVER_HIGH, 0);
  w(R.QUEUE_DEVICE_LOW, q.used);
  w(R.QUEUE_DEVICE_HIGH, 0);
  w(R.QUEUE_READY, 1);
}

export function makeBus(ramBytes = 4 << 20): Bus {
  return new Bus(Ram.allocate(ramBytes));
}

export interface BufSpec {
  addr: number;
  len: number;
  write?: boolean;
}

/** One split virtqueue as the driver sees it: rings page-aligned in RAM like vring_create_virtqueue. */
export class DriverQueue {
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  private freeHead = 0;
  availIdx = 0;
  lastUsed = 0;

  constructor(
    readonly ram: Ram,
    readonly index: number,
    readonly size: number,
    at: number,
  ) {
    this.desc = at;
    this.avail = at + 16 * size;
    // used ring on the next 4 KiB boundary, as the legacy vring layout does
    this.used = (this.avail + 6 + 2 * size + 4095) & ~4095;
    ram.u8.fill(0, at, this.used + 6 + 8 * size);
  }

  get end(): number {
    return this.used + 6 + 8 * this.size;
  }

  /** Writes a chain of descriptors starting at the next free index; publishes it in avail. */
  add(bufs: BufSpec[]): number {
    const head = this.freeHead;
    for (let k = 0; k < bufs.length; k++) {
      const i = (head + k) % this.size;
      const last = k === bufs.length - 1;
      this.writeDesc(i, bufs[k].addr, bufs[k].len, (bufs[k].write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT), (i + 1) % this.size);
    }
    this.freeHead = (head + bufs.length) % this.size;
    this.publish(head);
    return head;
  }

  writeDesc(i: number, addr: number, len: number, flags: number, next: number, addrHi = 0): void {
    const d = this.desc + 16 * i;
    this.ram.write32(d, addr);
    this.ram.write32(d + 4, addrHi);
    this.ram.write32(d + 8, len);
    this.ram.write16(d + 12, flags);
    this.ram.write16(d + 14, next);
  }

  /** Puts `head` in the next avail slot and bumps avail.idx (what virtqueue_add + kick_prepare do). */
  publish(head: number): void {
    this.ram.write16(this.avail + 4 + 2 * (this.availIdx % this.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.ram.write16(this.avail + 2, this.availIdx);
  }

  setAvailFlags(f: number): void {
    this.ram.write16(this.avail, f);
  }

  usedIdx(): number {
    return this.ram.read16(this.used + 2);
  }

  /** Used elements not seen yet, as virtqueue_get_buf returns them. */
  takeUsed(): { id: number; len: number }[] {
    const out: { id: number; len: number }[] = [];
    const idx = this.usedIdx();
    while (this.lastUsed !== idx) {
      const e = this.used + 4 + 8 * (this.lastUsed % this.size);
      out.push({ id: this.ram.read32(e), len: this.ram.read32(e + 4) });
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
    }
    return out;
  }
}

/** The virtio-mmio probe + virtio core + vm_setup_vq sequence, through MMIO stores. */
export class MmioDriver {
  constructor(
    readonly bus: Bus,
    readonly base: number,
  ) {}

  r(off: number): number {
    return this.bus.read(this.base + off, 4);
  }
  w(off: number, v: number): void {
    this.bus.write(this.base + off, 4, v);
  }

  /** virtio_mmio_probe + register_virtio_device + virtio_dev_probe up to FEATURES_OK. Returns the device features. */
  probe(accept: (features: [number, number]) => [number, number] = (f) => f): { ok: boolean; deviceFeatures: [number, number] } {
    if (this.r(R.MAGIC) !== 0x74726976) throw new Error('bad magic');
    if (this.r(R.VERSION) !== 2) throw new Error('not version 2');
    if (this.r(R.DEVICE_ID) === 0) throw new Error('placeholder device');
    this.r(R.VENDOR_ID);
    this.w(R.STATUS, 0); // vm_reset
    this.addStatus(STATUS.ACK);
    this.addStatus(STATUS.DRIVER);
    // vm_get_features: high word first
    this.w(R.DEVICE_FEATURES_SEL, 1);
    const hi = this.r(R.DEVICE_FEATURES);
    this.w(R.DEVICE_FEATURES_SEL, 0);
    const lo = this.r(R.DEVICE_FEATURES);
    const [alo, ahi] = accept([lo, hi]);
    // vm_finalize_features
    this.w(R.DRIVER_FEATURES_SEL, 1);
    this.w(R.DRIVER_FEATURES, ahi);
    this.w(R.DRIVER_FEATURES_SEL, 0);
    this.w(R.DRIVER_FEATURES, alo);
    // virtio_features_ok: set FEATURES_OK and read it back
    this.addStatus(STATUS.FEATURES_OK);
    const ok = (this.r(R.STATUS) & STATUS.FEATURES_OK) !== 0;
    return { ok, deviceFeatures: [lo, hi] };
  }

  addStatus(bits: number): void {
    this.w(R.STATUS, (this.r(R.STATUS) & 0xff) | bits);
  }

  /** vm_setup_vq: returns the queue, or throws like the driver's error paths would. */
  setupQueue(index: number, at: number, size?: number): DriverQueue {
    this.w(R.QUEUE_SEL, index);
    if (this.r(R.QUEUE_READY) !== 0) throw new Error(`queue ${index} already set up`);
    const max = this.r(R.QUEUE_NUM_MAX);
    if (max === 0) throw new Error(`queue ${index} not available`);
    const q = new DriverQueue(this.bus.ram, index, size ?? max, at);
    this.w(R.QUEUE_NUM, q.size);
    this.w(R.QUEUE_DESC_LOW, q.desc);
    this.w(R.QUEUE_DESC_HIGH, 0);
    this.w(R.QUEUE_DRIVER_LOW, q.avail);
    this.w(R.QUEUE_DRIVER_HIGH, 0);
    this.w(R.QUEUE_DEVICE_LOW, q.used);
    this.w(R.QUEUE_DEVICE_HIGH, 0);
    this.w(R.QUEUE_READY, 1);
    return q;
  }

  /** probe + every queue + DRIVER_OK. */
  init(queueCount: number, at = 0x100000): DriverQueue[] {
    const p = this.probe();
    if (!p.ok) throw new Error('device refused features');
    const qs: DriverQueue[] = [];
    let next = at;
    for (let i = 0; i < queueCount; i++) {
      const q = this.setupQueue(i, next);
      qs.push(q);
      next = (q.end + 4095) & ~4095;
    }
    this.addStatus(STATUS.DRIVER_OK);
    return qs;
  }

  kick(q: number): void {
    this.w(R.QUEUE_NOTIFY, q);
  }

  /** vm_interrupt: read InterruptStatus, acknowledge it. */
  interrupt(): number {
    const s = this.r(R.INTERRUPT_STATUS);
    this.w(R.INTERRUPT_ACK, s);
    return s;
  }
}
