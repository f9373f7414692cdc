// virtio-fs (VirtIO 1.2 §5.11), device ID 26: queue 0 "hiprio" (FORGETs), queues 1..N
// "requests.k"; config = tag[36] + le32 num_request_queues. Each chain is one FUSE request:
// device-readable fuse_in_header + arguments (+ WRITE data), device-writable fuse_out_header +
// reply. Linux's driver checks that the used length equals fuse_out_header.len and that an error
// reply is exactly the 16-byte header (fs/fuse/virtio_fs.c virtio_fs_verify_response).
//
// Requests complete asynchronously. A kick copies each chain's readable part into one of a fixed
// set of request slots (bounded: chains beyond them stay in the ring until a slot frees) and starts
// the FUSE server on it; host calls run in libuv's thread pool. A finished request waits in the
// done list until the machine's next poll() (inside run(), so a machine stopped in the debugger
// sees no ring change), which copies the reply into the chain's writable buffers and returns it
// to the used ring. While requests are in flight, nextDeadline() asks the machine not to sleep
// long, so an idle guest waiting for its file gets it as soon as the host has it.

import type { DescChain, VirtioDevice, VirtioTransport } from '../../emulator/virtio/types';
import type { GuestClock } from '../../emulator/types';
import { VIRTQ_DESC_F_WRITE } from '../../emulator/virtio/types';
import * as A from './abi';
import { MAX_REQUEST_QUEUES } from './decode';
import { FuseServer, type FuseServerOptions } from './server';
import { errorOf, errorResult, NO_REPLY, u64, type FuseRequest } from './request';
import { ReplyWriter } from './reply';
import * as S from './state';
import { logger } from '../../log';

const log = logger('virtio-fs');

export interface VirtioFsOptions extends FuseServerOptions {
  /** The mount tag the guest names (`mount -t virtiofs TAG DIR`); semu's is "myfs". */
  tag?: string;
  /** Request queues, 1..8 (Linux uses at most one per CPU). */
  numRequestQueues?: number;
  /** QueueNumMax of every queue (a power of two; Linux caps max_pages at this - 4). */
  queueSize?: number;
  /** Requests served at once; more wait in their ring. */
  maxInFlight?: number;
  /** The guest clock (the machine's), for nextDeadline(); may come later through setClock(). */
  clock?: PollClock;
}

/** What nextDeadline() needs of the machine's clock. */
export interface PollClock extends GuestClock {
  /** True while guest time follows instructions (icount): then sleeping never happens. */
  followsInstructions?(): boolean;
}

export const DEFAULT_TAG = 'myfs';
/** How soon the machine polls again while a request is on the host: 50 µs of 65 MHz ticks. */
const POLL_TICKS = 3250;

class Slot {
  /** The device epoch the request belongs to: a reset makes it stale. */
  epoch = 0;
  queue = 0;
  head = 0;
  inLength = 0;
  writable = 0;
  wCount = 0;
  result = 0;
  readonly inBuf: Uint8Array;
  readonly outBuf: Uint8Array;
  readonly wAddr: Uint32Array;
  readonly wLen: Uint32Array;

  constructor(inBytes: number, outBytes: number, maxDescs: number) {
    this.inBuf = new Uint8Array(inBytes);
    this.outBuf = new Uint8Array(outBytes);
    this.wAddr = new Uint32Array(maxDescs);
    this.wLen = new Uint32Array(maxDescs);
  }
}

export class VirtioFs implements VirtioDevice {
  readonly deviceId = A.VIRTIO_ID_FS;
  readonly name = 'virtio-fs';
  readonly queueNames: readonly string[];
  readonly queueMaxSize: number;
  readonly features = [0, 0] as const;
  readonly configSize = A.CONFIG_SIZE;
  readonly server: FuseServer;
  /** Live counters for the debugger (state.ts). */
  readonly sharedState: SharedArrayBuffer;
  readonly tag: string;

  private transport: VirtioTransport | null = null;
  private clock: PollClock | null;
  private readonly config = new Uint8Array(A.CONFIG_SIZE);
  private readonly slots: Slot[];
  private readonly free: Slot[];
  private readonly done: Slot[] = [];
  private readonly st: Int32Array;
  private epoch = 0;
  private inFlight = 0;
  /** A kick found no free slot: drain the rings again when one frees. */
  private starved = false;
  private disposed = false;

