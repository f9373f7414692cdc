// The server's inodes: what a FUSE nodeid means on the host, bounded.
//
// An inode is known by where it was last seen — (parent inode, one name) — and by its identity
// (st_ino, birth time, file type). A host descriptor for it is opened only when an operation needs
// one: `/proc/self/fd/<parent's fd>/<name>` with O_PATH|O_NOFOLLOW, then checked against that
// identity (a name now naming something else is ESTALE, which makes the guest look it up again),
// against the share's device and mount (a mount point or bind mount met later is EXDEV). Those
// descriptors live in a small LRU cache, so the guest can know many more inodes than the host
// holds descriptors; the shared folder's own descriptor is held for the server's lifetime.
//
// Lifetime: an inode stays while the kernel has looked it up (nlookup > 0, until FORGET), while a
// child still names it as parent, or while a handle is open on it. The number of live inodes is
// bounded: past the bound LOOKUP and friends answer ENFILE, so a guest that never forgets cannot
// grow host memory without limit.

import type { BigIntStats } from 'node:fs';
import { ENAMETOOLONG, ENFILE, ENOENT, ESTALE, EXDEV, FUSE_ROOT_ID, S_IFDIR, S_IFLNK, S_IFMT } from './abi';
import { errnoOf, fdPath, FsError, host, mountIdOf, O_NOFOLLOW, O_PATH } from './host';
import { logger } from '../../log';

const log = logger('virtio-fs');

/**
 * Directories acquireFd() walks up at most to reach a cached descriptor (each level is a stack
 * frame of an async function: thousands would overflow the stack). Walking down a tree caches
 * every level on the way, so only a guest that jumps back deep into a tree after its ancestors
 * left the cache meets this.
 */
const MAX_WALK = 256;

export class Inode {
  /** Kernel lookups not yet forgotten. */
  nlookup = 0;
  /** Reasons to stay alive: known to the kernel (1), children naming it, open handles. */
  refs = 0;
  released = false;
  /** Cached O_PATH descriptor, -1 when none; fdUsers operations are using it. */
  fd = -1;
  fdUsers = 0;
  /** A descriptor dropped from the cache while in use: closed when its last user is done. */
  retiredFd = -1;
  /** Open file handles on this inode (GETATTR of an unlinked open file uses one). */
  readonly handleFhs: number[] = [];
  lruPrev: Inode | null = null;
  lruNext: Inode | null = null;

  constructor(
    readonly nodeid: number,
    readonly ino: bigint,
    readonly birth: bigint,
    readonly type: number,
    /** Where it was last seen; null for the root, or when that name is gone. */
    public parent: Inode | null,
    public name: string,
  ) {}
}

export interface InodeLimits {
  /** Live inodes at most (the root included). */
  maxInodes: number;
  /** Cached host descriptors at most (besides the root's and open handles'). */
  maxPathFds: number;
}

export interface RootInfo {
  fd: number;
  st: BigIntStats;
  mountId: number;
}

export class InodeTable {
  readonly root: Inode;
  private readonly byNodeid = new Map<number, Inode>();
  private readonly byIno = new Map<bigint, Inode>();
  private live = 1;
  private nextNodeid = FUSE_ROOT_ID + 1;
  private lruHead: Inode | null = null; // most recently used
  private lruTail: Inode | null = null;
  private lruCount = 0;
  private retired = 0;
  /** After dispose(): a descriptor a request still on the host opens is closed at once. */
  private disposed = false;

  constructor(
    private readonly rootInfo: RootInfo,
    private readonly limits: InodeLimits,
  ) {
    const st = rootInfo.st;
    this.root = new Inode(FUSE_ROOT_ID, st.ino, st.birthtimeNs, Number(st.mode) & S_IFMT, null, '');
    this.root.fd = rootInfo.fd;
    this.root.refs = 1;
    this.root.nlookup = 1;
    this.byNodeid.set(FUSE_ROOT_ID, this.root);
    this.byIno.set(st.ino, this.root);
  }

  get rootDev(): bigint {
    return this.rootInfo.st.dev;
  }
  get rootMountId(): number {
    return this.rootInfo.mountId;
  }
  get maxInodes(): number {
    return this.limits.maxInodes;
  }
  /** Live inodes, the root included. */
  get count(): number {
    return this.live;
  }
  /** Host descriptors held for path resolution (the root's included). */
  get pathFds(): number {
    return this.lruCount + this.retired + 1;
  }

  /** The inode the kernel calls `nodeid`; ESTALE when it is not (or no longer) one. */
  get(nodeid: number): Inode {
    const n = this.byNodeid.get(nodeid);
    if (n === undefined) throw new FsError(ESTALE, `nodeid ${nodeid} is not known`);
    return n;
  }

