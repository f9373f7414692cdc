// A FUSE client over virtio-fs for device tests: builds requests in guest RAM the way Linux's
// fs/fuse/virtio_fs.c does (fuse_in_header + arguments readable, fuse_out_header + reply
// writable), kicks, and turns the event loop and the machine's poll() until the used ring returns
// each chain — so requests complete asynchronously, as in the emulator.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtioMmio } from '../../../src/emulator/virtio/mmio';
import { VirtioFs, type VirtioFsOptions } from '../../../src/devices/virtio-fs/device';
import * as A from '../../../src/devices/virtio-fs/abi';
import { readFsSnapshot } from '../../../src/devices/virtio-fs/state';
import { FakeIrq, MmioDriver, makeBus, type DriverQueue } from '../helpers';
import type { Bus } from '../../../src/emulator/bus';

export const BASE = 0xf4800000;
const REQ_AREA = 0x200000; // request buffers from here, 384 KiB per concurrent request
const SLOT_BYTES = 0x60000;

export interface Reply {
  /** Negative errno, 0 on success. */
  error: number;
  /** fuse_out_header.len. */
  len: number;
  /** The used length the device returned. */
  used: number;
  unique: number;
  body: Buffer;
}

export interface Call {
  op: number;
  nodeid?: number;
  args?: Uint8Array[];
  /** Bytes of writable space after the out header (default 4096). */
  reply?: number;
  queue?: number;
  /** Override fuse_in_header.len (malformed requests). */
  len?: number;
  /** Raw readable bytes instead of a header + args. */
  raw?: Uint8Array;
  /** Total writable bytes instead of 16 + reply. */
  writable?: number;
  /** Split the readable part into descriptors of at most this many bytes. */
  splitReadable?: number;
  /** Split the writable part into descriptors of at most this many bytes. */
  splitWritable?: number;
}