  constructor(opts: VirtioFsOptions) {
    this.tag = opts.tag ?? DEFAULT_TAG;
    const tagBytes = new TextEncoder().encode(this.tag);
    if (tagBytes.length === 0 || tagBytes.length > A.TAG_BYTES) throw new Error(`virtio-fs tag "${this.tag}" must be 1..${A.TAG_BYTES} bytes of UTF-8`);
    const nq = opts.numRequestQueues ?? 1;
    if (!Number.isInteger(nq) || nq < 1 || nq > MAX_REQUEST_QUEUES) throw new Error(`virtio-fs request queues must be 1..${MAX_REQUEST_QUEUES}, not ${nq}`);
    this.queueMaxSize = opts.queueSize ?? 128;
    this.queueNames = ['hiprio', ...Array.from({ length: nq }, (_, i) => `requests.${i}`)];
    this.clock = opts.clock ?? null;
    this.server = new FuseServer(opts);
    this.config.set(tagBytes, 0);
    new DataView(this.config.buffer).setUint32(A.TAG_BYTES, nq, true);

    // A request is at most fuse_in_header + fuse_write_in + max_write (or two names / a link
    // target); a reply at most fuse_out_header + max_write (READ).
    const inBytes = A.IN_HEADER_SIZE + A.WRITE_IN_SIZE + Math.max(this.server.maxWrite, 2 * A.PATH_MAX);
    const outBytes = A.OUT_HEADER_SIZE + this.server.maxWrite;
    const n = Math.max(1, Math.min(256, opts.maxInFlight ?? 16));
    this.slots = Array.from({ length: n }, () => new Slot(inBytes, outBytes, this.queueMaxSize));
    this.free = [...this.slots];

    this.sharedState = S.allocateFsState(this.tag, opts.root, this.server.readOnly);
    this.st = S.fsStateInts(this.sharedState);
    this.st[S.S_MAX_IN_FLIGHT] = n;
    this.st[S.S_MAX_INODES] = this.server.maxInodes;
    this.st[S.S_MAX_HANDLES] = this.server.handles.max;
    this.server.counters = {
      bytesRead: (b) => S.addBytes(this.st, S.S_READ_LO, b),
      bytesWritten: (b) => S.addBytes(this.st, S.S_WRITTEN_LO, b),
    };
    this.publish();
  }

  setClock(clock: PollClock): void {
    this.clock = clock;
  }

  attach(transport: VirtioTransport): void {
    this.transport = transport;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    const c = this.config;
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = (v << 8) | (offset + i < c.length ? c[offset + i] : 0);
    return v >>> 0;
  }

  writeConfig(): void {
    // The configuration is read-only (§5.11.4).
  }

  onNotify(q: number): void {
    if (this.transport === null || q < 0 || q >= this.queueNames.length) return;
    this.drain(q);
  }

  poll(): void {
    if (this.done.length > 0) this.complete();
    if (this.starved && this.free.length > 0) {
      this.starved = false;
      for (let q = 0; q < this.queueNames.length; q++) this.drain(q);
    }
  }

  nextDeadline(): number {
    if (this.done.length > 0 || (this.starved && this.free.length > 0)) return 0;
    const c = this.clock;
    if (this.inFlight === 0 || c === null || c.followsInstructions?.()) return Infinity;
    return c.now() + POLL_TICKS;
  }

  /** Device reset: replies of requests still on the host are dropped; every handle and inode is forgotten. */
  reset(): void {
    this.epoch++;
    for (const s of this.done) this.release(s);
    this.done.length = 0;
    this.starved = false;
    this.server.reset();
    this.publish();
  }

  /** Closes the shared folder's descriptors (those of requests still on the host when they end). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.reset();
    this.server.dispose();
  }

  // ---------------- requests ----------------

  private drain(q: number): void {
    const queue = this.transport!.queue(q);
    while (queue.pending() > 0) {
      const slot = this.free.pop();
      if (slot === undefined) {
        this.starved = true;
        S.bump(this.st, S.S_WAITING);
        return;
      }
      const chain = queue.pop();
      if (chain === null) {
        this.free.push(slot);
        return;
      }
      this.start(slot, q, chain);
    }
  }

  /** Copies the chain into the slot and starts serving it. */
  private start(slot: Slot, q: number, c: DescChain): void {
    slot.epoch = this.epoch;
    slot.queue = q;
    slot.head = c.head;
    slot.writable = c.writableLength;
    slot.wCount = 0;
    for (let i = 0; i < c.count; i++) {
      if (!(c.flags(i) & VIRTQ_DESC_F_WRITE)) continue;
      slot.wAddr[slot.wCount] = c.addr(i);
      slot.wLen[slot.wCount++] = c.len(i);
    }
    const copied = c.read(0, c.readableLength < slot.inBuf.length ? slot.inBuf.subarray(0, c.readableLength) : slot.inBuf);
    slot.inLength = copied;
    this.st[S.S_IN_FLIGHT] = ++this.inFlight;
    const req = this.parse(slot, c.readableLength);
    if (typeof req === 'number') {
      this.finish(slot, slot.epoch, req);
      return;
    }
    const epoch = slot.epoch;
    this.server.serve(req).then(
      (r) => this.finish(slot, epoch, r),
      (e) => {
        log.error(`${A.opcodeName(req.opcode)} failed inside the server: ${(e as Error).stack ?? e}`);
        this.finish(slot, epoch, errorResult(A.EIO));
      },
    );
  }

