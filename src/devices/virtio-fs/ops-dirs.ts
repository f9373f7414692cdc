// Directories: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR.
//
// A directory handle streams the host directory (fs.Dir: bounded memory however large it is).
// Entry k has the offset k + 1: "." is 0, ".." 1 (synthesised: at the share's root ".." is the root
// itself, never the host's parent), host entries from 2. A READDIR at the offset the stream is at
// continues it; any other offset (rewinddir, seekdir) reopens and skips. Each entry is lstat'ed
// (in parallel, per reply) for its inode number and type; READDIRPLUS also counts a lookup for
// each entry it returns, as the kernel will (nodeid 0 — no attributes — when the inode table is
// full or the entry is a mount point).

import * as fs from 'node:fs';
import type { BigIntStats, Dirent } from 'node:fs';
import * as A from './abi';
import { errnoOf, fdPath, FsError, host } from './host';
import type { Handle } from './handles';
import type { Inode } from './inodes';
import { direntPlusSize, direntSize } from './reply';
import { fixed, need, u64, type FuseRequest } from './request';
import type { FuseServer } from './server';
import { checkName } from './names';
import { releaseHandle } from './ops-files';

const DT_DIR = 4;
const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

export async function opendir(s: FuseServer, req: FuseRequest): Promise<number> {
  fixed(req, A.OPEN_OUT_SIZE);
  const n = s.dir(req);
  s.handles.checkRoom();
  const dir = await s.inodes.withFd(n, (fd) => host.opendir(fdPath(fd)));
  const h = s.handles.add(n, -1, dir, false);
  req.out.u64(0, h.fh);
  req.out.u32(8, 0);
  req.out.u32(12, 0);
  return A.OPEN_OUT_SIZE;
}

export const releasedir = (s: FuseServer, req: FuseRequest) => releaseHandle(s, req, true);

export async function fsyncdir(s: FuseServer, req: FuseRequest): Promise<number> {
  const dv = need(req, 12);
  await s.withHandle(u64(dv, 0), true, (h) =>
    s.inodes.withFd(h.inode, async (pfd) => {
      const fd = await host.open(fdPath(pfd), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      try {
        await host.fsync(fd, false);
      } finally {
        await host.close(fd);
      }
    }),
  );
  return 0;
}

export const readdir = (s: FuseServer, req: FuseRequest) => list(s, req, false);
export const readdirplus = (s: FuseServer, req: FuseRequest) => list(s, req, true);

/** One entry to return: its name and offset (its position + 1: where the next READDIR resumes). */
interface Pending {
  name: Buffer;
  off: number;
}

async function list(s: FuseServer, req: FuseRequest, plus: boolean): Promise<number> {
  const dv = need(req, 20);
  const offset = u64(dv, 8);
  const cap = Math.min(dv.getUint32(16, true), req.out.buf.length);
  return s.withHandle(u64(dv, 0), true, async (h) => {
    // The kernel reads a directory handle one request at a time; a guest that does not gets EBUSY.
    if (h.listing) throw new FsError(A.EBUSY, 'another READDIR on this handle is in progress');
    h.listing = true;
    try {
      if (offset !== h.dirPos) await seek(s, h, offset);
      return await encode(s, req, h, await take(h, cap, plus), plus);
    } finally {
      h.listing = false;
    }
  });
}

/** Entries from the stream that fit in `cap` bytes; the first that does not stays held. */
async function take(h: Handle, cap: number, plus: boolean): Promise<Pending[]> {
  const out: Pending[] = [];
  let used = 0;
  for (;;) {
    const pos = h.dirPos + out.length;
    let d: Dirent | null = null;
    let name: Buffer;
    if (pos === 0) name = DOT;
    else if (pos === 1) name = DOTDOT;
    else {
      d = h.held ?? (h.dir === null ? null : await h.dir.read());
      h.held = null;
      if (d === null) break;
      name = d.name as unknown as Buffer; // opened with encoding 'buffer'
      if (checkName(name.toString('latin1')) !== 0) continue;
    }
    const size = plus ? direntPlusSize(name.length) : direntSize(name.length);
    if (used + size > cap) {
      h.held = d;
      break;
    }
    used += size;
    out.push({ name, off: pos + 1 });
  }
  h.dirPos += out.length;
  return out;
}

/** Writes the batch: lstat every host entry at once, skip those gone meanwhile. */
async function encode(s: FuseServer, req: FuseRequest, h: Handle, batch: Pending[], plus: boolean): Promise<number> {
  const dir = h.inode;
  const stats = await s.inodes.withFd(dir, (fd) =>
    Promise.all(batch.map((p) => (p.off <= 2 ? Promise.resolve(null) : host.lstat(fdPath(fd, p.name.toString('latin1'))).catch((e) => e as Error)))),
  );
  const o = req.out;
  let at = 0;
  for (let i = 0; i < batch.length; i++) {
    const p = batch[i];
    const st = stats[i];
    if (st instanceof Error) {
      if (errnoOf(st) === A.ENOENT) continue; // removed since the stream read it
      throw st;
    }
    const ino = p.off === 1 ? dir.ino : p.off === 2 ? (dir.parent ?? dir).ino : st!.ino;
    const type = st === null ? DT_DIR : (Number(st.mode) & A.S_IFMT) >>> 12;
    if (plus) {
      writePlusEntry(s, req, at, dir, p.name, st);
      at += A.ENTRY_OUT_SIZE;
    }
    at += o.dirent(at, ino, p.off, type, p.name);
  }
  return at;
}

function writePlusEntry(s: FuseServer, req: FuseRequest, at: number, dir: Inode, name: Buffer, st: BigIntStats | null): void {
  if (st === null || st.dev !== s.inodes.rootDev) {
    req.out.entry(at, 0, null, s.valid); // ".", "..", a mount point: no lookup counted
    return;
  }
  try {
    const n = s.inodes.remember(dir, name.toString('latin1'), st);
    req.out.entry(at, n.nodeid, st, s.valid);
  } catch {
    req.out.entry(at, 0, null, s.valid);
  }
}

/** Reopens the stream and skips to `offset` (rewinddir / seekdir / a retried READDIR). */
async function seek(s: FuseServer, h: Handle, offset: number): Promise<void> {
  const old = h.dir;
  h.dir = await s.inodes.withFd(h.inode, (fd) => host.opendir(fdPath(fd)));
  h.held = null;
  h.dirPos = 0;
  if (old !== null) old.close().catch(() => {});
  const target = Math.min(offset, Number.MAX_SAFE_INTEGER);
  if (target <= 2) {
    h.dirPos = target;
    return;
  }
  h.dirPos = 2;
  while (h.dirPos < target) {
    const d = await h.dir.read();
    if (d === null) break;
    if (checkName((d.name as unknown as Buffer).toString('latin1')) === 0) h.dirPos++;
  }
}
