// Host file system calls for the virtio-fs server, all asynchronous (libuv's thread pool), so no
// host I/O ever runs on the emulator's CPU loop.
//
// Node has no openat(): every path handed to the host is `/proc/self/fd/<dirfd>/<one name>`, which
// Linux resolves relative to the directory descriptor (the magic link names the open directory
// itself, not a path string that could have been swapped), or `/proc/self/fd/<fd>` alone, which
// names exactly the inode behind an O_PATH descriptor. Names are kept as latin1 strings: one char
// per byte, so any byte sequence a Linux name can hold survives the round trip unchanged.

import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { EIO } from './abi';

/** Linux O_PATH (every architecture Node runs on except alpha/parisc/sparc). */
export const O_PATH = 0o10000000;
export const O_NOFOLLOW = fs.constants.O_NOFOLLOW;
export const O_DIRECTORY = fs.constants.O_DIRECTORY;
export const O_NONBLOCK = fs.constants.O_NONBLOCK;

/** A failure to answer with this errno (the guest's numbering, which Linux hosts share). */
export class FsError extends Error {
  constructor(
    readonly errno: number,
    message = `errno ${errno}`,
  ) {
    super(message);
  }
}

/** The errno for any failure: FsError's, the host's code (ENOENT → 2), else EIO. */
export function errnoOf(e: unknown): number {
  if (e instanceof FsError) return e.errno;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const n = code !== undefined ? (osConstants.errno as Record<string, number>)[code] : undefined;
  return typeof n === 'number' && n > 0 ? n : EIO;
}

/** `/proc/self/fd/<fd>` or `/proc/self/fd/<fd>/<name>` as bytes (name: latin1, one char per byte). */
export function fdPath(fd: number, name?: string): Buffer {
  return Buffer.from(name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`, 'latin1');
}

type Stats = fs.BigIntStats;

function cb<T>(run: (done: (e: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => run((e, v) => (e ? reject(e) : resolve(v))));
}

export const host = {
  open: (p: Buffer, flags: number, mode = 0o666) => cb<number>((d) => fs.open(p, flags, mode, d)),
  close: (fd: number) => cb<void>((d) => fs.close(fd, (e) => d(e, undefined))),
  fstat: (fd: number) => cb<Stats>((d) => fs.fstat(fd, { bigint: true }, d)),
  lstat: (p: Buffer) => cb<Stats>((d) => fs.lstat(p, { bigint: true }, d)),
  read: (fd: number, buf: Uint8Array, off: number, len: number, pos: number) => cb<number>((d) => fs.read(fd, buf, off, len, pos, d)),
  write: (fd: number, buf: Uint8Array, off: number, len: number, pos: number | null) => cb<number>((d) => fs.write(fd, buf, off, len, pos, d)),
  fsync: (fd: number, dataOnly: boolean) => cb<void>((d) => (dataOnly ? fs.fdatasync : fs.fsync)(fd, (e) => d(e, undefined))),
  ftruncate: (fd: number, len: number) => cb<void>((d) => fs.ftruncate(fd, len, (e) => d(e, undefined))),
  readlink: (p: Buffer) => cb<Buffer>((d) => fs.readlink(p, { encoding: 'buffer' }, d)),
  mkdir: (p: Buffer, mode: number) => cb<void>((d) => fs.mkdir(p, { mode }, (e) => d(e, undefined))),
  unlink: (p: Buffer) => cb<void>((d) => fs.unlink(p, (e) => d(e, undefined))),
  rmdir: (p: Buffer) => cb<void>((d) => fs.rmdir(p, (e) => d(e, undefined))),
  rename: (a: Buffer, b: Buffer) => cb<void>((d) => fs.rename(a, b, (e) => d(e, undefined))),
  link: (a: Buffer, b: Buffer) => cb<void>((d) => fs.link(a, b, (e) => d(e, undefined))),
  symlink: (target: Buffer, p: Buffer) => cb<void>((d) => fs.symlink(target, p, (e) => d(e, undefined))),
  chmod: (p: Buffer, mode: number) => cb<void>((d) => fs.chmod(p, mode, (e) => d(e, undefined))),
  chown: (p: Buffer, uid: number, gid: number) => cb<void>((d) => fs.chown(p, uid, gid, (e) => d(e, undefined))),
  lchown: (p: Buffer, uid: number, gid: number) => cb<void>((d) => fs.lchown(p, uid, gid, (e) => d(e, undefined))),
  truncate: (p: Buffer, len: number) => cb<void>((d) => fs.truncate(p, len, (e) => d(e, undefined))),
  utimes: (p: Buffer, at: number, mt: number) => cb<void>((d) => fs.utimes(p, at, mt, (e) => d(e, undefined))),
  lutimes: (p: Buffer, at: number, mt: number) => cb<void>((d) => fs.lutimes(p, at, mt, (e) => d(e, undefined))),
  access: (p: Buffer, mode: number) => cb<void>((d) => fs.access(p, mode, (e) => d(e, undefined))),
  statfs: (p: Buffer) => cb<fs.StatsFs>((d) => fs.statfs(p, d)),
  // encoding 'buffer' (untyped in @types/node): Dirent names come as bytes, whatever they hold.
  opendir: (p: Buffer) => cb<fs.Dir>((d) => fs.opendir(p, { encoding: 'buffer' as BufferEncoding, bufferSize: 64 }, d)),
  readFile: (p: string) => cb<string>((d) => fs.readFile(p, 'utf8', d)),
};

/** The mount a descriptor lives on (`mnt_id` of /proc/self/fdinfo/<fd>), or -1 if unreadable. */
export async function mountIdOf(fd: number): Promise<number> {
  const text = await host.readFile(`/proc/self/fdinfo/${fd}`);
  const m = /^mnt_id:\s*(\d+)/m.exec(text);
  return m ? Number(m[1]) : -1;
}

export function mountIdOfSync(fd: number): number {
  const m = /^mnt_id:\s*(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  return m ? Number(m[1]) : -1;
}
