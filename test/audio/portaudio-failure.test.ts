// PortAudio trouble never reaches the guest: a missing device, an audio host that dies, hangs or
// cannot start — each turns its stream into null audio (paced by guest time) with one warning,
// and no audio-host process is left behind by close() or dispose().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AudioStream, PcmParams } from '../../src/audio/backend';
import { createBackend, liveAudioHosts } from '../../src/audio/index';
import type { PortAudioOptions, PortAudioStream } from '../../src/audio/portaudio';
import type { LogLevel } from '../../src/log';
import { setLogSink } from '../../src/log';
import { alsaConfig } from './helpers/alsa';
import { audioHostScript } from './helpers/host';
import { sine } from './helpers/signal';
import { alive, exited, sleep, until } from './helpers/wait';

const alsa = alsaConfig('file-pcms.conf');
writeFileSync(join(alsa.dir, 'in.raw'), sine({ rate: 48000, channels: 1, format: 'S16' }, 1000, 48000 * 20));
const opts: PortAudioOptions = {
  hostScript: audioHostScript(),
  env: { ...process.env, ALSA_CONFIG_PATH: alsa.config },
};

const warnings: string[] = [];
setLogSink((level: LogLevel, _scope, msg) => {
  if (level === 'warn') warnings.push(msg);
});
test.after(() => alsa.remove());

const out: PcmParams = { direction: 'output', rate: 48000, channels: 2, format: 'S16', periodBytes: 1920, bufferBytes: 19200 };
const inp: PcmParams = { ...out, direction: 'input', channels: 1, periodBytes: 960, bufferBytes: 9600 };
const pidOf = (s: AudioStream) => (s as PortAudioStream).hostPid;
const opened = (s: AudioStream) => (s as PortAudioStream).hostState === 'open';

/** After a fallback the stream is null audio: output consumes rate × guest time, input makes silence. */
function assertNullPaced(s: AudioStream): void {
  const fb = s.params.channels * 2;
  s.stop(); // a fresh start: t0 at the next poll
  const before = s.stats().frames;
  s.ring.clear();
  if (s.params.direction === 'output') s.ring.write(new Uint8Array(4800 * fb).fill(1));
  s.start();
  s.poll(10); // t0
  s.poll(10.05); // 50 ms of guest time
  assert.equal(s.stats().frames - before, 2400, 'exactly rate × elapsed guest time');
  if (s.params.direction === 'input') {
    const got = new Uint8Array(2400 * fb).fill(7);
    assert.equal(s.ring.read(got), got.length);
    assert.ok(got.every((b) => b === 0), 'silence');
  }
}

test('a device name that does not exist: null audio, one warning naming it and what to do', async () => {
  warnings.length = 0;
  const b = createBackend('portaudio:no-such-card', { portaudio: opts });
  const s = b.open(out);
  await until(() => s.failure !== null, 5000, 'the failure');
  assert.match(s.failure!, /no-such-card/);
  assert.match(s.failure!, /semutest_out/, 'lists the devices there are');
  assert.match(s.failure!, /use "portaudio" for the default device/);
  assert.equal(s.description, 'null');
  await sleep(100);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.equal(warnings[0], s.failure);
  assertNullPaced(s);
  s.close();
  b.dispose();
});

test('killing the audio host mid-stream (output and input): fallback, no hang, no exception', async () => {
  for (const p of [out, inp]) {
    warnings.length = 0;
    const b = createBackend(p.direction === 'output' ? 'portaudio:semutest_out' : 'portaudio:semutest_in', { portaudio: opts });
    const s = b.open(p);
    await until(() => opened(s), 5000, 'device opened');
    s.start();
    if (p.direction === 'output') s.ring.write(new Uint8Array(19200));
    await until(() => (s.poll(0), s.stats().frames > 0), 3000, 'audio moving');
    const pid = pidOf(s)!;
    const xruns = s.stats().xruns;
    process.kill(pid, 'SIGKILL');
    await until(() => (s.poll(0), s.failure !== null), 3000, 'the fallback');
    assert.match(s.failure!, /exited unexpectedly \(SIGKILL\)/);
    assert.ok(s.stats().xruns > xruns, 'the audio lost with the audio host is an xrun');
    assert.equal(s.description, 'null');
    assert.equal(warnings.length, 1);
    assertNullPaced(s);
    s.stop();
    s.close();
    b.dispose();
  }
});

test('an audio host that stops answering (SIGSTOP) trips the watchdog and is killed', async () => {
  const b = createBackend('portaudio:semutest_out', { portaudio: { ...opts, watchdogMs: 400 } });
  const s = b.open(out);
  await until(() => opened(s), 5000, 'device opened');
  const pid = pidOf(s)!;
  process.kill(pid, 'SIGSTOP');
  const t0 = Date.now();
  await until(() => (s.poll(0), s.failure !== null), 3000, 'the watchdog');
  assert.ok(Date.now() - t0 < 1500);
  assert.match(s.failure!, /moved no audio for/);
  await exited(pid, 2000);
  s.close();
  b.dispose();
});

test('an audio host that cannot start: null audio with the reason', async () => {
  const missing = createBackend('portaudio', { portaudio: { ...opts, hostScript: '/nonexistent/audio-host.js' } }).open(inp);
  assert.match(missing.failure!, /cannot start the audio host: \/nonexistent\/audio-host\.js is missing \(build/);
  assertNullPaced(missing);
  missing.close();
  // The script runs but the native addon does not load.
  const b = createBackend('portaudio', { portaudio: { ...opts, addonPath: '/nonexistent/naudiodon.node' } });
  const s = b.open(out);
  await until(() => s.failure !== null, 5000, 'the failure');
  assert.match(s.failure!, /cannot load naudiodon: Cannot find module '\/nonexistent\/naudiodon\.node'/);
  assertNullPaced(s);
  s.close();
  b.dispose();
});

test('close() and dispose() leave no audio host behind, even a hung one', async () => {
  const b = createBackend('portaudio:semutest', { portaudio: { ...opts, closeTimeoutMs: 300 } });
  const s1 = b.open(out);
  const s2 = b.open(inp);
  const s3 = b.open(out);
  await until(() => [s1, s2, s3].every(opened), 5000, 'all open');
  const pids = [s1, s2, s3].map((s) => pidOf(s)!);
  assert.ok(pids.every(alive));
  s2.start();
  await sleep(50);
  process.kill(pids[2], 'SIGSTOP'); // a child that will never answer "close"
  s1.close(); // graceful
  b.dispose(); // closes s2 and s3
  for (const pid of pids) await exited(pid, 3000);
  assert.deepEqual(liveAudioHosts(), []);
  assert.equal(s1.failure, null);
  // Everything on a closed stream is a no-op, not an exception.
  s1.start();
  s1.poll(1);
  s1.stop();
  s1.close();
});
