// The tap backend with a real TAP interface: the helper is compiled with the host's cc, attached
// to a TAP interface in a private network namespace (so the test never touches the machine's own
// network), and the namespace's kernel answers ARP and ping through it. Needs root (CAP_NET_ADMIN).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { VirtioNet } from '../../src/devices/virtio-net/device';
import { findExecutable, openNetBackend } from '../../src/devices/virtio-net/backend';
import { openNetIo, signal, IO_LINK, IO_TX_SIGNAL, type NetIo } from '../../src/devices/virtio-net/io';
import { readNetState } from '../../src/devices/virtio-net/state';
import { describeFrame } from '../../src/devices/virtio-net/decode';
import { tapHelperBinary } from '../../src/devices/virtio-net/tap';
import { arpRequest, icmpEcho } from './frames';

const NS = `semu-tap-${process.pid}`;
const TAP = 'semutap0';
const HOST = [10, 77, 0, 1];
const GUEST = [10, 77, 0, 2];
const why =
  process.getuid?.() !== 0
    ? 'needs root (a TAP interface in a private network namespace)'
    : !existsSync('/dev/net/tun')
      ? 'no /dev/net/tun'
      : findExecutable('ip') === null || findExecutable('cc') === null
        ? 'needs ip(8) and cc'
        : null;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

before(() => {
  if (why) return;
  ip('netns', 'add', NS);
  ip('-n', NS, 'tuntap', 'add', 'dev', TAP, 'mode', 'tap');
  ip('-n', NS, 'addr', 'add', `${HOST.join('.')}/24`, 'dev', TAP);
  ip('-n', NS, 'link', 'set', TAP, 'up');
});

after(() => {
  if (!why) ip('netns', 'del', NS);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends `frame` and waits for a matching frame; re-sends each second as a host's stack retries
 * ARP and ping (a frame written in the instant the interface gets its carrier can be dropped).
 */
async function exchange<T>(io: NetIo, frame: Uint8Array, match: (f: Uint8Array) => T | null, ms = 20_000): Promise<T> {
  const buf = new Uint8Array(70000);
  const end = Date.now() + ms;
  for (let sent = 0; ; ) {
    if (Date.now() - sent >= 1000) {
      send(io, frame);
      sent = Date.now();
    }
    for (let n = io.rx.pop(buf); n >= 0; n = io.rx.pop(buf)) {
      const v = match(buf.subarray(0, n));
      if (v !== null) return v;
    }
    if (Date.now() > end) throw new Error('timed out waiting for a frame from the TAP interface');
    await sleep(5);
  }
}

let framesSent = 0;
function send(io: NetIo, f: Uint8Array): void {
  assert.ok(io.tx.push(f, f.length));
  signal(io.ctl, IO_TX_SIGNAL);
  framesSent++;
}

test('tap: the helper builds once and is reused', { skip: why ?? false }, () => {
  const a = tapHelperBinary();
  assert.equal(tapHelperBinary(), a);
  assert.ok(existsSync(a));
});

test('tap: ARP and ping through a real TAP interface, answered by its kernel', { skip: why ?? false }, async () => {
  const dev = new VirtioNet();
  const io = openNetIo(dev.channel.io);
  const backend = openNetBackend({ kind: 'tap', ifname: TAP }, dev.channel, { childWrapper: ['ip', 'netns', 'exec', NS] });
  try {
    for (let i = 0; Atomics.load(io.ctl, IO_LINK) !== 1; i++) {
      assert.ok(i < 2000, 'link up');
      await sleep(5);
    }
    const mac = await exchange(io, arpRequest(GUEST, HOST), (f) => (f[12] === 8 && f[13] === 6 && f[21] === 2 ? f.slice(22, 28) : null));
    const reply = await exchange(io, icmpEcho(mac, GUEST, HOST, 7), (f) => {
      const d = describeFrame(f);
      return /ICMP .* echo reply/.test(d) ? d : null;
    });
    assert.equal(reply, 'IPv4 ICMP 10.77.0.1 → 10.77.0.2 echo reply');
    // Every frame sent is counted (a re-send may still be on its way to the interface).
    let st = readNetState(dev.state)!;
    for (let i = 0; st.wire.txFrames !== framesSent && i < 400; i++) {
      await sleep(5);
      st = readNetState(dev.state)!;
    }
    assert.equal(st.wire.txFrames, framesSent, 'every frame sent was counted');
    assert.match(st.backend.description, /^tap semutap0/);
  } finally {
    await backend.close();
  }
});

test('tap without the privilege to attach: link down with the reason, nothing hangs', { skip: why ?? false }, async () => {
  const dev = new VirtioNet();
  const backend = openNetBackend({ kind: 'tap', ifname: TAP }, dev.channel, {
    childWrapper: ['ip', 'netns', 'exec', NS, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'],
  });
  try {
    let st = readNetState(dev.state)!;
    for (let i = 0; st.backend.error === null; i++) {
      assert.ok(i < 2000, 'the helper reports its failure');
      await sleep(5);
      st = readNetState(dev.state)!;
    }
    assert.match(st.backend.error!, /cannot open \/dev\/net\/tun: Permission denied \(tap needs root or CAP_NET_ADMIN\)/);
    assert.equal(st.link, 'down');
  } finally {
    await backend.close();
  }
});
