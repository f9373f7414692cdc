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
import { bridgeSlackMs, HOLD_MS } from '../../src/audio/portaudio';
import { sleep, until } from '../audio/helpers/wait';
import { GUEST_IN, GUEST_OUT, startRealtimeRig, type RealtimeRig } from './helpers/realtime';

/** The guest tool's default stream: 48 kHz stereo S16, 20 ms periods, 4 of them. */
const FB = 4;
const PERIOD = 960 * FB;
const params = (direction: 'output' | 'input'): PcmParams => ({ direction, rate: 48000, channels: 2, format: 'S16', periodBytes: PERIOD, bufferBytes: 4 * PERIOD });
/**
 * Holds this process (which services the stream, as the emulator worker does) for `ms` three
 * times, driving the stream between: the device plays on from its queue (output) or its chunks
 * wait in the pipe (input), so nothing is lost.
 */
async function holdUps(s: AudioStream, direction: 'output' | 'input', ms: number): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      /* busy: a slow run slice, or the OS not running the worker */
    }
    await drive(s, direction, 300, direction === 'input');
  }
}

/** Linux's floor for the wait; with 80 ms buffers it is the limit. */
const LINUX_WAIT_MS = 100;
/**
 * How far the output clock may run ahead of real time, in frames: a device chunk (10 ms) and
 * scheduling noise, up to 40 ms in all. Idle it stays under 700 frames; a CI run on 2 cores once
 * saw 1427. A burst — the prefilled buffer (4 periods, 3840 frames) taken at once when the audio
 * host opens — is twice this.
 */
const MAX_AHEAD = 48 * 40;
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
  /** Output: bytes the driver wrote into the ring in all (what it had queued before included). */
  written: number;
  /** Longest wall time the clock stood still (ms), not counting time this process was not run. */
  longestStill: number;
  /** Time this process was not run when it asked to be (loop turns late by more than 20 ms). */
  starvedMs: number;
  /**
   * Output: the most the guest's clock (frames the device model may return: gone from the ring
   * and not held ahead of the device, AudioStream.pendingFrames) ran ahead of real time since
   * the drive began, in frames.
   */
  maxAhead: number;
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
  // What the driver had queued before: still in the ring, or already moved (START may have).
  let written = out ? s.ring.fill() + s.stats().frames * FB : 0;
  let read = 0;
  let frames = 0;
  let lastMove = performance.now();
  let longestStill = 0;
  let starvedMs = 0;
  let maxAhead = -Infinity;
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
      // Real time read after the stream moved, not before: this process preempted between the
      // two reads (a loaded 2-core machine: 10 ms and more) is not the clock running ahead.
      maxAhead = Math.max(maxAhead, moved - (s.pendingFrames?.() ?? 0) - 48 * (performance.now() - t0));
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
  return { frames, written, longestStill, starvedMs, maxAhead };
}