  /** The request in a slot, or an error result when it cannot be one. */
  private parse(slot: Slot, readable: number): FuseRequest | number {
    const b = slot.inBuf;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (readable < A.IN_HEADER_SIZE) return this.malformed(slot, errorResult(A.EINVAL), `${readable} readable bytes, no fuse_in_header`);
    const len = dv.getUint32(A.IH_LEN, true);
    const opcode = dv.getUint32(A.IH_OPCODE, true);
    if (len < A.IN_HEADER_SIZE || len > readable) return this.malformed(slot, errorResult(A.EINVAL), `fuse_in_header.len ${len} with ${readable} readable bytes`);
    if (len > slot.inLength) return this.malformed(slot, errorResult(A.EINVAL), `${A.opcodeName(opcode)} of ${len} bytes is larger than any request this server takes`);
    const outCap = Math.max(0, Math.min(slot.outBuf.length, slot.writable) - A.OUT_HEADER_SIZE);
    const arg = b.subarray(A.IN_HEADER_SIZE, len);
    return {
      opcode,
      nodeid: u64(dv, A.IH_NODEID),
      uid: dv.getUint32(A.IH_UID, true),
      gid: dv.getUint32(A.IH_GID, true),
      pid: dv.getUint32(A.IH_PID, true),
      arg,
      argView: new DataView(arg.buffer, arg.byteOffset, arg.byteLength),
      out: new ReplyWriter(slot.outBuf.subarray(A.OUT_HEADER_SIZE, A.OUT_HEADER_SIZE + outCap)),
    };
  }

  private malformed(slot: Slot, result: number, why: string): number {
    S.bump(this.st, S.S_MALFORMED);
    log.debug(`queue ${slot.queue} chain ${slot.head}: ${why}`);
    return result;
  }

  private finish(slot: Slot, epoch: number, result: number): void {
    this.st[S.S_IN_FLIGHT] = --this.inFlight;
    if (epoch !== this.epoch || this.disposed) {
      this.release(slot);
      return;
    }
    slot.result = result;
    this.done.push(slot);
  }

  /** Returns every finished request to its used ring (from poll(): inside the machine's run). */
  private complete(): void {
    const t = this.transport!;
    for (let i = 0; i < this.done.length; i++) {
      const slot = this.done[i];
      const len = this.writeReply(slot);
      t.queue(slot.queue).push(slot.head, len);
      this.release(slot);
    }
    this.done.length = 0;
    this.publish();
  }

  /** Writes fuse_out_header + payload into the chain's writable buffers; returns the used length. */
  private writeReply(slot: Slot): number {
    const r = slot.result;
    const b = slot.inBuf;
    const op = b[A.IH_OPCODE] | (b[A.IH_OPCODE + 1] << 8) | (b[A.IH_OPCODE + 2] << 16) | (b[A.IH_OPCODE + 3] << 24);
    this.count(slot.inLength >= A.IN_HEADER_SIZE ? op >>> 0 : -1, errorOf(r));
    if (r === NO_REPLY || slot.writable < A.OUT_HEADER_SIZE) {
      if (r !== NO_REPLY) log.debug(`queue ${slot.queue} chain ${slot.head}: no room for a reply header`);
      return 0;
    }
    const errno = errorOf(r);
    const len = A.OUT_HEADER_SIZE + (errno !== 0 ? 0 : r);
    const out = slot.outBuf;
    const dv = new DataView(out.buffer, out.byteOffset, A.OUT_HEADER_SIZE);
    dv.setUint32(0, len, true);
    dv.setInt32(4, -errno, true);
    // unique: the request's own bytes (zero when it had no header)
    for (let i = 0; i < 8; i++) out[8 + i] = slot.inLength >= A.IN_HEADER_SIZE ? b[A.IH_UNIQUE + i] : 0;
    return this.copyOut(slot, out, len);
  }

  private copyOut(slot: Slot, src: Uint8Array, len: number): number {
    const ram = this.transport!.ram;
    let done = 0;
    for (let i = 0; i < slot.wCount && done < len; i++) {
      const n = Math.min(slot.wLen[i], len - done);
      const addr = slot.wAddr[i];
      ram.u8.set(src.subarray(done, done + n), addr - ram.base);
      ram.noteWrite(addr, n);
      done += n;
    }
    return done;
  }

  private release(slot: Slot): void {
    this.free.push(slot);
  }

  private count(op: number, errno: number): void {
    const st = this.st;
    S.bump(st, S.S_REQUESTS);
    if (op >= 0 && op < A.FUSE_OPCODE_LIMIT) S.bump(st, S.S_OPS + op);
    st[S.S_LAST_OPCODE] = op;
    if (errno !== 0) {
      S.bump(st, S.S_ERRORS);
      st[S.S_LAST_ERROR_OPCODE] = op;
      st[S.S_LAST_ERRNO] = errno;
    }
  }

  private publish(): void {
    const st = this.st;
    const s = this.server;
    st[S.S_INITIALIZED] = s.initialized ? 1 : 0;
    st[S.S_MINOR] = s.minor;
    st[S.S_IN_FLIGHT] = this.inFlight;
    st[S.S_INODES] = s.inodes.count;
    st[S.S_HANDLES] = s.handles.count;
    st[S.S_PATH_FDS] = s.inodes.pathFds;
  }
}
