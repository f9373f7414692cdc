// The user backend with a real passt, no guest: the test stands where the device stands, on the
// shared rings, and talks DHCP and ARP to passt; then the faults — passt missing, passt killed,
// a peer that sends frames of bad lengths, a pcap path that cannot be created.

import { test as nodeTest, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtioNet } from '../../src/devices/virtio-net/device';
import { openNetBackend, PASST_MISSING, findExecutable, type NetBackendOptions } from '../../src/devices/virtio-net/backend';
import { openNetIo, signal, IO_LINK, IO_TX_SIGNAL, type NetIo } from '../../src/devices/virtio-net/io';
import { readNetState } from '../../src/devices/virtio-net/state';
import { parsePcap, LINKTYPE_ETHERNET } from '../../src/devices/virtio-net/pcap';
import { describeFrame } from '../../src/devices/virtio-net/decode';
import { setLogSink } from '../../src/log';
import { distFile } from '../../src/paths';
import { arpRequest, dhcpDiscover, parseDhcpReply } from './frames';

// Run as a child (see the last test): open a backend, report passt's pid, die without closing —
// and register no tests.
const ORPHAN = process.env.SEMU_NET_ORPHAN_TEST === '1';
const test = ORPHAN ? ((() => undefined) as unknown as typeof nodeTest) : nodeTest;
if (ORPHAN) orphanChild();

