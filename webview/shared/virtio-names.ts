// Names from the VirtIO 1.2 specification for what the inspector shows: device types (§5),
// feature bits — the transport-reserved range 24..40 (§6) and the device-specific ones of the
// devices this machine has (§5.1.3 net, §5.2.3 block, §5.14.3 sound) — and descriptor flags
// (§2.7.5).

const DEVICE_TYPES: Record<number, string> = {
  1: 'network',
  2: 'block',
  3: 'console',
  4: 'entropy',
  5: 'memory balloon',
  8: 'SCSI host',
  9: '9P transport',
  16: 'GPU',
  18: 'input',
  19: 'socket',
  25: 'sound',
};

export function deviceTypeName(id: number): string {
  return DEVICE_TYPES[id] ?? `device type ${id}`;
}

const RESERVED: Record<number, string> = {
  24: 'NOTIFY_ON_EMPTY',
  27: 'ANY_LAYOUT',
  28: 'RING_INDIRECT_DESC',
  29: 'RING_EVENT_IDX',
  32: 'VERSION_1',
  33: 'ACCESS_PLATFORM',
  34: 'RING_PACKED',
  35: 'IN_ORDER',
  36: 'ORDER_PLATFORM',
  37: 'SR_IOV',
  38: 'NOTIFICATION_DATA',
  39: 'NOTIF_CONFIG_DATA',
  40: 'RING_RESET',
};

const BY_DEVICE: Record<number, Record<number, string>> = {
  1: {
    0: 'NET_F_CSUM',
    1: 'NET_F_GUEST_CSUM',
    2: 'NET_F_CTRL_GUEST_OFFLOADS',
    3: 'NET_F_MTU',
    5: 'NET_F_MAC',
    7: 'NET_F_GUEST_TSO4',
    8: 'NET_F_GUEST_TSO6',
    9: 'NET_F_GUEST_ECN',
    10: 'NET_F_GUEST_UFO',
    11: 'NET_F_HOST_TSO4',
    12: 'NET_F_HOST_TSO6',
    13: 'NET_F_HOST_ECN',
    14: 'NET_F_HOST_UFO',
    15: 'NET_F_MRG_RXBUF',
    16: 'NET_F_STATUS',
    17: 'NET_F_CTRL_VQ',
    18: 'NET_F_CTRL_RX',
    19: 'NET_F_CTRL_VLAN',
    21: 'NET_F_GUEST_ANNOUNCE',
    22: 'NET_F_MQ',
    23: 'NET_F_CTRL_MAC_ADDR',
    63: 'NET_F_SPEED_DUPLEX',
  },
  2: {
    1: 'BLK_F_SIZE_MAX',
    2: 'BLK_F_SEG_MAX',
    4: 'BLK_F_GEOMETRY',
    5: 'BLK_F_RO',
    6: 'BLK_F_BLK_SIZE',
    9: 'BLK_F_FLUSH',
    10: 'BLK_F_TOPOLOGY',
    11: 'BLK_F_CONFIG_WCE',
    12: 'BLK_F_MQ',
    13: 'BLK_F_DISCARD',
    14: 'BLK_F_WRITE_ZEROES',
    15: 'BLK_F_LIFETIME',
    16: 'BLK_F_SECURE_ERASE',
  },
  25: {
    0: 'SND_F_CTLS',
  },
};

export function featureName(deviceId: number, bit: number): string {
  return RESERVED[bit] ?? BY_DEVICE[deviceId]?.[bit] ?? `bit ${bit}`;
}

export interface FeatureBit {
  bit: number;
  name: string;
  offered: boolean; // in the device's feature set
  accepted: boolean; // in the driver's (negotiated) feature set
}

/** Every bit set on either side, lowest first. Words are [bits 0..31, bits 32..63]. */
export function featureBits(deviceId: number, device: [number, number], driver: [number, number]): FeatureBit[] {
  const out: FeatureBit[] = [];
  for (let bit = 0; bit < 64; bit++) {
    const w = bit >> 5;
    const mask = (1 << (bit & 31)) >>> 0;
    const offered = ((device?.[w] ?? 0) & mask) !== 0;
    const accepted = ((driver?.[w] ?? 0) & mask) !== 0;
    if (offered || accepted) out.push({ bit, name: featureName(deviceId, bit), offered, accepted });
  }
  return out;
}

/** Descriptor flags (§2.7.5): NEXT 1, WRITE 2, INDIRECT 4. */
export function descFlagNames(flags: number): string {
  const names: string[] = [];
  if (flags & 1) names.push('NEXT');
  if (flags & 2) names.push('WRITE');
  if (flags & 4) names.push('INDIRECT');
  const rest = flags & ~7 & 0xffff;
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

/** Device status bits (§2.1) that mean trouble: DEVICE_NEEDS_RESET 64, FAILED 128. */
export const STATUS_NEEDS_RESET = 64;
export const STATUS_FAILED = 128;
