// Split virtqueues (VirtIO 1.2 §2.7): the descriptor table, the available ring the driver fills
// and the used ring the device fills, all in guest RAM.
//
// pop() walks one chain (ring.ts, the walker the inspector shares) into preallocated storage and
// validates all of it before a device sees it: head and next indices in range, no loop (a chain
// is never longer than the queue), every buffer inside RAM, readable descriptors before writable
// ones, indirect tables well formed. Any violation puts the device in DEVICE_NEEDS_RESET and
// returns null; nothing throws.
//
// Every register and index an inspector needs is mirrored into the transport's shared state
// array (layout.ts) with plain stores as it changes.

import type { Ram } from '../ram';
import { VIRTQ_DESC_F_WRITE, type DescChain, type VirtQueue } from './types';
import { ChainWalker, WALK_BUFFER, WALK_END, WALK_ERROR } from './ring';
import {
  NR_AVAIL_IDX,
  NR_HEAD_RANGE,
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
  Q_NUM,
  Q_POPPED,
  Q_READY,
  Q_USED_IDX,
} from './layout';

const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;

/** What a queue needs from its transport. */
export interface QueueHost {
  readonly ram: Ram;
  /** True while the device is in DEVICE_NEEDS_RESET: pop() hands out nothing until reset. */
  readonly broken: boolean;
  /** Used-buffer notification (InterruptStatus bit 0 + the IRQ line). */
  notifyUsed(): void;
  /** A malformed chain or ring: DEVICE_NEEDS_RESET with a reason code (layout.ts NR_*). */
  queueFault(q: number, code: number, detail: string): void;
}

/** One chain's descriptors, reused for every pop of its queue. */
export class Chain implements DescChain {
  head = 0;
  count = 0;
  readableCount = 0;
  readableLength = 0;
  writableLength = 0;
  private readonly addrs: Uint32Array;
  private readonly lens: Uint32Array;
  private readonly flagBits: Uint16Array;

  constructor(
    capacity: number,
    private readonly ram: Ram,
  ) {
    this.addrs = new Uint32Array(capacity);
    this.lens = new Uint32Array(capacity);
    this.flagBits = new Uint16Array(capacity);
  }

  addr(i: number): number {
    return this.addrs[i];
  }
  len(i: number): number {
    return this.lens[i];
  }
  flags(i: number): number {
    return this.flagBits[i];
  }

  read(offset: number, dst: Uint8Array): number {
    const u8 = this.ram.u8;
    const base = this.ram.base;
    let done = 0;
    for (let i = 0; i < this.readableCount && done < dst.length; i++) {
      const len = this.lens[i];
      if (offset >= len) {
        offset -= len;
        continue;
      }
      const n = Math.min(len - offset, dst.length - done);
      const from = this.addrs[i] + offset - base;
      dst.set(u8.subarray(from, from + n), done);
      done += n;
      offset = 0;
    }
    return done;
  }

  write(offset: number, src: Uint8Array): number {
    const ram = this.ram;
    let done = 0;
    for (let i = this.readableCount; i < this.count && done < src.length; i++) {
      const len = this.lens[i];
      if (offset >= len) {
        offset -= len;
        continue;
      }
      const n = Math.min(len - offset, src.length - done);
      const to = this.addrs[i] + offset;
      ram.u8.set(done === 0 && n === src.length ? src : src.subarray(done, done + n), to - ram.base);
      ram.noteWrite(to, n);
      done += n;
      offset = 0;
    }
    return done;
  }

  /** Appends a validated descriptor (pop() only). */
  add(addr: number, len: number, flags: number): void {
    const i = this.count++;
    this.addrs[i] = addr;
    this.lens[i] = len;
    this.flagBits[i] = flags;
    if (flags & VIRTQ_DESC_F_WRITE) this.writableLength += len;
    else {
      this.readableLength += len;
      this.readableCount++;
    }
  }

  clear(head: number): void {
    this.head = head;
    this.count = 0;
    this.readableCount = 0;
    this.readableLength = 0;
    this.writableLength = 0;
  }
}

export class SplitQueue implements VirtQueue {
  private num: number;
  private ready = false;
  private desc = 0;
  private avail = 0;
  private used = 0;
  private descHi = 0;
  private availHi = 0;
  private usedHi = 0;
  private lastAvail = 0;
  private usedIdx = 0;
  /** Set by the transport once VIRTIO_F_INDIRECT_DESC is negotiated. */
  indirect = false;
  private readonly chain: Chain;
  private readonly walker: ChainWalker;
  private readonly ram: Ram;

  /** `sb` is this queue's header index in `state`; the held bitmap follows at sb + Q_INTS. */
  constructor(
    readonly index: number,
    readonly maxSize: number,
    private readonly host: QueueHost,
    private readonly state: Int32Array,
    private readonly sb: number,
  ) {
    this.ram = host.ram;
    this.num = maxSize;
    this.chain = new Chain(maxSize, host.ram);
    this.walker = new ChainWalker(host.ram);
    this.reset();
  }

  // ---------------- registers (transport side) ----------------

  get size(): number {
    return this.num;
  }
  get descAddr(): number {
    return this.desc;
  }
  get driverAddr(): number {
    return this.avail;
  }
  get deviceAddr(): number {
    return this.used;
  }
  get lastAvailIdx(): number {
    return this.lastAvail;
  }
  get usedIndex(): number {
    return this.usedIdx;
  }

