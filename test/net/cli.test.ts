// virtio-net through the CLI, semu's spellings, as a person runs it: `-n user` with a port forward
// and a capture boots the default guest onto passt's network (DHCP at boot, the guest fetching from
// the host, the host fetching from the guest), and the capture holds the session; passt missing
// is one line on stderr and a guest that boots with the link down; bad values are usage errors.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as zlib from 'node:zlib';
import { findExecutable } from '../../src/devices/virtio-net/backend';
import { parsePcap } from '../../src/devices/virtio-net/pcap';
import { describeFrame } from '../../src/devices/virtio-net/decode';
import { distFile } from '../../src/paths';
import { GUEST_READY_MARKER } from '../guest-artifacts/artifacts';
import { Cli } from '../helpers/cli-session';
import { httpLine } from './guest';
import { freePort, get, pathWithout } from './host';

const HAVE_PASST = findExecutable('passt') !== null;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semu-net-cli-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const QUIET = ['--audio-out', 'null', '--audio-in', 'null'];

test('cli -n user --hostfwd --pcap: DHCP at boot, exact bytes both ways, the capture holds the session', { skip: !HAVE_PASST && 'passt is not installed', timeout: 400_000 }, async () => {
  const body = randomBytes(64 * 1024);
  const server = http.createServer((req, res) => {
    if (req.url !== '/f64k') return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const fwd = await freePort();
  const pcap = path.join(dir, 'cli.pcap');
  const cli = new Cli([...QUIET, '-n', 'user', '--hostfwd', `tcp:${fwd}:8080`, '--pcap', pcap, '--timeout', '380']);
  try {
    await cli.waitFor('\n# ', await cli.waitFor(GUEST_READY_MARKER, 0, 180_000), 60_000);
    assert.match(cli.out, /dhcp: eth0 addr=\d+\.\d+\.\d+\.\d+\/\d+ gw=/, 'the default guest took an address at boot');
    await cli.run('dmesg -n 1');
    const got = httpLine(await cli.run(`http get http://host:${port}/f64k -o /tmp/f`, 120_000), 'get');
    assert.equal(got.status, '200');
    assert.equal(got.bytes, String(body.length));
    assert.equal(got.crc32, zlib.crc32(body).toString(16).padStart(8, '0'));
    // The same bytes back out through the forward: the host's 127.0.0.1:fwd → the guest's :8080.
    cli.type('http serve 8080 /tmp -n 1');
    await new Promise((r) => setTimeout(r, 1000));
    const back = await get(`http://127.0.0.1:${fwd}/f`);
    assert.equal(back.status, 200);
    assert.ok(back.body.equals(body), `the host got ${back.body.length} bytes, not the file`);
    await cli.waitFor('http: serve GET /f status=200', 0, 60_000);
    assert.equal(await cli.poweroff(), 0, cli.ended());
  } finally {
    cli.kill();
    server.close();
  }
  // The machine closed the capture on its way out: every record whole, both directions there.
  const lines = parsePcap(fs.readFileSync(pcap)).records.map((r) => describeFrame(r.data, r.origLen));
  assert.ok(lines.some((l) => /UDP 0\.0\.0\.0:68 → 255\.255\.255\.255:67 DHCP/.test(l)), `the DHCP discover among ${lines.length}:\n${lines.slice(0, 10).join('\n')}`);
  assert.ok(lines.some((l) => new RegExp(`TCP .*→ .*:${port} \\[SYN\\]`).test(l)), 'the guest connecting to the host');
  assert.ok(lines.some((l) => /TCP .*→ .*:8080 \[SYN\]/.test(l)), 'the forward connecting to the guest');
});

test('cli -n user without passt: one line that says to install it, and the guest boots with the link down', { timeout: 240_000 }, async () => {
  const cli = new Cli([...QUIET, '-n', 'user', '--timeout', '200'], { ...process.env, PATH: pathWithout('passt', dir) });
  try {
    await cli.waitFor('\n# ', await cli.waitFor(GUEST_READY_MARKER, 0, 180_000), 60_000);
    const said = cli.out.split('\n').filter((l) => /passt/.test(l) && /install/.test(l));
    assert.equal(said.length, 1, `one line about passt:\n${cli.out.slice(-3000)}`);
    assert.match(said[0], /^semu: virtio-net: /);
    const state = await cli.run('cat /sys/class/net/eth0/operstate');
    assert.match(state, /^down$/m, 'the card is there, its link down');
    assert.equal(await cli.poweroff(), 0, cli.ended());
  } finally {
    cli.kill();
  }
});

test('cli: bad -n, --hostfwd and their mix are usage errors that say what to write', () => {
  const run = (...a: string[]) => spawnSync(process.execPath, [distFile('cli.js'), ...QUIET, '--timeout', '5', ...a], { encoding: 'utf8', input: '', timeout: 60_000 });
  const cases: [string[], RegExp][] = [
    [['-n', 'slirp'], /-n must be user \(passt, no root needed\), tap:NAME .* or none/],
    [['--netdev=vmnet'], /vmnet is semu's on macOS/],
    [['-n', 'tap:no/slash'], /tap:NAME with NAME 1-15 letters/],
    [['--hostfwd', 'tcp:80'], /--hostfwd must be tcp:HOSTPORT:GUESTPORT/],
    [['-n', 'none', '--hostfwd', 'tcp:18080:80'], /virtio-net: netdev none is no network card.*-n user/],
  ];
  for (const [args, want] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: exit 2, got ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
