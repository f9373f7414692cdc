// virtio-net, declared for the registry: the network card at semu's net slot (0xF410_0000,
// IRQ 2), semu's `-n`/`--netdev`, with a backend on a thread of its own (backend.ts): passt for
// user-mode networking without root, a TAP interface, or none. The device model is device.ts.

import type { DeviceDescriptor, StateNode } from '../descriptor';
import { VIRTIO_ID_NET } from '../../emulator/virtio/types';
import { VirtioNet } from './device';
import { findExecutable, openNetBackend } from './backend';
import { describeNetChain } from './decode';
import { NET_CONDITION_FIELDS, NET_NOTIFY_FILTERS } from './filters';
import { defaultMtu, parseHostForward, parseNetdev, type NetdevSpec } from './netdev';
import { NET_QUEUE_NAMES } from './proto';
import { readNetState, type NetStateJson } from './state';
import { NetBackendError } from './errors';

export interface NetOptions {
  /** -n: user, tap:NAME, tap, none (default: user where passt is installed). */
  netdev?: string;
  /** --hostfwd, repeatable: tcp:HOSTPORT:GUESTPORT. */
  hostForward?: string[];
  /** --pcap: every frame, both directions, to this file. */
  pcap?: string;
  /** The machine's own --time (read, not declared here): reproducible runs get no network unless asked. */
  time?: string;
}

/** An option check (OptionSpec.check): undefined when `parse` takes the value, else what it must be. */
function accepts(parse: (v: string) => unknown, mustBe: (v: string) => string): (v: string) => string | undefined {
  return (v) => {
    try {
      parse(v);
      return undefined;
    } catch {
      return mustBe(v);
    }
  };
}

const NETDEV_MUST_BE = (v: string) =>
  v.startsWith('tap:')
    ? 'tap:NAME with NAME 1-15 letters, digits, "_", "." or "-"'
    : `user (passt, no root needed), tap:NAME (a TAP interface), tap (a new one, as semu) or none (no network card)${v.trim() === 'vmnet' ? '; vmnet is semu\'s on macOS' : ''}`;
const HOSTFWD_MUST_BE = () => "tcp:HOSTPORT:GUESTPORT (listens on the host's 127.0.0.1) or tcp:ADDR:HOSTPORT:GUESTPORT, udp: likewise, ports 1-65535";

/** How long the backend may take to come up before the guest runs with the link down. */
const BACKEND_START_MS = 5000;

/** Forwards or a capture: options that only make sense with a network. */
function wantsNetwork(o: Partial<NetOptions>): boolean {
  return (o.hostForward?.length ?? 0) > 0 || (o.pcap !== undefined && o.pcap !== '');
}

/**
 * The backend these options ask for. Without -n: user when forwards or a pcap are asked for or
 * passt is installed, none (no card) otherwise and in reproducible runs (--time icount), whose
 * guest must not see the host's network timing.
 */
export function netdevOf(o: Partial<NetOptions>): NetdevSpec {
  if (o.netdev !== undefined && o.netdev !== '') return parseNetdev(o.netdev);
  if (wantsNetwork(o)) return { kind: 'user' };
  if (o.time === 'icount') return { kind: 'none' };
  return findExecutable('passt') !== null ? { kind: 'user' } : { kind: 'none' };
}

