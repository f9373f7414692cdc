// The one walker of guest virtqueue rings (VirtIO 1.2 §2.7): the device's pop() (queue.ts), the
// debugger's snapshots (inspect.ts) and the notify matcher (worker/notify-matcher.ts) all read
// descriptor chains through it, so a chain the inspector calls malformed is exactly one the
// device refuses, for the same reason.
//
// It never allocates while walking (the device pops chains on the hot path) and never throws: a
// guest may write anything into its rings, and an inspector may read them while the guest runs.
// Every descriptor address, length, index and indirect table is checked before it is used.

import type { Ram } from '../ram';
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from './types';
import { NR_INDIRECT, NR_LOOP, NR_NEXT_RANGE, NR_ORDER, NR_OUT_OF_RAM } from './layout';

/** step() results. */
export const WALK_END = 0;
/** A buffer descriptor: `index`, `addr`, `len`, `flags` describe it. */
export const WALK_BUFFER = 1;
/** The indirect descriptor itself (`addr`/`len` are its table); its entries follow. */
export const WALK_INDIRECT = 2;
/** The chain is malformed: `error` (layout.ts NR_*) and `detail` say why. */
export const WALK_ERROR = 3;

const MAX_CHAIN_BYTES = 0xffffffff; // a chain's total length must fit in 32 bits (§2.7.13.1)
export const MAX_QUEUE_SIZE = 32768;

export function validQueueSize(n: number): boolean {
  return n >= 1 && n <= MAX_QUEUE_SIZE && (n & (n - 1)) === 0;
}

export class ChainWalker {
  // The descriptor step() just read.
  index = 0;
  addr = 0;
  addrHi = 0;
  len = 0;
  flags = 0;
  next = 0;
  /** True once the walk is inside an indirect table. */
  inIndirect = false;
  /** False when the last step failed before it could read a descriptor (the fields above are stale). */
  descRead = false;
  /** After WALK_ERROR: the NR_* reason code and a sentence for people. */
  error = 0;
  detail = '';
  /** Buffer descriptors so far, and how many of them are device-readable. */
  count = 0;
  readableCount = 0;
  readableLength = 0;
  writableLength = 0;

  private table = 0;
  private tableSize = 0;
  private queueSize = 0;
  private indirectAllowed = false;
  private done = true;

  constructor(private readonly ram: Ram) {}

  /**
   * Starts a walk at descriptor `head` of the table at `descAddr` of a queue of `queueSize`
   * entries (a power of two the caller has checked). `indirectAllowed`: VIRTIO_F_INDIRECT_DESC
   * was negotiated.
   */
  begin(descAddr: number, queueSize: number, head: number, indirectAllowed: boolean): void {
    this.table = descAddr >>> 0;
    this.tableSize = queueSize;
    this.queueSize = queueSize;
    this.indirectAllowed = indirectAllowed;
    this.inIndirect = false;
    this.next = head;
    this.count = 0;
    this.readableCount = 0;
    this.readableLength = 0;
    this.writableLength = 0;
    this.error = 0;
    this.detail = '';
    this.done = false;
  }

