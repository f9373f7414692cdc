// The real guest on the network through a real passt: DHCP at boot, exact bytes both ways
// (the guest fetching from a server on the host, the host fetching from the guest through a port
// forward), /proc/net/dev against the device's counters, the pcap, then passt killed mid-session.
// Timing numbers (throughput, CPU per MB) are printed as test diagnostics for bench/RESULTS.md.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { findExecutable } from '../../src/devices/virtio-net/backend';
import { parsePcap } from '../../src/devices/virtio-net/pcap';
import { describeFrame } from '../../src/devices/virtio-net/decode';
import { NetGuest, httpLine } from './guest';
import { freePort } from './host';

const HAVE_PASST = findExecutable('passt') !== null;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semu-net-guest-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const MiB = 1024 * 1024;
const SIZES = [1, 64 * 1024, 8 * MiB];

/** A static file server on the host's loopback, in its own process (so it never waits on the machine). */
const SERVER_JS = `
const http = require('http'), fs = require('fs'), path = require('path');
const dir = process.argv[2];
const srv = http.createServer((req, res) => {
  const f = path.join(dir, path.basename(req.url));
  fs.stat(f, (e, st) => {
    if (e || !st.isFile()) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { 'Content-Length': st.size });
    fs.createReadStream(f).pipe(res);
  });
});
srv.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: srv.address().port }) + '\\n'));
`;

/** Fetches a URL into a file, in its own process; prints {status, bytes, ms}. */
const FETCH_JS = `
const http = require('http'), fs = require('fs');
const t0 = Date.now();
http.get(process.argv[2], (res) => {
  const out = fs.createWriteStream(process.argv[3]);
  let bytes = 0;
  res.on('data', (d) => { bytes += d.length; out.write(d); });
  res.on('end', () => out.end(() => process.stdout.write(JSON.stringify({ status: res.statusCode, bytes, ms: Date.now() - t0 }))));
}).on('error', (e) => { process.stdout.write(JSON.stringify({ error: e.message })); });
`;

function crc32hex(b: Uint8Array): string {
  return zlib.crc32(b).toString(16).padStart(8, '0');
}

async function startServer(root: string): Promise<{ port: number; child: ChildProcess }> {
  const script = path.join(dir, 'server.js');
  fs.writeFileSync(script, SERVER_JS);
  const child = spawn(process.execPath, [script, root], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { port: number }).port));
    child.once('exit', (c) => reject(new Error(`test server exited (${c})`)));
  });
  return { port, child };
}

function fetchOnHost(url: string, out: string): Promise<{ status?: number; bytes?: number; ms?: number; error?: string }> {
  const script = path.join(dir, 'fetch.js');
  fs.writeFileSync(script, FETCH_JS);
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [script, url, out], { timeout: 300_000 }, (e, stdout) => (e ? reject(e) : resolve(JSON.parse(stdout)))),
  );
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** /proc/net/dev's eth0 line: [rx bytes, rx packets, ..., tx bytes, tx packets, ...]. */
function procNetDev(text: string): number[] {
  const line = text.split('\n').find((l) => /^\s*eth0:/.test(l));
  if (!line) throw new Error(`no eth0 in /proc/net/dev:\n${text}`);
  return line.split(':')[1].trim().split(/\s+/).map(Number);
}

