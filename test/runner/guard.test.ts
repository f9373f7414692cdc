// The suite's own safety net (scripts/test-guard.cjs, loaded into every test process): a test
// that hangs fails with its name, a test that blocks its thread is killed with its name, a file
// that will not exit is told what holds it, and whatever a test process leaves running — even
// after a SIGKILL — is reaped, a private pulseaudio included. Each case runs a real
// `node --test` on small fixture files with short limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extensionRoot } from '../../src/paths';

const GUARD = join(extensionRoot(), 'scripts', 'test-guard.cjs');

interface Run {
  out: string;
  code: number | null;
  ms: number;
  reaped: string;
}

function runFixture(dir: string, name: string, body: string): Run {
  const file = join(dir, name);
  writeFileSync(file, body);
  const reapLog = join(dir, `${name}.reaped`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SEMU_TEST_TIMEOUT_MS: '1500',
    SEMU_TEST_BLOCK_GRACE_MS: '2000',
    SEMU_TEST_EXIT_GRACE_MS: '1000',
    SEMU_TEST_REAP_LOG: reapLog,
  };
  delete env.NODE_TEST_CONTEXT; // we are inside a test file: the inner runner must be a runner
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--require', GUARD, '--test', file], {
    encoding: 'utf8',
    timeout: 60_000,
    env,
  });
  return { out: `${r.stdout}${r.stderr}`, code: r.status, ms: Date.now() - t0, reaped: existsSync(reapLog) ? readFileSync(reapLog, 'utf8') : '' };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

/** Runs `fn` with a fresh temp dir, removed afterwards. */
async function inTempDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'semu-guard-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a test that waits forever fails at its timeout, by name, and the file goes on', { timeout: 90_000 }, () =>
  inTempDir((dir) => {
    const r = runFixture(
      dir,
      'hang.test.js',
      `const { test } = require('node:test');
       test('waits forever', () => new Promise(() => setInterval(() => {}, 1000)));
       test('runs after it', () => {});`,
    );
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /not ok 1 - waits forever/);
    assert.match(r.out, /test timed out after 1500ms/);
    assert.match(r.out, /ok 2 - runs after it/);
    assert.ok(r.ms < 30_000, `took ${r.ms} ms`);
  }),
);

test('a test that blocks its thread is killed by the watchdog, which names it', { timeout: 90_000 }, () =>
  inTempDir((dir) => {
    const r = runFixture(dir, 'spin.test.js', `require('node:test').test('spins', () => { for (;;) {} });`);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /test-guard: .*spin\.test\.js: test "spins" blocked the event loop for \d+ s/);
    assert.match(r.out, /SIGKILL/);
    assert.ok(r.ms < 40_000, `took ${r.ms} ms`);
  }),
);

test('a file whose process does not exit after its tests fails, saying what holds it', { timeout: 90_000 }, () =>
  inTempDir((dir) => {
    const r = runFixture(dir, 'leak.test.js', `require('node:test').test('leaks a server', () => { require('node:net').createServer().listen(0); });`);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /ok 1 - leaks a server/);
    assert.match(r.out, /all tests ended but the process is still alive .*TCPServerWrap/);
    assert.ok(r.ms < 30_000, `took ${r.ms} ms`);
  }),
);

test('callback tests, own timeouts and skips work as without the guard', { timeout: 90_000 }, () =>
  inTempDir((dir) => {
    const r = runFixture(
      dir,
      'ok.test.js',
      `const { test, before } = require('node:test');
       let ready = false;
       before(() => { ready = true; });
       test('callback style', (t, done) => { setTimeout(done, 10); });
       test('longer than the default, with its own timeout', { timeout: 10000 }, () => new Promise((r) => setTimeout(r, 2500)));
       test('after the hook', () => { if (!ready) throw new Error('before hook did not run'); });
       test('the guard starts no child process of ours (tests count their children)', async () => {
         await new Promise((r) => setTimeout(r, 300));
         const fs = require('node:fs');
         const kids = fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).filter((n) => {
           try { const st = fs.readFileSync('/proc/' + n + '/stat', 'utf8'); const f = st.slice(st.lastIndexOf(')') + 2).split(' '); return Number(f[1]) === process.pid && f[0] !== 'Z'; } catch { return false; }
         });
         if (kids.length) throw new Error('children: ' + kids.join(' '));
       });
       test.skip('skipped', () => { throw new Error('ran'); });`,
    );
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /# pass 4/);
    assert.match(r.out, /# skipped 1/);
  }),
);

test('what a SIGKILLed test process left running (a sleeper, a pulseaudio) is reaped', { timeout: 90_000 }, () =>
  inTempDir(async (dir) => {
    const rt = join(dir, 'rt');
    mkdirSync(rt, { mode: 0o700 });
    const pids = join(dir, 'pids');
    const r = runFixture(
      dir,
      'orphans.test.js',
      `const { test } = require('node:test');
       const { spawn } = require('node:child_process');
       const fs = require('node:fs');
       test('starts children, then dies by SIGKILL', async () => {
         const sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
         const pulse = spawn('pulseaudio', ['-n', '--daemonize=no', '--exit-idle-time=-1', '--disable-shm=yes', '--use-pid-file=no',
           '-L', 'module-null-sink sink_name=guardtest'], { stdio: 'ignore', env: { ...process.env, XDG_RUNTIME_DIR: ${JSON.stringify(rt)}, HOME: ${JSON.stringify(dir)} } });
         fs.writeFileSync(${JSON.stringify(pids)}, sleeper.pid + ' ' + pulse.pid);
         await new Promise((r) => setTimeout(r, 1500));
         process.kill(process.pid, 'SIGKILL');
       });`,
    );
    assert.notEqual(r.code, 0, r.out);
    const [sleeper, pulse] = readFileSync(pids, 'utf8').split(' ').map(Number);
    const gone = await until(() => !alive(sleeper) && !alive(pulse), 10_000);
    const log = existsSync(join(dir, 'orphans.test.js.reaped')) ? readFileSync(join(dir, 'orphans.test.js.reaped'), 'utf8') : '';
    assert.ok(gone, `left running: sleep ${alive(sleeper)}, pulseaudio ${alive(pulse)}; reap log: ${log}`);
    assert.match(log, new RegExp(`orphans\\.test\\.js left sleep \\(pid ${sleeper}\\) running: killed`));
    assert.match(log, new RegExp(`left pulseaudio \\(pid ${pulse}\\) running: killed`));
  }),
);
