// Real PortAudio (naudiodon in the audio host) with no sound card: ALSA is configured only by a
// test-owned file (ALSA_CONFIG_PATH) whose PCMs write a raw file (playback) and read a raw file
// made here (capture). File-backed ALSA devices run as fast as the CPU allows; the audio host
// paces silence and capture reads by the wall clock, which these tests rely on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AudioStream, PcmParams } from '../../src/audio/backend';
import { frameBytes } from '../../src/audio/backend';
import { createBackend, listPortAudioDevices, liveAudioHosts } from '../../src/audio/index';
import type { PortAudioOptions, PortAudioStream } from '../../src/audio/portaudio';
import { alsaConfig } from './helpers/alsa';
import { audioHostScript } from './helpers/host';
import { analyze, indexOfBytes, sine } from './helpers/signal';
import { exited, sleep, until } from './helpers/wait';

const alsa = alsaConfig('file-pcms.conf');
const IN_SECONDS = 20; // capture past the infile's end repeats stale data: keep it longer than any test
const inFmt = { rate: 48000, channels: 1, format: 'S16' as const };
writeFileSync(join(alsa.dir, 'in.raw'), sine(inFmt, 1000, inFmt.rate * IN_SECONDS, 0.5));
const opened = (s: AudioStream) => (s as PortAudioStream).hostState === 'open';
const opts: PortAudioOptions = {
  hostScript: audioHostScript(),
  env: { ...process.env, ALSA_CONFIG_PATH: alsa.config },
};
test.after(() => alsa.remove());

function params(direction: 'output' | 'input', f: { rate: number; channels: number; format: PcmParams['format'] }): PcmParams {
  const fb = frameBytes(f);
  return { direction, ...f, periodBytes: (f.rate / 100) * fb, bufferBytes: (f.rate / 10) * fb };
}

/** A PortAudio output stream on the file-backed device (opened `afterMs` after its backend), its backend and frame size. */
async function openOutput(f: { rate: number; channels: number; format: PcmParams['format'] }, afterMs = 0) {
  const backend = createBackend('portaudio:semutest_out', { portaudio: opts });
  if (afterMs > 0) await sleep(afterMs);
  const p = params('output', f);
  return { backend, s: backend.open(p) as PortAudioStream, fb: frameBytes(p) };
}

/** Closes the stream and its backend, waits for the audio host to exit, returns what it wrote. */
async function closeAndRead(s: PortAudioStream, backend: { dispose(): void }): Promise<Buffer> {
  const pid = s.hostPid!;
  s.close();
  backend.dispose();
  await exited(pid, 3000);
  return readFileSync(join(alsa.dir, 'out.raw'));
}

/** Feeds `data` into an output stream's ring as room allows, polling like the machine would. */
async function play(s: AudioStream, data: Uint8Array, fb: number): Promise<void> {
  let off = 0;
  s.start();
  const deadline = Date.now() + 8000;
  while (off < data.length) {
    const room = s.ring.room() - (s.ring.room() % fb);
    if (room > 0) off += s.ring.write(data.subarray(off, Math.min(data.length, off + room)));
    s.poll(0);
    await sleep(2);
    assert.ok(Date.now() < deadline, 'the output stream stopped taking data');
    assert.equal(s.failure, null);
  }
  await until(() => (s.poll(0), s.ring.fill() === 0), 4000, 'the ring drained');
}

test('portaudio: the audio host lists the test-owned ALSA devices', async () => {
  const devs = await listPortAudioDevices(opts);
  const out = devs.find((d) => d.name === 'semutest_out');
  const inp = devs.find((d) => d.name === 'semutest_in');
  assert.ok(out && out.maxOutputChannels >= 2, JSON.stringify(devs));
  assert.ok(inp && inp.maxInputChannels >= 1, JSON.stringify(devs));
});

