// The pure parts of virtio-net: the frame ring, the stream protocol decoder, pcap, the frame and
// chain decoders, the notify condition fields, netdev / host-forward parsing, the state reader,
// and the io thread's wait for a socket's backpressure to end.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameRing } from '../../src/devices/virtio-net/frame-ring';
import { StreamDecoder, STREAM_DESYNC_LENGTH } from '../../src/devices/virtio-net/stream';
import { parsePcap, pcapFileHeader, putPcapRecordHeader } from '../../src/devices/virtio-net/pcap';
import { describeFrame, describeNetChain } from '../../src/devices/virtio-net/decode';
import { NET_NOTIFY_FILTERS, NET_CONDITION_FIELDS } from '../../src/devices/virtio-net/filters';
import { formatNetdev, parseHostForward, parseNetdev, NetdevError } from '../../src/devices/virtio-net/netdev';
import { passtArgs } from '../../src/devices/virtio-net/backend';
import { drainedOrClosed } from '../../src/devices/virtio-net/io-thread';
import { allocateNetState, add64, readNetState, writeNetString, N_RX_BYTES, N_RX_FRAMES, SLOTS, STR_BYTES } from '../../src/devices/virtio-net/state';
import { arpRequest, dhcpDiscover } from './frames';

function ring(cap: number): FrameRing {
  return new FrameRing(new Int32Array(new SharedArrayBuffer(8)), 0, 1, new Uint8Array(new SharedArrayBuffer(cap)));
}

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

test('frame ring: frames come out whole and in order across the wrap; full means nothing written', () => {
  const r = ring(256);
  const out = new Uint8Array(300);
  let seed = 0;
  for (let round = 0; round < 50; round++) {
    const lens = [1, 60, 100].map((x) => (x + round) % 120);
    const pushed: Uint8Array[] = [];
    for (const n of lens) {
      const f = bytes(n, seed++);
      if (r.push(f, n)) pushed.push(f);
    }
    for (const f of pushed) {
      const n = r.pop(out);
      assert.equal(n, f.length);
      assert.deepEqual(out.subarray(0, n), f);
    }
    assert.equal(r.pop(out), -1);
  }
  const big = bytes(253, 1);
  assert.equal(r.push(big, 253), false, 'record of 257 bytes does not fit 256');
  assert.equal(r.used(), 0);
  assert.ok(r.push(big, 252));
  assert.equal(r.free(), 0);
  assert.equal(r.push(bytes(0, 0), 0), false);
  assert.equal(r.peekLength(), 252);
  assert.equal(r.pop(new Uint8Array(10)), -2, 'a frame longer than the destination is dropped, not half-copied');
  assert.equal(r.used(), 0);
  assert.throws(() => ring(100), /power of two/);
});

test('frame ring: pushParts gathers a frame from pieces; short pieces publish nothing', () => {
  const r = ring(1024);
  assert.ok(r.pushParts([bytes(10, 1), bytes(20, 2)], 30));
  const out = new Uint8Array(64);
  assert.equal(r.pop(out), 30);
  assert.deepEqual(out.subarray(0, 30), Uint8Array.from([...bytes(10, 1), ...bytes(20, 2)]));
  assert.equal(r.pushParts([bytes(5, 0)], 30), false);
  assert.equal(r.used(), 0);
});

function decodeAll(chunks: Uint8Array[]) {
  const frames: number[][] = [];
  const dropped: number[] = [];
  const d = new StreamDecoder({ frame: (b, off, len) => frames.push([...b.subarray(off, off + len)]), dropped: (n) => dropped.push(n) });
  for (const c of chunks) d.feed(c);
  return { frames, dropped, d };
}

function stream(...frames: Uint8Array[]): Uint8Array {
  const parts: number[] = [];
  for (const f of frames) parts.push(f.length >>> 24, (f.length >>> 16) & 255, (f.length >>> 8) & 255, f.length & 255, ...f);
  return Uint8Array.from(parts);
}

test('stream decoder: frames split anywhere — inside the length word, inside the frame — come out whole', () => {
  const a = bytes(60, 1);
  const b = bytes(1514, 2);
  const c = bytes(14, 3);
  const s = stream(a, b, c);
  for (const cut of [1, 2, 3, 5, 63, 64, 65, 700, s.length - 1]) {
    const { frames, dropped } = decodeAll([s.subarray(0, cut), s.subarray(cut)]);
    assert.deepEqual(frames, [[...a], [...b], [...c]], `cut at ${cut}`);
    assert.deepEqual(dropped, []);
  }
  const oneByOne = decodeAll([...s].map((x) => Uint8Array.of(x)));
  assert.equal(oneByOne.frames.length, 3);
});

