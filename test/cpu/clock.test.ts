// The guest clocks: icount (pure function of instructions + skipped idle time) and host
// (instruction-driven until user space starts, then the host's monotonic clock).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClock, HostClock, IcountClock, MAX_STEP_MS, TIMEBASE_HZ } from '../../src/emulator/clock';

test('icount: time follows instret, skips forward, never back', () => {
  let instret = 0;
  const c = new IcountClock(() => instret);
  assert.equal(c.now(), 0);
  instret = 1000;
  assert.equal(c.now(), 1000);
  assert.equal(c.insnsUntil(1500), 500);
  assert.equal(c.insnsUntil(900), 1, 'a deadline in the past is due now');
  assert.equal(c.insnsUntil(Infinity), Infinity);
  c.skipTo(5000);
  assert.equal(c.now(), 5000);
  c.skipTo(10);
  assert.equal(c.now(), 5000, 'skipping backwards does nothing');
  instret = 1001;
  assert.equal(c.now(), 5001);
  assert.equal(c.followsInstructions(), true);
  c.enteredUserMode();
  assert.equal(c.followsInstructions(), true, 'icount ignores user mode');
});

test('host: instruction-driven during boot, then host time from where boot left it', () => {
  let instret = 0;
  let ms = 1000;
  const c = new HostClock(() => instret, () => ms);
  instret = 65000;
  ms = 5000; // host time during boot does not matter
  assert.equal(c.now(), 65000);
  c.skipTo(70000);
  assert.equal(c.now(), 70000, 'idle during boot skips like icount');
  c.enteredUserMode();
  assert.equal(c.followsInstructions(), false);
  assert.equal(c.now(), 70000, 'no jump at the switch');
  ms += 10; // 10 ms = 650000 ticks
  instret += 1e6; // instructions no longer matter
  assert.equal(c.now(), 70000 + (10 * TIMEBASE_HZ) / 1000);
  ms -= 5; // the host clock misbehaves
  assert.equal(c.now(), 70000 + (10 * TIMEBASE_HZ) / 1000, 'monotonic');
  assert.equal(c.insnsUntil(1e12), Infinity, 'no instruction-count deadlines after boot');
  c.skipTo(1e12);
  assert.ok(c.now() < 1e12, 'no skipping after boot: time is real');
});

test('host: time the emulator could not run is lost, not seen by the guest at once', () => {
  let ms = 0;
  const c = new HostClock(() => 0, () => ms);
  c.enteredUserMode();
  const at = (msOfGuest: number) => Math.floor(msOfGuest * (TIMEBASE_HZ / 1000));
  for (let i = 0; i < 200; i++) {
    ms += 5; // looked at every 5 ms (the run loop turning): real time, exactly
    c.now();
  }
  assert.equal(c.now(), at(1000));
  ms += 150; // the worker not scheduled for 150 ms (or paused in the debugger)
  assert.equal(c.now(), at(1000 + MAX_STEP_MS), `a hold-up shows as ${MAX_STEP_MS} ms at most`);
  ms += 5;
  assert.equal(c.now(), at(1005 + MAX_STEP_MS), 'then real time again, without catching up');
  ms += MAX_STEP_MS;
  assert.equal(c.now(), at(1005 + 2 * MAX_STEP_MS), 'a step of MAX_STEP_MS is kept whole');
});

test('createClock picks the mode', () => {
  assert.equal(createClock('icount', () => 0).mode, 'icount');
  assert.equal(createClock('host', () => 0).mode, 'host');
});
