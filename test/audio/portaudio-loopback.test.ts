// The headless real-time loopback: PortAudio output → ALSA pulse plugin → a private PulseAudio's
// null sink → its monitor → ALSA pulse plugin → PortAudio input, both through our backend (two
// audio-host processes, as a playback and a capture stream of the sound card would use).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PcmParams } from '../../src/audio/backend';
import { createBackend } from '../../src/audio/index';
import { alsaConfig } from './helpers/alsa';
import { audioHostScript } from './helpers/host';
import { analyze, analyzeRobust, sine } from './helpers/signal';
import { exited, sleep, until } from './helpers/wait';
import { startPulse } from './pulse';

test('portaudio loopback through a private PulseAudio null sink: 440 ± 1 Hz, expected RMS, real-time pace', async (t) => {
  const alsa = alsaConfig('pulse.conf');
  const pulse = await startPulse(alsa.dir);
  try {
    const f = { rate: 48000, channels: 2, format: 'S16' as const };
    const fb = 4;
    const base = { ...f, periodBytes: 480 * fb, bufferBytes: 4800 * fb };
    // clockSlackMs: Infinity: this test measures the device's own pace, so the stream must not keep
    // a guest's clock through the start stall by dropping frames (portaudio.ts bridge()).
    const opts = { hostScript: audioHostScript(), env: { ...process.env, ALSA_CONFIG_PATH: alsa.config, ...pulse.env }, clockSlackMs: Infinity };
    const txb = createBackend('portaudio:semutest_pa_out', { portaudio: opts });
    const rxb = createBackend('portaudio:semutest_pa_in', { portaudio: opts });
    const tx = txb.open({ ...base, direction: 'output' } as PcmParams);
    const rx = rxb.open({ ...base, direction: 'input' } as PcmParams);
    const seconds = 2;
    const data = sine(f, 440, f.rate * seconds, 0.5);
    const cap = new Uint8Array(f.rate * (seconds + 2.5) * fb);
    let capN = 0;
    let off = 0;
    // Capture first, and only play once it flows: PortAudio's ALSA→pulse path stalls for 0.5–2 s
    // when a stream starts (measured with bare naudiodon too).
    rx.start();
    await until(() => (rx.poll(0), (capN += rx.ring.read(cap.subarray(capN), cap.length - capN, fb)), capN > 0), 8000, 'capture flowing');
    tx.start();
    const t0 = Date.now();
    // The same start stall on the TX side: the pace is measured from half a second of audio on.
    let halfAt = 0;
    let drainedAt = 0;
    while (capN < cap.length) {
      // What the device model does between run slices: feed TX, drain RX, poll both.
      if (off < data.length) {
        const room = tx.ring.room() - (tx.ring.room() % fb);
        off += tx.ring.write(data.subarray(off, Math.min(data.length, off + room)));
      } else if (!drainedAt && tx.ring.fill() === 0) {
        drainedAt = Date.now();
        tx.stop(); // as the driver does once the last period came back: no underrun follows
      }
      if (!halfAt && tx.stats().frames >= f.rate / 2) halfAt = Date.now();
      tx.poll(0);
      rx.poll(0);
      capN += rx.ring.read(cap.subarray(capN), cap.length - capN, fb);
      assert.equal(tx.failure, null);
      assert.equal(rx.failure, null);
      assert.ok(Date.now() - t0 < 12000, 'capture took too long');
      await sleep(5);
    }
    const pids = [tx, rx].map((s) => (s as unknown as { hostPid: number }).hostPid);
    tx.close();
    rx.close();
    txb.dispose();
    rxb.dispose();
    await Promise.all(pids.map((p) => exited(p, 3000)));

    // The sink consumed the sine in real time: the TX ring drained at the card's pace.
    const took = (drainedAt - halfAt) / 1000;
    const pace = (seconds - 0.5) / took;
    // Never faster than the card (that would be free-running); slower only by the sound server's
    // own stalls, which a 2-core machine under a kernel build does show.
    assert.ok(pace > 0.5 && pace < 1.05, `the ring drained at ${pace.toFixed(3)} × real time`);
    const all = analyze(cap, f);
    assert.ok(all.firstNonZero >= 0, 'the sine came back');
    const onset = all.firstNonZero;
    const span = (all.lastNonZero - onset) / f.rate;
    assert.ok(span > seconds - 0.1, `the sine came back for ${span} s`);
    // The middle of the sine (away from its ends). Under heavy system load the sound server can
    // drop out: the frequency comes from the median cycle and dropouts are counted, not averaged in
    // (the file-backed test proves our own path bit for bit).
    const win = cap.subarray((onset + f.rate * 0.1) * fb, (onset + f.rate * (seconds - 0.2)) * fb);
    const a = analyzeRobust(win, f);
    const r = analyzeRobust(win, f, 1);
    t.diagnostic(
      `loopback: ${a.freqHz.toFixed(2)} Hz / ${r.freqHz.toFixed(2)} Hz, rms ${a.rms.toFixed(4)}, ` +
        `${a.glitches} glitches in ${a.cycles} cycles, onset ${((onset / f.rate) * 1000).toFixed(0)} ms into capture, ` +
        `TX pace ${pace.toFixed(3)} × real time, TX xruns ${tx.stats().xruns}, RX xruns ${rx.stats().xruns}`,
    );
    assert.ok(Math.abs(a.freqHz - 440) <= 1, `left channel came back at ${a.freqHz} Hz`);
    assert.ok(Math.abs(r.freqHz - 440) <= 1, `right channel came back at ${r.freqHz} Hz`);
    assert.ok(Math.abs(a.rms - 0.5 / Math.SQRT2) < 0.01, `rms ${a.rms}`);
    assert.ok(a.glitches <= a.cycles / 20, `${a.glitches} glitches in ${a.cycles} cycles`);
    assert.equal(tx.stats().frames, data.length / fb);
    assert.ok(rx.stats().frames >= cap.length / fb);
    assert.equal(rx.stats().xruns, 0, 'nothing dropped on the capture side');
  } finally {
    await pulse.stop();
    alsa.remove();
  }
});
