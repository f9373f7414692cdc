// The real-time loopback with the real Linux driver, as semu's reviewer asked: the guest's sound
// card on PortAudio (two audio hosts), PortAudio on ALSA's pulse plugin, a private PulseAudio
// (helpers/realtime.ts: module-sine into one null sink, the guest's playback into another);
// --time host (real time). The guest's `pcm loop` captures the sine and plays it straight back:
//   module-sine → sink monitor → PortAudio → virtio-snd RX → Linux → pcm loop → Linux →
//   virtio-snd TX → PortAudio → null sink → monitor → parecord (the test's ear, outside our code).
// What the guest recorded is judged by the guest's own `pcm:` line; what it played, from the
// monitor recording (median cycle, dropouts counted). Robust under load: 8 s of audio, 80 ms
// periods × 4 (Linux gives a blocked read or write max(100 ms, 1.1 × buffer) to see a period:
// 352 ms here, where the tool's default 20 ms × 4 leaves 100 ms for the whole host path on a
// loaded 2-core machine), and stream starts that do not wait on an idle sound server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeRobust } from '../audio/helpers/signal';
import { until } from '../audio/helpers/wait';
import { childPids, GuestSession } from '../helpers/guest-session';
import { GUEST_IN, GUEST_OUT, MONITOR, startRealtimeRig } from './helpers/realtime';
import { watchStreams } from './helpers/streams';

const SECONDS = 8;
const SINE_RMS = 0.5 / Math.SQRT2; // module-sine plays at amplitude 0.5

test('real time: the guest loops a 440 Hz PulseAudio sine through PortAudio; it records 440 ± 1 Hz and plays it back', async (t) => {
  const rig = await startRealtimeRig(440);
  let g: GuestSession | null = null;
  try {
    g = await GuestSession.boot({ audioOut: GUEST_OUT, audioIn: GUEST_IN, time: 'host', env: rig.env });
    const rec = rig.recordMonitor();
    const watch = watchStreams(g.host, 20);
    const r = await g.run(`pcm loop ${SECONDS} -p 3840 -b 15360`, { timeoutMs: 120_000 });
    const seen = watch.stop();
    const mon = await rec.stop();

    t.diagnostic(`guest: ${r.pcm?.raw ?? r.output.trim()}`);
    for (const [id, snap] of seen.lastRunning) t.diagnostic(`stream ${id} (${snap.direction}): ${snap.backend}, host xruns ${snap.xrunsHost}, frames ${snap.framesMoved}`);
    // Both streams ran on PortAudio, not on the null fallback.
    assert.deepEqual([...seen.failures], [], 'a backend fell back to null');
    const tx = seen.lastRunning.get(0);
    const rx = seen.lastRunning.get(1);
    assert.ok(tx && rx, `both streams ran (saw ${[...seen.lastRunning.keys()]})`);
    assert.match(tx.backend, /portaudio/);
    assert.match(rx.backend, /portaudio/);

    // What the guest recorded, by the guest's own measurement.
    assert.equal(r.shellStatus, null, r.output);
    assert.ok(r.pcm && r.pcm.verb === 'loop', `no pcm: loop line:\n${r.output}`);
    const p = r.pcm;
    assert.equal(p.num('rec_frames'), 48000 * SECONDS);
    assert.equal(p.num('play_frames'), 48000 * SECONDS);
    assert.ok(Math.abs(p.num('freq') - 440) <= 1, `the guest recorded ${p.num('freq')} Hz`);
    assert.ok(p.num('rms') > SINE_RMS * 0.8 && p.num('rms') < SINE_RMS * 1.05, `the guest recorded RMS ${p.num('rms')}`);
    // Real time: the transfer took about as long as the audio (plus the sound server's start stall).
    assert.ok(p.num('ms') >= SECONDS * 1000 * 0.95, `the loop took ${p.num('ms')} ms of guest time for ${SECONDS} s of audio`);

    // What the guest played came out of the sink: the median cycle is 440 Hz, at the source's level.
    const fb = 4;
    const x = new Int16Array(mon.buffer, mon.byteOffset, mon.length >> 1);
    let onset = 0;
    while (onset < x.length && x[onset] === 0) onset++;
    const heard = (x.length - onset) / 2 / MONITOR.rate;
    assert.ok(heard > SECONDS * 0.8, `the monitor heard ${heard.toFixed(2)} s of the guest's playback`);
    const skip = Math.floor(onset / 2) + MONITOR.rate / 10;
    const win = mon.subarray(skip * fb, mon.length - (MONITOR.rate / 10) * fb);
    const left = analyzeRobust(win, MONITOR, 0);
    const right = analyzeRobust(win, MONITOR, 1);
    t.diagnostic(
      `monitor: ${left.freqHz.toFixed(2)} / ${right.freqHz.toFixed(2)} Hz, rms ${left.rms.toFixed(4)}, ` +
        `${left.glitches} glitches in ${left.cycles} cycles, ${heard.toFixed(2)} s heard`,
    );
    assert.ok(Math.abs(left.freqHz - 440) <= 1, `the monitor heard ${left.freqHz} Hz (left)`);
    assert.ok(Math.abs(right.freqHz - 440) <= 1, `the monitor heard ${right.freqHz} Hz (right)`);
    assert.ok(Math.abs(left.rms - SINE_RMS) < 0.02, `the monitor heard RMS ${left.rms}`);
    assert.ok(left.glitches <= left.cycles / 10, `${left.glitches} glitches in ${left.cycles} cycles`);

    const e = await g.poweroff();
    assert.equal(e.reason, 'poweroff');
  } finally {
    await g?.dispose();
    await rig.stop();
  }
  // Nothing left behind: no audio host, no recorder, no sound server.
  await until(() => childPids().length === 0, 5000, `child processes to exit (left: ${childPids()})`);
});