for (const f of [
  { rate: 48000, channels: 2, format: 'S16' as const },
  { rate: 44100, channels: 1, format: 'FLOAT' as const },
]) {
  test(`portaudio: a 440 Hz sine played (${f.format}, ${f.channels} ch, ${f.rate} Hz) lands in the ALSA file intact`, async () => {
    const { backend, s, fb } = await openOutput(f);
    const data = sine(f, 440, Math.round(f.rate * 1.0), 0.5, 0.3);
    await until(() => opened(s), 5000, 'device opened');
    await play(s, data, fb);
    const file = await closeAndRead(s, backend);
    // Silence before the guest's first frame, then every frame exactly as sent, in order.
    const at = indexOfBytes(file, data.subarray(0, 64 * fb));
    assert.ok(at >= 0, 'the start of the sine is in the file');
    assert.equal(at % fb, 0);
    assert.ok(file.subarray(0, at).every((b) => b === 0), 'only silence before the sine');
    assert.deepEqual(file.subarray(at, at + data.length), Buffer.from(data), 'the whole sine, bit for bit');
    const a = analyze(file.subarray(at, at + data.length), f);
    assert.ok(Math.abs(a.freqHz - 440) < 0.5, `frequency ${a.freqHz}`);
    assert.ok(Math.abs(a.rms - 0.5 / Math.SQRT2) < 0.01, `rms ${a.rms}`);
    const st = s.stats();
    assert.equal(st.frames, data.length / fb);
    assert.equal(st.xruns, 0);
  });
}

for (const spare of [false, true]) {
  // Cold: the audio host starts with the stream (100-300 ms). Spare: it is up and opens within
  // the first period, while START's first few frames still arrive (they were once padded with
  // silence: a gap inside the tone, and a tail short of a chunk waited for the close).
  const how = spare ? 'on the backend spare audio host' : 'before its audio host is up';
  test(`portaudio: started ${how}, STOPped once the guest clock says all played: the sine is in the file whole, no gap, nothing left for the close`, async () => {
    const f = { rate: 48000, channels: 2, format: 'S16' as const };
    const { backend, s, fb } = await openOutput(f, spare ? 500 : 0);
    // Not a whole number of the audio host's 10 ms chunks.
    const data = sine(f, 440, f.rate / 2 + 123, 0.5, 0.3);
    // START at once, as Linux does right after PREPARE: the guest's clock runs from START, and what
    // falls due while the audio host opens and primes goes to it held (latency).
    await play(s, data, fb);
    await until(() => (s.poll(0), s.pendingFrames() === 0), 4000, 'the guest clock counted every frame played');
    s.stop();
    // The warm stream idles (silence) until its close: what was held must not wait for the close.
    await sleep(1200);
    const file = await closeAndRead(s, backend);
    const at = indexOfBytes(file, data.subarray(0, 64 * fb));
    assert.ok(at >= 0, 'the start of the sine is in the file');
    const got = file.subarray(at, at + data.length);
    const bad = got.length < data.length ? got.length : got.findIndex((b, i) => b !== data[i]);
    assert.equal(bad, -1, `the sine is not whole and contiguous from frame ${bad / fb} of ${data.length / fb} on`);
  });
}

test('portaudio: output that runs dry at the end of the data (a drain) is no xrun; data after such a gap is one', async () => {
  const f = { rate: 48000, channels: 2, format: 'S16' as const };
  const { backend, s, fb } = await openOutput(f);
  try {
    await until(() => opened(s), 5000, 'device opened');
    // Not a whole number of the audio host's 10 ms chunks: the last frames go out padded.
    await play(s, sine(f, 440, f.rate / 2 + 123, 0.5), fb);
    // A guest's DRAIN fails when no period completes for 100 ms: the frames short of a chunk at
    // the end must not wait for the device's queue to run low (never, in real time, for a file).
    const t0 = performance.now();
    await until(() => (s.poll(0), s.pendingFrames() === 0), 4000, 'the device took every frame');
    assert.ok(performance.now() - t0 < 100, `the last frames waited ${(performance.now() - t0).toFixed(0)} ms`);
    // Still started, nothing to play, long enough for the device to run dry (a file device plays
    // by the audio host's wall-clock estimate: the 0.5 s just written, its priming, its queue).
    await sleep(1500);
    s.poll(0);
    assert.equal(s.stats().xruns, 0, 'the end of the data counted as an xrun');
    // More guest frames after that gap, without a STOP: the gap was a mid-stream dropout.
    const more = sine(f, 440, f.rate / 5, 0.5);
    s.ring.write(more, more.length, false, fb);
    await until(() => (s.poll(0), s.stats().xruns === 1), 4000, 'the dropout counted once');
    await sleep(300);
    assert.equal(s.stats().xruns, 1);
    assert.equal(s.failure, null);
  } finally {
    s.close();
    backend.dispose();
  }
});