export const virtioNet: DeviceDescriptor<NetOptions> = {
  name: 'virtio-net',
  summary: 'network card: the guest on the host network through passt (no root), a TAP interface, or none',
  deviceId: VIRTIO_ID_NET,
  slot: 'net',
  queueNames: NET_QUEUE_NAMES,
  options: [
    {
      key: 'netdev', cli: ['-n', '--netdev'], type: 'string', arg: 'NETDEV', hostAccess: (v: string) => v.trim() !== 'none', check: accepts(parseNetdev, NETDEV_MUST_BE),
      help: 'network backend for virtio-net (0xF4100000, IRQ 2): user (passt, no root; the default where passt is installed), tap:NAME, tap, none (no card)',
      detail: 'virtio-net backend: "user" (user-mode networking through passt, no root needed; the default where passt is installed, except with "time": "icount"), "tap:NAME" (an existing TAP interface), "tap" (a new one, needs root) or "none" (no network card).',
    },
    {
      key: 'hostForward', cli: ['--hostfwd'], type: 'strings', arg: 'RULE', hostAccess: true, check: accepts(parseHostForward, HOSTFWD_MUST_BE),
      help: "forward a host port to the guest (netdev user), repeatable: tcp:HOSTPORT:GUESTPORT (on the host's 127.0.0.1), tcp:ADDR:HOSTPORT:GUESTPORT, udp: likewise",
      detail: 'Host ports forwarded to the guest through passt (netdev "user"): "tcp:HOSTPORT:GUESTPORT" listens on the host\'s 127.0.0.1 only, "tcp:ADDR:HOSTPORT:GUESTPORT" on ADDR (0.0.0.0: every interface); "udp:" likewise.',
    },
    {
      key: 'pcap', cli: ['--pcap'], type: 'string', arg: 'FILE', hostAccess: true, mapPath: (v, resolve) => resolve(v),
      help: 'write every frame the card sends and receives to FILE (pcap, opens in Wireshark)',
    },
  ],
  // An explicit none with forwards or a pcap is built only to be refused (create says why).
  enabled: (o) => netdevOf(o).kind !== 'none' || wantsNetwork(o),
  create(o, ctx) {
    const spec = netdevOf(o);
    if (spec.kind === 'none') throw new NetBackendError('netdev none is no network card: there is nothing to forward to or capture. Leave --hostfwd/--pcap out, or use -n user.');
    const dev = new VirtioNet({ mtu: defaultMtu(spec) });
    const backend = openNetBackend(spec, dev.channel, {
      hostForward: (o.hostForward ?? []).map(parseHostForward),
      pcap: o.pcap,
      wake: ctx.wake ?? undefined,
      warn: ctx.warn,
    });
    // passt starts while the kernel boots; the driver's first status read waits for the rest.
    dev.setBackend(backend, BACKEND_START_MS);
    return dev;
  },
  notifyFilters: NET_NOTIFY_FILTERS,
  conditionFields: NET_CONDITION_FIELDS,
  decodeChain: describeNetChain,
  readState: (sab) => {
    const s = readNetState(sab);
    return s ? netStateNodes(s) : [];
  },
};

function bytes(n: number): string {
  return n < 10_000 ? `${n} B` : n < 10_000_000 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
}

/** The Devices scope: link, addresses, the backend, and the live counters both ways. */
export function netStateNodes(s: NetStateJson): StateNode[] {
  const b = s.backend;
  const backend: StateNode[] = [{ name: 'state', value: b.state }];
  if (b.pid !== null) backend.push({ name: 'pid', value: b.pid });
  if (b.error !== null) backend.push({ name: 'error', value: b.error });
  return [
    { name: 'link', value: `${s.link} (${s.linkChanges} change${s.linkChanges === 1 ? '' : 's'})` },
    { name: 'mac', value: s.mac },
    { name: 'mtu', value: s.mtu },
    { name: 'backend', value: b.description || '(none)', children: backend },
    {
      name: 'rx',
      value: `${s.rx.frames} packets, ${bytes(s.rx.bytes)}`,
      children: [
        { name: 'packets', value: s.rx.frames },
        { name: 'bytes', value: s.rx.bytes },
        { name: 'dropped: larger than the buffers', value: s.rx.droppedOversize },
        { name: 'bad receive chains', value: s.rx.badChains },
      ],
    },
    {
      name: 'tx',
      value: `${s.tx.frames} packets, ${bytes(s.tx.bytes)}`,
      children: [
        { name: 'packets', value: s.tx.frames },
        { name: 'bytes', value: s.tx.bytes },
        { name: 'dropped: bad length', value: s.tx.droppedLength },
        { name: 'dropped: link down', value: s.tx.droppedLinkDown },
        { name: 'bad transmit chains', value: s.tx.badChains },
        { name: 'stalls (backend behind)', value: s.tx.stalls },
      ],
    },
    {
      name: 'wire',
      value: `in ${s.wire.rxFrames}, out ${s.wire.txFrames} frames`,
      children: [
        { name: 'frames in', value: s.wire.rxFrames },
        { name: 'bytes in', value: s.wire.rxBytes },
        { name: 'frames out', value: s.wire.txFrames },
        { name: 'bytes out', value: s.wire.txBytes },
        { name: 'dropped: bad length from the backend', value: s.wire.rxDroppedLength },
        { name: 'reads paused (rx ring full)', value: s.wire.rxStalls },
      ],
    },
    { name: 'pcap', value: s.pcap.failed ? `failed after ${s.pcap.frames} frames` : `${s.pcap.frames} frames` },
  ];
}