export function tempDir(prefix = 'semu-fs-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Open descriptors of this process. */
export function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/**
 * The descriptor count once closes still in the thread pool (of earlier tests too) are done: the
 * same count twice, 50 ms apart (a loaded machine can take a while).
 */
export async function settledFds(expect?: number, timeoutMs = 10_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const n = openFds();
    if ((expect === undefined && n === last) || n === expect || Date.now() > end) return n;
    last = n;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const tick = () => new Promise<void>((r) => setImmediate(r));

export class FuseDriver {
  readonly bus: Bus;
  readonly dev: VirtioFs;
  readonly t: VirtioMmio;
  readonly drv: MmioDriver;
  readonly queues: DriverQueue[];
  private unique = 1;
  private nextSlot = 0;

  constructor(opts: VirtioFsOptions, ramBytes = 16 << 20) {
    this.bus = makeBus(ramBytes);
    this.dev = new VirtioFs(opts);
    this.t = new VirtioMmio('virtio-fs', BASE, new FakeIrq(), 6, this.dev, this.bus.ram);
    this.bus.add(this.t);
    this.drv = new MmioDriver(this.bus, BASE);
    this.queues = this.drv.init(this.dev.queueNames.length);
  }

  get ram() {
    return this.bus.ram;
  }

  /** Encodes a request at `at`; returns its length. */
  private encode(c: Call, at: number): number {
    const ram = this.ram;
    if (c.raw) {
      ram.u8.set(c.raw, at);
      return c.raw.length;
    }
    let len = A.IN_HEADER_SIZE;
    for (const a of c.args ?? []) {
      ram.u8.set(a, at + len);
      len += a.length;
    }
    const u = this.unique++;
    const dv = new DataView(ram.u8.buffer, at, A.IN_HEADER_SIZE);
    dv.setUint32(0, c.len ?? len, true);
    dv.setUint32(4, c.op, true);
    dv.setBigUint64(8, BigInt(u * 2), true);
    dv.setBigUint64(16, BigInt(c.nodeid ?? A.FUSE_ROOT_ID), true);
    dv.setUint32(24, 0, true);
    dv.setUint32(28, 0, true);
    dv.setUint32(32, 1, true);
    dv.setUint32(36, 0, true);
    return len;
  }

  /** Queues a request without waiting (at most 16 at once: each has its own buffers); returns a function that waits for its reply. */
  submit(c: Call): () => Promise<Reply> {
    const at = REQ_AREA + SLOT_BYTES * (this.nextSlot++ % 16);
    const len = this.encode(c, at);
    const writable = c.writable ?? A.OUT_HEADER_SIZE + (c.reply ?? 4096);
    const out = at + SLOT_BYTES / 2;
    this.ram.u8.fill(0xee, out, out + Math.min(writable, SLOT_BYTES / 2));
    const bufs: { addr: number; len: number; write?: boolean }[] = [];
    const split = c.splitReadable ?? len;
    for (let o = 0; o < len; o += split) bufs.push({ addr: at + o, len: Math.min(split, len - o) });
    const wsplit = c.splitWritable ?? writable;
    for (let o = 0; o < writable; o += wsplit) bufs.push({ addr: out + o, len: Math.min(wsplit, writable - o), write: true });
    const q = this.queues[c.queue ?? 1];
    const head = q.add(bufs);
    this.drv.kick(q.index);
    return () => this.wait(q, head, out);
  }

  async call(c: Call): Promise<Reply> {
    return this.submit(c)();
  }

  private pending = new Map<string, { id: number; len: number }>();

  private async wait(q: DriverQueue, head: number, out: number): Promise<Reply> {
    const deadline = Date.now() + 10000;
    for (;;) {
      for (const u of q.takeUsed()) this.pending.set(`${q.index}:${u.id}`, u);
      const key = `${q.index}:${head}`;
      const u = this.pending.get(key);
      if (u !== undefined) {
        this.pending.delete(key);
        return this.readReply(out, u.len);
      }
      if (Date.now() > deadline) throw new Error(`no reply for chain ${head} on queue ${q.index}`);
      await tick();
      this.t.poll();
    }
  }

  private readReply(out: number, used: number): Reply {
    const u8 = this.ram.u8;
    if (used < A.OUT_HEADER_SIZE) return { error: 0, len: 0, used, unique: 0, body: Buffer.alloc(0) };
    const dv = new DataView(u8.buffer, out, A.OUT_HEADER_SIZE);
    const len = dv.getUint32(0, true);
    return { error: dv.getInt32(4, true), len, used, unique: Number(dv.getBigUint64(8, true)), body: Buffer.from(u8.slice(out + 16, out + used)) };
  }

  /** Lets every request still on the host finish (and be returned), however loaded the machine. */
  async settle(timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (let i = 0; i < 20 || (readFsSnapshot(this.dev.sharedState)!.inFlight > 0 && Date.now() < end); i++) {
      await tick();
      this.t.poll();
    }
  }

  // ---------------- FUSE helpers ----------------

  async init(minor = 41, flags = 0xffffffff): Promise<Reply> {
    const a = Buffer.alloc(64);
    a.writeUInt32LE(7, 0);
    a.writeUInt32LE(minor, 4);
    a.writeUInt32LE(131072, 8);
    a.writeUInt32LE(flags >>> 0, 12);
    return this.call({ op: A.FUSE_INIT, args: [a] });
  }

  async ok(c: Call): Promise<Buffer> {
    const r = await this.call(c);
    if (r.error !== 0) throw new Error(`${A.opcodeName(c.op)} failed with errno ${-r.error}`);
    return r.body;
  }

  async lookup(parent: number, name: string): Promise<Entry> {
    return parseEntry(await this.ok({ op: A.FUSE_LOOKUP, nodeid: parent, args: [cstr(name)] }));
  }

  async errno(c: Call): Promise<number> {
    const r = await this.call(c);
    return r.error === 0 ? 0 : -r.error;
  }

  async create(parent: number, name: string, mode = 0o644, flags = 2 /* O_RDWR */): Promise<{ entry: Entry; fh: number }> {
    const a = Buffer.alloc(16);
    a.writeUInt32LE(flags | A.G_O_CREAT, 0);
    a.writeUInt32LE(A.S_IFREG | mode, 4);
    a.writeUInt32LE(0o022, 8);
    const b = await this.ok({ op: A.FUSE_CREATE, nodeid: parent, args: [a, cstr(name)], reply: 144 });
    return { entry: parseEntry(b), fh: Number(b.readBigUInt64LE(128)) };
  }

  async open(nodeid: number, flags = 0): Promise<number> {
    const a = Buffer.alloc(8);
    a.writeUInt32LE(flags, 0);
    return Number((await this.ok({ op: A.FUSE_OPEN, nodeid, args: [a] })).readBigUInt64LE(0));
  }

  async opendir(nodeid: number): Promise<number> {
    return Number((await this.ok({ op: A.FUSE_OPENDIR, nodeid, args: [Buffer.alloc(8)] })).readBigUInt64LE(0));
  }

  async release(nodeid: number, fh: number, dir = false): Promise<void> {
    await this.ok({ op: dir ? A.FUSE_RELEASEDIR : A.FUSE_RELEASE, nodeid, args: [u64s(fh, 0, 0)] });
  }

  async write(nodeid: number, fh: number, offset: number, data: Uint8Array): Promise<number> {
    const a = Buffer.alloc(40);
    a.writeBigUInt64LE(BigInt(fh), 0);
    a.writeBigUInt64LE(BigInt(offset), 8);
    a.writeUInt32LE(data.length, 16);
    const b = await this.ok({ op: A.FUSE_WRITE, nodeid, args: [a, data], reply: 8, splitReadable: 4096 });
    return b.readUInt32LE(0);
  }

  async read(nodeid: number, fh: number, offset: number, size: number): Promise<Buffer> {
    return this.ok({ op: A.FUSE_READ, nodeid, args: [readIn(fh, offset, size)], reply: size });
  }

  async getattr(nodeid: number): Promise<Attr> {
    const b = await this.ok({ op: A.FUSE_GETATTR, nodeid, args: [Buffer.alloc(16)], reply: A.ATTR_OUT_SIZE });
    return parseAttr(b, 16);
  }

  async forget(nodeid: number, n: number): Promise<void> {
    await this.call({ op: A.FUSE_FORGET, nodeid, args: [u64s(n)], queue: 0, writable: 0 });
  }

  /** READDIR(PLUS) until the end: names with their offsets (and entries for PLUS). */
  async list(nodeid: number, plus = false, size = 4096): Promise<{ name: string; ino: number; off: number; type: number; entry?: Entry }[]> {
    const fh = await this.opendir(nodeid);
    const out: { name: string; ino: number; off: number; type: number; entry?: Entry }[] = [];
    let off = 0;
    for (;;) {
      const b = await this.ok({ op: plus ? A.FUSE_READDIRPLUS : A.FUSE_READDIR, nodeid, args: [readIn(fh, off, size)], reply: size });
      if (b.length === 0) break;
      for (const d of parseDirents(b, plus)) {
        out.push(d);
        off = d.off;
      }
    }
    await this.release(nodeid, fh, true);
    return out;
  }

  dispose(): void {
    this.dev.dispose();
  }
}

export interface Attr {
  ino: number;
  size: number;
  mode: number;
  nlink: number;
  mtime: number;
  mtimensec: number;
  atime: number;
}

export interface Entry {
  nodeid: number;
  attr: Attr;
  entryValid: number;
}

export function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'latin1'), Buffer.alloc(1)]);
}

