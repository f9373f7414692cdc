// The matrix (helpers/matrix.ts) through the WAV backends, deterministic (--time icount), one
// boot: every period/buffer extreme at 8 and 48 kHz, played (the host's WAV file holds the tone,
// exactly), recorded (the guest hears the 1 kHz fixture) and looped (what was captured is what
// was played, bit for bit), each at the stream's nominal rate ±2 % with no xrun.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestSession } from '../helpers/guest-session';
import { analyze, type Fmt } from '../audio/helpers/signal';
import { OutputWatch, ditheredSine, writeWav } from './helpers/wav-files';
import { MATRIX, TONE_HZ, checkHeard, checkRun, checkTone, command, fmtOf, frames, near, paddedFrames } from './helpers/matrix';

const dir = mkdtempSync(join(tmpdir(), 'semu-matrix-wav-'));
const outPath = join(dir, 'out.wav');
const inPath = join(dir, 'in.wav');
const IN: Fmt = { rate: 48000, channels: 2, format: 'S16' };

let g: GuestSession;
let out: OutputWatch;

before(async () => {
  writeWav(inPath, IN, ditheredSine(IN, TONE_HZ, IN.rate * 5));
  g = await GuestSession.boot({ audioOut: `wav:${outPath}`, audioIn: `wav:${inPath}`, time: 'icount' });
  out = new OutputWatch(outPath);
});

after(async () => {
  try {
    if (g) assert.equal((await g.poweroff()).reason, 'poweroff');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('wav: play at every period/buffer extreme, 8 and 48 kHz: the exact tone in the file, in real time', { timeout: 300_000 }, async () => {
  for (const c of MATRIX) {
    out.snapshot();
    checkRun('play', c, await g.run(command('play', c), { timeoutMs: 60_000 }));
    const w = out.added();
    assert.deepEqual([w.rate, w.channels, w.format], [c.rate, c.channels, 'S16'], c.label);
    assert.equal(w.frames, paddedFrames(c), `${c.label}: frames in the file (the last period padded)`);
    const a = checkTone(w.data, c, `play ${c.label}`);
    assert.equal(a.firstNonZero, 1, `${c.label}: the tone starts with the file`);
  }
});

test('wav: record at every extreme: the guest hears the 1 kHz fixture, exact frames, real time', { timeout: 300_000 }, async () => {
  for (const c of MATRIX) checkHeard(c, checkRun('rec', c, await g.run(command('rec', c), { timeoutMs: 60_000 })), 'rec');
});

test('wav: loop at every extreme: what was captured is played back, real time both ways', { timeout: 300_000 }, async () => {
  for (const c of MATRIX) {
    out.snapshot();
    const p = checkRun('loop', c, await g.run(command('loop', c), { timeoutMs: 60_000 }));
    checkHeard(c, p, 'loop');
    const w = out.added();
    assert.equal(w.frames, paddedFrames(c), `${c.label}: frames in the file`);
    // The fixture, converted to the case's rate and channels by the WAV reader, comes back as is.
    const a = analyze(w.data.subarray(0, frames(c) * fmtOf(c).channels * 2), fmtOf(c), 0);
    near(a.freqHz, TONE_HZ, 1, `loop ${c.label}: played-back frequency`);
    assert.ok(a.lastNonZero >= frames(c) - 2, `loop ${c.label}: no silence at the end of the loop (last sound at ${a.lastNonZero})`);
  }
});
