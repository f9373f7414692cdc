// Frames a test sends as a guest would, and a parser for what comes back — just enough
// Ethernet/ARP/IPv4/UDP/DHCP to talk to a real passt without a guest.

export const GUEST_MAC = Uint8Array.from([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
const BROADCAST = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

function eth(dst: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(dst, 0);
  f.set(GUEST_MAC, 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(payload, 14);
  return f;
}

function checksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i] << 8) | b[i + 1];
  if (b.length & 1) s += b[b.length - 1] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

/** An IPv4 packet (header checksummed) carrying `payload`, protocol `proto`. */
function ipv4(proto: number, src: number[], dst: number[], payload: Uint8Array): Uint8Array {
  const ip = new Uint8Array(20 + payload.length);
  const v = new DataView(ip.buffer);
  ip[0] = 0x45;
  v.setUint16(2, ip.length);
  ip[8] = 64;
  ip[9] = proto;
  ip.set(src, 12);
  ip.set(dst, 16);
  v.setUint16(10, checksum(ip.subarray(0, 20)));
  ip.set(payload, 20);
  return ip;
}

function ipv4Udp(src: number[], dst: number[], sport: number, dport: number, data: Uint8Array): Uint8Array {
  const udp = new Uint8Array(8 + data.length);
  const v = new DataView(udp.buffer);
  v.setUint16(0, sport);
  v.setUint16(2, dport);
  v.setUint16(4, udp.length);
  udp.set(data, 8); // UDP checksum 0: none (allowed over IPv4)
  return ipv4(17, src, dst, udp);
}

/** An ICMP echo request from `src` to `dst` (unicast to `dstMac`) with sequence `seq`. */
export function icmpEcho(dstMac: Uint8Array, src: number[], dst: number[], seq: number): Uint8Array {
  const icmp = new Uint8Array(8 + 16);
  const v = new DataView(icmp.buffer);
  icmp[0] = 8; // echo request
  v.setUint16(4, 0x5e3a);
  v.setUint16(6, seq);
  for (let i = 8; i < icmp.length; i++) icmp[i] = i;
  v.setUint16(2, checksum(icmp));
  return eth(dstMac, 0x0800, ipv4(1, src, dst, icmp));
}

/** A DHCPDISCOVER (RFC 2131) with transaction id `xid`. */
export function dhcpDiscover(xid = 0x5e3a1234): Uint8Array {
  const d = new Uint8Array(240 + 4);
  const v = new DataView(d.buffer);
  d[0] = 1; // BOOTREQUEST
  d[1] = 1; // Ethernet
  d[2] = 6;
  v.setUint32(4, xid);
  v.setUint16(10, 0x8000); // broadcast reply
  d.set(GUEST_MAC, 28);
  v.setUint32(236, 0x63825363); // magic cookie
  d.set([53, 1, 1, 255], 240); // DHCPDISCOVER, end
  return eth(BROADCAST, 0x0800, ipv4Udp([0, 0, 0, 0], [255, 255, 255, 255], 68, 67, d));
}

/** An ARP who-has for `target` from `sender`. */
export function arpRequest(sender: number[], target: number[]): Uint8Array {
  const a = new Uint8Array(28);
  const v = new DataView(a.buffer);
  v.setUint16(0, 1);
  v.setUint16(2, 0x0800);
  a[4] = 6;
  a[5] = 4;
  v.setUint16(6, 1);
  a.set(GUEST_MAC, 8);
  a.set(sender, 14);
  a.set(target, 24);
  return eth(BROADCAST, 0x0806, a);
}

export interface DhcpReply {
  type: number;
  xid: number;
  yiaddr: string;
  router: string | null;
  mtu: number | null;
}

/** Parses a DHCP reply frame; null if the frame is not one. */
export function parseDhcpReply(f: Uint8Array): DhcpReply | null {
  if (f.length < 14 + 20 + 8 + 240 || f[12] !== 8 || f[13] !== 0) return null;
  const ip = 14;
  if (f[ip + 9] !== 17) return null;
  const udp = ip + (f[ip] & 15) * 4;
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  if (v.getUint16(udp) !== 67 || v.getUint16(udp + 2) !== 68) return null;
  const d = udp + 8;
  const out: DhcpReply = { type: 0, xid: v.getUint32(d + 4), yiaddr: [...f.subarray(d + 16, d + 20)].join('.'), router: null, mtu: null };
  for (let o = d + 240; o < f.length && f[o] !== 255; ) {
    if (f[o] === 0) {
      o++;
      continue;
    }
    const code = f[o];
    const len = f[o + 1];
    const val = f.subarray(o + 2, o + 2 + len);
    if (code === 53) out.type = val[0];
    if (code === 3 && len >= 4) out.router = [...val.subarray(0, 4)].join('.');
    if (code === 26 && len === 2) out.mtu = (val[0] << 8) | val[1];
    o += 2 + len;
  }
  return out;
}