test('stream decoder: bad lengths are skipped and counted, the frames after them still arrive; absurd lengths stop it', () => {
  const good = bytes(64, 9);
  const s = stream(bytes(0, 0), good, bytes(13, 0), bytes(70000, 0), good);
  const { frames, dropped, d } = decodeAll([s.subarray(0, 100), s.subarray(100, 40000), s.subarray(40000)]);
  assert.deepEqual(frames, [[...good], [...good]]);
  assert.deepEqual(dropped, [0, 13, 70000]);
  assert.equal(d.error, null);
  const bad = new Uint8Array(8);
  new DataView(bad.buffer).setUint32(0, STREAM_DESYNC_LENGTH + 1);
  const after = decodeAll([bad, stream(good)]);
  assert.match(after.d.error ?? '', /out of step/);
  assert.deepEqual(after.frames, [], 'nothing is read past the point the stream lost its framing');
});

test('pcap: the file header and records parse back; a cut file is reported, not misread', () => {
  const f1 = dhcpDiscover();
  const f2 = arpRequest([10, 0, 2, 15], [10, 0, 2, 2]);
  const file = new Uint8Array(24 + 16 + f1.length + 16 + f2.length);
  file.set(pcapFileHeader());
  putPcapRecordHeader(file, 24, 1_700_000_000_123_456, f1.length);
  file.set(f1, 40);
  putPcapRecordHeader(file, 40 + f1.length, 1_700_000_001_000_001, f2.length);
  file.set(f2, 56 + f1.length);
  const p = parsePcap(file);
  assert.equal(p.linktype, 1);
  assert.equal(p.snaplen, 65535);
  assert.deepEqual(
    p.records.map((r) => [r.sec, r.usec, r.origLen]),
    [
      [1_700_000_000, 123_456, f1.length],
      [1_700_000_001, 1, f2.length],
    ],
  );
  assert.deepEqual(p.records[1].data, f2);
  assert.throws(() => parsePcap(file.subarray(0, file.length - 1)), /cut short/);
  assert.throws(() => parsePcap(new Uint8Array(24)), /bad magic/);
});

test('frame decoder: DHCP, ARP, TCP flags and ports, ICMP, IPv6, unknown EtherTypes, and garbage', () => {
  assert.equal(describeFrame(dhcpDiscover()), 'IPv4 UDP 0.0.0.0:68 → 255.255.255.255:67 DHCP len 244');
  assert.equal(describeFrame(arpRequest([10, 0, 2, 15], [10, 0, 2, 2])), 'ARP who-has 10.0.2.2 tell 10.0.2.15');
  const tcp = new Uint8Array(14 + 20 + 20 + 5);
  tcp[12] = 8;
  tcp.set([0x45, 0, 0, 45, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 2, 15, 192, 0, 2, 1], 14);
  tcp.set([0x9c, 0x40, 0x1f, 0x90], 34); // 40000 → 8080
  tcp[34 + 12] = 5 << 4;
  tcp[34 + 13] = 0x18; // PSH, ACK
  assert.equal(describeFrame(tcp), 'IPv4 TCP 10.0.2.15:40000 → 192.0.2.1:8080 [PSH,ACK] len 5');
  const icmp = tcp.slice(0, 14 + 20 + 8);
  icmp[14 + 9] = 1;
  icmp[34] = 8;
  assert.equal(describeFrame(icmp), 'IPv4 ICMP 10.0.2.15 → 192.0.2.1 echo request');
  const v6 = new Uint8Array(14 + 40 + 8);
  v6[12] = 0x86;
  v6[13] = 0xdd;
  v6[14] = 0x60;
  v6[14 + 5] = 8;
  v6[14 + 6] = 17;
  v6.set([0xfe, 0x80], 14 + 8);
  v6[14 + 23] = 1;
  v6[14 + 39] = 2;
  v6.set([0x02, 0x22, 0x02, 0x23], 54);
  assert.equal(describeFrame(v6), 'IPv6 UDP fe80::1:546 → ::2:547 DHCPv6 len 0');
  const lldp = new Uint8Array(60);
  lldp[12] = 0x88;
  lldp[13] = 0xcc;
  assert.match(describeFrame(lldp), /EtherType 0x88cc$/);
  assert.equal(describeFrame(new Uint8Array(5)), 'runt frame (5 B)');
  for (let n = 0; n < 80; n++) {
    const junk = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n) & 0xff);
    junk[12] = 8;
    assert.equal(typeof describeFrame(junk), 'string');
  }
});

