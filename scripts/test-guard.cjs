// Loaded with `node --require` into every test file's process (scripts/test.sh, scripts/t.sh).
// It makes sure a test can neither hang the suite nor leave processes behind:
//
// 1. Every test, suite and hook gets a timeout (SEMU_TEST_TIMEOUT_MS, default 180 s) unless it
//    names its own, so a test that waits forever fails with its own name.
// 2. A watchdog thread notices a main thread that stops turning its event loop (a synchronous
//    loop that never ends, where no timer can fire): after the current test's timeout plus a
//    grace it prints the test's name and kills the process.
// 3. A file whose tests are all done but whose process does not exit (a leaked handle) is told
//    what keeps it alive and exits with an error after a grace.
// 4. Every process a test starts, and their children, carry SEMU_TEST_OWNER=<this pid> in their
//    environment. A detached reaper waits for this process to end — even by SIGKILL — and then
//    kills whatever still carries the tag (an audio host, a private pulseaudio, a browser).
'use strict';

const { spawn } = require('node:child_process');
const { Worker } = require('node:worker_threads');

const DEFAULT_TIMEOUT_MS = Number(process.env.SEMU_TEST_TIMEOUT_MS) || 180_000;
const BLOCKED_GRACE_MS = Number(process.env.SEMU_TEST_BLOCK_GRACE_MS) || 30_000;
const EXIT_GRACE_MS = Number(process.env.SEMU_TEST_EXIT_GRACE_MS) || 10_000;

const file = process.argv[1] || '';
// The runner itself (`node --test a.test.js ...`) also loads this and sees the first file in its
// argv: guarding it would load node:test there too, which then prints a second, empty summary
// ("# tests 0") after the real one.
if (/\.test\.[cm]?js$/.test(file) && !process.execArgv.includes('--test')) guardTestFile();

function guardTestFile() {
  startReaper();
  const watchdog = startWatchdog();
  const t = require('node:test');
  for (const name of ['test', 'it', 'describe', 'suite']) t[name] = wrapTest(t[name], name, watchdog);
  for (const name of ['before', 'after', 'beforeEach', 'afterEach']) t[name] = wrapHook(t[name], name, watchdog);
  // `test.after`, `test.mock`, `it.skip`...: the wrappers carry the module's members (wrapped ones included).
  for (const name of ['test', 'it', 'describe', 'suite']) {
    for (const k of Object.keys(t)) if (!(k in t[name]) || ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'].includes(k)) t[name][k] = t[k];
  }
  // After the file's last test and hook: a process still alive is held by something it leaked.
  t.after(() => {
    setTimeout(() => {
      const what = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
      process.stderr.write(`test-guard: ${file}: all tests ended but the process is still alive after ${EXIT_GRACE_MS / 1000} s (active: ${what.join(', ') || 'unknown'}); exiting with an error\n`);
      process.exit(1);
    }, EXIT_GRACE_MS).unref();
  });
}

/** Arguments (name?, options?, fn?) with a default timeout added to the options. */
function withTimeout(args) {
  const a = [...args];
  const at = a.findIndex((x) => x !== null && typeof x === 'object');
  if (at >= 0) {
    if (a[at].timeout === undefined) a[at] = { ...a[at], timeout: DEFAULT_TIMEOUT_MS };
    return { args: a, timeout: a[at].timeout };
  }
  const opts = { timeout: DEFAULT_TIMEOUT_MS };
  if (typeof a[0] === 'string' || a[0] === undefined) a.splice(1, 0, opts);
  else a.unshift(opts);
  return { args: a, timeout: DEFAULT_TIMEOUT_MS };
}

/** Tells the watchdog which test runs (keeps the function's arity: node reads callback style from it). */
function announce(fn, label, timeout, watchdog) {
  if (typeof fn !== 'function') return fn;
  const note = () => watchdog.postMessage({ label, timeout });
  if (fn.length >= 2) {
    return function (c, done) {
      note();
      return fn.call(this, c, done);
    };
  }
  return function (c) {
    note();
    return fn.call(this, c);
  };
}

function wrapTest(orig, kind, watchdog) {
  const wrapped = function (...args) {
    const { args: a, timeout } = withTimeout(args);
    const fnAt = a.findIndex((x) => typeof x === 'function');
    const name = typeof a[0] === 'string' ? a[0] : fnAt >= 0 ? a[fnAt].name : kind;
    if (fnAt >= 0) a[fnAt] = announce(a[fnAt], `${kind} "${name}"`, timeout, watchdog);
    return orig.apply(this, a);
  };
  // test.skip / test.todo / test.only keep working.
  for (const k of ['skip', 'todo', 'only']) if (typeof orig[k] === 'function') wrapped[k] = orig[k].bind(orig);
  return wrapped;
}

function wrapHook(orig, kind, watchdog) {
  return function (fn, options) {
    const opts = options && typeof options === 'object' ? options : {};
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT_MS;
    return orig.call(this, announce(fn, `${kind} hook`, timeout, watchdog), { ...opts, timeout });
  };
}

function startWatchdog() {
  const beat = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(
    `
    const { workerData, parentPort } = require('node:worker_threads');
    const { writeSync } = require('node:fs');
    const beat = workerData.beat;
    let label = 'loading the test file', limit = workerData.timeout, last = Atomics.load(beat, 0), since = Date.now();
    parentPort.on('message', (m) => { label = m.label; limit = m.timeout; });
    setInterval(() => {
      const now = Date.now(), b = Atomics.load(beat, 0);
      if (b !== last) { last = b; since = now; return; }
      if (now - since < limit + workerData.grace) return;
      writeSync(2, 'test-guard: ' + workerData.file + ': ' + label + ' blocked the event loop for ' + Math.round((now - since) / 1000) + ' s (timeout ' + limit + ' ms): killing the test process\\n');
      process.kill(process.pid, 'SIGKILL');
    }, 1000);
    `,
    { eval: true, workerData: { beat, timeout: DEFAULT_TIMEOUT_MS, grace: BLOCKED_GRACE_MS, file } },
  );
  w.unref();
  setInterval(() => Atomics.add(beat, 0, 1), 500).unref();
  return w;
}

function startReaper() {
  const owner = String(process.pid);
  process.env.SEMU_TEST_OWNER = owner;
  const env = { ...process.env };
  delete env.SEMU_TEST_OWNER; // the reaper itself is not one of the processes to kill
  env.SEMU_TEST_REAPER = '1'; // nor one the last sweep (scripts/test-sweep.sh) reports as left by a test
  // The loop runs in a background subshell of a shell that exits at once: it is nobody's child
  // (tests that count their own children see none of it) and outlives a SIGKILLed owner.
  const script = `(
    owner=$1; file=$2; log=$3
    while kill -0 "$owner" 2>/dev/null; do sleep 1; done
    for e in /proc/[0-9]*/environ; do
      p=\${e#/proc/}; p=\${p%/environ}
      [ "$p" = "$$" ] && continue
      if grep -qzx "SEMU_TEST_OWNER=$owner" "$e" 2>/dev/null; then
        name=$(cat /proc/$p/comm 2>/dev/null)
        kill -9 "$p" 2>/dev/null && [ -n "$log" ] && echo "$file left $name (pid $p) running: killed" >> "$log"
      fi
    done
  ) </dev/null >/dev/null 2>&1 &`;
  const child = spawn('sh', ['-c', script, 'test-reaper', owner, file, process.env.SEMU_TEST_REAP_LOG || ''], {
    detached: true,
    stdio: 'ignore',
    env,
  });
  child.unref();
}
