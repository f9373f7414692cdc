// Files and attributes: GETATTR, SETATTR, ACCESS, STATFS, OPEN, CREATE, READ, WRITE, FLUSH,
// FSYNC, RELEASE, FALLOCATE, LSEEK. A file is opened through `/proc/self/fd/<its O_PATH fd>`,
// which names exactly the inode the guest looked up, so no name can be swapped under it; only
// regular files are opened (a FIFO's open would block a thread-pool thread), always O_NONBLOCK.

import * as fs from 'node:fs';
import type { BigIntStats } from 'node:fs';
import * as A from './abi';
import { errnoOf, fdPath, FsError, host, mountIdOf, O_NOFOLLOW, O_NONBLOCK } from './host';
import type { Handle } from './handles';
import type { Inode } from './inodes';
import { fixed, need, u64, type FuseRequest } from './request';
import type { FuseServer } from './server';

const C = fs.constants;

export async function getattr(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, 16);
  const o = fixed(req, A.ATTR_OUT_SIZE);
  const n = s.inode(req);
  const viaFh = (dv.getUint32(0, true) & A.FUSE_GETATTR_FH) !== 0 && n.type === A.S_IFREG;
  const st = viaFh ? await s.withHandle(u64(dv, 8), false, (h) => host.fstat(h.fd)) : await s.stat(n);
  o.attrOut(0, st, s.valid);
  return A.ATTR_OUT_SIZE;
}

export async function setattr(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, A.SETATTR_IN_SIZE);
  const o = fixed(req, A.ATTR_OUT_SIZE);
  const valid = dv.getUint32(0, true);
  const changes = A.FATTR_MODE | A.FATTR_UID | A.FATTR_GID | A.FATTR_SIZE | A.FATTR_ATIME | A.FATTR_MTIME | A.FATTR_ATIME_NOW | A.FATTR_MTIME_NOW;
  if (valid & changes) s.writable();
  const n = s.inode(req);
  const fh = valid & A.FATTR_FH && n.type === A.S_IFREG ? u64(dv, 8) : -1;
  const apply = async (path: Buffer, h: Handle | null) => {
    if (n.type === A.S_IFLNK) return setLinkAttr(s, n, dv, valid);
    if (valid & A.FATTR_MODE) await host.chmod(path, s.perm(dv.getUint32(68, true)) & 0o7777);
    if (valid & (A.FATTR_UID | A.FATTR_GID)) {
      await host.chown(path, valid & A.FATTR_UID ? dv.getUint32(76, true) | 0 : -1, valid & A.FATTR_GID ? dv.getUint32(80, true) | 0 : -1);
    }
    if (valid & A.FATTR_SIZE) {
      if (n.type !== A.S_IFREG) throw new FsError(n.type === A.S_IFDIR ? A.EISDIR : A.EINVAL, 'only regular files have a size to set');
      const size = u64(dv, 16);
      if (size > Number.MAX_SAFE_INTEGER) throw new FsError(A.EFBIG, 'size beyond 2^53');
      await (h !== null ? host.ftruncate(h.fd, size) : host.truncate(path, size));
    }
    if (valid & (A.FATTR_ATIME | A.FATTR_MTIME | A.FATTR_ATIME_NOW | A.FATTR_MTIME_NOW)) {
      const cur = await s.stat(n);
      await host.utimes(path, newTime(dv, valid, 32, 56, A.FATTR_ATIME, A.FATTR_ATIME_NOW, cur.atimeNs), newTime(dv, valid, 40, 60, A.FATTR_MTIME, A.FATTR_MTIME_NOW, cur.mtimeNs));
    }
  };
  // `/proc/self/fd/<O_PATH fd>` is the inode itself: chmod/chown/truncate/utimes through it never
  // follow a name. FATTR_CTIME cannot be set on Linux and is ignored, as the kernel's own does.
  if (fh >= 0) await s.withHandle(fh, false, (h) => apply(fdPath(h.fd), h));
  else await s.inodes.withFd(n, (fd) => apply(fdPath(fd), null));
  o.attrOut(0, await s.stat(n), s.valid);
  return A.ATTR_OUT_SIZE;
}

