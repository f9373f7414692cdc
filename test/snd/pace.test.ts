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
  p.reset(BUFFER, PERIOD, RATE_BYTES);
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
