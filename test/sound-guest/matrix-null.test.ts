// The matrix (helpers/matrix.ts) through the null backends, one boot: every period/buffer
// extreme at 8 and 48 kHz — the smallest periods are 0.83 ms at 48 kHz — played, recorded
// (silence) and looped, each with exact frames, no xrun, and the stream's clock at the nominal
// rate ±2 %. The guest clock is --time icount: the null backend is paced by guest time either
// way, and icount keeps the verdict about the device and the guest, not about how much of the
// host's CPU this process got (at 0.83 ms periods the guest is busy all the time; on a host
// loaded far past its cores the host clock leaves it too little).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestSession } from '../helpers/guest-session';
import { MATRIX, checkRun, command } from './helpers/matrix';

let g: GuestSession;

before(async () => {
  g = await GuestSession.boot({ audioOut: 'null', audioIn: 'null', time: 'icount' });
});

after(async () => {
  if (g) assert.equal((await g.poweroff()).reason, 'poweroff');
});

test('null: play at every period/buffer extreme, 8 and 48 kHz: exact frames, no xrun, real time', { timeout: 300_000 }, async () => {
  for (const c of MATRIX) checkRun('play', c, await g.run(command('play', c), { timeoutMs: 60_000 }));
});

test('null: record at every extreme: silence, exact frames, no xrun, real time', { timeout: 300_000 }, async () => {
  for (const c of MATRIX) {
    const p = checkRun('rec', c, await g.run(command('rec', c), { timeoutMs: 60_000 }));
    assert.equal(p.num('rms'), 0, `${c.label}: null capture is silence`);
  }
});

test('null: loop at every extreme: exact frames both ways, no xrun, real time', { timeout: 300_000 }, async () => {
  for (const c of MATRIX) checkRun('loop', c, await g.run(command('loop', c), { timeoutMs: 60_000 }));
});