  setNum(v: number): void {
    this.num = v >>> 0;
    this.state[this.sb + Q_NUM] = this.num;
  }
  setDesc(v: number, high: boolean): void {
    if (high) this.descHi = v >>> 0;
    else this.desc = v >>> 0;
    this.state[this.sb + (high ? Q_DESC_HI : Q_DESC)] = v;
  }
  setDriver(v: number, high: boolean): void {
    if (high) this.availHi = v >>> 0;
    else this.avail = v >>> 0;
    this.state[this.sb + (high ? Q_DRIVER_HI : Q_DRIVER)] = v;
  }
  setDevice(v: number, high: boolean): void {
    if (high) this.usedHi = v >>> 0;
    else this.used = v >>> 0;
    this.state[this.sb + (high ? Q_DEVICE_HI : Q_DEVICE)] = v;
  }

  /** QueueReady = 1: validates size and ring placement; returns why it refuses, or null. */
  enable(): string | null {
    const n = this.num;
    if (n === 0 || n > this.maxSize || (n & (n - 1)) !== 0) return `QueueNum ${n} is not a power of two in 1..${this.maxSize}`;
    if (this.descHi !== 0 || this.availHi !== 0 || this.usedHi !== 0) return 'ring address above 4 GiB';
    if (this.desc & 15 || this.avail & 1 || this.used & 3) return 'ring misaligned (descriptor table 16, available ring 2, used ring 4)';
    const ram = this.ram;
    if (!ram.contains(this.desc, 16 * n)) return `descriptor table 0x${this.desc.toString(16)} outside RAM`;
    if (!ram.contains(this.avail, 6 + 2 * n)) return `available ring 0x${this.avail.toString(16)} outside RAM`;
    if (!ram.contains(this.used, 6 + 8 * n)) return `used ring 0x${this.used.toString(16)} outside RAM`;
    this.ready = true;
    this.state[this.sb + Q_READY] = 1;
    return null;
  }

  disable(): void {
    this.ready = false;
    this.state[this.sb + Q_READY] = 0;
  }

  /** Device reset: back to the power-on registers, nothing in flight. */
  reset(): void {
    this.disable();
    this.setNum(this.maxSize);
    this.setDesc(0, false);
    this.setDesc(0, true);
    this.setDriver(0, false);
    this.setDriver(0, true);
    this.setDevice(0, false);
    this.setDevice(0, true);
    this.lastAvail = 0;
    this.usedIdx = 0;
    this.indirect = false;
    const st = this.state;
    const sb = this.sb;
    st[sb + Q_LAST_AVAIL] = 0;
    st[sb + Q_USED_IDX] = 0;
    st[sb + Q_IN_FLIGHT] = 0;
    st[sb + Q_POPPED] = 0;
    st.fill(0, sb + Q_INTS, sb + Q_INTS + ((this.maxSize + 31) >>> 5));
  }

  // ---------------- VirtQueue (device side) ----------------

  isReady(): boolean {
    return this.ready;
  }

  pending(): number {
    if (!this.ready) return 0;
    return (this.ram.read16(this.avail + 2) - this.lastAvail) & 0xffff;
  }

  pop(): DescChain | null {
    if (!this.ready || this.host.broken) return null;
    const ram = this.ram;
    const availIdx = ram.read16(this.avail + 2);
    const waiting = (availIdx - this.lastAvail) & 0xffff;
    if (waiting === 0) return null;
    if (waiting > this.num) return this.fail(NR_AVAIL_IDX, `avail.idx ${availIdx} is ${waiting} ahead of ${this.lastAvail}, queue size ${this.num}`);
    const head = ram.read16(this.avail + 4 + 2 * (this.lastAvail & (this.num - 1)));
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    this.state[this.sb + Q_LAST_AVAIL] = this.lastAvail;
    if (head >= this.num) return this.fail(NR_HEAD_RANGE, `head ${head} ≥ queue size ${this.num}`);
    if (!this.walk(head)) return null;
    this.markHeld(head, true);
    this.state[this.sb + Q_POPPED]++;
    return this.chain;
  }

  push(head: number, writtenLength: number): void {
    if (!this.ready) return; // reset while the device held it: the driver has forgotten it
    const ram = this.ram;
    const n = this.num;
    const elem = this.used + 4 + 8 * (this.usedIdx & (n - 1));
    ram.write32(elem, head);
    ram.write32(elem + 4, writtenLength);
    // Only then publish the index (the driver reads idx, then the element).
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    ram.write16(this.used + 2, this.usedIdx);
    ram.noteWrite(elem, 8);
    ram.noteWrite(this.used + 2, 2);
    this.state[this.sb + Q_USED_IDX] = this.usedIdx;
    if (head < n) this.markHeld(head, false);
    if (!(ram.read16(this.avail) & VIRTQ_AVAIL_F_NO_INTERRUPT)) {
      this.state[this.sb + Q_INTERRUPTS]++;
      this.host.notifyUsed();
    }
  }

  // ---------------- chain walk ----------------

  /** Reads and validates the chain at `head` into this.chain (ring.ts). False after a fault. */
  private walk(head: number): boolean {
    const w = this.walker;
    const chain = this.chain;
    chain.clear(head);
    w.begin(this.desc, this.num, head, this.indirect);
    for (;;) {
      const r = w.step();
      if (r === WALK_BUFFER) chain.add(w.addr, w.len, w.flags);
      else if (r === WALK_END) return true;
      else if (r === WALK_ERROR) {
        this.fail(w.error, `chain from head ${head}: ${w.detail}`);
        return false;
      }
    }
  }

  private fail(code: number, detail: string): null {
    this.host.queueFault(this.index, code, detail);
    return null;
  }

  private markHeld(head: number, held: boolean): void {
    const w = this.sb + Q_INTS + (head >>> 5);
    const bit = 1 << (head & 31);
    const st = this.state;
    const was = (st[w] & bit) !== 0;
    if (held === was) return;
    st[w] = held ? st[w] | bit : st[w] & ~bit;
    st[this.sb + Q_IN_FLIGHT] += held ? 1 : -1;
  }
}
