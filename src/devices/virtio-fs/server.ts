// The FUSE server behind virtio-fs: one shared host folder, served through its descriptors.
//
// serve() takes one parsed request and answers it asynchronously (every host call goes to libuv's
// thread pool); the device (device.ts) owns the virtqueues and copies bytes in and out of guest
// RAM. The operations live in ops-*.ts; this file holds the session (INIT/DESTROY), the dispatch,
// and the helpers every operation shares. Anything a request gets wrong — a stale nodeid, a short
// argument, a bad name — is an errno reply, never an exception out of serve().

import * as fs from 'node:fs';
import type { BigIntStats } from 'node:fs';
import * as A from './abi';
import { errnoOf, FsError, fdPath, host, mountIdOfSync, O_DIRECTORY, O_PATH } from './host';
import { InodeTable, type Inode } from './inodes';
import { HandleTable } from './handles';
import { checkName, readCString } from './names';
import { timeout, type Timeout } from './reply';
import { errorResult, fixed, need, NO_REPLY, type FuseRequest } from './request';
import type { Handle } from './handles';
import { opsByCode } from './ops';

export interface FuseServerOptions {
  /** The host folder to share. */
  root: string;
  readOnly?: boolean;
  /** Seconds the guest may cache names and attributes (default 1). */
  cacheSeconds?: number;
  /** Pages per READ/WRITE (max_pages; default 32 = 128 KiB). */
  maxPages?: number;
  maxInodes?: number;
  maxHandles?: number;
  /** Host descriptors cached for path resolution. */
  maxPathFds?: number;
}

export interface ServerCounters {
  bytesRead(n: number): void;
  bytesWritten(n: number): void;
}

export const DEFAULTS = { cacheSeconds: 1, maxPages: 32, maxInodes: 65536, maxHandles: 1024, maxPathFds: 256 };

export class FuseServer {
  readonly readOnly: boolean;
  readonly root: string;
  readonly maxWrite: number;
  readonly maxPages: number;
  readonly inodes: InodeTable;
  readonly handles: HandleTable;
  readonly valid: Timeout;
  /** Strip set-user/group-ID bits from modes the guest sets: a root host would make them real. */
  readonly modeMask: number;
  initialized = false;
  minor = 0;
  counters: ServerCounters = { bytesRead: () => {}, bytesWritten: () => {} };

  /** Opens the shared folder; throws an Error saying what to do when it cannot be shared safely. */
  constructor(opts: FuseServerOptions) {
    if (process.platform !== 'linux') {
      throw new Error(`virtio-fs is unavailable on ${process.platform}: it resolves every guest path through Linux's /proc/self/fd, and does not share a folder without it`);
    }
    this.root = opts.root;
    this.readOnly = opts.readOnly ?? false;
    this.maxPages = clampInt(opts.maxPages ?? DEFAULTS.maxPages, 1, 256);
    this.maxWrite = this.maxPages * 4096;
    this.valid = timeout(opts.cacheSeconds ?? DEFAULTS.cacheSeconds);
    this.modeMask = process.getuid?.() === 0 ? 0o1777 : 0o7777;
    let fd: number;
    try {
      fd = fs.openSync(opts.root, O_PATH | O_DIRECTORY);
    } catch (e) {
      throw new Error(`shared folder ${opts.root}: ${(e as Error).message} (give an existing directory)`);
    }
    let st: BigIntStats;
    let mountId: number;
    try {
      st = fs.fstatSync(fd, { bigint: true });
      mountId = mountIdOfSync(fd);
      if (fs.statSync(fdPath(fd), { bigint: true }).ino !== st.ino || mountId < 0) throw new Error('/proc/self/fd does not name open descriptors');
    } catch (e) {
      fs.closeSync(fd);
      throw new Error(`virtio-fs is unavailable: ${(e as Error).message}; it needs a mounted /proc to share a folder safely`);
    }
    const limits = {
      maxInodes: clampInt(opts.maxInodes ?? DEFAULTS.maxInodes, 2, 1 << 24),
      maxPathFds: clampInt(opts.maxPathFds ?? DEFAULTS.maxPathFds, 1, 1 << 16),
    };
    this.inodes = new InodeTable({ fd, st, mountId }, limits);
    this.handles = new HandleTable(this.inodes, clampInt(opts.maxHandles ?? DEFAULTS.maxHandles, 1, 1 << 16));
  }

  get maxInodes(): number {
    return this.inodes.maxInodes;
  }

  /** Answers one request: the payload length written to req.out, or NO_REPLY; rejects never. */
  async serve(req: FuseRequest): Promise<number> {
    try {
      const op = req.opcode;
      if (op === A.FUSE_INIT) return this.init(req);
      if (!this.initialized) {
        if (op === A.FUSE_FORGET || op === A.FUSE_BATCH_FORGET || op === A.FUSE_INTERRUPT) return NO_REPLY;
        throw new FsError(A.EIO, 'no FUSE_INIT yet');
      }
      if (op === A.FUSE_DESTROY) return this.destroy();
      const f = opsByCode[op];
      if (f === undefined) throw new FsError(A.ENOSYS, `${A.opcodeName(op)} is not implemented`);
      return await f(this, req);
    } catch (e) {
      return errorResult(errnoOf(e));
    }
  }

  /** DESTROY, or the device reset: every handle closed, every inode forgotten. */
  reset(): void {
    this.handles.closeAll();
    this.inodes.clear();
    this.initialized = false;
  }

  dispose(): void {
    this.handles.dispose();
    this.inodes.dispose();
    this.initialized = false;
  }

  // ---------------- session ----------------

