// Classic libpcap files (the format Wireshark and tcpdump open everywhere): a 24-byte global
// header, then per frame a 16-byte record header and the bytes. Microsecond timestamps,
// LINKTYPE_ETHERNET, little-endian (the magic tells readers the byte order). Pure formatting
// here; the I/O thread appends the bytes to the file.

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const LINKTYPE_ETHERNET = 1;
export const PCAP_SNAPLEN = 65535;
export const PCAP_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;

export function pcapFileHeader(): Uint8Array {
  const b = new Uint8Array(PCAP_HEADER_BYTES);
  const v = new DataView(b.buffer);
  v.setUint32(0, PCAP_MAGIC_US, true);
  v.setUint16(4, 2, true); // version 2.4
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true); // thiszone: UTC
  v.setUint32(12, 0, true); // sigfigs
  v.setUint32(16, PCAP_SNAPLEN, true);
  v.setUint32(20, LINKTYPE_ETHERNET, true);
  return b;
}

/** Writes a record header for a frame of `len` bytes seen at `epochMicros` into out[at, +16). */
export function putPcapRecordHeader(out: Uint8Array, at: number, epochMicros: number, len: number): void {
  const sec = Math.floor(epochMicros / 1e6);
  const usec = Math.floor(epochMicros - sec * 1e6);
  const caplen = Math.min(len, PCAP_SNAPLEN);
  putU32le(out, at, sec);
  putU32le(out, at + 4, usec);
  putU32le(out, at + 8, caplen);
  putU32le(out, at + 12, len);
}

function putU32le(out: Uint8Array, at: number, v: number): void {
  out[at] = v;
  out[at + 1] = v >>> 8;
  out[at + 2] = v >>> 16;
  out[at + 3] = v >>> 24;
}

export interface PcapRecord {
  sec: number;
  usec: number;
  /** The captured bytes (caplen of them). */
  data: Uint8Array;
  /** The frame's length on the wire. */
  origLen: number;
}

/** Parses a whole classic pcap file; throws on anything malformed (for tests and tools). */
export function parsePcap(file: Uint8Array): { linktype: number; snaplen: number; records: PcapRecord[] } {
  if (file.length < PCAP_HEADER_BYTES) throw new Error(`pcap: ${file.length} bytes is shorter than the 24-byte header`);
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = v.getUint32(0, true);
  const le = magic === PCAP_MAGIC_US;
  if (!le && v.getUint32(0, false) !== PCAP_MAGIC_US) throw new Error(`pcap: bad magic 0x${magic.toString(16)}`);
  const major = v.getUint16(4, le);
  const minor = v.getUint16(6, le);
  if (major !== 2 || minor !== 4) throw new Error(`pcap: version ${major}.${minor}, expected 2.4`);
  const snaplen = v.getUint32(16, le);
  const linktype = v.getUint32(20, le);
  const records: PcapRecord[] = [];
  let at = PCAP_HEADER_BYTES;
  while (at < file.length) {
    if (at + PCAP_RECORD_HEADER_BYTES > file.length) throw new Error(`pcap: record header at ${at} is cut short`);
    const sec = v.getUint32(at, le);
    const usec = v.getUint32(at + 4, le);
    const caplen = v.getUint32(at + 8, le);
    const origLen = v.getUint32(at + 12, le);
    if (usec >= 1e6) throw new Error(`pcap: record at ${at} has ${usec} microseconds`);
    if (caplen > snaplen || caplen > origLen) throw new Error(`pcap: record at ${at} captures ${caplen} of ${origLen} bytes (snaplen ${snaplen})`);
    if (at + 16 + caplen > file.length) throw new Error(`pcap: record at ${at} is cut short`);
    records.push({ sec, usec, origLen, data: file.subarray(at + 16, at + 16 + caplen) });
    at += 16 + caplen;
  }
  return { linktype, snaplen, records };
}