/** Symlinks: times and owner through the parent (lutimes/lchown); no mode or size. */
async function setLinkAttr(s: FuseServer, n: Inode, dv: DataView, valid: number): Promise<void> {
  if (valid & A.FATTR_MODE) throw new FsError(A.EOPNOTSUPP, 'a symlink has no mode of its own');
  if (valid & A.FATTR_SIZE) throw new FsError(A.EINVAL, 'a symlink has no size to set');
  const p = n.parent;
  if (p === null) throw new FsError(A.ESTALE, 'the link has no name on the host any more');
  const name = n.name;
  await s.inodes.withFd(p, async (pfd) => {
    const path = fdPath(pfd, name);
    const st = await host.lstat(path);
    if (st.ino !== n.ino) throw new FsError(A.ESTALE, 'the name now holds another file');
    if (valid & (A.FATTR_UID | A.FATTR_GID)) {
      await host.lchown(path, valid & A.FATTR_UID ? dv.getUint32(76, true) | 0 : -1, valid & A.FATTR_GID ? dv.getUint32(80, true) | 0 : -1);
    }
    if (valid & (A.FATTR_ATIME | A.FATTR_MTIME | A.FATTR_ATIME_NOW | A.FATTR_MTIME_NOW)) {
      await host.lutimes(path, newTime(dv, valid, 32, 56, A.FATTR_ATIME, A.FATTR_ATIME_NOW, st.atimeNs), newTime(dv, valid, 40, 60, A.FATTR_MTIME, A.FATTR_MTIME_NOW, st.mtimeNs));
    }
  });
}

/** A time for utimes() in seconds: now, the request's, or the current one. */
function newTime(dv: DataView, valid: number, secAt: number, nsecAt: number, bit: number, nowBit: number, currentNs: bigint): number {
  if (valid & nowBit) return Date.now() / 1000;
  if (valid & bit) return Number(dv.getBigInt64(secAt, true)) + dv.getUint32(nsecAt, true) / 1e9;
  return Number(currentNs) / 1e9;
}

export async function access(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, 4);
  const mask = dv.getUint32(0, true) & 7;
  const n = s.inode(req);
  if (mask & 2 && s.readOnly) throw new FsError(A.EROFS, 'the shared folder is read-only');
  if (n.type === A.S_IFLNK) return 0;
  await s.inodes.withFd(n, (fd) => host.access(fdPath(fd), mask));
  return 0;
}

export async function statfs(s: FuseServer, req: FuseRequest): Promise<number> {
  const o = fixed(req, A.STATFS_OUT_SIZE);
  const st = await s.inodes.withFd(s.inodes.root, (fd) => host.statfs(fdPath(fd)));
  o.buf.fill(0, 0, A.STATFS_OUT_SIZE);
  o.u64(0, st.blocks);
  o.u64(8, st.bfree);
  o.u64(16, st.bavail);
  o.u64(24, st.files);
  o.u64(32, st.ffree);
  o.u32(40, st.bsize);
  o.u32(44, A.NAME_MAX);
  o.u32(48, st.bsize); // frsize
  return A.STATFS_OUT_SIZE;
}

/** The host open(2) flags for the guest's, and whether they write. */
function hostFlags(s: FuseServer, guest: number): { flags: number; writes: boolean } {
  const acc = guest & A.G_O_ACCMODE;
  let flags = acc === A.G_O_WRONLY ? C.O_WRONLY : acc === A.G_O_RDWR ? C.O_RDWR : C.O_RDONLY;
  if (guest & A.G_O_TRUNC) flags |= C.O_TRUNC;
  if (guest & A.G_O_APPEND) flags |= C.O_APPEND;
  if ((guest & A.G_O_SYNC) === A.G_O_SYNC) flags |= C.O_SYNC;
  else if (guest & A.G_O_DSYNC) flags |= C.O_DSYNC;
  const writes = acc !== A.G_O_RDONLY || (guest & A.G_O_TRUNC) !== 0;
  if (writes) s.writable();
  return { flags: flags | O_NONBLOCK, writes };
}

