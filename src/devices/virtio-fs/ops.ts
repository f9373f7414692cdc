// Opcode → operation. INIT and DESTROY are the server's own (server.ts); every opcode not listed
// answers ENOSYS, which the kernel remembers (no_xattr, no_lock, no_statx...) and does not send
// again: xattrs, POSIX locks (the guest keeps them local: FUSE_POSIX_LOCKS is not offered), ioctl,
// poll, bmap, copy_file_range, DAX mappings, tmpfile, statx.

import * as A from './abi';
import { NO_REPLY, type FuseRequest } from './request';
import type { FuseServer } from './server';
import * as E from './ops-entries';
import * as F from './ops-files';
import * as D from './ops-dirs';

export type Operation = (s: FuseServer, req: FuseRequest) => number | Promise<number>;

export const opsByCode: Readonly<Record<number, Operation>> = {
  [A.FUSE_LOOKUP]: E.lookup,
  [A.FUSE_FORGET]: E.forget,
  [A.FUSE_BATCH_FORGET]: E.batchForget,
  [A.FUSE_GETATTR]: F.getattr,
  [A.FUSE_SETATTR]: F.setattr,
  [A.FUSE_READLINK]: E.readlink,
  [A.FUSE_SYMLINK]: E.symlink,
  [A.FUSE_MKNOD]: E.mknod,
  [A.FUSE_MKDIR]: E.mkdir,
  [A.FUSE_UNLINK]: E.unlink,
  [A.FUSE_RMDIR]: E.rmdir,
  [A.FUSE_RENAME]: E.rename,
  [A.FUSE_RENAME2]: E.rename2,
  [A.FUSE_LINK]: E.link,
  [A.FUSE_OPEN]: F.open,
  [A.FUSE_CREATE]: F.create,
  [A.FUSE_READ]: F.read,
  [A.FUSE_WRITE]: F.write,
  [A.FUSE_STATFS]: F.statfs,
  [A.FUSE_RELEASE]: F.release,
  [A.FUSE_FSYNC]: F.fsync,
  [A.FUSE_FLUSH]: F.flush,
  [A.FUSE_ACCESS]: F.access,
  [A.FUSE_FALLOCATE]: F.fallocate,
  [A.FUSE_LSEEK]: F.lseek,
  [A.FUSE_OPENDIR]: D.opendir,
  [A.FUSE_READDIR]: D.readdir,
  [A.FUSE_READDIRPLUS]: D.readdirplus,
  [A.FUSE_RELEASEDIR]: D.releasedir,
  [A.FUSE_FSYNCDIR]: D.fsyncdir,
  // Cannot stop a host call already in the thread pool; the request completes normally.
  [A.FUSE_INTERRUPT]: () => NO_REPLY,
  // Writes are not buffered here: there is nothing to sync beyond what each FSYNC does.
  [A.FUSE_SYNCFS]: () => 0,
};
