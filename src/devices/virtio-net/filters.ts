// virtio-net's breakpoints on notifications for the debugger (exception-breakpoint filters), and
// the extra fields their conditions can name, read from the first pending transmit chain's first
// bytes (virtio header, then the frame): `ip_proto == 6 && dst_port == 80` stops on the guest's
// next HTTP request. Pure.

import type { ConditionField, NotifyFilterSpec } from '../descriptor';
import { ETH_HLEN, NET_HDR_SIZE, RXQ, TXQ } from './proto';

export const NET_NOTIFY_FILTERS: readonly NotifyFilterSpec[] = [
  { id: 'virtio-net', label: 'virtio-net notify', queue: null, description: 'Stop when the guest kicks either queue of the network card.' },
  {
    id: 'virtio-net-tx',
    label: 'virtio-net TX notify',
    queue: TXQ,
    description: 'Stop when the guest queues frames to send (transmitq1). Conditions can test the first pending frame: ethertype, ip_proto, src_port, dst_port.',
  },
  { id: 'virtio-net-rx', label: 'virtio-net RX notify', queue: RXQ, description: 'Stop when the guest hands the card receive buffers (receiveq1).' },
];

/** Where the frame starts in a transmit chain, and its Ethernet payload. */
const ETH = NET_HDR_SIZE;
const L3 = NET_HDR_SIZE + ETH_HLEN;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;

function ethertype(b: Uint8Array): number {
  return (b[ETH + 12] << 8) | b[ETH + 13];
}

/** IPv4 protocol / IPv6 next header, or -1 (not IP, or not within `length`). */
export function ipProto(b: Uint8Array, length: number): number {
  const et = ethertype(b);
  if (et === ETHERTYPE_IPV4 && length >= L3 + 10 && b[L3] >> 4 === 4) return b[L3 + 9];
  if (et === ETHERTYPE_IPV6 && length >= L3 + 7 && b[L3] >> 4 === 6) return b[L3 + 6];
  return -1;
}

/** A TCP or UDP port (`at` 0: source, 2: destination), or -1. IPv6 ports lie past the bytes read. */
export function l4Port(b: Uint8Array, length: number, at: 0 | 2): number {
  const proto = ipProto(b, length);
  if (proto !== 6 && proto !== 17) return -1;
  let l4: number;
  if (ethertype(b) === ETHERTYPE_IPV4) {
    const ihl = (b[L3] & 15) * 4;
    // A fragment other than the first carries no port.
    if (ihl < 20 || (((b[L3 + 6] & 0x1f) << 8) | b[L3 + 7]) !== 0) return -1;
    l4 = L3 + ihl;
  } else {
    l4 = L3 + 40;
  }
  return l4 + at + 2 <= length ? (b[l4 + at] << 8) | b[l4 + at + 1] : -1;
}

export const NET_CONDITION_FIELDS: readonly ConditionField[] = [
  { name: 'ethertype', description: 'EtherType of the first pending transmit frame (0x800 IPv4, 0x806 ARP, 0x86dd IPv6)', queues: [TXQ], bytes: L3, read: ethertype },
  { name: 'ip_proto', description: 'IP protocol of the first pending transmit frame (6 TCP, 17 UDP, 1 ICMP)', queues: [TXQ], bytes: L3 + 7, read: ipProto },
  { name: 'src_port', description: 'TCP/UDP source port of the first pending transmit frame (IPv4)', queues: [TXQ], bytes: L3 + 24, read: (b, n) => l4Port(b, n, 0) },
  { name: 'dst_port', description: 'TCP/UDP destination port of the first pending transmit frame (IPv4)', queues: [TXQ], bytes: L3 + 24, read: (b, n) => l4Port(b, n, 2) },
];