for (const direction of ['output', 'input'] as const) {
  test(`${direction}: the clock runs from start() on, through the device opening, its start stall and a stopped audio host`, async (t) => {
    const b = createBackend(direction === 'output' ? GUEST_OUT : GUEST_IN, { portaudio: { env: { ...process.env, ...rig.env } } });
    const s = b.open(params(direction));
    try {
      if (direction === 'output') s.ring.write(new Uint8Array(4 * PERIOD), 4 * PERIOD); // the driver pre-fills its buffer
      s.start(); // at once, as Linux does right after PREPARE: the audio host is still opening
      const first = await drive(s, direction, 2000);
      t.diagnostic(
        `${direction}: ${first.frames} frames in 2 s, clock still for at most ${first.longestStill.toFixed(0)} ms (this process starved ${first.starvedMs.toFixed(0)} ms)` +
          (direction === 'output' ? `, at most ${first.maxAhead.toFixed(0)} frames ahead of real time` : ''),
      );
      assert.equal(s.failure, null);
      assert.ok(first.longestStill < LINUX_WAIT_MS, `the clock stood still for ${first.longestStill.toFixed(0)} ms`);
      // Real time, less what the start costs (open + slack, ~0.2 s) and what a loaded machine takes.
      assert.ok(first.frames > 48000 * 1.6, `only ${first.frames} frames in 2 s`);
      // Input's silence before the first captured frame is start-up latency, not an overrun.
      // (Output's start here may be a loss: a null sink this fresh stalls a new stream up to 2 s,
      // longer than the HOLD_MS the stream holds for it. The next test starts on a running sink.)
      if (direction === 'input') {
        assert.equal(s.stats().xruns, 0, 'xruns counted for the start');
        // The worker held up for longer than the slack is not the device stalling.
        await holdUps(s, direction, 90);
        assert.equal(s.stats().xruns, 0, 'a held-up worker counted as a device stall');
      }
      // The device filling its buffers at open is no reason for the guest's clock to race: it
      // never runs more than MAX_AHEAD ahead of real time.
      if (direction === 'output') assert.ok(first.maxAhead < MAX_AHEAD, `the output clock ran ${first.maxAhead.toFixed(0)} frames ahead of real time`);

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

/** What the late-start test says when the stream bridged a stall (see onceMoreOnBridgedStall). */
const STALL_MISSES = ['the late start counted as a stall', 'a held-up worker counted as a device stall'];

/**
 * Runs `scenario` and, if its only miss was a bridged stall, once more, the first miss printed as
 * a test diagnostic: on a shared 2-core machine the sound server or the audio host is held up
 * now and then, while a defect (a late start taken for a stall) misses both runs.
 */
async function onceMoreOnBridgedStall(t: { diagnostic(m: string): void }, scenario: () => Promise<void>): Promise<void> {
  try {
    await scenario();
  } catch (e) {
    if (!(e instanceof assert.AssertionError) || !STALL_MISSES.some((m) => e.message.includes(m))) throw e;
    t.diagnostic(`${e.message.split('\n')[0]} — running it once more`);
    await scenario();
  }
}

test('output: START before the audio host has opened is latency, not loss: nothing dropped, no stall bridged, no burst', (t) => onceMoreOnBridgedStall(t, () => lateStart(t)));

/**
 * The xruns the stream itself counted: stalls it bridged (silence or dropped frames standing in
 * for a device that did not move) and frames lost to a failure. What the late start could do
 * wrong shows there. The audio host's own count (PortAudio's output-underflow flags, the sound
 * server's timing) is printed, not asserted. The device takes its first frames 210-310 ms after
 * START on this 2-core machine (the audio host's open and PulseAudio's start), within the 400 ms
 * a stream holds for it (HOLD_MS; at 250, CI's whole suite went past it in three runs of six):
 * later than that, what was due beyond is dropped and counted, by design, and the test says so
 * instead of asserting.
 */
function stalls(s: AudioStream): number {
  const x = s as unknown as Record<'bridgedStalls' | 'lostToFailure', number>;
  return x.bridgedStalls + x.lostToFailure;
}

async function lateStart(t: { diagnostic(m: string): void }): Promise<void> {
  const b = createBackend(GUEST_OUT, { portaudio: { env: { ...process.env, ...rig.env } } });
  // Another stream already plays into the sink (as on a desktop): the sink runs, and a new
  // stream's start costs only its audio host's open.
  const warm = b.open(params('output'));
  const zeros = new Uint8Array(PERIOD);
  const keep = setInterval(() => {
    warm.poll(0);
    while (warm.ring.room() >= PERIOD) warm.ring.write(zeros, PERIOD, false, FB);
  }, 5);
  let s: AudioStream | null = null;
  let watch: NodeJS.Timeout | undefined;
  try {
    warm.start();
    await sleep(2500);
    s = b.open(params('output'));
    s.ring.write(new Uint8Array(4 * PERIOD), 4 * PERIOD);
    s.start(); // the audio host is still opening (a new process: 100-300 ms)
    const started = performance.now();
    assert.notEqual((s as unknown as { hostState: string }).hostState, 'open', 'the audio host opened before START');
    // When the device first took frames (the stream "flows"): until then the due frames are held
    // for it as latency, HOLD_MS at most; beyond that they are dropped and counted, by design.
    const live = s as unknown as { flowing: boolean };
    let flowMs = Infinity;
    watch = setInterval(() => {
      if (live.flowing && flowMs === Infinity) flowMs = performance.now() - started;
    }, 2);
    const r = await drive(s, 'output', 1500);
    clearInterval(watch);
    watch = undefined;
    const x = s as unknown as Record<'childXruns' | 'bridgedStalls' | 'lostToFailure', number>;
    t.diagnostic(`${r.frames} frames in 1.5 s, clock still for at most ${r.longestStill.toFixed(0)} ms, at most ${r.maxAhead.toFixed(0)} frames ahead of real time, xruns ${s.stats().xruns} (the audio host's ${x.childXruns}, bridged stalls ${x.bridgedStalls}, lost to a failure ${x.lostToFailure}); the device took the first frames ${flowMs.toFixed(0)} ms after START`);
    assert.equal(s.failure, null);
    assert.equal((s as unknown as { hostState: string }).hostState, 'open');
    if (flowMs <= HOLD_MS) {
      assert.equal(stalls(s), 0, 'the late start counted as a stall');
      // Every frame that left the ring went to the audio host: none was dropped to keep the clock.
      // (Both read now: the stream's own timer may have moved another chunk since drive() looked.)
      assert.equal(s.stats().frames, (r.written - s.ring.fill()) / FB, 'frames dropped from the ring');
    } else {
      t.diagnostic(`the device started later than the ${HOLD_MS} ms a stream holds for it: what was due beyond is dropped and counted, by design (docs/audio.md)`);
    }
    assert.ok(r.longestStill < LINUX_WAIT_MS, `the clock stood still for ${r.longestStill.toFixed(0)} ms`);
    assert.ok(r.maxAhead < MAX_AHEAD, `the clock ran ${r.maxAhead.toFixed(0)} frames ahead of real time`);
    assert.ok(r.frames > 48 * 1500 * 0.85, `only ${r.frames} frames in 1.5 s`);
    // The worker held up for longer than the slack, less than the prefill and the audio host's
    // queue (120 ms): the device plays on, nothing is lost, nothing is bridged.
    const beforeHoldUps = stalls(s);
    await holdUps(s, 'output', 90);
    assert.equal(stalls(s), beforeHoldUps, 'a held-up worker counted as a device stall');
  } finally {
    clearInterval(keep);
    clearInterval(watch);
    s?.close();
    warm.close();
    b.dispose();
  }
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
