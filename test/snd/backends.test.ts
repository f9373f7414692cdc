// The device with the project's real guest-time-paced backends (null, WAV): the guest's period
// clock follows the host side, and PCM survives device + backend byte for byte.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NullBackend } from '../../src/audio/null';
import { WavBackend } from '../../src/audio/wav';
import { readWavInfo, wavHeader } from '../../src/audio/wav-format';
import { readStreams } from '../../src/devices/virtio-snd/snd-layout';
import * as P from '../../src/devices/virtio-snd/snd-proto';
import { type Rig, type Xfer, makeRig, pattern } from './snd-driver';

const TX = P.VIRTIO_SND_VQ_TX;
const RX = P.VIRTIO_SND_VQ_RX;

/** Runs the guest clock in `stepMs` steps, polling the device, until `until()` or `maxMs`. */
function run(rig: Rig, stepMs: number, maxMs: number, until: () => boolean, onStep?: () => void): number {
  let t = 0;
  while (t < maxMs && !until()) {
    rig.clock.advance(stepMs / 1000);
    t += stepMs;
    rig.snd.poll();
    onStep?.();
  }
  return t;
}

test('null backend: TX periods come back at the stream rate in guest time, RX fills at it', () => {
  // The Machine makes its clock after its devices: the clock comes through setClock().
  const rig = makeRig({ backendOut: new NullBackend(), backendIn: new NullBackend(), clock: undefined });
  const { sd, drv, snd } = rig;
  snd.setClock(rig.clock);
  // 48 kHz stereo S16: 4800-byte periods are 25 ms.
  for (const id of [0, 1]) {
    assert.equal(sd.setParams(id, { bufferBytes: 4 * 4800, periodBytes: 4800 }), P.VIRTIO_SND_S_OK);
    assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, id), P.VIRTIO_SND_S_OK);
  }
  for (let i = 0; i < 4; i++) sd.tx(0, pattern(4800, i));
  drv.kick(TX);
  for (let i = 0; i < 4; i++) sd.rx(1, 4800);
  drv.kick(RX);
  snd.poll(); // t = 0
  sd.cmd(P.VIRTIO_SND_R_PCM_START, 0);
  sd.cmd(P.VIRTIO_SND_R_PCM_START, 1);
  snd.poll(); // the paced streams take t0 here
  const txTimes: number[] = [];
  const rxTimes: number[] = [];
  let t = 0;
  while (t < 120) {
    rig.clock.advance(0.001);
    t++;
    snd.poll();
    for (const _ of sd.used(TX)) txTimes.push(t);
    for (const u of sd.used(RX)) {
      assert.equal(u.len, 4808);
      rxTimes.push(t);
    }
  }
  assert.deepEqual(txTimes, [25, 50, 75, 100], 'one period every 25 ms of guest time');
  assert.deepEqual(rxTimes, [25, 50, 75, 100]);
  assert.equal(readStreams(snd.state)[0].backend, 'null');
  assert.equal(snd.internalErrors, 0);
});