test('the guest on the network through passt: DHCP, exact bytes both ways, counters, pcap, passt killed', { skip: !HAVE_PASST && 'passt is not installed', timeout: 900_000 }, async (t) => {
  const files = path.join(dir, 'files');
  fs.mkdirSync(files);
  const data = new Map<number, Buffer>();
  for (const n of SIZES) {
    data.set(n, randomBytes(n));
    fs.writeFileSync(path.join(files, `f${n}`), data.get(n)!);
  }
  const server = await startServer(files);
  const fwdPort = await freePort();
  const pcap = path.join(dir, 'session.pcap');
  const t0 = Date.now();
  const g = await NetGuest.boot({ backend: { hostForward: [{ proto: 'tcp', hostAddr: '127.0.0.1', hostPort: fwdPort, guestPort: 8080 }], pcap } });
  try {
    t.diagnostic(`boot to the prompt: ${Date.now() - t0} ms`);

    // DHCP at boot, by /init.
    const dhcp = /^dhcp: eth0 addr=(\S+)\/(\d+) gw=(\S+) dns=\S+ mtu=(\d+) lease=\d+ ms=(\d+)$/m.exec(g.output);
    assert.ok(dhcp, `a DHCP line at boot:\n${g.output.slice(0, 4000)}`);
    assert.notEqual(dhcp[1], '0.0.0.0');
    assert.equal(dhcp[4], '65520', 'the MTU passt hands out is the device MTU');
    t.diagnostic(`DHCP at boot: ${dhcp[5]} ms guest time (addr ${dhcp[1]}/${dhcp[2]}, gw ${dhcp[3]})`);
    assert.match(await g.command('cat /proc/net/route'), /^eth0\t00000000\t[0-9A-F]{8}\t0003/m, 'a default route');

    // Host → guest: exact bytes at 1 B, 64 KiB, 8 MiB.
    for (const n of SIZES) {
      const cpu0 = cpuMs();
      const w0 = Date.now();
      const out = await g.command(`http get http://host:${server.port}/f${n} -o /tmp/f${n}`, 300_000);
      const wall = Date.now() - w0;
      const r = httpLine(out, 'get');
      assert.equal(r.status, '200', out);
      assert.equal(Number(r.bytes), n);
      assert.equal(r.crc32, crc32hex(data.get(n)!), `crc32 of ${n} bytes`);
      if (n === 8 * MiB) t.diagnostic(`host→guest 8 MiB: ${((n / MiB) / (wall / 1000)).toFixed(2)} MB/s wall (guest says ${r.ms} ms), emulator CPU ${((cpuMs() - cpu0) / 8).toFixed(0)} ms/MB`);
    }

    // Guest → host through the port forward: the 8 MiB file the guest just stored, back to the host.
    const back = path.join(dir, 'back.bin');
    g.m.consoleIn(Buffer.from('http serve 8080 /tmp -n 1\n'));
    const cpu0 = cpuMs();
    const got = await g.runWhile(fetchOnHost(`http://127.0.0.1:${fwdPort}/f${8 * MiB}`, back), 300_000, 'the host to fetch from the guest');
    const cpu = cpuMs() - cpu0;
    assert.equal(got.status, 200, JSON.stringify(got));
    assert.ok(fs.readFileSync(back).equals(data.get(8 * MiB)!), 'the host got the exact 8 MiB back');
    t.diagnostic(`guest→host 8 MiB: ${(8 / (got.ms! / 1000)).toFixed(2)} MB/s wall, emulator CPU ${(cpu / 8).toFixed(0)} ms/MB`);
    await g.runUntil(() => /http: serve GET \/f8388608 status=200 bytes=8388608/.test(g.output), 60_000, 'the serve line');
    await g.command('echo served');

    // /proc/net/dev against the device's counters (reading them moves no frames).
    const before = g.state();
    const dev = procNetDev(await g.command('cat /proc/net/dev'));
    const now = g.state();
    assert.deepEqual([now.rx.frames, now.tx.frames], [before.rx.frames, before.tx.frames], 'no traffic while reading');
    assert.equal(dev[0], now.rx.bytes, 'rx bytes');
    assert.equal(dev[1], now.rx.frames, 'rx packets');
    assert.equal(dev[8], now.tx.bytes, 'tx bytes');
    assert.equal(dev[9], now.tx.frames, 'tx packets');
    assert.ok(now.rx.bytes > 8 * MiB && now.tx.bytes > 8 * MiB);
    assert.deepEqual([now.rx.droppedOversize, now.rx.badChains, now.tx.droppedLength, now.tx.badChains], [0, 0, 0, 0]);

    // Errors come back as lines, in bounded time: a port nobody listens on, a name nobody knows.
    assert.match(await g.command('http get http://host:1/', 60_000), /^http: error get: connect to host: (connection refused|timed out)$/m);
    assert.match(await g.command('http get http://no-such-host.invalid/', 60_000), /^http: error get: cannot resolve no-such-host\.invalid: \S/m);

    // passt killed mid-session: link down, the guest's shell keeps answering.
    const pid = g.state().backend.pid!;
    process.kill(pid, 'SIGKILL');
    await g.runUntil(() => g.state().link === 'down', 20_000, 'the link to go down');
    assert.equal((await g.command('cat /sys/class/net/eth0/carrier')).trim(), '0', 'the guest sees no carrier');
    assert.equal((await g.command('echo still here')).trim(), 'still here');
    assert.match(g.state().backend.error ?? '', /passt (exited|closed)/);
    const wire = g.state().wire;
    await g.dispose();

    // The pcap holds every frame that crossed the wire, both directions.
    const file = parsePcap(fs.readFileSync(pcap));
    assert.equal(file.records.length, wire.rxFrames + wire.txFrames);
    const lines = file.records.map((r) => describeFrame(r.data, r.origLen));
    assert.ok(lines.some((l) => /UDP 0\.0\.0\.0:68 → 255\.255\.255\.255:67 DHCP/.test(l)), 'the DHCP discover');
    assert.ok(lines.some((l) => new RegExp(`TCP .* → .*:${server.port} \\[SYN\\]`).test(l)), 'the guest connecting to the host server');
    assert.ok(lines.some((l) => /TCP .* → .*:8080 \[SYN\]/.test(l)), 'the forwarded connection to the guest');
    assert.equal(
      file.records.reduce((n, r) => n + r.origLen, 0),
      wire.rxBytes + wire.txBytes,
      'every byte',
    );
  } finally {
    await g.dispose();
    server.child.kill();
  }
});