test('chain decoder: transmit chains show the header and the frame; receive chains their room; bad chains say so', () => {
  const f = dhcpDiscover();
  const readable = new Uint8Array(12 + f.length);
  readable.set(f, 12);
  assert.equal(describeNetChain(1, readable.subarray(0, 64), readable.length, 0), `tx ${f.length} B: IPv4 UDP 0.0.0.0:68 → 255.255.255.255:67 DHCP len 244`);
  readable[0] = 1;
  readable[1] = 1;
  assert.match(describeNetChain(1, readable.subarray(0, 64), readable.length, 0), /^tx \d+ B \[flags 0x1, gso TCPV4\]:/);
  assert.equal(describeNetChain(0, new Uint8Array(0), 0, 1530), 'receive buffer 1530 B (frames up to 1518 B)');
  assert.match(describeNetChain(0, new Uint8Array(4), 4, 100), /bad receive chain/);
  assert.match(describeNetChain(1, new Uint8Array(4), 4, 0), /no virtio-net header/);
  assert.match(describeNetChain(1, new Uint8Array(20), 20, 8), /device-writable/);
});

test('notify filters and condition fields: the first pending transmit frame', () => {
  assert.deepEqual(
    NET_NOTIFY_FILTERS.map((f) => [f.id, f.queue]),
    [
      ['virtio-net', null],
      ['virtio-net-tx', 1],
      ['virtio-net-rx', 0],
    ],
  );
  const f = dhcpDiscover();
  const prefix = new Uint8Array(64);
  prefix.set(f.subarray(0, 52), 12);
  const fields = (b: Uint8Array, n: number) => Object.fromEntries(NET_CONDITION_FIELDS.map((c) => [c.name, n >= c.bytes ? c.read(b, n) : -1]));
  assert.deepEqual(fields(prefix, 64), { ethertype: 0x800, ip_proto: 17, src_port: 68, dst_port: 67 });
  assert.ok(NET_CONDITION_FIELDS.every((c) => c.queues.length === 1 && c.queues[0] === 1), 'transmit chains only');
  // A chain shorter than the prefix buffer: what lies past its length is never read as its own.
  assert.deepEqual(fields(prefix, 12 + 14 + 20), { ethertype: 0x800, ip_proto: 17, src_port: -1, dst_port: -1 });
  // IPv4 options move the ports; a later fragment has none.
  const opt = new Uint8Array(64);
  opt.set(f.subarray(0, 14), 12);
  opt[26] = 0x46; // version 4, IHL 6 (24 bytes)
  opt[26 + 9] = 6;
  opt.set([0x12, 0x34, 0x00, 0x50], 26 + 24);
  assert.deepEqual(fields(opt, 64), { ethertype: 0x800, ip_proto: 6, src_port: 0x1234, dst_port: 80 });
  opt[26 + 7] = 1; // fragment offset 8
  assert.deepEqual(fields(opt, 64), { ethertype: 0x800, ip_proto: 6, src_port: -1, dst_port: -1 });
  // Not IP (ARP), and an EtherType that says IPv4 over bytes that are not.
  const arp = new Uint8Array(64);
  arp[24] = 0x08;
  arp[25] = 0x06;
  assert.deepEqual(fields(arp, 64), { ethertype: 0x806, ip_proto: -1, src_port: -1, dst_port: -1 });
  arp[25] = 0x00;
  arp[26] = 0x15;
  assert.deepEqual(fields(arp, 64), { ethertype: 0x800, ip_proto: -1, src_port: -1, dst_port: -1 });
});

