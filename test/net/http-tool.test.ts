// The guest's /bin/http, compiled for the host with the same nolibc and driven against servers
// and clients on the host's loopback: exact bytes and CRC, status codes, errors, the server's
// refusal of paths outside its folder. The guest tests then run the same source on rv32.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { GUEST_BUILD_TIMEOUT_MS, linuxTree, repoRoot } from '../guest-artifacts/artifacts';

let dir = '';
let bin = '';
const body = randomBytes(300_000);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'guest-http-'));
  bin = join(dir, 'http');
  const src = join(repoRoot(), 'guest', 'src');
  execFileSync('gcc', ['-Os', '-static', '-nostdlib', '-ffreestanding', '-fno-stack-protector', '-fno-asynchronous-unwind-tables',
    '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter', '-I', join(linuxTree(), 'tools', 'include', 'nolibc'), '-I', src,
    join(src, 'http.c'), join(src, 'rt_div.c'), '-o', bin]);
  writeFileSync(join(dir, 'body.bin'), body);
}, { timeout: GUEST_BUILD_TIMEOUT_MS });

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) =>
    execFile(bin, args, { encoding: 'utf8', timeout: 30_000 }, (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? -1) : 0, out, err })),
  );
}

/** A server whose handler the test chooses; resolves with its port. */
function server(handler: http.RequestListener): Promise<{ port: number; close: () => void }> {
  return new Promise((resolve) => {
    const s = http.createServer(handler).listen(0, '127.0.0.1', () => resolve({ port: (s.address() as net.AddressInfo).port, close: () => s.close() }));
  });
}

test('get: exact bytes to a file, the CRC-32 zlib computes, status 200', async () => {
  const s = await server((_q, r) => {
    r.writeHead(200, { 'Content-Length': body.length });
    r.end(body);
  });
  try {
    const out = join(dir, 'got.bin');
    const r = await run(['get', `http://127.0.0.1:${s.port}/x`, '-o', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^http: get status=200 bytes=${body.length} crc32=${zlib.crc32(body).toString(16).padStart(8, '0')} ms=\\d+\\n$`));
    assert.ok(readFileSync(out).equals(body));
  } finally {
    s.close();
  }
});

test('get: a body without Content-Length ends at EOF; -o - writes it to stdout and the line to stderr', async () => {
  const s = await server((_q, r) => {
    r.useChunkedEncodingByDefault = false; // an HTTP/1.0 request gets a close-delimited body anyway
    r.end('hello');
  });
  try {
    const r = await run(['get', `http://127.0.0.1:${s.port}/`, '-o', '-']);
    assert.equal(r.out, 'hello');
    assert.match(r.err, /^http: get status=200 bytes=5 crc32=3610a686 ms=\d+$/m);
  } finally {
    s.close();
  }
});

test('get: a 404 is reported with exit status 1; a cut body and a refused connection are errors', async () => {
  const s = await server((q, r) => {
    if (q.url === '/cut') {
      r.writeHead(200, { 'Content-Length': 1000 });
      r.write('only part', () => setTimeout(() => r.socket?.destroy(), 20));
      return;
    }
    r.writeHead(404);
    r.end('no');
  });
  try {
    let r = await run(['get', `http://127.0.0.1:${s.port}/missing`]);
    assert.equal(r.code, 1);
    assert.match(r.out, /^http: get status=404 bytes=2 /);
    r = await run(['get', `http://127.0.0.1:${s.port}/cut`]);
    assert.equal(r.code, 1);
    assert.equal(r.err, 'http: error get: body cut short: connection reset\n');
  } finally {
    s.close();
  }
  const port = await new Promise<number>((resolve) => {
    const t = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (t.address() as net.AddressInfo).port;
      t.close(() => resolve(p));
    });
  });
  const r = await run(['get', `http://127.0.0.1:${port}/`]);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'http: error get: connect to 127.0.0.1: connection refused\n');
  assert.equal((await run(['get', 'ftp://x/'])).err, 'http: error get: bad URL (use http://HOST[:PORT]/PATH): invalid argument\n');
  assert.match((await run(['get', 'http://127.0.0.1:99999/'])).err, /use http:\/\/HOST/);
  assert.equal((await run(['fetch'])).code, 2);
});

test('serve: a bad port or a port in use is refused with the reason', async () => {
  assert.equal((await run(['serve', '0'])).err, 'http: error serve: bad port (use 1-65535) 0: invalid argument\n');
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '0.0.0.0', () => resolve()));
  const port = String((busy.address() as net.AddressInfo).port);
  try {
    assert.equal((await run(['serve', port])).err, `http: error serve: bind port ${port}: address in use\n`);
  } finally {
    busy.close();
  }
});

test('serve: files under DIR with their length; 404 for what is missing; 403 for paths that climb out', async () => {
  const port = 20000 + (process.pid % 20000);
  const srv = spawn(bin, ['serve', String(port), dir, '-n', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => srv.once('exit', resolve));
  let log = '';
  srv.stdout.on('data', (d) => (log += d));
  try {
    const get = (p: string) =>
      new Promise<{ status: number; data: Buffer }>((resolve, reject) => {
        const tryOnce = (left: number) =>
          http
            .get({ host: '127.0.0.1', port, path: p }, (res) => {
              const c: Buffer[] = [];
              res.on('data', (d: Buffer) => c.push(d));
              res.on('end', () => resolve({ status: res.statusCode!, data: Buffer.concat(c) }));
            })
            .on('error', (e) => (left > 0 ? setTimeout(() => tryOnce(left - 1), 50) : reject(e)));
        tryOnce(40);
      });
    const ok = await get('/body.bin');
    assert.equal(ok.status, 200);
    assert.ok(ok.data.equals(body));
    assert.equal((await get('/nothing-here')).status, 404);
    // A raw request: Node's client would normalise the dots away.
    const raw = await new Promise<string>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => c.write('GET /../etc/passwd HTTP/1.0\r\n\r\n'));
      let got = '';
      c.on('data', (d) => (got += d));
      c.on('close', () => resolve(got));
    });
    assert.match(raw, /^HTTP\/1\.0 403 Forbidden\r\n/);
    await exited;
    assert.equal(srv.exitCode, 0, 'exits after -n 3 requests');
    assert.match(log, new RegExp(`^http: serve GET /body\\.bin status=200 bytes=${body.length} ms=\\d+$`, 'm'));
    assert.match(log, /^http: serve GET \/nothing-here status=404 bytes=0 /m);
    assert.match(log, /^http: serve GET \/\.\.\/etc\/passwd status=403 /m);
  } finally {
    srv.kill();
  }
});