  private init(req: FuseRequest): number {
    const dv = need(req, 16);
    const major = dv.getUint32(0, true);
    const minor = dv.getUint32(4, true);
    if (major < A.FUSE_KERNEL_VERSION || (major === A.FUSE_KERNEL_VERSION && minor < A.FUSE_MIN_MINOR_VERSION)) {
      throw new FsError(A.EPROTO, `FUSE ${major}.${minor} is older than 7.${A.FUSE_MIN_MINOR_VERSION}`);
    }
    if (this.initialized) this.reset();
    const maxReadahead = dv.getUint32(8, true);
    const offered = dv.getUint32(12, true);
    const want =
      A.FUSE_ASYNC_READ | A.FUSE_ATOMIC_O_TRUNC | A.FUSE_BIG_WRITES | A.FUSE_AUTO_INVAL_DATA | A.FUSE_DO_READDIRPLUS |
      A.FUSE_READDIRPLUS_AUTO | A.FUSE_PARALLEL_DIROPS | A.FUSE_MAX_PAGES | A.FUSE_INIT_EXT;
    this.minor = major > A.FUSE_KERNEL_VERSION ? A.FUSE_KERNEL_MINOR_VERSION : Math.min(minor, A.FUSE_KERNEL_MINOR_VERSION);
    const o = fixed(req, A.INIT_OUT_SIZE);
    o.buf.fill(0, 0, A.INIT_OUT_SIZE);
    o.u32(0, A.FUSE_KERNEL_VERSION);
    o.u32(4, this.minor);
    o.u32(8, Math.min(maxReadahead, this.maxWrite));
    o.u32(12, (offered & want) >>> 0);
    o.dv.setUint16(16, 16, true); // max_background
    o.dv.setUint16(18, 12, true); // congestion_threshold
    o.u32(20, this.maxWrite);
    o.u32(24, 1); // time_gran: nanoseconds
    o.dv.setUint16(28, this.maxPages, true);
    this.initialized = major === A.FUSE_KERNEL_VERSION;
    return A.INIT_OUT_SIZE;
  }

  private destroy(): number {
    this.reset();
    return 0;
  }

  // ---------------- helpers for the operations ----------------

  inode(req: FuseRequest): Inode {
    return this.inodes.get(req.nodeid);
  }

  /** The request's nodeid as a directory. */
  dir(req: FuseRequest, nodeid = req.nodeid): Inode {
    const n = this.inodes.get(nodeid);
    if (n.type !== A.S_IFDIR) throw new FsError(A.ENOTDIR, `nodeid ${nodeid} is not a directory`);
    return n;
  }

  /** A validated name at `at` of the arguments, and where the next argument starts. */
  name(req: FuseRequest, at: number): { name: string; next: number } {
    const c = readCString(req.arg, at, req.arg.length);
    if (c === null) throw new FsError(A.EINVAL, 'name without its NUL');
    const bad = checkName(c.text);
    if (bad !== 0) throw new FsError(bad, `bad name ${JSON.stringify(c.text)}`);
    return { name: c.text, next: c.next };
  }

  writable(): void {
    if (this.readOnly) throw new FsError(A.EROFS, 'the shared folder is read-only');
  }

  /** lstat of `name` in `dir` (never follows it), refusing another file system. */
  async lstatIn(dir: Inode, name: string): Promise<BigIntStats> {
    const st = await this.inodes.withFd(dir, (fd) => host.lstat(fdPath(fd, name)));
    if (st.dev !== this.inodes.rootDev) throw new FsError(A.EXDEV, `${name}: a mount point inside the shared folder`);
    return st;
  }

  /**
   * Current attributes of n: fstat of its cached descriptor, else one lstat of its name (checked
   * to be the same inode: no descriptor to open, no content reached), else — unlinked but open —
   * fstat of an open handle.
   */
  async stat(n: Inode): Promise<BigIntStats> {
    try {
      const p = n.parent;
      if (n.fd >= 0 || p === null) return await this.inodes.withFd(n, (fd) => host.fstat(fd));
      const name = n.name;
      const st = await this.inodes.withFd(p, (pfd) => host.lstat(fdPath(pfd, name))).catch((e) => {
        throw errnoOf(e) === A.ENOENT ? new FsError(A.ESTALE, 'gone on the host') : e;
      });
      if (!this.inodes.isSame(n, st)) throw new FsError(A.ESTALE, 'the name now holds another file');
      return st;
    } catch (e) {
      if (errnoOf(e) !== A.ESTALE || n.handleFhs.length === 0) throw e;
      return this.withHandle(n.handleFhs[0], false, (h) => host.fstat(h.fd));
    }
  }

  async withHandle<T>(fh: number, dir: boolean, f: (h: Handle) => Promise<T>): Promise<T> {
    const h = this.handles.acquire(fh, dir);
    try {
      return await f(h);
    } finally {
      this.handles.release(h);
    }
  }

  /** Remembers `name` in `dir` and writes its fuse_entry_out at `at`; returns 128. */
  entry(req: FuseRequest, dir: Inode, name: string, st: BigIntStats, at = 0): number {
    fixed(req, at + A.ENTRY_OUT_SIZE);
    const n = this.inodes.remember(dir, name, st);
    req.out.entry(at, n.nodeid, st, this.valid);
    return A.ENTRY_OUT_SIZE;
  }

  /** Permission bits the host may set from a guest mode. */
  perm(mode: number): number {
    return mode & this.modeMask;
  }
}

function clampInt(v: number, lo: number, hi: number): number {
  return Number.isFinite(v) ? Math.max(lo, Math.min(hi, Math.floor(v))) : lo;
}