  /** Reads the next descriptor of the chain; see the WALK_* results. */
  step(): number {
    if (this.done) return this.error !== 0 ? WALK_ERROR : WALK_END;
    const ram = this.ram;
    const i = this.next;
    this.descRead = false;
    if (i >= this.tableSize) {
      return this.fail(this.inIndirect ? NR_INDIRECT : NR_NEXT_RANGE, `${this.inIndirect ? 'indirect ' : 'next '}index ${i} ≥ table size ${this.tableSize}`);
    }
    const d = this.table + 16 * i;
    if (!ram.contains(d, 16)) return this.fail(NR_OUT_OF_RAM, `descriptor ${i} at 0x${(d >>> 0).toString(16)} is outside RAM`);
    this.index = i;
    this.addr = ram.read32(d);
    this.addrHi = ram.read32(d + 4);
    this.len = ram.read32(d + 8);
    this.flags = ram.read16(d + 12);
    this.next = ram.read16(d + 14);
    this.descRead = true;
    if (this.flags & VIRTQ_DESC_F_INDIRECT) return this.enterIndirect();
    if (this.count >= this.queueSize) return this.fail(NR_LOOP, `the chain is longer than the queue (${this.queueSize}): a loop`);
    if (this.addrHi !== 0 || !ram.contains(this.addr, this.len)) {
      const hi = this.addrHi !== 0 ? this.addrHi.toString(16) + '_' : '';
      return this.fail(NR_OUT_OF_RAM, `descriptor ${i}: [0x${hi}${this.addr.toString(16)}, +${this.len}) is outside RAM`);
    }
    if (this.flags & VIRTQ_DESC_F_WRITE) this.writableLength += this.len;
    else if (this.count !== this.readableCount) return this.fail(NR_ORDER, `descriptor ${i} is device-readable after a device-writable one`);
    else {
      this.readableLength += this.len;
      this.readableCount++;
    }
    this.count++;
    if (this.readableLength + this.writableLength > MAX_CHAIN_BYTES) return this.fail(NR_OUT_OF_RAM, 'the chain exceeds 4 GiB');
    if (!(this.flags & VIRTQ_DESC_F_NEXT)) this.done = true;
    return WALK_BUFFER;
  }

  private enterIndirect(): number {
    const why = this.indirectProblem();
    if (why !== null) return this.fail(NR_INDIRECT, `descriptor ${this.index}: ${why}`);
    this.table = this.addr;
    this.tableSize = this.len >>> 4;
    this.inIndirect = true;
    this.next = 0;
    return WALK_INDIRECT;
  }

  private indirectProblem(): string | null {
    if (!this.indirectAllowed) return 'INDIRECT flag but VIRTIO_F_INDIRECT_DESC was not negotiated';
    if (this.inIndirect) return 'indirect descriptor inside an indirect table';
    if (this.count !== 0) return 'indirect descriptor after direct ones';
    if (this.flags & VIRTQ_DESC_F_NEXT) return 'INDIRECT together with NEXT';
    const len = this.len;
    if (len === 0 || len & 15) return `indirect table length ${len} is not a non-zero multiple of 16`;
    if (len >>> 4 > this.queueSize) return `indirect table of ${len >>> 4} entries is longer than the queue (${this.queueSize})`;
    if (this.addrHi !== 0 || !this.ram.contains(this.addr, len)) return `indirect table 0x${this.addr.toString(16)} is outside RAM`;
    return null;
  }

  private fail(code: number, detail: string): number {
    this.error = code;
    this.detail = detail;
    this.done = true;
    return WALK_ERROR;
  }
}

// ---- the split rings' fixed fields (§2.7.6, §2.7.8), bounds-checked for readers outside the device ----

/** avail.idx, or -1 when the ring is not in RAM. */
export function readAvailIdx(ram: Ram, avail: number): number {
  return ram.contains(avail + 2, 2) ? ram.read16(avail + 2) : -1;
}

/** avail.ring[slot mod size], or -1 when outside RAM. */
export function readAvailHead(ram: Ram, avail: number, size: number, slot: number): number {
  const a = avail + 4 + 2 * (slot & (size - 1));
  return ram.contains(a, 2) ? ram.read16(a) : -1;
}

/**
 * Copies up to dst.length bytes of the device-readable start of the chain at `head` into `dst`
 * with `walker`; returns how many, or -1 when the chain is malformed. (The notify matcher reads
 * a request header this way without allocating.)
 */
export function readChainPrefix(walker: ChainWalker, ram: Ram, descAddr: number, size: number, head: number, indirect: boolean, dst: Uint8Array): number {
  walker.begin(descAddr, size, head, indirect);
  let have = 0;
  for (;;) {
    const r = walker.step();
    if (r === WALK_ERROR) return -1;
    if (r === WALK_END) return have;
    if (r !== WALK_BUFFER || walker.flags & VIRTQ_DESC_F_WRITE) continue;
    const n = Math.min(walker.len, dst.length - have);
    for (let k = 0; k < n; k++) dst[have + k] = ram.read8(walker.addr + k);
    have += n;
    if (have === dst.length) return have;
  }
}