function openOut(req: FuseRequest, at: number, fh: number): void {
  const o = req.out;
  o.u64(at, fh);
  // No KEEP_CACHE: the page cache is dropped at each open, so host changes show. NOFLUSH: writes
  // are never buffered here, so a FLUSH per close() would be a round trip for nothing.
  o.u32(at + 8, A.FOPEN_NOFLUSH);
  o.u32(at + 12, 0); // backing_id
}

export async function open(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, 8);
  fixed(req, A.OPEN_OUT_SIZE);
  const n = s.inode(req);
  if (n.type !== A.S_IFREG) throw new FsError(n.type === A.S_IFDIR ? A.EISDIR : A.ENXIO, 'only regular files are opened on the host');
  const { flags, writes } = hostFlags(s, dv.getUint32(0, true));
  s.handles.checkRoom();
  const fd = await s.inodes.withFd(n, (pfd) => host.open(fdPath(pfd), flags));
  const h = s.handles.add(n, fd, null, writes);
  openOut(req, 0, h.fh);
  return A.OPEN_OUT_SIZE;
}

export async function create(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, 16);
  fixed(req, A.ENTRY_OUT_SIZE + A.OPEN_OUT_SIZE);
  s.writable();
  const guest = dv.getUint32(0, true);
  const perm = s.perm(dv.getUint32(4, true)) & 0o7777;
  const dir = s.dir(req);
  const { name } = s.name(req, 16);
  const { flags, writes } = hostFlags(s, guest);
  s.handles.checkRoom();
  const { fd, st } = await s.inodes.withFd(dir, (dfd) => openOrCreate(s, fdPath(dfd, name), flags, perm, (guest & A.G_O_EXCL) !== 0));
  let n: Inode;
  try {
    n = s.inodes.remember(dir, name, st);
  } catch (e) {
    await host.close(fd);
    throw e;
  }
  req.out.entry(0, n.nodeid, st, s.valid);
  const h = s.handles.add(n, fd, null, writes);
  openOut(req, A.ENTRY_OUT_SIZE, h.fh);
  return A.ENTRY_OUT_SIZE + A.OPEN_OUT_SIZE;
}

/**
 * O_CREAT|O_EXCL first, so we know whether we made the file (only then is its mode ours to fix).
 * An existing name is opened with O_NOFOLLOW (a symlink there is ELOOP, never followed) and
 * without O_TRUNC: it must be a regular file of the share's own mount (not a file bind-mounted
 * over that name) before it is truncated.
 */
async function openOrCreate(s: FuseServer, path: Buffer, flags: number, perm: number, excl: boolean): Promise<{ fd: number; st: BigIntStats }> {
  let fd: number;
  let made = true;
  try {
    fd = await host.open(path, flags | C.O_CREAT | C.O_EXCL | O_NOFOLLOW, perm);
  } catch (e) {
    if (excl || errnoOf(e) !== A.EEXIST) throw e;
    fd = await host.open(path, (flags & ~C.O_TRUNC) | O_NOFOLLOW);
    made = false;
  }
  try {
    let st = await host.fstat(fd);
    if ((Number(st.mode) & A.S_IFMT) !== A.S_IFREG) throw new FsError(A.ENXIO, 'not a regular file');
    if (st.dev !== s.inodes.rootDev || (!made && (await mountIdOf(fd)) !== s.inodes.rootMountId)) {
      throw new FsError(A.EXDEV, 'a mount point inside the shared folder');
    }
    if (!made && flags & C.O_TRUNC) {
      await host.ftruncate(fd, 0);
      st = await host.fstat(fd);
    } else if (made && (Number(st.mode) & 0o7777) !== perm) {
      await new Promise<void>((res, rej) => fs.fchmod(fd, perm, (e) => (e ? rej(e) : res())));
      st = await host.fstat(fd);
    }
    return { fd, st };
  } catch (e) {
    await host.close(fd);
    throw e;
  }
}