test('WAV output: what the guest plays is in the file, byte for byte', () => {
  const dir = mkdtempSync(join(tmpdir(), 'snd-wav-'));
  try {
    const path = join(dir, 'tx.wav');
    const rig = makeRig({ backendOut: new WavBackend(path), inputs: 0 });
    const { sd, drv, snd } = rig;
    // 44.1 kHz stereo S32, 10 ms periods (3528 bytes), 20 periods of data in total.
    const period = 441 * 8;
    const data = pattern(period * 20, 77);
    assert.equal(sd.setParams(0, { bufferBytes: 4 * period, periodBytes: period, format: P.VIRTIO_SND_PCM_FMT_S32, rateIndex: 6 }), P.VIRTIO_SND_S_OK);
    assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0), P.VIRTIO_SND_S_OK);
    let next = 0;
    const queue = () => {
      sd.tx(0, data.subarray(next * period, (next + 1) * period));
      next++;
    };
    for (let i = 0; i < 4; i++) queue();
    drv.kick(TX);
    sd.cmd(P.VIRTIO_SND_R_PCM_START, 0);
    let returned = 0;
    run(
      rig,
      2,
      1000,
      () => returned === 20,
      () => {
        for (const _ of sd.used(TX)) {
          returned++;
          if (next < 20) {
            queue();
            drv.kick(TX);
          }
        }
      },
    );
    assert.equal(returned, 20);
    assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_STOP, 0), P.VIRTIO_SND_S_OK);
    assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_RELEASE, 0), P.VIRTIO_SND_S_OK);
    const info = readWavInfo(path);
    assert.equal(info.encoding, 'S32');
    assert.equal(info.rate, 44100);
    assert.equal(info.channels, 2);
    const file = readFileSync(path);
    assert.deepEqual(new Uint8Array(file.subarray(info.dataOffset, info.dataOffset + info.dataBytes)), data);
    assert.equal(snd.internalErrors, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('WAV input: the guest captures the file, byte for byte, then silence', () => {
  const dir = mkdtempSync(join(tmpdir(), 'snd-wav-'));
  try {
    const path = join(dir, 'rx.wav');
    // 16 kHz mono S16, 0.1 s of a pattern.
    const audio = pattern(3200, 99);
    writeFileSync(path, Buffer.concat([wavHeader('S16', 1, 16000, audio.length), audio]));
    const rig = makeRig({ backendIn: new WavBackend(path), outputs: 0 });
    const { sd, drv, snd } = rig;
    const period = 320; // 10 ms
    assert.equal(sd.setParams(0, { bufferBytes: 4 * period, periodBytes: period, channels: 1, rateIndex: 3 }), P.VIRTIO_SND_S_OK);
    assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0), P.VIRTIO_SND_S_OK);
    const byHead = new Map<number, Xfer>();
    const queue = () => {
      const x = sd.rx(0, period);
      byHead.set(x.head, x);
    };
    for (let i = 0; i < 4; i++) queue();
    drv.kick(RX);
    sd.cmd(P.VIRTIO_SND_R_PCM_START, 0);
    const got: number[] = [];
    run(
      rig,
      3,
      1000,
      () => got.length >= audio.length + 2 * period,
      () => {
        for (const u of sd.used(RX)) {
          const x = byHead.get(u.id)!;
          byHead.delete(u.id);
          assert.equal(u.len, period + 8);
          got.push(...drv.get(x.dataAddr, period));
          queue();
          drv.kick(RX);
        }
      },
    );
    assert.deepEqual(Uint8Array.from(got.slice(0, audio.length)), audio);
    assert.ok(got.slice(audio.length).every((b) => b === 0), 'silence after the end of the file');
    assert.equal(snd.internalErrors, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nextDeadline: an idle machine that skips time to it still sees every period on time', () => {
  const rig = makeRig({ backendOut: new NullBackend(), backendIn: new NullBackend() });
  const { sd, drv, snd, clock } = rig;
  assert.equal(snd.nextDeadline(), Infinity, 'nothing running: no deadline');
  for (const id of [0, 1]) {
    sd.setParams(id, { bufferBytes: 4 * 4800, periodBytes: 4800 });
    sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, id);
  }
  for (let i = 0; i < 4; i++) sd.tx(0, pattern(4800, i));
  drv.kick(TX);
  for (let i = 0; i < 4; i++) sd.rx(1, 4800);
  drv.kick(RX);
  assert.equal(snd.nextDeadline(), Infinity, 'prepared, not started: no deadline');
  sd.cmd(P.VIRTIO_SND_R_PCM_START, 0);
  sd.cmd(P.VIRTIO_SND_R_PCM_START, 1);
  snd.poll(); // the paced streams take their start time here (t = 0)
  const tx: number[] = [];
  const rx: number[] = [];
  let polls = 0;
  while (clock.ticks < 0.11 * 65e6) {
    const d = snd.nextDeadline();
    assert.ok(d > clock.ticks && d <= clock.ticks + 0.01 * 65e6 + 1, 'within the 10 ms cap, in the future');
    clock.ticks = d; // all harts idle: the machine jumps straight to the deadline
    snd.poll();
    polls++;
    const ms = clock.ticks / 65e3;
    for (const _ of sd.used(TX)) tx.push(ms);
    for (const _ of sd.used(RX)) rx.push(ms);
  }
  const near = (xs: number[], want: number[]) => xs.length === want.length && xs.every((x, i) => Math.abs(x - want[i]) < 0.05);
  assert.ok(near(tx, [25, 50, 75, 100]), `TX completions at ${tx.join(', ')} ms`);
  assert.ok(near(rx, [25, 50, 75, 100]), `RX completions at ${rx.join(', ')} ms`);
  assert.ok(polls <= 20, `${polls} polls for 110 ms`);
});