test('portaudio: capture from a 1 kHz file fixture reaches the ring continuous, 1000 Hz, right RMS', async () => {
  const backend = createBackend('portaudio:semutest_in', { portaudio: opts });
  const p = params('input', inFmt);
  const s = backend.open(p);
  await until(() => opened(s), 5000, 'device opened');
  s.start();
  const seconds = 1.0;
  const want = Math.round(inFmt.rate * seconds) * 2;
  const got = new Uint8Array(want);
  let n = 0;
  const t0 = Date.now();
  await until(
    () => {
      s.poll(0);
      n += s.ring.read(got.subarray(n), want - n, 2);
      return n === want;
    },
    5000,
    'a second of capture',
  );
  const wall = (Date.now() - t0) / 1000;
  const pid = (s as PortAudioStream).hostPid!;
  s.close();
  backend.dispose();
  await exited(pid, 3000);
  // Paced by the wall clock (about real time), although the file device could go at CPU speed.
  assert.ok(wall > 0.6 && wall < 3, `a second of capture took ${wall} s`);
  const a = analyze(got, inFmt);
  assert.ok(Math.abs(a.freqHz - 1000) < 1, `frequency ${a.freqHz}`);
  assert.ok(Math.abs(a.rms - 0.5 / Math.SQRT2) < 0.01, `rms ${a.rms}`);
  // No frame lost or repeated: the capture is the fixture's periodic wave, sample for sample.
  const ref = sine(inFmt, 1000, 48 * 2, 0.5);
  const off = indexOfBytes(ref, got.subarray(0, 8));
  assert.ok(off >= 0 && off % 2 === 0);
  const period = 96; // bytes: 48 frames of S16 mono per 1 kHz cycle
  for (let i = 0; i < want; i += 2) {
    const j = (off + i) % period;
    if (got[i] !== ref[j] || got[i + 1] !== ref[j + 1]) assert.fail(`capture diverges from the fixture at byte ${i}`);
  }
  assert.equal(s.failure, null);
  assert.equal(s.stats().xruns, 0);
});

test('portaudio: a capture opened and started at once (as Linux does after PREPARE) begins with the device audio, not start-up silence; it runs on the backend spare audio host', async () => {
  const backend = createBackend('portaudio:semutest_in', { portaudio: opts });
  try {
    // The spare starts with the backend (with the machine); a boot gives it far longer than this.
    await until(() => liveAudioHosts().length === 1, 5000, 'the spare audio host').catch((e) => assert.fail(`${e.message}: ${liveAudioHosts().join(', ')}`));
    const [spare] = liveAudioHosts();
    await sleep(500);
    const s = backend.open(params('input', inFmt)) as PortAudioStream;
    s.start();
    assert.equal(s.hostPid, spare, 'the stream took the spare');
    const got = new Uint8Array(inFmt.rate / 5); // 100 ms
    let n = 0;
    await until(() => (s.poll(0), (n += s.ring.read(got.subarray(n), got.length - n, 2)), n === got.length), 3000, '100 ms of capture');
    // The fixture starts at a zero crossing: one zero sample, then the tone. A cold audio host
    // (no spare) took 70-85 ms to deliver, heard as that much silence first; a spare, 10-20 ms.
    let lead = 0;
    while (lead < n / 2 && got[2 * lead] === 0 && got[2 * lead + 1] === 0) lead++;
    assert.ok(lead <= 1200, `${lead} silent frames (${(lead / 48).toFixed(1)} ms) before the first captured one`);
    assert.equal(s.failure, null);
    // None is started while the stream runs (it would compete with the guest's first periods);
    // a new spare follows once it stops, and dispose() ends it with the stream's host.
    await sleep(300);
    assert.equal(liveAudioHosts().length, 1);
    s.stop();
    await until(() => liveAudioHosts().length === 2, 5000, 'a new spare');
    s.close();
  } finally {
    backend.dispose();
  }
  await until(() => liveAudioHosts().length === 0, 5000, 'no audio host left');
});
