// Host-side helpers of the network tests: a free port, a GET, a PATH without a program.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** GET on the host, in this process (the machine runs in the CLI's). */
export function get(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      })
      .on('error', reject);
  });
}

/** This PATH with one program hidden: a folder (made under `parent`) of links to every other program on it. */
export function pathWithout(name: string, parent: string): string {
  const bin = fs.mkdtempSync(path.join(parent, 'bin-'));
  for (const d of (process.env.PATH ?? '').split(path.delimiter)) {
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) if (n !== name && !fs.existsSync(path.join(bin, n))) fs.symlinkSync(path.join(d, n), path.join(bin, n));
  }
  return bin;
}
