// The FUSE wire format as Linux 6.12's include/uapi/linux/fuse.h defines it (protocol 7.41), and
// the virtio-fs device facts of VirtIO 1.2 §5.11. Pure constants and offsets: no node imports, so
// the debugger's chain decoder and the extension host can import this file too.
//
// Every structure is little-endian and padded to 8 bytes (fuse.h: "so 32bit userspace works under
// 64bit kernels"); offsets below are byte offsets inside each structure.

/** VirtIO device ID of a file system device (§5.11.1). */
export const VIRTIO_ID_FS = 26;
/** Bytes of `tag` in struct virtio_fs_config (§5.11.4): UTF-8, NUL-padded, not NUL-terminated when 36 long. */
export const TAG_BYTES = 36;
/** Config: tag[36], le32 num_request_queues (no notify_buf_size: VIRTIO_FS_F_NOTIFICATION is not offered). */
export const CONFIG_SIZE = 40;

export const FUSE_KERNEL_VERSION = 7;
/** The minor version this server speaks (Linux 6.12's). */
export const FUSE_KERNEL_MINOR_VERSION = 41;
/** Oldest minor accepted: 7.31 fixed every structure size used here (Linux 5.4+). */
export const FUSE_MIN_MINOR_VERSION = 31;
export const FUSE_ROOT_ID = 1;

// ---- opcodes (enum fuse_opcode) ----
export const FUSE_LOOKUP = 1;
export const FUSE_FORGET = 2;
export const FUSE_GETATTR = 3;
export const FUSE_SETATTR = 4;
export const FUSE_READLINK = 5;
export const FUSE_SYMLINK = 6;
export const FUSE_MKNOD = 8;
export const FUSE_MKDIR = 9;
export const FUSE_UNLINK = 10;
export const FUSE_RMDIR = 11;
export const FUSE_RENAME = 12;
export const FUSE_LINK = 13;
export const FUSE_OPEN = 14;
export const FUSE_READ = 15;
export const FUSE_WRITE = 16;
export const FUSE_STATFS = 17;
export const FUSE_RELEASE = 18;
export const FUSE_FSYNC = 20;
export const FUSE_SETXATTR = 21;
export const FUSE_GETXATTR = 22;
export const FUSE_LISTXATTR = 23;
export const FUSE_REMOVEXATTR = 24;
export const FUSE_FLUSH = 25;
export const FUSE_INIT = 26;
export const FUSE_OPENDIR = 27;
export const FUSE_READDIR = 28;
export const FUSE_RELEASEDIR = 29;
export const FUSE_FSYNCDIR = 30;
export const FUSE_GETLK = 31;
export const FUSE_SETLK = 32;
export const FUSE_SETLKW = 33;
export const FUSE_ACCESS = 34;
export const FUSE_CREATE = 35;
export const FUSE_INTERRUPT = 36;
export const FUSE_BMAP = 37;
export const FUSE_DESTROY = 38;
export const FUSE_IOCTL = 39;
export const FUSE_POLL = 40;
export const FUSE_NOTIFY_REPLY = 41;
export const FUSE_BATCH_FORGET = 42;
export const FUSE_FALLOCATE = 43;
export const FUSE_READDIRPLUS = 44;
export const FUSE_RENAME2 = 45;
export const FUSE_LSEEK = 46;
export const FUSE_COPY_FILE_RANGE = 47;
export const FUSE_SETUPMAPPING = 48;
export const FUSE_REMOVEMAPPING = 49;
export const FUSE_SYNCFS = 50;
export const FUSE_TMPFILE = 51;
export const FUSE_STATX = 52;
/** One past the highest opcode (per-opcode counter tables). */
export const FUSE_OPCODE_LIMIT = 53;

const OPCODE_NAMES: Record<number, string> = {
  1: 'LOOKUP', 2: 'FORGET', 3: 'GETATTR', 4: 'SETATTR', 5: 'READLINK', 6: 'SYMLINK', 8: 'MKNOD',
  9: 'MKDIR', 10: 'UNLINK', 11: 'RMDIR', 12: 'RENAME', 13: 'LINK', 14: 'OPEN', 15: 'READ', 16: 'WRITE',
  17: 'STATFS', 18: 'RELEASE', 20: 'FSYNC', 21: 'SETXATTR', 22: 'GETXATTR', 23: 'LISTXATTR',
  24: 'REMOVEXATTR', 25: 'FLUSH', 26: 'INIT', 27: 'OPENDIR', 28: 'READDIR', 29: 'RELEASEDIR',
  30: 'FSYNCDIR', 31: 'GETLK', 32: 'SETLK', 33: 'SETLKW', 34: 'ACCESS', 35: 'CREATE', 36: 'INTERRUPT',
  37: 'BMAP', 38: 'DESTROY', 39: 'IOCTL', 40: 'POLL', 41: 'NOTIFY_REPLY', 42: 'BATCH_FORGET',
  43: 'FALLOCATE', 44: 'READDIRPLUS', 45: 'RENAME2', 46: 'LSEEK', 47: 'COPY_FILE_RANGE',
  48: 'SETUPMAPPING', 49: 'REMOVEMAPPING', 50: 'SYNCFS', 51: 'TMPFILE', 52: 'STATX',
};

/** 'LOOKUP', or 'opcode 99' for one fuse.h does not name. */
export function opcodeName(op: number): string {
  return OPCODE_NAMES[op] ?? `opcode ${op}`;
}

