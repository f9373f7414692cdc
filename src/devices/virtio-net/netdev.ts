// How a person names a network backend and a port forward — the CLI's `-n/--netdev` and
// `--hostfwd`, the launch attributes `netdev` and `hostForward` — parsed into values, with
// messages that say what is accepted. Pure: no node: imports.

export type NetdevSpec = { kind: 'user' } | { kind: 'tap'; ifname: string } | { kind: 'none' };

export class NetdevError extends Error {
  override name = 'NetdevError';
}

/** Linux interface names: 1-15 bytes, no '/', whitespace or ':' (dev_valid_name). */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
/** semu's plain `-n tap`: the kernel makes a new interface, tap0, tap1, ... (TUNSETIFF's %d). */
export const NEW_TAP = 'tap%d';

export function parseNetdev(text: string): NetdevSpec {
  const t = text.trim();
  if (t === 'user') return { kind: 'user' };
  if (t === 'none') return { kind: 'none' };
  if (t === 'tap') return { kind: 'tap', ifname: NEW_TAP };
  if (t === 'vmnet') throw new NetdevError('netdev "vmnet" is macOS\'s (semu on a Mac): here use user (passt, no root needed) or tap:NAME');
  if (t.startsWith('tap:')) {
    const ifname = t.slice(4);
    if (!IFNAME.test(ifname) || ifname === '.' || ifname === '..') {
      throw new NetdevError(`netdev "${text}": the tap interface name must be 1-15 letters, digits, '_', '.' or '-' (e.g. tap:tap0)`);
    }
    return { kind: 'tap', ifname };
  }
  throw new NetdevError(`unknown netdev "${text}": ${NETDEV_FORMS}`);
}

export const NETDEV_FORMS = 'use user (passt, no root needed), tap:NAME (a TAP interface; needs root or one made for you), tap (a new one, as semu) or none (no network card)';

/**
 * The MTU a backend wants: passt's own 65520 for user (it hands that out by DHCP too; a large
 * MTU halves the guest's CPU per MB, see docs/virtio-net.md), Ethernet's 1500 for a TAP
 * interface, whose host side is an ordinary 1500-byte link.
 */
export function defaultMtu(s: NetdevSpec): number {
  return s.kind === 'user' ? 65520 : 1500;
}

export function formatNetdev(s: NetdevSpec): string {
  return s.kind !== 'tap' ? s.kind : s.ifname === NEW_TAP ? 'tap' : `tap:${s.ifname}`;
}

export interface HostForward {
  proto: 'tcp' | 'udp';
  /** The host address to listen on: 127.0.0.1 unless the spec names one. */
  hostAddr: string;
  hostPort: number;
  guestPort: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * `tcp:HOSTPORT:GUESTPORT` (listen on the host's loopback only) or `tcp:ADDR:HOSTPORT:GUESTPORT`
 * (ADDR an IPv4 address, 0.0.0.0 for every interface); `udp:` likewise.
 */
export function parseHostForward(text: string): HostForward {
  const usage = `host forward "${text}": use tcp:HOSTPORT:GUESTPORT (host loopback) or tcp:ADDR:HOSTPORT:GUESTPORT, udp: likewise, ports 1-65535`;
  const parts = text.trim().split(':');
  if (parts.length !== 3 && parts.length !== 4) throw new NetdevError(usage);
  const proto = parts[0];
  if (proto !== 'tcp' && proto !== 'udp') throw new NetdevError(usage);
  const hostAddr = parts.length === 4 ? parts[1] : '127.0.0.1';
  if (!IPV4.test(hostAddr)) throw new NetdevError(`${usage}; "${hostAddr}" is not an IPv4 address`);
  const port = (s: string) => {
    if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) throw new NetdevError(`${usage}; "${s}" is not a port`);
    return Number(s);
  };
  return { proto, hostAddr, hostPort: port(parts[parts.length - 2]), guestPort: port(parts[parts.length - 1]) };
}

export function formatHostForward(f: HostForward): string {
  return `${f.proto} ${f.hostAddr}:${f.hostPort} → ${f.guestPort}`;
}
