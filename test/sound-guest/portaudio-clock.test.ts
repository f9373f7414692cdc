// The sound card's clock with a real-time backend, as the Linux guest needs it. ALSA fails a
// blocked read or write with EIO when no period elapses for max(100 ms, 1.1 × buffer time)
// (sound/core/pcm_lib.c, wait_for_avail), and the guest's period clock is how fast the stream's
// ring drains (playback) or fills (capture). So that clock must keep running while the host device
// does not: while the audio host opens the device (100-300 ms here), through PulseAudio's start
// stall (0.5-2 s), and when the audio host stops (SIGSTOP here, for less than the 3 s watchdog).
// Before this was so, every real-time `pcm play/rec/loop` in the guest ended in EIO.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AudioStream, PcmParams } from '../../src/audio/backend';
import { createBackend } from '../../src/audio/index';
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
  /** Longest wall time the clock stood still (ms). */
  longestStill: number;
}

/**
 * Drives a stream as the device model and a busy guest would for `ms`: output keeps the ring
 * topped up period by period, input empties it. Measures how long the clock ever stands still.
 */
async function drive(s: AudioStream, ms: number, onTick?: (elapsed: number) => void): Promise<ClockTrace> {
  const out = s.ring.capacity > 0 && (s as unknown as { params: PcmParams }).params.direction === 'output';
  const zeros = new Uint8Array(PERIOD);
  const sink = new Uint8Array(s.ring.capacity);
  let written = out ? s.ring.fill() : 0; // what the driver had queued before
  let read = 0;
  let frames = 0;
  let lastMove = performance.now();
  let longestStill = 0;
  const t0 = performance.now();
  for (;;) {
    const now = performance.now();
    if (now - t0 > ms) break;
    onTick?.(now - t0);
    s.poll(0);
    let moved: number;
    if (out) {
      while (s.ring.room() >= PERIOD) written += s.ring.write(zeros, PERIOD, false, FB);
      moved = (written - s.ring.fill()) / FB;
    } else {
      read += s.ring.read(sink, sink.length, FB);
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
  return { frames, longestStill };
}

for (const direction of ['output', 'input'] as const) {
  test(`${direction}: the clock runs from start() on, through the device opening, its start stall and a stopped audio host`, async (t) => {
    const b = createBackend(direction === 'output' ? GUEST_OUT : GUEST_IN, { portaudio: { env: { ...process.env, ...rig.env } } });
    const s = b.open(params(direction));
    try {
      if (direction === 'output') s.ring.write(new Uint8Array(4 * PERIOD), 4 * PERIOD); // the driver pre-fills its buffer
      s.start(); // at once, as Linux does right after PREPARE: the audio host is still opening
      const first = await drive(s, 2000);
      t.diagnostic(`${direction}: ${first.frames} frames in 2 s, clock still for at most ${first.longestStill.toFixed(0)} ms`);
      assert.equal(s.failure, null);
      assert.ok(first.longestStill < LINUX_WAIT_MS, `the clock stood still for ${first.longestStill.toFixed(0)} ms`);
      assert.ok(first.frames > 48000 * 1.8, `only ${first.frames} frames in 2 s`);

      const pid = (s as unknown as { hostPid: number | null }).hostPid;
      assert.ok(pid && pid > 0, 'the audio host runs');
      await until(() => (s as unknown as { hostState: string }).hostState === 'open', 5000, 'the device open');
      process.kill(pid, 'SIGSTOP');
      let stalled: ClockTrace;
      try {
        // Longer than what a capture may still have buffered in the pipe and ring (~0.7 s), shorter
        // than the 3 s watchdog.
        stalled = await drive(s, STOP_MS);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      t.diagnostic(`${direction}, audio host stopped: ${stalled.frames} frames in ${STOP_MS} ms, still for at most ${stalled.longestStill.toFixed(0)} ms`);
      assert.ok(stalled.longestStill < LINUX_WAIT_MS, `with the audio host stopped the clock stood still for ${stalled.longestStill.toFixed(0)} ms`);
      assert.ok(stalled.frames > 48 * STOP_MS * 0.8, `only ${stalled.frames} frames in ${STOP_MS} ms with the audio host stopped`);
      // Bridged stalls are xruns (the device may already have been in one when it was stopped).
      assert.ok(s.stats().xruns > 0, 'no bridged stall counted as an xrun');
      assert.equal(s.failure, null, 'a stall shorter than the watchdog is not a failure');
    } finally {
      s.close();
      b.dispose();
    }
  });
}
