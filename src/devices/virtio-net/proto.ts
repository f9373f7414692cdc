// virtio-net's wire facts (VirtIO 1.2 §5.1): feature bits, the configuration space, the header
// that precedes every frame on both queues, and Ethernet limits. Pure constants and tiny helpers,
// no node: imports, so the extension host and the debug adapter can import them too.

/** Queue indices: one receive/transmit pair, no control queue (no feature here needs one). */
export const RXQ = 0;
export const TXQ = 1;
export const NET_QUEUE_NAMES = ['receiveq1', 'transmitq1'] as const;

// Feature bits (§5.1.3) — the ones this device offers, and the ones a driver must not use unoffered.
export const VIRTIO_NET_F_CSUM = 0;
export const VIRTIO_NET_F_GUEST_CSUM = 1;
export const VIRTIO_NET_F_MTU = 3;
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_MRG_RXBUF = 15;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_F_CTRL_VQ = 17;

/** Config space `status` bits (§5.1.4). */
export const VIRTIO_NET_S_LINK_UP = 1;

// struct virtio_net_config offsets (§5.1.4); we expose mac, status, max_virtqueue_pairs, mtu.
export const CFG_MAC = 0;
export const CFG_STATUS = 6;
export const CFG_MAX_VQ_PAIRS = 8;
export const CFG_MTU = 10;
export const NET_CONFIG_SIZE = 12;

/**
 * struct virtio_net_hdr_v1 (§5.1.6): flags u8, gso_type u8, hdr_len u16, gso_size u16,
 * csum_start u16, csum_offset u16, num_buffers u16 — 12 bytes whenever VIRTIO_F_VERSION_1 is
 * negotiated, which this transport requires.
 */
export const NET_HDR_SIZE = 12;
export const HDR_FLAGS = 0;
export const HDR_GSO_TYPE = 1;
export const HDR_NUM_BUFFERS = 10;
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const GSO_NAMES: Readonly<Record<number, string>> = { 0: 'NONE', 1: 'TCPV4', 3: 'UDP', 4: 'TCPV6', 5: 'UDP_L4', 0x80: 'ECN' };

/** Ethernet: header (dst, src, EtherType), and the largest frame for an MTU (802.1Q tag allowed). */
export const ETH_HLEN = 14;
export const VLAN_HLEN = 4;
export const DEFAULT_MTU = 1500;
/** The frame limit of the stream protocol's peers (passt's MTU ceiling 65520 + Ethernet header). */
export const MAX_STREAM_FRAME = 65535 + ETH_HLEN;

export function maxFrameFor(mtu: number): number {
  return mtu + ETH_HLEN + VLAN_HLEN;
}

/** QEMU's default MAC prefix (locally administered 52:54:00), with semu's last octets. */
export const DEFAULT_MAC = '52:54:00:12:34:56';

/** "52:54:00:12:34:56" → 6 bytes; null unless six hex octets, unicast (bit 0 of octet 0 clear). */
export function parseMac(text: string): Uint8Array | null {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(text.trim());
  if (!m) return null;
  const b = new Uint8Array(6);
  for (let i = 0; i < 6; i++) b[i] = parseInt(m[i + 1], 16);
  if (b[0] & 1) return null;
  return b;
}

export function formatMac(b: ArrayLike<number>, off = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + (b[off + i] & 0xff).toString(16).padStart(2, '0');
  return s;
}
