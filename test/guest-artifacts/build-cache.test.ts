// guest/build.sh's cache: a second run reuses everything, a userland change rebuilds only the
// userland, and an interrupted build never leaves a half-built entry behind.
// The variants run on a copy of guest/ with a scratch cache whose kernel, source and header
// entries are links to the real ones, so no test here compiles a kernel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { GUEST_BUILD_TIMEOUT_MS, guestArtifacts, repoRoot, runGuestBuild } from './artifacts';
import { parseNewc } from './cpio';

const BUILD = { timeout: GUEST_BUILD_TIMEOUT_MS };
let scratch = '';

before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'guest-cache-'));
});

after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A copy of guest/ whose sh.c carries `marker`, and a cache that shares the real kernel. */
function variant(name: string, marker: string): { script: string; cache: string } {
  const real = guestArtifacts();
  const realCache = dirname(dirname(real.kernel));
  const guest = join(scratch, name, 'guest');
  cpSync(join(repoRoot(), 'guest'), guest, { recursive: true });
  appendFileSync(join(guest, 'src', 'sh.c'), `/* ${marker} */\n`);
  const cache = join(scratch, name, 'cache');
  mkdirSync(cache, { recursive: true });
  for (const entry of readdirSync(realCache)) {
    if (/^(kernel|src|headers)-/.test(entry) && !entry.includes('.tmp.')) symlinkSync(join(realCache, entry), join(cache, entry));
  }
  return { script: join(guest, 'build.sh'), cache };
}

const entries = (cache: string, prefix: string): string[] => readdirSync(cache).filter((e) => e.startsWith(prefix));

test('a second run with the same inputs reuses the cache and takes well under a few seconds', BUILD, () => {
  const first = guestArtifacts();
  const t0 = Date.now();
  const again = runGuestBuild(join(repoRoot(), 'guest', 'build.sh'));
  const ms = Date.now() - t0;
  assert.deepEqual(again, first);
  assert.ok(ms < 3000, `cached run took ${ms} ms`);
});

test('a userland change rebuilds the initramfs but not the kernel', BUILD, () => {
  const real = guestArtifacts();
  const v = variant('userland-change', 'userland change');
  const t0 = Date.now();
  const out = runGuestBuild(v.script, { SEMU_GUEST_CACHE: v.cache });
  const ms = Date.now() - t0;
  assert.equal(realpathSync(out.kernel), realpathSync(real.kernel), 'the kernel entry must be reused');
  assert.notEqual(out.initrd, real.initrd, 'the initramfs must be rebuilt');
  assert.ok(ms < 120_000, `userland rebuild took ${ms} ms`);
  const names = parseNewc(readFileSync(out.initrd)).map((e) => e.name);
  for (const p of ['/init', '/bin/sh', '/bin/pcm', '/bin/cpubench']) assert.ok(names.includes(p), p);
});

const HELD = 'guest-test: cross gcc held';

/** A directory to put first on PATH whose cross gcc answers --version at once but holds every
 *  compile (announcing it on stderr) for a minute before running the real one: the signal then
 *  always lands mid-compile. Without it a loaded machine could deliver the "compiling" line after
 *  the whole userland was built, and the signal would find a finished build (CI saw exit 0). */
function heldCompiler(): string {
  const dir = join(scratch, 'held-gcc');
  const name = 'riscv64-linux-gnu-gcc';
  if (existsSync(join(dir, name))) return dir;
  const real = execFileSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  mkdirSync(dir, { recursive: true });
  const script = [
    '#!/bin/bash',
    `case " $* " in *" --version "*) exec ${real} "$@" ;; esac`,
    `echo "${HELD}" >&2`,
    'sleep 60',
    `exec ${real} "$@"`,
    '',
  ].join('\n');
  writeFileSync(join(dir, name), script, { mode: 0o755 });
  return dir;
}

/** Starts a build whose cross compiles are held, waits until one is, then delivers `signal` to
 *  the build's process group. */
function interrupt(script: string, cache: string, signal: NodeJS.Signals): Promise<{ code: number | null; sig: NodeJS.Signals | null; pid: number }> {
  const stage = new RegExp(HELD);
  return new Promise((resolve, reject) => {
    const env = { ...process.env, SEMU_GUEST_CACHE: cache, PATH: `${heldCompiler()}:${process.env.PATH ?? ''}` };
    const child = spawn('bash', [script], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (!sent && stage.test(err)) {
        try {
          process.kill(-child.pid!, signal);
          sent = true;
        } catch {
          /* already gone: reported as "ended before" below */
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code, sig) => (sent ? resolve({ code, sig, pid: child.pid! }) : reject(new Error(`build ended before "${stage.source}":\n${err}`))));
  });
}

test('Ctrl-C during a build leaves neither a partial entry nor a temp dir, and a rerun completes', BUILD, async () => {
  const v = variant('sigint', 'interrupted with SIGINT');
  const r = await interrupt(v.script, v.cache, 'SIGINT');
  assert.notEqual(r.code, 0, 'the interrupted build must not report success');
  const left = readdirSync(v.cache);
  assert.deepEqual(left.filter((e) => e.includes('.tmp.')), [], 'temp dirs left behind');
  assert.deepEqual(entries(v.cache, 'userland-'), [], 'an entry was published by an interrupted build');
  const out = runGuestBuild(v.script, { SEMU_GUEST_CACHE: v.cache });
  assert.ok(parseNewc(readFileSync(out.initrd)).some((e) => e.name === '/bin/sh'));
});

test('a build killed outright leaves only a temp dir, which the next run removes', BUILD, async () => {
  const v = variant('sigkill', 'killed with SIGKILL');
  const r = await interrupt(v.script, v.cache, 'SIGKILL');
  assert.equal(r.sig, 'SIGKILL');
  const partial = entries(v.cache, 'userland-');
  assert.ok(partial.some((e) => e.includes('.tmp.')), `no temp dir after SIGKILL: ${partial.join(' ')}`);
  assert.deepEqual(partial.filter((e) => !e.includes('.tmp.')), [], 'an entry was published by a killed build');
  const out = runGuestBuild(v.script, { SEMU_GUEST_CACHE: v.cache });
  assert.deepEqual(readdirSync(v.cache).filter((e) => e.includes('.tmp.')), [], 'stale temp dir not cleaned');
  assert.ok(existsSync(out.initrd));
  assert.equal(basename(dirname(out.initrd)).startsWith('userland-'), true);
});
