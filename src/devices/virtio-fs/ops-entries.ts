// Names in directories: LOOKUP, FORGET, BATCH_FORGET, MKNOD, MKDIR, SYMLINK, LINK, UNLINK, RMDIR,
// RENAME, RENAME2, READLINK. Every host path is `/proc/self/fd/<directory's fd>/<validated name>`;
// nothing here follows a symlink on the host (lstat, O_NOFOLLOW, link/unlink/rename never do).

import { spawn } from 'node:child_process';
import * as A from './abi';
import { errnoOf, fdPath, FsError, host, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_PATH } from './host';
import type { Inode } from './inodes';
import { checkLinkTarget, readCString } from './names';
import { fixed, need, NO_REPLY, u64, type FuseRequest } from './request';
import type { FuseServer } from './server';
import * as fs from 'node:fs';
import type { BigIntStats } from 'node:fs';

export async function lookup(s: FuseServer, req: FuseRequest): Promise<number> {
  const dir = s.dir(req);
  const { name } = s.name(req, 0);
  fixed(req, A.ENTRY_OUT_SIZE);
  const st = await s.lstatIn(dir, name);
  const n = s.inodes.remember(dir, name, st);
  try {
    await s.inodes.verifyDir(n); // a bind mount of the same file system: refuse entering it now
  } catch (e) {
    s.inodes.forget(n, 1);
    throw e;
  }
  req.out.entry(0, n.nodeid, st, s.valid);
  return A.ENTRY_OUT_SIZE;
}

export function forget(s: FuseServer, req: FuseRequest): number {
  const dv = need(req, 8);
  s.inodes.forgetNodeid(req.nodeid, u64(dv, 0));
  return NO_REPLY;
}

export function batchForget(s: FuseServer, req: FuseRequest): number {
  const dv = need(req, 8);
  const count = Math.min(dv.getUint32(0, true), Math.floor((req.arg.length - 8) / A.FORGET_ONE_SIZE));
  for (let i = 0, at = 8; i < count; i++, at += A.FORGET_ONE_SIZE) s.inodes.forgetNodeid(u64(dv, at), u64(dv, at + 8));
  return NO_REPLY;
}

/** Creates `name` in dir with `make(dirfd, path)`, then answers its entry. */
async function create(s: FuseServer, req: FuseRequest, dir: Inode, name: string, make: (path: Buffer, dirfd: number) => Promise<void>): Promise<number> {
  s.writable();
  fixed(req, A.ENTRY_OUT_SIZE);
  await s.inodes.withFd(dir, (fd) => make(fdPath(fd, name), fd));
  return s.entry(req, dir, name, await s.lstatIn(dir, name));
}

export async function mknod(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, 16);
  const mode = dv.getUint32(0, true);
  const dir = s.dir(req);
  const { name } = s.name(req, 16);
  const perm = s.perm(mode);
  switch (mode & A.S_IFMT) {
    case A.S_IFREG:
      return create(s, req, dir, name, async (path) => {
        const fd = await host.open(path, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY | O_NOFOLLOW | O_NONBLOCK, perm);
        try {
          await fixMode(fd, perm);
        } finally {
          await host.close(fd);
        }
      });
    case A.S_IFIFO:
      return create(s, req, dir, name, (_path, dirfd) => mkfifo(dirfd, name, perm));
    default:
      throw new FsError(A.EPERM, 'only regular files and FIFOs can be made in the shared folder');
  }
}

export async function mkdir(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, 8);
  const perm = s.perm(dv.getUint32(0, true)) & 0o7777;
  const dir = s.dir(req);
  const { name } = s.name(req, 8);
  return create(s, req, dir, name, async (path) => {
    await host.mkdir(path, perm);
    // The host's umask may have taken more bits than the guest's (already applied) did. Through a
    // descriptor: a concurrent request may have swapped the name for a symlink meanwhile.
    const fd = await host.open(path, O_PATH | O_NOFOLLOW | O_DIRECTORY);
    try {
      const st = await host.fstat(fd);
      if ((Number(st.mode) & 0o7777) !== perm) await host.chmod(fdPath(fd), perm);
    } finally {
      await host.close(fd);
    }
  });
}

export async function symlink(s: FuseServer, req: FuseRequest): Promise<number> {
  const dir = s.dir(req);
  const { name, next } = s.name(req, 0);
  const t = readCString(req.arg, next, req.arg.length);
  if (t === null) throw new FsError(A.EINVAL, 'link target without its NUL');
  const bad = checkLinkTarget(t.text);
  if (bad !== 0) throw new FsError(bad, 'bad link target');
  // The target is only text for the guest's kernel to resolve: the host never follows it.
  return create(s, req, dir, name, (path) => host.symlink(Buffer.from(t.text, 'latin1'), path));
}

export async function link(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, 8);
  const old = s.inodes.get(u64(dv, 0));
  if (old.type === A.S_IFDIR) throw new FsError(A.EPERM, 'hard links to directories are not allowed');
  const dir = s.dir(req);
  const { name } = s.name(req, 8);
  const from = old.parent;
  if (from === null) throw new FsError(A.ESTALE, 'the file has no name on the host any more');
  const oldName = old.name;
  return create(s, req, dir, name, async (path) => {
    await s.inodes.withFd(from, (pfd) => host.link(fdPath(pfd, oldName), path));
    const st = await host.lstat(path);
    if (st.ino !== old.ino) {
      // The old name was replaced on the host meanwhile: undo, let the guest look it up again.
      await host.unlink(path).catch(() => {});
      throw new FsError(A.ESTALE, 'the file changed on the host');
    }
  });
}

