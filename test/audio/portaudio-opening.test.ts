// While the audio host is still opening the device (100-300 ms for a new process, longer on a
// loaded machine), the PortAudio stream keeps the guest's period clock itself from START on, at
// the nominal rate — capture with no slack (a real card's first period completes one period
// after START), playback after its usual slack (its buffer is pre-filled) — and whatever
// hold-ups the emulator worker suffers (nothing can be queued from a device that is
// not open yet, so a hold-up is not a reason to stop the clock). Before, capture's first period
// came ~60 ms after START plus the worker's own delays, and a worker held up every 40-80 ms on a
// loaded machine ran the clock at a fraction of the rate: read()/write() failed with EIO.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PcmParams } from '../../src/audio/backend';
import { createBackend } from '../../src/audio/index';
import { bridgeSlackMs, HOLD_MS, type PortAudioStream } from '../../src/audio/portaudio';

const dir = mkdtempSync(join(tmpdir(), 'semu-pa-opening-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
// An audio host that never gets the device open: it listens and never answers.
const neverOpens = join(dir, 'never-opens.js');
writeFileSync(neverOpens, "process.on('message', () => {}); setInterval(() => {}, 1000);\n");

const FB = 4;
const params = (direction: 'output' | 'input'): PcmParams => ({ direction, rate: 48000, channels: 2, format: 'S16', periodBytes: 960 * FB, bufferBytes: 4 * 960 * FB });

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* the emulator worker running a long slice, or not scheduled at all */
  }
}

for (const direction of ['input', 'output'] as const) {
  // Output holds the guest's frames for a device that has not started for at most HOLD_MS from
  // START (beyond, dropping them is an xrun): stay well within it there (two hold-ups end
  // ~180 ms after START).
  const holdUps = direction === 'input' ? 12 : 2;
  test(`${direction}: the clock runs from START at the nominal rate while the device opens, through worker hold-ups`, { timeout: 30_000 }, () => {
    const b = createBackend('portaudio', { portaudio: { hostScript: neverOpens } });
    const s = b.open(params(direction)) as PortAudioStream;
    try {
      const sink = new Uint8Array(s.ring.capacity);
      let wrote = 0;
      /** Frames the clock moved: input captured (silence), output taken from the ring. */
      let read = 0;
      let lastPoll = 0;
      const step = () => {
        lastPoll = performance.now();
        s.poll(0);
        if (direction === 'input') read += s.ring.read(sink, sink.length, FB) / FB;
        else {
          const room = s.ring.room() - (s.ring.room() % FB);
          wrote += s.ring.write(new Uint8Array(room), room, false, FB);
        }
      };
      const frames = () => (direction === 'input' ? read : (wrote - s.ring.fill()) / FB);
      if (direction === 'output') step(); // the driver's buffer, written before START
      const slack = direction === 'input' ? 0 : bridgeSlackMs(params(direction));
      const t0 = performance.now(); // before START: the clock may not run ahead of it
      s.start();
      const started = performance.now(); // after START: every frame has been held at least since
      busy(slack + 25);
      step();
      assert.ok(frames() >= 48 * 20, `${frames()} frames ${slack + 25} ms after START: the first period (20 ms) is due by then`);
      for (let i = 0; i < holdUps; i++) {
        busy(60);
        step();
      }
      const elapsed = performance.now() - t0;
      assert.equal(s.hostState, 'opening', 'the device never opened');
      assert.ok(frames() >= 48 * (elapsed - slack) * 0.95 - 960, `${frames()} frames in ${elapsed.toFixed(0)} ms: the clock must run at 48 frames/ms`);
      assert.ok(frames() <= 48 * elapsed + 960, `${frames()} frames in ${elapsed.toFixed(0)} ms: not faster than real time`);
      // The hold counts from START, slack or not, and the stream checks it when polled: read the
      // count first, then the time, so a stall in between only makes heldAtMost larger.
      const xruns = s.stats().xruns;
      const heldAtMost = performance.now() - t0;
      const heldAtLeast = lastPoll - started;
      if (direction === 'input' || heldAtMost < HOLD_MS - 10) assert.equal(xruns, 0, `a start is latency, not an xrun (held at most ${heldAtMost.toFixed(0)} ms)`);
      else if (heldAtLeast > HOLD_MS + 10) assert.ok(xruns > 0, `${heldAtLeast.toFixed(0)} ms without a device is more than the ${HOLD_MS} ms output holds: frames were dropped, an xrun`);
    } finally {
      s.close();
      b.dispose();
    }
  });
}