  /**
   * The kernel learnt `name` in `parent` (LOOKUP, MKDIR, CREATE, READDIRPLUS...): the inode for
   * that host file, created or found by identity, its location updated, nlookup + 1.
   */
  remember(parent: Inode, name: string, st: BigIntStats): Inode {
    const type = Number(st.mode) & S_IFMT;
    let n = this.byIno.get(st.ino);
    if (n !== undefined && (n.type !== type || !sameBirth(n.birth, st.birthtimeNs))) {
      // The host reused the inode number: the old inode is gone, whatever the kernel still holds.
      this.byIno.delete(st.ino);
      this.moveTo(n, null, '');
      n = undefined;
    }
    if (n === undefined) {
      if (this.live >= this.limits.maxInodes) {
        throw new FsError(ENFILE, `the server tracks ${this.live} inodes, its limit; the guest must forget some`);
      }
      n = new Inode(this.nextNodeid++, st.ino, st.birthtimeNs, type, null, name);
      this.live++;
      this.byIno.set(st.ino, n);
    }
    if (n !== this.root) this.moveTo(n, parent, name);
    if (n.nlookup === 0) {
      n.refs++;
      this.byNodeid.set(n.nodeid, n);
    }
    n.nlookup++;
    return n;
  }

  /** FORGET: the kernel dropped `count` lookups of n. */
  forget(n: Inode, count: number): void {
    if (n === this.root || n.nlookup === 0) return;
    n.nlookup = count >= n.nlookup ? 0 : n.nlookup - count;
    if (n.nlookup === 0) {
      this.byNodeid.delete(n.nodeid);
      this.unref(n);
    }
  }

  forgetNodeid(nodeid: number, count: number): void {
    const n = this.byNodeid.get(nodeid);
    if (n !== undefined) this.forget(n, count);
  }

  /**
   * Records that n is now `name` in `parent` (RENAME, a LOOKUP finding it elsewhere), or nowhere
   * (parent null: unlinked). Directories moved around on the host can make what the table last
   * saw say n is an ancestor of `parent`: the link from n's child on that chain is the stale one
   * (n was just seen under `parent`), so that child is recorded nowhere until looked up again.
   */
  moveTo(n: Inode, parent: Inode | null, name: string): void {
    if (n === this.root) return;
    if (parent === n) {
      parent = null;
      name = '';
    }
    for (let a = parent; a !== null; a = a.parent) {
      if (a.parent === n) {
        this.moveTo(a, null, '');
        break;
      }
    }
    const old = n.parent;
    if (parent !== null) parent.refs++;
    n.parent = parent;
    n.name = name;
    if (old !== null) this.unref(old);
  }

  /** A name in `dir` that named inode `ino` is gone (UNLINK, RMDIR, replaced by RENAME). */
  nameGone(dir: Inode, name: string, ino: bigint, lastLink: boolean): void {
    const n = this.byIno.get(ino);
    if (n === undefined) return;
    if (n.parent === dir && n.name === name) {
      this.moveTo(n, null, '');
      this.dropFd(n);
    }
    // The host may now reuse the number: match it to this inode no more.
    if (lastLink) this.byIno.delete(ino);
  }

  /** RENAME moved `oldName` of `from` (inode `ino`) to `newName` of `to`. */
  renamed(from: Inode, oldName: string, to: Inode, newName: string, ino: bigint): void {
    const n = this.byIno.get(ino);
    if (n !== undefined && n.parent === from && n.name === oldName) this.moveTo(n, to, newName);
  }

  /** An open handle keeps the inode alive. */
  pin(n: Inode): void {
    n.refs++;
  }
  unpin(n: Inode): void {
    this.unref(n);
  }

  /** One reason less to keep n; at none, n goes, and so may its ancestors (a loop, not recursion: trees can be deep). */
  private unref(start: Inode): void {
    for (let n: Inode | null = start; n !== null && n !== this.root && --n.refs <= 0; ) {
      n.released = true;
      if (this.byIno.get(n.ino) === n) this.byIno.delete(n.ino);
      this.byNodeid.delete(n.nodeid);
      this.live--;
      this.dropFd(n);
      const p: Inode | null = n.parent;
      n.parent = null;
      n = p;
    }
  }

  // ---------------- host descriptors ----------------

  /**
   * An O_PATH descriptor for n, checked to be the same inode, on the share's device and mount.
   * The caller must releaseFd(n) when done with it (the descriptor is not closed before).
   * Opening walks up to the nearest ancestor with a cached descriptor; `depth` bounds that walk.
   */
  async acquireFd(n: Inode, depth = 0): Promise<number> {
    if (n.fd >= 0) {
      n.fdUsers++;
      if (n !== this.root) this.touch(n);
      return n.fd;
    }
    const p = n.parent;
    if (p === null) throw new FsError(ESTALE, 'the inode has no name on the host any more');
    if (depth > MAX_WALK) throw new FsError(ENAMETOOLONG, `more than ${MAX_WALK} directories above the nearest one with a descriptor`);
    const pfd = await this.acquireFd(p, depth + 1);
    let fd: number;
    try {
      fd = await host.open(fdPath(pfd, n.name), O_PATH | O_NOFOLLOW);
    } catch (e) {
      throw errnoOf(e) === ENOENT ? new FsError(ESTALE, 'gone on the host') : e;
    } finally {
      this.releaseFd(p);
    }
    try {
      await this.check(n, fd);
    } catch (e) {
      host.close(fd).catch(() => {});
      throw e;
    }
    if (this.disposed) {
      host.close(fd).catch(() => {});
      throw new FsError(ESTALE, 'the server is closed');
    }
    if (n.fd >= 0) {
      // Another request opened it meanwhile.
      host.close(fd).catch(() => {});
    } else {
      n.fd = fd;
      this.lruAdd(n);
      this.evict();
    }
    n.fdUsers++;
    return n.fd;
  }

