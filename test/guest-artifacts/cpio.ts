// A reader for the "newc" cpio format (what the kernel unpacks as an initramfs): 110-byte ASCII
// headers with 8-digit hex fields, the name and the data each padded to 4 bytes, "TRAILER!!!"
// at the end.

export interface CpioEntry {
  name: string;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  rdevMajor: number;
  rdevMinor: number;
  data: Buffer;
}

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFREG = 0o100000;

const HEADER_LEN = 110;
const align4 = (n: number): number => (n + 3) & ~3;

export function parseNewc(buf: Buffer): CpioEntry[] {
  const entries: CpioEntry[] = [];
  let off = 0;
  for (;;) {
    if (off + HEADER_LEN > buf.length) throw new Error(`cpio: truncated header at ${off}`);
    const magic = buf.toString('latin1', off, off + 6);
    if (magic !== '070701' && magic !== '070702') throw new Error(`cpio: bad magic ${JSON.stringify(magic)} at ${off}`);
    const field = (i: number): number => {
      const s = buf.toString('latin1', off + 6 + i * 8, off + 14 + i * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(s)) throw new Error(`cpio: bad hex field ${i} at ${off}`);
      return parseInt(s, 16);
    };
    const nameSize = field(11);
    const fileSize = field(6);
    const nameStart = off + HEADER_LEN;
    if (nameSize < 1 || nameStart + nameSize > buf.length) throw new Error(`cpio: bad name size at ${off}`);
    const name = buf.toString('latin1', nameStart, nameStart + nameSize - 1);
    const dataStart = align4(nameStart + nameSize);
    if (dataStart + fileSize > buf.length) throw new Error(`cpio: truncated data of ${name}`);
    if (name === 'TRAILER!!!') return entries;
    entries.push({
      name: name.startsWith('/') ? name : '/' + name,
      ino: field(0),
      mode: field(1),
      uid: field(2),
      gid: field(3),
      nlink: field(4),
      mtime: field(5),
      rdevMajor: field(9),
      rdevMinor: field(10),
      data: buf.subarray(dataStart, dataStart + fileSize),
    });
    off = align4(dataStart + fileSize);
  }
}