test('no passt on PATH: the guest boots with the link down, says so once, and its shell works', async () => {
  const g = await NetGuest.boot({ backend: { path: dir } });
  try {
    assert.match(g.backend.error ?? '', /passt is not installed.*apt-get install passt/);
    assert.match(g.output, /^dhcp: eth0 link down \(no carrier\): not configured$/m);
    assert.equal((await g.command('cat /sys/class/net/eth0/carrier')).trim(), '0');
    assert.equal((await g.command('echo ok')).trim(), 'ok');
    assert.equal(g.state().link, 'down');
  } finally {
    await g.dispose();
  }
});

test('a flood of malformed frames from the backend: drops counted exactly, the guest unharmed', async () => {
  const BAD = 10_000;
  const OVERSIZE = 2_000;
  const JUNK = 2_000;
  const peer = path.join(dir, 'flood-peer.js');
  fs.writeFileSync(
    peer,
    `#!${process.execPath}
const fs = require('fs');
const frame = (len, fill) => { const b = Buffer.alloc(4 + len, fill); b.writeUInt32BE(len, 0); b.fill(0xff, 4, Math.min(10, 4 + len)); return b; };
const out = [];
for (let i = 0; i < ${BAD}; i++) out.push(frame([0, 1, 13, 65550, 100000][i % 5], i & 255));
for (let i = 0; i < ${OVERSIZE}; i++) out.push(frame(1600 + (i % 400), 0x33));
for (let i = 0; i < ${JUNK}; i++) { const f = frame(60 + (i % 1000), i & 255); f.writeUInt16BE(0x88b5, 16); out.push(f); }
const all = Buffer.concat(out);
let at = 0;
(function pump() { while (at < all.length) { try { at += fs.writeSync(3, all, at, Math.min(65536, all.length - at)); } catch (e) { if (e.code === 'EAGAIN') return setTimeout(pump, 2); throw e; } } })();
setInterval(() => {}, 60000);
`,
    { mode: 0o755 },
  );
  // MTU 1500: frames of 1600-1999 bytes are longer than the device lets in (1518 with a VLAN tag).
  const g = await NetGuest.boot({ backend: { passt: peer }, device: { mtu: 1500 } });
  try {
    await g.runUntil(() => g.state().wire.rxFrames === OVERSIZE + JUNK || g.state().backend.state !== 'up', 120_000, 'the flood to arrive');
    assert.equal(g.state().backend.error, null, 'the flooding peer is still up');
    await g.runUntil(() => g.state().rx.frames + g.state().rx.droppedOversize === OVERSIZE + JUNK, 120_000, 'the guest to take it');
    const st = g.state();
    assert.equal(st.wire.rxDroppedLength, BAD, 'every bad length dropped by the I/O thread');
    assert.equal(st.rx.droppedOversize, OVERSIZE, 'every frame larger than the guest buffers dropped by the device');
    assert.equal(st.rx.frames, JUNK, 'the well-formed junk reached the guest');
    const dev = procNetDev(await g.command('cat /proc/net/dev'));
    assert.equal(dev[1], JUNK, 'the guest counted each');
    assert.equal((await g.command('echo alive')).trim(), 'alive');
    assert.equal(g.m.crash, null);
  } finally {
    await g.dispose();
  }
});