  releaseFd(n: Inode): void {
    if (--n.fdUsers > 0 || n.retiredFd < 0) return;
    const fd = n.retiredFd;
    n.retiredFd = -1;
    this.retired--;
    host.close(fd).catch((e) => log.warn(`close: ${(e as Error).message}`));
  }

  /** Runs `f` with n's descriptor held. */
  async withFd<T>(n: Inode, f: (fd: number) => Promise<T>): Promise<T> {
    const fd = await this.acquireFd(n);
    try {
      return await f(fd);
    } finally {
      this.releaseFd(n);
    }
  }

  /** The host file `st` describes is inode n (number, type and birth time agree). */
  isSame(n: Inode, st: BigIntStats): boolean {
    return st.ino === n.ino && (Number(st.mode) & S_IFMT) === n.type && sameBirth(n.birth, st.birthtimeNs) && st.dev === this.rootDev;
  }

  private async check(n: Inode, fd: number): Promise<void> {
    const st = await host.fstat(fd);
    if (st.ino !== n.ino || (Number(st.mode) & S_IFMT) !== n.type || !sameBirth(n.birth, st.birthtimeNs)) {
      throw new FsError(ESTALE, 'the name now holds another file');
    }
    if (st.dev !== this.rootDev) throw new FsError(EXDEV, 'on another file system than the shared folder');
    // A bind mount of another directory of the same file system shares st_dev: compare mounts.
    if (n.type !== S_IFLNK && (await mountIdOf(fd)) !== this.rootMountId) {
      throw new FsError(EXDEV, 'a mount point inside the shared folder');
    }
  }

  /** Checks now that a directory may be entered (LOOKUP does this for directories). */
  async verifyDir(n: Inode): Promise<void> {
    if (n.type === S_IFDIR) await this.withFd(n, async () => undefined);
  }

  private dropFd(n: Inode): void {
    if (n.fd < 0 || n === this.root) return;
    this.lruRemove(n);
    const fd = n.fd;
    n.fd = -1;
    if (n.fdUsers === 0) {
      host.close(fd).catch((e) => log.warn(`close: ${(e as Error).message}`));
    } else {
      n.retiredFd = fd;
      this.retired++;
    }
  }

  private evict(): void {
    let n = this.lruTail;
    while (this.lruCount > this.limits.maxPathFds && n !== null) {
      const prev = n.lruPrev;
      if (n.fdUsers === 0) this.dropFd(n);
      n = prev;
    }
  }

  private lruAdd(n: Inode): void {
    n.lruPrev = null;
    n.lruNext = this.lruHead;
    if (this.lruHead !== null) this.lruHead.lruPrev = n;
    this.lruHead = n;
    if (this.lruTail === null) this.lruTail = n;
    this.lruCount++;
  }

  private lruRemove(n: Inode): void {
    if (n.lruPrev !== null) n.lruPrev.lruNext = n.lruNext;
    else this.lruHead = n.lruNext;
    if (n.lruNext !== null) n.lruNext.lruPrev = n.lruPrev;
    else this.lruTail = n.lruPrev;
    n.lruPrev = n.lruNext = null;
    this.lruCount--;
  }

  private touch(n: Inode): void {
    if (this.lruHead === n) return;
    this.lruRemove(n);
    this.lruAdd(n);
  }

  // ---------------- whole-table operations ----------------

  /** DESTROY or device reset: the kernel knows no inode any more (the root stays). */
  clear(): void {
    for (const n of [...this.byNodeid.values()]) this.forget(n, n.nlookup);
  }

  /** Closes every cached descriptor and the root's (the server is done); those in use, when released. */
  dispose(): void {
    this.disposed = true;
    this.clear();
    while (this.lruTail !== null) this.dropFd(this.lruTail);
    const root = this.root;
    if (root.fd < 0) return;
    const fd = root.fd;
    root.fd = -1;
    if (root.fdUsers === 0) {
      host.close(fd).catch(() => {});
    } else {
      root.retiredFd = fd;
      this.retired++;
    }
  }
}

/** Birth times match, or one side does not know them (file systems without btime report 0). */
function sameBirth(a: bigint, b: bigint): boolean {
  return a === 0n || b === 0n || a === b;
}