export function u64s(...v: number[]): Buffer {
  const b = Buffer.alloc(8 * v.length);
  v.forEach((x, i) => b.writeBigUInt64LE(BigInt(x), 8 * i));
  return b;
}

export function readIn(fh: number, offset: number, size: number): Buffer {
  const a = Buffer.alloc(40);
  a.writeBigUInt64LE(BigInt(fh), 0);
  a.writeBigUInt64LE(BigInt(offset), 8);
  a.writeUInt32LE(size, 16);
  return a;
}

export function parseAttr(b: Buffer, at: number): Attr {
  return {
    ino: Number(b.readBigUInt64LE(at)),
    size: Number(b.readBigUInt64LE(at + 8)),
    atime: Number(b.readBigUInt64LE(at + 24)),
    mtime: Number(b.readBigUInt64LE(at + 32)),
    mtimensec: b.readUInt32LE(at + 52),
    mode: b.readUInt32LE(at + 60),
    nlink: b.readUInt32LE(at + 64),
  };
}

export function parseEntry(b: Buffer, at = 0): Entry {
  return { nodeid: Number(b.readBigUInt64LE(at)), entryValid: Number(b.readBigUInt64LE(at + 16)), attr: parseAttr(b, at + 40) };
}

export function parseDirents(b: Buffer, plus: boolean): { name: string; ino: number; off: number; type: number; entry?: Entry }[] {
  const out = [];
  let at = 0;
  while (at < b.length) {
    const entry = plus ? parseEntry(b, at) : undefined;
    const d = plus ? at + A.ENTRY_OUT_SIZE : at;
    const namelen = b.readUInt32LE(d + 16);
    out.push({ ino: Number(b.readBigUInt64LE(d)), off: Number(b.readBigUInt64LE(d + 8)), type: b.readUInt32LE(d + 20), name: b.toString('latin1', d + 24, d + 24 + namelen), entry });
    at = d + A.direntAlign(24 + namelen);
  }
  return out;
}