// ---- INIT flags (fuse_init_in/out.flags) ----
export const FUSE_ASYNC_READ = 1 << 0;
export const FUSE_POSIX_LOCKS = 1 << 1;
export const FUSE_ATOMIC_O_TRUNC = 1 << 3;
export const FUSE_EXPORT_SUPPORT = 1 << 4;
export const FUSE_BIG_WRITES = 1 << 5;
export const FUSE_DONT_MASK = 1 << 6;
export const FUSE_AUTO_INVAL_DATA = 1 << 12;
export const FUSE_DO_READDIRPLUS = 1 << 13;
export const FUSE_READDIRPLUS_AUTO = 1 << 14;
export const FUSE_WRITEBACK_CACHE = 1 << 16;
export const FUSE_PARALLEL_DIROPS = 1 << 18;
export const FUSE_MAX_PAGES = 1 << 22;
export const FUSE_INIT_EXT = 1 << 30;

// ---- SETATTR valid bits ----
export const FATTR_MODE = 1 << 0;
export const FATTR_UID = 1 << 1;
export const FATTR_GID = 1 << 2;
export const FATTR_SIZE = 1 << 3;
export const FATTR_ATIME = 1 << 4;
export const FATTR_MTIME = 1 << 5;
export const FATTR_FH = 1 << 6;
export const FATTR_ATIME_NOW = 1 << 7;
export const FATTR_MTIME_NOW = 1 << 8;
export const FATTR_LOCKOWNER = 1 << 9;
export const FATTR_CTIME = 1 << 10;
export const FATTR_KILL_SUIDGID = 1 << 11;

/** fuse_open_out.open_flags: no FLUSH at each close (nothing is buffered here to flush). */
export const FOPEN_NOFLUSH = 1 << 5;

export const FUSE_GETATTR_FH = 1 << 0;
export const FUSE_FSYNC_FDATASYNC = 1 << 0;

/** RENAME2 flags (include/uapi/linux/fs.h). */
export const RENAME_NOREPLACE = 1 << 0;
export const RENAME_EXCHANGE = 1 << 1;
export const RENAME_WHITEOUT = 1 << 2;

/** FALLOCATE modes (include/uapi/linux/falloc.h). */
export const FALLOC_FL_KEEP_SIZE = 0x01;

/** LSEEK whence values the kernel forwards (SEEK_SET/CUR/END it answers itself). */
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

// ---- the guest's open(2) flags (asm-generic/fcntl.h, RISC-V's) ----
export const G_O_ACCMODE = 0o3;
export const G_O_RDONLY = 0o0;
export const G_O_WRONLY = 0o1;
export const G_O_RDWR = 0o2;
export const G_O_CREAT = 0o100;
export const G_O_EXCL = 0o200;
export const G_O_TRUNC = 0o1000;
export const G_O_APPEND = 0o2000;
export const G_O_DSYNC = 0o10000;
export const G_O_SYNC = 0o4010000;

// ---- file types (st_mode & S_IFMT) ----
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

// ---- structure sizes ----
export const IN_HEADER_SIZE = 40; // fuse_in_header
export const OUT_HEADER_SIZE = 16; // fuse_out_header
export const ATTR_SIZE = 88; // fuse_attr
export const ENTRY_OUT_SIZE = 40 + ATTR_SIZE; // fuse_entry_out
export const ATTR_OUT_SIZE = 16 + ATTR_SIZE; // fuse_attr_out
export const OPEN_OUT_SIZE = 16; // fuse_open_out
export const INIT_IN_SIZE = 64; // fuse_init_in (7.36+); 16 before
export const INIT_OUT_SIZE = 64; // fuse_init_out
export const STATFS_OUT_SIZE = 80; // fuse_kstatfs
export const WRITE_IN_SIZE = 40; // fuse_write_in
export const READ_IN_SIZE = 40; // fuse_read_in
export const SETATTR_IN_SIZE = 88; // fuse_setattr_in
export const DIRENT_HEADER = 24; // fuse_dirent before the name
export const FORGET_ONE_SIZE = 16; // fuse_forget_one

// ---- fuse_in_header offsets ----
export const IH_LEN = 0;
export const IH_OPCODE = 4;
export const IH_UNIQUE = 8;
export const IH_NODEID = 16;
export const IH_UID = 24;
export const IH_GID = 28;
export const IH_PID = 32;
export const IH_TOTAL_EXTLEN = 36;

/** FUSE_NAME_MAX in the kernel is 1024; hosts allow 255 bytes per name (NAME_MAX). */
export const NAME_MAX = 255;
/** Longest symlink target accepted (PATH_MAX including the NUL). */
export const PATH_MAX = 4096;

/** Rounds a dirent length up to 8 bytes (FUSE_DIRENT_ALIGN). */
export function direntAlign(n: number): number {
  return (n + 7) & ~7;
}

// ---- errno values the server answers with (asm-generic/errno*.h, what the guest's kernel uses) ----
export const EPERM = 1;
export const ENOENT = 2;
export const EIO = 5;
export const ENXIO = 6;
export const EBADF = 9;
export const ENOMEM = 12;
export const EACCES = 13;
export const EBUSY = 16;
export const EEXIST = 17;
export const EXDEV = 18;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENFILE = 23;
export const EFBIG = 27;
export const EROFS = 30;
export const ERANGE = 34;
export const ENAMETOOLONG = 36;
export const ENOSYS = 38;
export const ELOOP = 40;
export const EPROTO = 71;
export const EOVERFLOW = 75;
export const EOPNOTSUPP = 95;
export const ESTALE = 116;