export async function read(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, 24);
  const offset = u64(dv, 8);
  if (offset > Number.MAX_SAFE_INTEGER) throw new FsError(A.EINVAL, 'offset beyond 2^53');
  const size = Math.min(dv.getUint32(16, true), req.out.buf.length);
  const buf = req.out.buf;
  const got = await s.withHandle(u64(dv, 0), false, async (h) => {
    let done = 0;
    // A short read means end of file to the kernel: read until full or at the end.
    while (done < size) {
      const n = await host.read(h.fd, buf, done, size - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  });
  s.counters.bytesRead(got);
  return got;
}

export async function write(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, A.WRITE_IN_SIZE);
  const o = fixed(req, 8);
  s.writable();
  const offset = u64(dv, 8);
  const size = dv.getUint32(16, true);
  if (offset > Number.MAX_SAFE_INTEGER) throw new FsError(A.EFBIG, 'offset beyond 2^53');
  if (size > req.arg.length - A.WRITE_IN_SIZE) throw new FsError(A.EINVAL, `WRITE of ${size} bytes carries ${req.arg.length - A.WRITE_IN_SIZE}`);
  if (size > s.maxWrite) throw new FsError(A.EINVAL, `WRITE of ${size} bytes is above max_write ${s.maxWrite}`);
  const data = req.arg;
  const put = await s.withHandle(u64(dv, 0), false, async (h) => {
    if (!h.writable) throw new FsError(A.EBADF, 'handle not open for writing');
    let done = 0;
    while (done < size) {
      const n = await host.write(h.fd, data, A.WRITE_IN_SIZE + done, size - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  });
  s.counters.bytesWritten(put);
  o.u32(0, put);
  o.u32(4, 0);
  return 8;
}

export async function flush(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, 8);
  await s.withHandle(u64(dv, 0), false, async () => undefined); // writes are never buffered here
  return 0;
}

export async function fsync(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, 12);
  const dataOnly = (dv.getUint32(8, true) & A.FUSE_FSYNC_FDATASYNC) !== 0;
  await s.withHandle(u64(dv, 0), false, (h) => host.fsync(h.fd, dataOnly));
  return 0;
}

/** RELEASE / RELEASEDIR: fuse_release_in.fh. */
export function releaseHandle(s: FuseServer, req: FuseRequest, dir: boolean): number {
  const dv = need(req, 8);
  s.handles.close(u64(dv, 0), dir);
  return 0;
}

export const release = (s: FuseServer, req: FuseRequest) => releaseHandle(s, req, false);

export async function fallocate(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, 28);
  s.writable();
  const offset = u64(dv, 8);
  const length = u64(dv, 16);
  const mode = dv.getUint32(24, true);
  if (offset + length > Number.MAX_SAFE_INTEGER) throw new FsError(A.EFBIG, 'range beyond 2^53');
  if (mode & ~A.FALLOC_FL_KEEP_SIZE) throw new FsError(A.EOPNOTSUPP, 'only plain allocation: Node has no fallocate() for holes or zero ranges');
  await s.withHandle(u64(dv, 0), false, async (h) => {
    if (!h.writable) throw new FsError(A.EBADF, 'handle not open for writing');
    if (mode & A.FALLOC_FL_KEEP_SIZE) return; // reserving space without growing: nothing to emulate it with
    const st = await host.fstat(h.fd);
    if (BigInt(offset + length) > st.size) await host.ftruncate(h.fd, offset + length);
  });
  return 0;
}

export async function lseek(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, 20);
  const o = fixed(req, 8);
  const offset = u64(dv, 8);
  const whence = dv.getUint32(16, true);
  if (whence !== A.SEEK_DATA && whence !== A.SEEK_HOLE) throw new FsError(A.EINVAL, `whence ${whence}`);
  // Node has no lseek(): the whole file counts as data, one hole at its end (POSIX allows it).
  const st = await s.withHandle(u64(dv, 0), false, (h) => host.fstat(h.fd));
  const size = Number(st.size);
  if (offset >= size) throw new FsError(A.ENXIO, 'offset at or past the end');
  o.u64(0, whence === A.SEEK_DATA ? offset : size);
  return 8;
}