function orphanChild(): void {
  const dev = new VirtioNet();
  openNetBackend({ kind: 'user' }, dev.channel);
  const io = openNetIo(dev.channel.io);
  const poll = setInterval(() => {
    if (Atomics.load(io.ctl, IO_LINK) !== 1) return;
    clearInterval(poll);
    process.stdout.write(`${readNetState(dev.state)!.backend.pid}\n`, () => process.kill(process.pid, 'SIGKILL'));
  }, 5);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semu-net-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const HAVE_PASST = findExecutable('passt') !== null;
if (!fs.existsSync(distFile('net-io.js'))) throw new Error('dist/net-io.js is missing: run `node scripts/build.mjs` first');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => T | null | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function open(opts: NetBackendOptions = {}, spec: Parameters<typeof openNetBackend>[0] = { kind: 'user' }) {
  const dev = new VirtioNet();
  const io = openNetIo(dev.channel.io);
  const backend = openNetBackend(spec, dev.channel, opts);
  return { dev, io, backend, state: () => readNetState(dev.state)! };
}

function send(io: NetIo, f: Uint8Array): void {
  assert.ok(io.tx.push(f, f.length));
  signal(io.ctl, IO_TX_SIGNAL);
}

/** Frames from the backend until `match` accepts one (others are skipped). */
async function receive<T>(io: NetIo, match: (f: Uint8Array) => T | null, ms = 10_000): Promise<T> {
  const buf = new Uint8Array(70000);
  return until('a frame from the backend', () => {
    for (let n = io.rx.pop(buf); n >= 0; n = io.rx.pop(buf)) {
      const v = match(buf.subarray(0, n));
      if (v !== null) return v;
    }
    return null;
  }, ms);
}

function alive(pid: number): boolean {
  try {
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return false;
  }
}

test('passt answers DHCP and ARP through the rings; the pcap holds both directions in order', { skip: !HAVE_PASST && 'passt is not installed' }, async () => {
  const pcap = path.join(dir, 'dhcp.pcap');
  const wake = new SharedArrayBuffer(8);
  const s = open({ pcap, wake: { buffer: wake, index: 1 } });
  try {
    await until('link up', () => Atomics.load(s.io.ctl, IO_LINK) === 1);
    const pid = s.state().backend.pid!;
    assert.ok(pid > 0 && alive(pid), 'passt runs as our child');
    send(s.io, dhcpDiscover(0x1234abcd));
    const offer = await receive(s.io, parseDhcpReply);
    assert.equal(offer.type, 2, 'DHCPOFFER');
    assert.equal(offer.xid, 0x1234abcd);
    assert.match(offer.yiaddr, /^\d+\.\d+\.\d+\.\d+$/);
    assert.notEqual(offer.yiaddr, '0.0.0.0');
    assert.equal(offer.mtu, 1500, 'passt assigns the device MTU (-m)');
    assert.ok(offer.router, 'a gateway');
    assert.ok(Atomics.load(new Int32Array(wake), 1) > 0, 'arriving frames wake the machine');
    const gw = offer.router!.split('.').map(Number);
    send(s.io, arpRequest(offer.yiaddr.split('.').map(Number), gw));
    const reply = await receive(s.io, (f) => (f[12] === 8 && f[13] === 6 ? describeFrame(f) : null));
    assert.match(reply, new RegExp(`^ARP ${offer.router!.replace(/\./g, '\\.')} is-at `));
    const st = s.state();
    assert.equal(st.wire.txFrames, 2);
    assert.ok(st.wire.rxFrames >= 2);
    await s.backend.close();
    assert.equal(alive(pid), false, 'close() stops passt');
    const file = parsePcap(fs.readFileSync(pcap));
    assert.equal(file.linktype, LINKTYPE_ETHERNET);
    const lines = file.records.map((r) => describeFrame(r.data, r.origLen));
    assert.equal(file.records.length, st.wire.txFrames + st.wire.rxFrames, `every frame recorded: ${lines.join(' | ')}`);
    assert.match(lines[0], /UDP 0\.0\.0\.0:68 → 255\.255\.255\.255:67 DHCP/);
    assert.ok(lines.indexOf(lines.find((l) => /:67 → .*:68 DHCP/.test(l))!) > 0, 'the offer after the discover');
    assert.ok(lines.some((l) => /^ARP who-has/.test(l)) && lines.some((l) => /is-at/.test(l)));
    for (let i = 1; i < file.records.length; i++) {
      const t = (r: (typeof file.records)[0]) => r.sec * 1e6 + r.usec;
      assert.ok(t(file.records[i]) >= t(file.records[i - 1]), 'timestamps in order');
    }
  } finally {
    await s.backend.close();
  }
});

test('no passt on PATH: one clear line saying to install it, the link down, nothing started', async () => {
  const lines: string[] = [];
  setLogSink((level, scope, message) => lines.push(`${level} ${scope}: ${message}`));
  try {
    const s = open({ path: dir });
    assert.equal(s.backend.error, PASST_MISSING);
    assert.match(PASST_MISSING, /apt-get install passt/);
    assert.deepEqual(lines, [`warn virtio-net: ${PASST_MISSING}`]);
    await sleep(100);
    assert.equal(Atomics.load(s.io.ctl, IO_LINK), 0);
    const st = s.state();
    assert.equal(st.backend.state, 'down');
    assert.equal(st.backend.error, PASST_MISSING);
    await s.backend.close();
  } finally {
    setLogSink((level, scope, message) => process.stderr.write(`[${level}] ${scope}: ${message}\n`));
  }
});

test('passt killed mid-session: link down with the reason, the I/O thread still closes cleanly', { skip: !HAVE_PASST && 'passt is not installed' }, async () => {
  const s = open();
  try {
    await until('link up', () => Atomics.load(s.io.ctl, IO_LINK) === 1);
    const pid = s.state().backend.pid!;
    process.kill(pid, 'SIGKILL');
    await until('link down', () => Atomics.load(s.io.ctl, IO_LINK) === 0);
    const st = s.state();
    assert.equal(st.backend.state, 'down');
    assert.match(st.backend.error ?? '', /passt (exited \(SIGKILL\)|closed its socket)/);
    send(s.io, dhcpDiscover()); // frames to a dead peer are dropped, nothing blocks
    await sleep(50);
  } finally {
    await s.backend.close();
  }
  const st = s.state();
  assert.notEqual(st.backend.state, 'up');
  assert.match(st.backend.error ?? '', /passt/, 'the reason stays for the Devices scope');
});

test('host forward: a connection to the host port reaches the guest side as a SYN to the guest port', { skip: !HAVE_PASST && 'passt is not installed' }, async () => {
  const port = await freePort();
  const s = open({ hostForward: [{ proto: 'tcp', hostAddr: '127.0.0.1', hostPort: port, guestPort: 8080 }] });
  try {
    await until('link up', () => Atomics.load(s.io.ctl, IO_LINK) === 1);
    send(s.io, dhcpDiscover()); // passt learns the guest's MAC from its first frame
    await receive(s.io, parseDhcpReply);
    const c = await until('passt listening', () => connectable(port));
    const syn = await receive(s.io, (f) => {
      const d = describeFrame(f);
      return /TCP .* → .*:8080 \[SYN\]/.test(d) ? d : null;
    });
    assert.match(syn, /IPv4 TCP/);
    c.destroy();
    assert.match(s.state().backend.description, new RegExp(`tcp 127\\.0\\.0\\.1:${port} → 8080`));
  } finally {
    await s.backend.close();
  }
});

test('a peer sending frames of bad lengths: each dropped and counted, good frames still delivered, then out of step → link down', async () => {
  const peer = path.join(dir, 'bad-peer.js');
  fs.writeFileSync(
    peer,
    `#!${process.execPath}
const fs = require('fs');
const frame = (len, fill) => { const b = Buffer.alloc(4 + len, fill); b.writeUInt32BE(len, 0); return b; };
const bad = [frame(0, 0), frame(5, 1), frame(13, 2), frame(70000, 3)];
const out = [];
for (let i = 0; i < 200; i++) out.push(bad[i % 4], frame(60, 0x40 + (i % 8)));
const desync = Buffer.alloc(4); desync.writeUInt32BE(0x7fffffff, 0);
out.push(desync, Buffer.alloc(64, 0xee));
fs.writeSync(3, Buffer.concat(out));
setTimeout(() => {}, 60000);
`,
    { mode: 0o755 },
  );
  const s = open({ passt: peer });
  try {
    const good = await receive(s.io, (f) => (f.length === 60 && f[0] === 0x40 ? f.slice() : null));
    assert.equal(good[59], 0x40);
    await until('the out-of-step stream to take the link down', () => Atomics.load(s.io.ctl, IO_LINK) === 0);
    const st = s.state();
    assert.equal(st.wire.rxDroppedLength, 200, 'all 200 bad frames counted');
    assert.equal(st.wire.rxFrames, 200, 'all 200 good frames passed');
    assert.match(st.backend.error ?? '', /out of step/);
  } finally {
    await s.backend.close();
  }
});

test('a pcap path that cannot be created is refused before anything starts', () => {
  const dev = new VirtioNet();
  assert.throws(() => openNetBackend({ kind: 'user' }, dev.channel, { pcap: path.join(dir, 'no', 'such', 'dir', 'x.pcap') }), /cannot create the pcap file .*ENOENT.*folder exists/);
});

test('netdev none: link down, no thread, no error', async () => {
  const s = open({}, { kind: 'none' });
  assert.equal(s.backend.error, null);
  assert.equal(s.state().backend.state, 'none');
  await s.backend.close();
});

test('passt never outlives the emulator: a process killed without closing its backend takes passt with it', { skip: !HAVE_PASST && 'passt is not installed' }, async () => {
  const r = spawnSync(process.execPath, [__filename], { env: { ...process.env, SEMU_NET_ORPHAN_TEST: '1' }, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
  const out = r.stdout.trim();
  const pid = Number(out.split('\n')[0]);
  assert.ok(pid > 0, `the child reported passt's pid: ${out}`);
  await until('passt to exit after its peer died', () => !alive(pid), 10_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
}

let pendingConnect: net.Socket | null = null;
let connected: net.Socket | null = null;
/** Tries to connect once per call; returns the socket once connected. */
function connectable(port: number): net.Socket | null {
  if (connected) return connected;
  if (!pendingConnect) {
    const c = net.connect(port, '127.0.0.1');
    pendingConnect = c;
    c.once('connect', () => (connected = c));
    c.once('error', () => (pendingConnect = null));
  }
  return null;
}
