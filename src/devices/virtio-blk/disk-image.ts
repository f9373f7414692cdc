// A raw disk image file behind virtio-blk: opened once, read and written in place with positioned
// synchronous I/O (guest RAM is a SharedArrayBuffer, so reads land in guest memory directly).

import * as fs from 'node:fs';

export const SECTOR_SIZE = 512;

export interface DiskImageOptions {
  readOnly?: boolean;
}

export class DiskImage {
  readonly path: string;
  readonly size: number;
  readonly readOnly: boolean;
  private fd: number;

  private constructor(path: string, fd: number, size: number, readOnly: boolean) {
    this.path = path;
    this.fd = fd;
    this.size = size;
    this.readOnly = readOnly;
  }

  /** Opens `path` ('r+', or 'r' read-only). Throws an Error that says what to do. */
  static open(path: string, opts: DiskImageOptions = {}): DiskImage {
    const readOnly = opts.readOnly === true;
    let fd: number;
    try {
      fd = fs.openSync(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      throw new Error(openError(path, readOnly, e as NodeJS.ErrnoException));
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw new Error(`disk image ${path} is not a regular file`);
      const size = st.size;
      if (size === 0) throw new Error(`disk image ${path} is empty: create one with e.g. "truncate -s 64M ${path}" and mkfs`);
      if (size % SECTOR_SIZE !== 0) {
        const up = Math.ceil(size / SECTOR_SIZE) * SECTOR_SIZE;
        throw new Error(`disk image ${path} is ${size} bytes, not a multiple of ${SECTOR_SIZE}: pad it with "truncate -s ${up} ${path}"`);
      }
      return new DiskImage(path, fd, size, readOnly);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  get sectors(): number {
    return this.size / SECTOR_SIZE;
  }

  get isOpen(): boolean {
    return this.fd >= 0;
  }

  /** Reads exactly `length` bytes at `position` into dst[offset..]; throws on a short read. */
  readInto(dst: Uint8Array, offset: number, length: number, position: number): void {
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, dst, offset + done, length - done, position + done);
      if (n === 0) throw new Error(`short read at byte ${position + done} of ${this.path}`);
      done += n;
    }
  }

  /** Writes src[offset, offset+length) at `position`. */
  writeFrom(src: Uint8Array, offset: number, length: number, position: number): void {
    if (this.readOnly) throw new Error(`${this.path} is read-only`);
    let done = 0;
    while (done < length) done += fs.writeSync(this.fd, src, offset + done, length - done, position + done);
  }

  flush(): void {
    if (!this.readOnly && this.fd >= 0) fs.fsyncSync(this.fd);
  }

  /** fsyncs (when writable) and closes; safe to call twice. */
  close(): void {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

function openError(path: string, readOnly: boolean, e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return `disk image ${path} does not exist: create one with e.g. "truncate -s 64M ${path} && mkfs.ext2 ${path}"`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return readOnly
        ? `cannot read disk image ${path}: ${e.code} (check its permissions)`
        : `cannot open disk image ${path} for writing (${e.code}): fix its permissions or attach it read-only`;
    case 'EISDIR':
      return `disk image ${path} is a directory, not an image file`;
    default:
      return `cannot open disk image ${path}: ${e.message}`;
  }
}