test('netdev and host forward specs: accepted forms, and messages that say what to write', () => {
  assert.deepEqual(parseNetdev('user'), { kind: 'user' });
  assert.deepEqual(parseNetdev('tap:tap0'), { kind: 'tap', ifname: 'tap0' });
  assert.deepEqual(parseNetdev('tap'), { kind: 'tap', ifname: 'tap%d' }, "semu's -n tap: a new interface");
  assert.equal(formatNetdev(parseNetdev('tap')), 'tap');
  assert.equal(formatNetdev(parseNetdev('tap:t1')), 'tap:t1');
  assert.throws(() => parseNetdev('vmnet'), /macOS.*use user/);
  assert.deepEqual(parseNetdev('none'), { kind: 'none' });
  assert.throws(() => parseNetdev('slirp'), (e: Error) => e instanceof NetdevError && /use user .*tap:NAME.*none/.test(e.message));
  assert.throws(() => parseNetdev('tap:'), /1-15 letters/);
  assert.throws(() => parseNetdev('tap:a/b'), /1-15 letters/);
  assert.throws(() => parseNetdev('tap:sixteen-chars-xy'), /1-15 letters/);
  assert.deepEqual(parseHostForward('tcp:8080:80'), { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 });
  assert.deepEqual(parseHostForward('udp:0.0.0.0:5353:53'), { proto: 'udp', hostAddr: '0.0.0.0', hostPort: 5353, guestPort: 53 });
  for (const bad of ['tcp:80', 'sctp:1:2', 'tcp:0:80', 'tcp:8080:65536', 'tcp:x:80', 'tcp:1.2.3:8080:80']) assert.throws(() => parseHostForward(bad), NetdevError, bad);
  assert.deepEqual(passtArgs(1500, [parseHostForward('tcp:8080:80'), parseHostForward('udp:0.0.0.0:5353:53')]), [
    '-f', '-q', '--fd', '3', '-m', '1500', '-t', '127.0.0.1/8080:80', '-u', '0.0.0.0/5353:53',
  ]);
});

test('state reader: counters, 64-bit byte counts across 2^32, strings cut at a character boundary', () => {
  const sab = allocateNetState();
  const i = new Int32Array(sab, 0, SLOTS);
  i[N_RX_FRAMES] = -1; // uint32 4294967295
  add64(i, N_RX_BYTES, 0x7fffffff);
  add64(i, N_RX_BYTES, 0x7fffffff);
  add64(i, N_RX_BYTES, 5);
  writeNetString(sab, 'desc', 'passt, tcp 127.0.0.1:8080 → 80');
  writeNetString(sab, 'error', '→'.repeat(STR_BYTES)); // 3 bytes each: cannot end on a whole one
  const st = readNetState(sab)!;
  assert.equal(st.rx.frames, 4294967295);
  assert.equal(st.rx.bytes, 2 * 0x7fffffff + 5);
  assert.equal(st.backend.description, 'passt, tcp 127.0.0.1:8080 → 80');
  assert.equal(st.backend.error, '→'.repeat(Math.floor(STR_BYTES / 3)));
  assert.equal(readNetState(new SharedArrayBuffer(64)), null);
  assert.deepEqual(JSON.parse(JSON.stringify(st)), st, 'plain JSON');
});

test('io thread backpressure: waiting for drain twenty times on a real socket leaves no listeners behind; close ends a wait too', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'semu-drain-'));
  const path = join(dir, 's');
  let peer: Socket | null = null;
  const server = createServer((s) => {
    peer = s;
    s.pause(); // the reader stalls, so the writer fills the socket's buffers
  });
  await new Promise<void>((r) => server.listen(path, r));
  const sock = connect(path);
  await new Promise<void>((r) => sock.once('connect', r));
  while (peer === null) await new Promise((r) => setTimeout(r, 5));
  const reader = peer as Socket;
  const before = { close: sock.listenerCount('close'), drain: sock.listenerCount('drain') };
  const chunk = Buffer.alloc(256 * 1024);
  try {
    for (let i = 0; i < 20; i++) {
      while (sock.write(chunk));
      const waited = drainedOrClosed(sock);
      reader.resume(); // drain it, then stall again
      await waited;
      reader.pause();
    }
    assert.deepEqual({ close: sock.listenerCount('close'), drain: sock.listenerCount('drain') }, before, 'every wait took its listeners with it');
    while (sock.write(chunk));
    const waited = drainedOrClosed(sock);
    reader.destroy();
    sock.destroy();
    await waited; // resolves on close, though the socket never drained
    assert.equal(sock.listenerCount('drain'), before.drain);
  } finally {
    sock.destroy();
    reader.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});
