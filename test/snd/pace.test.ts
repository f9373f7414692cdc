// The return pacer (snd-pace.ts) alone, on a simulated clock: the device's poll comes late by a
// little every period (as it does between run slices), or stalls once; the guest's playback
// clock must stay at the nominal rate, and a stall must not come back as a burst.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReturnPacer } from '../../src/devices/virtio-snd/snd-pace';

const RATE_BYTES = 8000 * 2; // 8 kHz mono S16
const PERIOD = 160; // 10 ms
const BUFFER = 320; // 2 periods: the window is one period

/**
 * Returns one period message at a time as the pacer allows, each poll `lateS` after the moment
 * the pacer named (plus `stallS` once, at `stallAt`); the device always holds 2 (the guest
 * re-queues at once). Returns the actual return times.
 */
function playback(seconds: number, lateS: number, stall = { at: -1, s: 0 }): number[] {
  const p = new ReturnPacer(16, true);
  p.reset(BUFFER, PERIOD, RATE_BYTES, 0, true);
  const times: number[] = [];
  let t = 0;
  while (t < seconds) {
    const wait = p.waitSeconds(t, PERIOD, 2);
    if (wait > 0) {
      t += wait + lateS + (times.length === stall.at ? stall.s : 0);
      continue;
    }
    assert.ok(p.allows(t, PERIOD, 2));
    p.returned(t, PERIOD);
    times.push(t);
  }
  return times;
}

test('pacer: polls 0.25 ms late every period do not slow the clock (2-period buffer)', () => {
  const times = playback(2, 0.00025);
  // 10 ms a message: 200 in 2 s. Lateness recorded as such would give 195 (2.5 % slow).
  assert.ok(times.length >= 199 && times.length <= 201, `${times.length} periods in 2 s`);
  for (let i = 1; i < times.length; i++) {
    const gap = times[i] - times[i - 1];
    // Never closer than the window less the quarter-window credit.
    assert.ok(gap >= 0.01 - 0.0025 - 1e-9, `returns ${i - 1}..${i} ${(gap * 1000).toFixed(3)} ms apart`);
  }
});

test('pacer: a stall is not made up in a burst', () => {
  const times = playback(1, 0.00025, { at: 50, s: 0.05 });
  const i = times.findIndex((t, k) => k > 0 && t - times[k - 1] > 0.04);
  assert.ok(i > 0, 'the stall shows');
  for (let k = i + 1; k < times.length; k++) {
    const gap = times[k] - times[k - 1];
    assert.ok(gap >= 0.0075 - 1e-9, `after the stall, returns ${k - 1}..${k} ${(gap * 1000).toFixed(3)} ms apart`);
  }
  // The 50 ms lost stays lost (a real card would have under-run, not played faster after).
  assert.ok(times.length <= 96, `${times.length} periods in 1 s with a 50 ms stall`);
});

test('pacer: a burst from the host side never runs the guest clock ahead of real time since START (capture)', () => {
  const p = new ReturnPacer(16, false);
  const start = 5; // guest seconds at START
  p.reset(4 * PERIOD, PERIOD, RATE_BYTES, start, true);
  // The host side hands over 40 ms at once every 40 ms, 30 ms late at first (a buffered source).
  const times: number[] = [];
  let filled = 0; // periods whose data has arrived
  for (let t = start; t < start + 1; t += 0.0005) {
    filled = Math.max(0, Math.floor((t - start - 0.03) / 0.04) + 1) * 4;
    while (times.length < filled && p.allows(t, PERIOD, 4)) {
      p.returned(t, PERIOD);
      times.push(t);
    }
  }
  for (let k = 0; k < times.length; k++) {
    // Period k completes at START + (k + 1) × 10 ms on a real card (less its possible 0.5 % drift).
    assert.ok(times[k] >= start + ((k + 1) * 0.01) / 1.005 - 1e-9, `period ${k} back at ${((times[k] - start) * 1000).toFixed(2)} ms`);
  }
  // And the stream keeps up: the bursts' data all goes back in time (within a burst of the end).
  assert.ok(times.length >= 96, `${times.length} periods back in 1 s`);
});

test('pacer: a guest-time paced host side (null, WAV) is not held to the START timeline', () => {
  const p = new ReturnPacer(16, false);
  p.reset(4 * PERIOD, PERIOD, RATE_BYTES, 0, false);
  assert.ok(p.allows(0, PERIOD, 4), 'a period the backend already completed goes back at once');
  const q = new ReturnPacer(16, false);
  q.reset(4 * PERIOD, PERIOD, RATE_BYTES, 0, true);
  assert.equal(q.allows(0, PERIOD, 4), false, 'on a device clock it waits for its time');
  assert.ok(Math.abs(q.waitSeconds(0, PERIOD, 4) - 0.01 / 1.005) < 1e-9);
});
