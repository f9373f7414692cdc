// virtio-net's breakpoints on notifications for the debugger (exception-breakpoint filters), and
// the extra fields their conditions can name, read from the first pending transmit frame:
// `ip_proto == 6 && dst_port == 80` stops on the guest's next HTTP request. Pure.

import { ETH_HLEN, NET_HDR_SIZE, RXQ, TXQ } from './proto';

export interface NetNotifyFilterDef {
  id: string;
  label: string;
  /** null: either queue. */
  queue: number | null;
  description: string;
}

export const NET_NOTIFY_FILTERS: readonly NetNotifyFilterDef[] = [
  { id: 'virtio-net', label: 'virtio-net notify', queue: null, description: 'Stop when the guest kicks either queue of the network card.' },
  {
    id: 'virtio-net-tx',
    label: 'virtio-net TX notify',
    queue: TXQ,
    description: 'Stop when the guest queues frames to send (transmitq1). Conditions can test the first pending frame: frame_len, ethertype, ip_proto, src_port, dst_port.',
  },
  { id: 'virtio-net-rx', label: 'virtio-net RX notify', queue: RXQ, description: 'Stop when the guest hands the card receive buffers (receiveq1).' },
];

export interface NetConditionFields {
  /** Frame length without the virtio header; -1 when there is no pending transmit frame. */
  frame_len: number;
  ethertype: number;
  /** IPv4 protocol / IPv6 next header (6 TCP, 17 UDP, 1 ICMP); -1 for other frames. */
  ip_proto: number;
  src_port: number;
  dst_port: number;
}

export const NET_CONDITION_FIELDS: readonly (keyof NetConditionFields)[] = ['frame_len', 'ethertype', 'ip_proto', 'src_port', 'dst_port'];

/**
 * The fields for a kick on `queue`, given the first readable bytes (up to 64) of its first pending
 * chain and that chain's readable length; every field -1 when it does not apply.
 */
export function netConditionFields(queue: number, readable: Uint8Array | null, readableLength: number): NetConditionFields {
  const f: NetConditionFields = { frame_len: -1, ethertype: -1, ip_proto: -1, src_port: -1, dst_port: -1 };
  if (queue !== TXQ || readable === null || readableLength < NET_HDR_SIZE) return f;
  f.frame_len = readableLength - NET_HDR_SIZE;
  const b = readable.subarray(NET_HDR_SIZE);
  if (b.length < ETH_HLEN) return f;
  f.ethertype = (b[12] << 8) | b[13];
  let l4: Uint8Array;
  if (f.ethertype === 0x0800 && b.length >= ETH_HLEN + 20) {
    f.ip_proto = b[ETH_HLEN + 9];
    l4 = b.subarray(ETH_HLEN + (b[ETH_HLEN] & 15) * 4);
  } else if (f.ethertype === 0x86dd && b.length >= ETH_HLEN + 40) {
    f.ip_proto = b[ETH_HLEN + 6];
    l4 = b.subarray(ETH_HLEN + 40);
  } else {
    return f;
  }
  if ((f.ip_proto === 6 || f.ip_proto === 17) && l4.length >= 4) {
    f.src_port = (l4[0] << 8) | l4[1];
    f.dst_port = (l4[2] << 8) | l4[3];
  }
  return f;
}
