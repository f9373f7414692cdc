// Open files and directories (FUSE `fh`), bounded. A handle's host descriptor is closed only when
// no request is still using it: closing a descriptor under a read in the thread pool would let the
// number be reused by any other open in this process, and the read land there.

import type { Dir, Dirent } from 'node:fs';
import { EBADF, EISDIR, ENFILE, ENOTDIR } from './abi';
import { FsError, host } from './host';
import type { Inode, InodeTable } from './inodes';
import { logger } from '../../log';

const log = logger('virtio-fs');

export class Handle {
  users = 0;
  closed = false;
  /** Directories: the stream, the index of the next entry it gives, and one entry read too far. */
  dir: Dir | null = null;
  dirPos = 0;
  held: Dirent | null = null;
  listing = false;

  constructor(
    readonly fh: number,
    readonly inode: Inode,
    /** Host descriptor for files; -1 for directories. */
    readonly fd: number,
    readonly isDir: boolean,
    readonly writable: boolean,
  ) {}
}

export class HandleTable {
  private readonly map = new Map<number, Handle>();
  private nextFh = 1;
  /** After dispose(): what a request still on the host opens is closed at once. */
  private disposed = false;

  constructor(
    private readonly inodes: InodeTable,
    /** Open handles at most. */
    readonly max: number,
  ) {}

  get count(): number {
    return this.map.size;
  }

  /** Throws ENFILE at the bound: before opening anything on the host. */
  checkRoom(): void {
    if (this.map.size >= this.max) throw this.full();
  }

  private full(): FsError {
    return new FsError(ENFILE, `${this.map.size} handles are open, the server's limit`);
  }

  /** Registers an opened file (fd ≥ 0) or directory (dir); closes it and throws if it cannot. */
  add(inode: Inode, fd: number, dir: Dir | null, writable: boolean): Handle {
    const h = new Handle(this.nextFh++, inode, fd, dir !== null, writable);
    h.dir = dir;
    this.inodes.pin(inode);
    // Checked again here: other requests may have filled the table while this one opened.
    if (this.disposed || this.map.size >= this.max) {
      h.closed = true;
      this.finish(h);
      throw this.disposed ? new FsError(EBADF, 'the server is closed') : this.full();
    }
    this.map.set(h.fh, h);
    if (fd >= 0) inode.handleFhs.push(h.fh);
    return h;
  }

  /** The handle `fh` for one request (release it after); EBADF if unknown or of the other kind. */
  acquire(fh: number, wantDir: boolean): Handle {
    const h = this.map.get(fh);
    if (h === undefined) throw new FsError(EBADF, `fh ${fh} is not open`);
    if (h.isDir !== wantDir) throw new FsError(wantDir ? ENOTDIR : EISDIR, `fh ${fh} is a ${h.isDir ? 'directory' : 'file'}`);
    h.users++;
    return h;
  }

  release(h: Handle): void {
    if (--h.users === 0 && h.closed) this.finish(h);
  }

  /** RELEASE / RELEASEDIR: forgets fh now, closes the host side when its last request ends. */
  close(fh: number, wantDir: boolean): void {
    const h = this.acquire(fh, wantDir);
    this.map.delete(fh);
    h.closed = true;
    this.release(h);
  }

  /** The server is done: every handle now, and any a request still on the host opens later. */
  dispose(): void {
    this.disposed = true;
    this.closeAll();
  }

  /** DESTROY, reset, dispose: every handle. */
  closeAll(): void {
    for (const h of [...this.map.values()]) {
      this.map.delete(h.fh);
      h.closed = true;
      if (h.users === 0) this.finish(h);
    }
  }

  private finish(h: Handle): void {
    const list = h.inode.handleFhs;
    const i = list.indexOf(h.fh);
    if (i >= 0) list.splice(i, 1);
    this.inodes.unpin(h.inode);
    const done = (e: unknown) => e && log.warn(`closing fh ${h.fh}: ${(e as Error).message}`);
    if (h.fd >= 0) host.close(h.fd).then(() => undefined, done);
    if (h.dir !== null) {
      const d = h.dir;
      h.dir = null;
      d.close().then(() => undefined, done);
    }
  }
}