async function remove(s: FuseServer, req: FuseRequest, isDir: boolean): Promise<number> {
  s.writable();
  const dir = s.dir(req);
  const { name } = s.name(req, 0);
  const st = await s.lstatIn(dir, name);
  await s.inodes.withFd(dir, (fd) => (isDir ? host.rmdir(fdPath(fd, name)) : host.unlink(fdPath(fd, name))));
  s.inodes.nameGone(dir, name, st.ino, isDir || st.nlink <= 1n);
  return 0;
}

export const unlink = (s: FuseServer, req: FuseRequest) => remove(s, req, false);
export const rmdir = (s: FuseServer, req: FuseRequest) => remove(s, req, true);

export async function rename(s: FuseServer, req: FuseRequest): Promise<number> {
  return renameCommon(s, req, 8, 0);
}

export async function rename2(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, 16);
  return renameCommon(s, req, 16, dv.getUint32(8, true));
}

async function renameCommon(s: FuseServer, req: FuseRequest, argSize: number, flags: number): Promise<number> {
  const dv = need(req, argSize);
  s.writable();
  if (flags & ~A.RENAME_NOREPLACE) {
    throw new FsError(A.EINVAL, 'RENAME_EXCHANGE and RENAME_WHITEOUT need renameat2(), which Node cannot call');
  }
  const from = s.dir(req);
  const to = s.dir(req, u64(dv, 0));
  const a = s.name(req, argSize);
  const b = s.name(req, a.next);
  const ost = await s.lstatIn(from, a.name);
  let nst: BigIntStats | null = null;
  try {
    nst = await s.lstatIn(to, b.name);
  } catch (e) {
    if (errnoOf(e) !== A.ENOENT) throw e;
  }
  if (nst !== null && flags & A.RENAME_NOREPLACE) throw new FsError(A.EEXIST, `${b.name} exists`);
  await s.inodes.withFd(from, (ofd) =>
    s.inodes.withFd(to, async (nfd) => {
      const op = fdPath(ofd, a.name);
      const np = fdPath(nfd, b.name);
      if (flags & A.RENAME_NOREPLACE && (Number(ost.mode) & A.S_IFMT) !== A.S_IFDIR && (await linkNoReplace(op, np))) return;
      await host.rename(op, np);
    }),
  );
  if (nst !== null && nst.ino !== ost.ino) s.inodes.nameGone(to, b.name, nst.ino, (Number(nst.mode) & A.S_IFMT) === A.S_IFDIR || nst.nlink <= 1n);
  s.inodes.renamed(from, a.name, to, b.name, ost.ino);
  return 0;
}

/**
 * NOREPLACE without renameat2(): link() refuses an existing target atomically, then the old name
 * goes. False when the file system has no hard links (then the caller renames after its check).
 */
async function linkNoReplace(from: Buffer, to: Buffer): Promise<boolean> {
  try {
    await host.link(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'EMLINK' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return false;
    throw e;
  }
  await host.unlink(from);
  return true;
}

export async function readlink(s: FuseServer, req: FuseRequest): Promise<number> {
  const n = s.inode(req);
  if (n.type !== A.S_IFLNK) throw new FsError(A.EINVAL, 'not a symlink');
  const p = n.parent;
  if (p === null) throw new FsError(A.ESTALE, 'the link has no name on the host any more');
  const name = n.name;
  const target = await s.inodes.withFd(p, async (pfd) => {
    const path = fdPath(pfd, name);
    const st = await host.lstat(path);
    if (st.ino !== n.ino) throw new FsError(A.ESTALE, 'the name now holds another file');
    return host.readlink(path);
  });
  if (target.length > req.out.buf.length) throw new FsError(A.ENAMETOOLONG, 'link target longer than the reply');
  req.out.buf.set(target, 0);
  return target.length;
}

/** fchmod when the host's umask took bits the guest wanted (the guest's umask is already applied). */
async function fixMode(fd: number, perm: number): Promise<void> {
  const st = await host.fstat(fd);
  if ((Number(st.mode) & 0o7777) !== perm) await new Promise<void>((res, rej) => fs.fchmod(fd, perm, (e) => (e ? rej(e) : res())));
}

/**
 * Node cannot mknod(): `mkfifo` makes the FIFO, in the directory handed to it as descriptor 3
 * (`/proc/self/fd/3/NAME` in the child is our directory, whatever its path).
 */
function mkfifo(dirfd: number, name: string, perm: number): Promise<void> {
  const utf8 = Buffer.from(name, 'latin1').toString('utf8');
  if (Buffer.from(utf8, 'utf8').toString('latin1') !== name) {
    return Promise.reject(new FsError(A.EINVAL, 'FIFO names must be UTF-8 (they pass through mkfifo)'));
  }
  return new Promise<void>((resolve, reject) => {
    let err = '';
    const child = spawn('mkfifo', ['-m', (perm & 0o7777).toString(8), '--', `/proc/self/fd/3/${utf8}`], { stdio: ['ignore', 'ignore', 'pipe', dirfd] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString().slice(0, 200)));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new FsError(A.EPERM, `mkfifo: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new FsError(/exists/i.test(err) ? A.EEXIST : A.EACCES, `mkfifo: ${err.trim()}`));
    });
  });
}
