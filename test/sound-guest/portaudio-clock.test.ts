// The sound card's clock with a real-time backend, as the Linux guest needs it. ALSA fails a
// blocked read or write with EIO when no period elapses for max(100 ms, 1.1 × buffer time)
// (sound/core/pcm_lib.c, wait_for_avail), and the guest's period clock is how fast the stream's
// ring drains (playback) or fills (capture). So that clock must keep running while the host device
// does not: while the audio host opens the device (100-300 ms here), through a sound server's
// start stall (0.5-2 s on an idle PulseAudio sink), and when the audio host stops (SIGSTOP here,
// for less than the 3 s watchdog). Before this was so, every real-time `pcm play/rec/loop` in the
// guest ended in EIO.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AudioStream, PcmParams } from '../../src/audio/backend';
import { createBackend } from '../../src/audio/index';
import { bridgeSlackMs } from '../../src/audio/portaudio';
import { sleep, until } from '../audio/helpers/wait';
import { GUEST_IN, GUEST_OUT, startRealtimeRig, type RealtimeRig } from './helpers/realtime';

/** The guest tool's default stream: 48 kHz stereo S16, 20 ms periods, 4 of them. */
const FB = 4;
const PERIOD = 960 * FB;
const params = (direction: 'output' | 'input'): PcmParams => ({ direction, rate: 48000, channels: 2, format: 'S16', periodBytes: PERIOD, bufferBytes: 4 * PERIOD });
/** Linux's floor for the wait; with 80 ms buffers it is the limit. */
const LINUX_WAIT_MS = 100;
const STOP_MS = 1200;

let rig: RealtimeRig;
before(async () => {
  rig = await startRealtimeRig(440);
});
after(async () => {
  await rig?.stop();
});

interface ClockTrace {
  frames: number;
  /** Longest wall time the clock stood still (ms), not counting time this process was not run. */
  longestStill: number;
  /** Time this process was not run when it asked to be (loop turns late by more than 20 ms). */
  starvedMs: number;
}

/**
 * Drives a stream as the device model and a busy guest would for `ms`: output keeps the ring
 * topped up period by period, input empties it (`clocked`: only as fast as real time, as a guest
 * that plays what it records would). Measures how long the clock ever stands still.
 */
async function drive(s: AudioStream, direction: 'output' | 'input', ms: number, clocked = false): Promise<ClockTrace> {
  const out = direction === 'output';
  const zeros = new Uint8Array(PERIOD);
  const sink = new Uint8Array(s.ring.capacity);
  let written = out ? s.ring.fill() : 0; // what the driver had queued before
  let read = 0;
  let frames = 0;
  let lastMove = performance.now();
  let longestStill = 0;
  let starvedMs = 0;
  const t0 = performance.now();
  let prev = t0;
  for (;;) {
    const now = performance.now();
    if (now - t0 > ms) break;
    // On a loaded machine this process itself may not run for a while; the stream (serviced by
    // the same process, as the device model services it in the emulator worker) could not either.
    const late = now - prev - 20;
    if (late > 0) {
      starvedMs += late;
      lastMove += late;
    }
    prev = now;
    s.poll(0);
    let moved: number;
    if (out) {
      while (s.ring.room() >= PERIOD) written += s.ring.write(zeros, PERIOD, false, FB);
      moved = (written - s.ring.fill()) / FB;
    } else {
      const want = clocked ? Math.floor((48 * (now - t0)) - read / FB) * FB : sink.length;
      if (want > 0) read += s.ring.read(sink, Math.min(want, sink.length), FB);
      moved = read / FB;
    }
    if (moved > frames) {
      longestStill = Math.max(longestStill, now - lastMove);
      lastMove = now;
      frames = moved;
    }
    await sleep(2);
  }
  longestStill = Math.max(longestStill, performance.now() - lastMove);
  return { frames, longestStill, starvedMs };
}

