// virtio-net through passt, as a person uses it from the CLI (`-n user --hostfwd`): TCP throughput
// both ways for an 8 MiB file (host→guest: the guest's `http get` from a server on the host;
// guest→host: the host fetching from the guest's `http serve` through the forward), the emulator's
// CPU per MB (the CLI process: machine, worker and network I/O thread; passt not counted), and what
// the card costs a boot: seconds (wall and the CLI's CPU) to `semu-guest: ready`, `-n none` vs `-n user`.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type * as net from 'node:net';
import { Cli } from '../test/helpers/cli-session';
import { freePort } from '../test/net/host';
import { median } from './util';

const MB = 1e6;
const SIZE = 8 * 1024 * 1024;
const QUIET = ['--audio-out', 'null', '--audio-in', 'null'];

export interface NetBench {
  host_to_guest_mb_s: number;
  guest_to_host_mb_s: number;
  host_to_guest_cpu_ms_per_mb: number;
  guest_to_host_cpu_ms_per_mb: number;
  rounds: number;
  boot_none_s: number;
  boot_user_s: number;
  boot_none_cpu_s: number;
  boot_user_cpu_s: number;
  boot_pairs: number;
}

const BOOT_PAIRS = 5;

/** Boots the default guest with `-n netdev`: [wall seconds, CLI process CPU seconds] to ready. */
async function bootToReady(netdev: string): Promise<[number, number]> {
  const t0 = performance.now();
  const cli = new Cli([...QUIET, '-n', netdev, '--timeout', '300']);
  try {
    await cli.waitFor('semu-guest: ready', 0, 300_000);
    return [(performance.now() - t0) / 1000, cpuSeconds(cli.pid)];
  } finally {
    cli.kill();
  }
}

/** CPU seconds a process has used so far (user + system, from /proc). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
}

function fetchBytes(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => (n += d.length));
        res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`${url}: status ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

/** Runs fn, returns [wall seconds, CPU seconds of pid]. */
async function measure(pid: number, fn: () => Promise<void>): Promise<[number, number]> {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  await fn();
  return [(performance.now() - t0) / 1000, cpuSeconds(pid) - c0];
}

export async function benchNet(rounds = 3): Promise<NetBench> {
  const body = randomBytes(SIZE);
  const server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Length': body.length }).end(body));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const fwd = await freePort();
  const cli = new Cli([...QUIET, '-n', 'user', '--hostfwd', `tcp:${fwd}:8080`, '--timeout', '900']);
  const down: [number, number][] = [];
  const up: [number, number][] = [];
  try {
    await cli.waitFor('\n# ', await cli.waitFor('semu-guest: ready', 0, 300_000), 60_000);
    await cli.run('dmesg -n 1');
    for (let i = 0; i < rounds; i++) {
      down.push(
        await measure(cli.pid, async () => {
          const out = await cli.run(`http get http://host:${port}/f -o /tmp/f`, 600_000);
          if (!out.includes(`bytes=${SIZE}`)) throw new Error(`the guest's download failed:\n${out}`);
        }),
      );
      const from = cli.out.length;
      cli.type('http serve 8080 /tmp -n 1');
      await new Promise((r) => setTimeout(r, 500));
      up.push(
        await measure(cli.pid, async () => {
          const n = await fetchBytes(`http://127.0.0.1:${fwd}/f`);
          if (n !== SIZE) throw new Error(`the host got ${n} bytes from the guest, not ${SIZE}`);
        }),
      );
      await cli.waitFor('\n# ', from, 60_000);
    }
    await cli.poweroff();
  } finally {
    cli.kill();
    server.close();
  }
  const mbs = (xs: [number, number][]) => median(xs.map(([s]) => SIZE / MB / s));
  const cpu = (xs: [number, number][]) => median(xs.map(([, c]) => (c * 1000) / (SIZE / MB)));
  // Boots alternate, so a change in the machine's load falls on both alike; CPU to ready is
  // what the card costs this process, wall time what a person waits.
  const none: [number, number][] = [];
  const user: [number, number][] = [];
  for (let i = 0; i < BOOT_PAIRS; i++) {
    none.push(await bootToReady('none'));
    user.push(await bootToReady('user'));
  }
  return {
    host_to_guest_mb_s: mbs(down),
    guest_to_host_mb_s: mbs(up),
    host_to_guest_cpu_ms_per_mb: cpu(down),
    guest_to_host_cpu_ms_per_mb: cpu(up),
    rounds,
    boot_none_s: median(none.map(([w]) => w)),
    boot_user_s: median(user.map(([w]) => w)),
    boot_none_cpu_s: median(none.map(([, c]) => c)),
    boot_user_cpu_s: median(user.map(([, c]) => c)),
    boot_pairs: BOOT_PAIRS,
  };
}
