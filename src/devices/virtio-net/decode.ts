// One-line summaries of virtio-net chains and Ethernet frames for the virtqueue inspector and the
// Devices scope: the virtio header when it says anything, then the frame — Ethernet, ARP,
// IPv4/IPv6, TCP (ports, flags, payload length), UDP (ports, DHCP/DNS named), ICMP. Pure and
// total: any bytes, however short or hostile, give a string, never an exception.

import { ETH_HLEN, GSO_NAMES, HDR_FLAGS, HDR_GSO_TYPE, NET_HDR_SIZE, RXQ, TXQ, formatMac } from './proto';

const TCP_FLAGS = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];
const ICMP_TYPES: Readonly<Record<number, string>> = { 0: 'echo reply', 3: 'unreachable', 8: 'echo request', 11: 'time exceeded' };
const ICMP6_TYPES: Readonly<Record<number, string>> = { 1: 'unreachable', 128: 'echo request', 129: 'echo reply', 133: 'router solicitation', 134: 'router advertisement', 135: 'neighbour solicitation', 136: 'neighbour advertisement' };
const WELL_KNOWN_UDP: Readonly<Record<number, string>> = { 53: 'DNS', 67: 'DHCP', 68: 'DHCP', 123: 'NTP', 546: 'DHCPv6', 547: 'DHCPv6' };

/**
 * The inspector's decoder for virtio-net (ChainDecoder): `readable` holds up to the first 64
 * readable bytes, the lengths are the chain's totals.
 */
export function describeNetChain(queue: number, readable: Uint8Array, readableLength: number, writableLength: number): string {
  if (queue === RXQ) {
    if (readableLength !== 0) return `bad receive chain: ${readableLength} device-readable bytes`;
    return `receive buffer ${writableLength} B (frames up to ${Math.max(0, writableLength - NET_HDR_SIZE)} B)`;
  }
  if (queue !== TXQ) return `queue ${queue}`;
  if (writableLength !== 0) return `bad transmit chain: ${writableLength} device-writable bytes`;
  if (readableLength < NET_HDR_SIZE) return `bad transmit chain: ${readableLength} B, no virtio-net header`;
  const hdr = describeNetHeader(readable);
  const frameLen = readableLength - NET_HDR_SIZE;
  const shown = readable.subarray(NET_HDR_SIZE);
  return `tx ${frameLen} B${hdr ? ` [${hdr}]` : ''}: ${describeFrame(shown, frameLen)}`;
}

/** The header's offload requests, '' when none (the usual case: none are negotiated). */
export function describeNetHeader(b: Uint8Array): string {
  if (b.length < NET_HDR_SIZE) return '';
  const parts: string[] = [];
  if (b[HDR_FLAGS] !== 0) parts.push(`flags 0x${b[HDR_FLAGS].toString(16)}`);
  if (b[HDR_GSO_TYPE] !== 0) parts.push(`gso ${GSO_NAMES[b[HDR_GSO_TYPE]] ?? `0x${b[HDR_GSO_TYPE].toString(16)}`}`);
  return parts.join(', ');
}

/** Summarises a frame from its first bytes (`b`); `wireLength` is the whole frame's length. */
export function describeFrame(b: Uint8Array, wireLength = b.length): string {
  if (wireLength < ETH_HLEN) return `runt frame (${wireLength} B)`;
  if (b.length < ETH_HLEN) return 'Ethernet (header not visible)';
  let type = be16(b, 12);
  let off = ETH_HLEN;
  let vlan = '';
  if (type === 0x8100 && b.length >= 18) {
    vlan = `VLAN ${be16(b, 14) & 0xfff} `;
    type = be16(b, 16);
    off = 18;
  }
  const body = b.subarray(off);
  if (type === 0x0800) return vlan + describeIpv4(body);
  if (type === 0x86dd) return vlan + describeIpv6(body);
  if (type === 0x0806) return vlan + describeArp(body);
  return `${vlan}${formatMac(b, 6)} → ${formatMac(b, 0)} EtherType 0x${type.toString(16).padStart(4, '0')}`;
}

function describeArp(b: Uint8Array): string {
  if (b.length < 28 || be16(b, 0) !== 1 || be16(b, 2) !== 0x0800) return 'ARP';
  const op = be16(b, 6);
  if (op === 1) return `ARP who-has ${ipv4(b, 24)} tell ${ipv4(b, 14)}`;
  if (op === 2) return `ARP ${ipv4(b, 14)} is-at ${formatMac(b, 8)}`;
  return `ARP op ${op}`;
}

function describeIpv4(b: Uint8Array): string {
  if (b.length < 20 || b[0] >> 4 !== 4) return 'IPv4 (header not visible)';
  const ihl = (b[0] & 15) * 4;
  const proto = b[9];
  const src = ipv4(b, 12);
  const dst = ipv4(b, 16);
  const total = be16(b, 2);
  const frag = be16(b, 6) & 0x1fff ? ' fragment' : '';
  return describeL4('IPv4', proto, src, dst, b.subarray(ihl), total - ihl, frag);
}

function describeIpv6(b: Uint8Array): string {
  if (b.length < 40 || b[0] >> 4 !== 6) return 'IPv6 (header not visible)';
  return describeL4('IPv6', b[6], ipv6(b, 8), ipv6(b, 24), b.subarray(40), be16(b, 4), '');
}

function describeL4(ip: string, proto: number, src: string, dst: string, l4: Uint8Array, l4Len: number, frag: string): string {
  if (proto === 6) {
    if (l4.length < 14) return `${ip} TCP ${src} → ${dst}${frag}`;
    const flags = TCP_FLAGS.filter((_, i) => l4[13] & (1 << i)).join(',');
    const payload = l4Len - (l4[12] >> 4) * 4;
    return `${ip} TCP ${src}:${be16(l4, 0)} → ${dst}:${be16(l4, 2)} [${flags}] len ${Math.max(0, payload)}${frag}`;
  }
  if (proto === 17) {
    if (l4.length < 4) return `${ip} UDP ${src} → ${dst}${frag}`;
    const sp = be16(l4, 0);
    const dp = be16(l4, 2);
    const name = WELL_KNOWN_UDP[dp] ?? WELL_KNOWN_UDP[sp];
    return `${ip} UDP ${src}:${sp} → ${dst}:${dp}${name ? ` ${name}` : ''} len ${Math.max(0, l4Len - 8)}${frag}`;
  }
  if (proto === 1 || proto === 58) {
    const icmp = proto === 1 ? 'ICMP' : 'ICMPv6';
    if (l4.length < 2) return `${ip} ${icmp} ${src} → ${dst}`;
    const what = (proto === 1 ? ICMP_TYPES : ICMP6_TYPES)[l4[0]] ?? `type ${l4[0]} code ${l4[1]}`;
    return `${ip} ${icmp} ${src} → ${dst} ${what}`;
  }
  return `${ip} proto ${proto} ${src} → ${dst}${frag}`;
}

function be16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function ipv4(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6(b: Uint8Array, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(be16(b, at + 2 * i).toString(16));
  // Shorten the longest run of zero groups to '::' (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