for (const direction of ['output', 'input'] as const) {
  test(`${direction}: the clock runs from start() on, through the device opening, its start stall and a stopped audio host`, async (t) => {
    const b = createBackend(direction === 'output' ? GUEST_OUT : GUEST_IN, { portaudio: { env: { ...process.env, ...rig.env } } });
    const s = b.open(params(direction));
    try {
      if (direction === 'output') s.ring.write(new Uint8Array(4 * PERIOD), 4 * PERIOD); // the driver pre-fills its buffer
      s.start(); // at once, as Linux does right after PREPARE: the audio host is still opening
      const first = await drive(s, direction, 2000);
      t.diagnostic(`${direction}: ${first.frames} frames in 2 s, clock still for at most ${first.longestStill.toFixed(0)} ms (this process starved ${first.starvedMs.toFixed(0)} ms)`);
      assert.equal(s.failure, null);
      assert.ok(first.longestStill < LINUX_WAIT_MS, `the clock stood still for ${first.longestStill.toFixed(0)} ms`);
      // Real time, less what the start costs (open + slack, ~0.2 s) and what a loaded machine takes.
      assert.ok(first.frames > 48000 * 1.6, `only ${first.frames} frames in 2 s`);

      const pid = (s as unknown as { hostPid: number | null }).hostPid;
      assert.ok(pid && pid > 0, 'the audio host runs');
      await until(() => (s as unknown as { hostState: string }).hostState === 'open', 5000, 'the device open');
      process.kill(pid, 'SIGSTOP');
      let stalled: ClockTrace;
      try {
        // Longer than what a capture may still have buffered in the pipe and ring (~0.7 s), shorter
        // than the 3 s watchdog.
        stalled = await drive(s, direction, STOP_MS);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      t.diagnostic(`${direction}, audio host stopped: ${stalled.frames} frames in ${STOP_MS} ms, still for at most ${stalled.longestStill.toFixed(0)} ms (starved ${stalled.starvedMs.toFixed(0)} ms)`);
      assert.ok(stalled.longestStill < LINUX_WAIT_MS, `with the audio host stopped the clock stood still for ${stalled.longestStill.toFixed(0)} ms`);
      assert.ok(stalled.frames > 48 * STOP_MS * 0.7, `only ${stalled.frames} frames in ${STOP_MS} ms with the audio host stopped`);
      // Bridged stalls are xruns (the device may already have been in one when it was stopped).
      assert.ok(s.stats().xruns > 0, 'no bridged stall counted as an xrun');
      assert.equal(s.failure, null, 'a stall shorter than the watchdog is not a failure');

      // The audio host runs again, with a consumer that takes real time's worth: whatever the
      // host buffered meanwhile does not stay in the ring as latency (the bridged silence is paid
      // back), beyond the slack (40 ms here) and a device chunk.
      const resumed = await drive(s, direction, 1000, true);
      const fillMs = s.ring.fill() / FB / 48;
      t.diagnostic(`${direction}, resumed: ${resumed.frames} frames in 1000 ms, still for at most ${resumed.longestStill.toFixed(0)} ms (starved ${resumed.starvedMs.toFixed(0)} ms), ring ${fillMs.toFixed(0)} ms`);
      assert.ok(resumed.longestStill < LINUX_WAIT_MS, `after the stop the clock stood still for ${resumed.longestStill.toFixed(0)} ms`);
      assert.equal(s.failure, null);
      if (direction === 'input') assert.ok(fillMs <= bridgeSlackMs(params('input')) + 25, `${fillMs.toFixed(0)} ms of capture left waiting in the ring`);
    } finally {
      s.close();
      b.dispose();
    }
  });
}

test('the bridge slack: half of what the Linux wait for a period, max(100 ms, 1.1 × buffer), leaves after the period', () => {
  const p = (periodFrames: number, periods: number): PcmParams => ({ direction: 'output', rate: 48000, channels: 2, format: 'S16', periodBytes: periodFrames * FB, bufferBytes: periodFrames * periods * FB });
  const ms = (periodFrames: number, periods: number) => Math.round(bridgeSlackMs(p(periodFrames, periods)) * 1000) / 1000;
  assert.equal(ms(960, 4), 40); // pcm's default, 20 ms periods, 80 ms buffer: (100 - 20) / 2
  assert.equal(ms(3840, 4), 136); // 80 ms periods: (352 - 80) / 2
  assert.equal(ms(4800, 2), 60); // 100 ms periods, two of them: (220 - 100) / 2
  assert.equal(ms(48, 2), 49.5); // 1 ms periods: (100 - 1) / 2
  assert.equal(ms(48000, 16), 250); // long buffers: capped
  assert.equal(ms(4800, 1), 20); // one period is almost the whole wait: the floor
});
