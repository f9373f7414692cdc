// The data path: TX and RX byte for byte through the real transport and a test backend, message
// timing (TX returns only after the host consumed it; RX is held until START and returned full),
// STOP/RELEASE flushing, XRUN events, levels, reset.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readStreams } from '../../src/devices/virtio-snd/snd-layout';
import * as P from '../../src/devices/virtio-snd/snd-proto';
import { type Rig, type Xfer, makeRig, pattern } from './snd-driver';

const TX = P.VIRTIO_SND_VQ_TX;
const RX = P.VIRTIO_SND_VQ_RX;
const PERIOD = 4800; // 25 ms of 48 kHz stereo S16, spans two page boundaries
const PERIODS = 4;

function prepared(rig: Rig, stream: number, periods = PERIODS, period = PERIOD): void {
  assert.equal(rig.sd.setParams(stream, { bufferBytes: periods * period, periodBytes: period }), P.VIRTIO_SND_S_OK);
  assert.equal(rig.sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, stream), P.VIRTIO_SND_S_OK);
}

function ids(rig: Rig, q: number): number[] {
  return rig.sd.used(q).map((u) => u.id);
}

/** Lets `ms` of guest time pass in 5 ms steps, polling; returns the used entries of queue q. */
function playFor(rig: Rig, q: number, ms: number): { id: number; len: number }[] {
  const used: { id: number; len: number }[] = [];
  for (let t = 0; t < ms; t += 5) {
    rig.clock.advance(0.005);
    rig.snd.poll();
    used.push(...rig.sd.used(q));
  }
  return used;
}

test('TX: pre-buffered before START, returned only as the host consumes, byte for byte', () => {
  const rig = makeRig();
  const { sd, drv, out, snd } = rig;
  prepared(rig, 0);
  const data = pattern(PERIOD * PERIODS, 1);
  const msgs: Xfer[] = [];
  for (let i = 0; i < PERIODS; i++) msgs.push(sd.tx(0, data.subarray(i * PERIOD, (i + 1) * PERIOD)));
  const irqsBefore = drv.irq.raises;
  drv.kick(TX);
  snd.poll();
  assert.deepEqual(ids(rig, TX), [], 'nothing returns before the host plays');
  assert.equal(out.last.ring.fill(), PERIOD * PERIODS, 'pre-buffered into the ring');
  assert.equal(readStreams(snd.state)[0].buffersInFlight, PERIODS);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_START, 0), P.VIRTIO_SND_S_OK);

  // The host plays a period and a half: exactly the first message comes back.
  out.last.consume(PERIOD + PERIOD / 2);
  snd.poll();
  let used = sd.used(TX);
  assert.deepEqual(used, [{ id: msgs[0].head, len: 8 }]);
  assert.ok(drv.irq.raises > irqsBefore, 'used-buffer interrupt');
  let st = sd.xferStatus(msgs[0]);
  assert.equal(st.status, P.VIRTIO_SND_S_OK);
  assert.equal(st.latency, PERIOD * PERIODS - PERIOD - PERIOD / 2, 'latency = bytes still queued');

  // Linux re-queues the completed period with new audio as soon as it comes back.
  const more = pattern(PERIOD, 2);
  msgs.push(sd.tx(0, more));
  drv.kick(TX);
  out.last.consume(PERIOD * 4 + PERIOD / 2);
  used = playFor(rig, TX, 150);
  assert.deepEqual(
    used.map((u) => u.id),
    msgs.slice(1).map((m) => m.head),
  );
  st = sd.xferStatus(msgs[4]);
  assert.equal(st.latency, 0);
  const played = Uint8Array.from(out.last.played);
  assert.equal(played.length, PERIOD * 5);
  assert.deepEqual(played.subarray(0, PERIOD * 4), data);
  assert.deepEqual(played.subarray(PERIOD * 4), more);
  assert.equal(readStreams(snd.state)[0].framesMoved, (PERIOD * 5) / 4);
  assert.equal(snd.internalErrors, 0);
});

test('TX: frames the host took ahead of its device (pendingFrames) are not played: no early return', () => {
  const rig = makeRig();
  const { sd, drv, out, snd } = rig;
  prepared(rig, 0);
  const FB = 4;
  const msgs: Xfer[] = [];
  for (let i = 0; i < PERIODS; i++) msgs.push(sd.tx(0, pattern(PERIOD, i + 1)));
  drv.kick(TX);
  snd.poll();
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_START, 0), P.VIRTIO_SND_S_OK);

  // START: the backend sends two periods ahead to its device at once (a prefill): not played yet.
  out.last.consume(2 * PERIOD);
  out.last.ahead = (2 * PERIOD) / FB;
  snd.poll();
  assert.deepEqual(ids(rig, TX), [], 'a prefill taken from the ring returns nothing');
  // The device has taken a period and a half of it: exactly the first message comes back, and its
  // latency counts what the backend still holds ahead of the device.
  out.last.ahead = PERIOD / 2 / FB;
  snd.poll();
  assert.deepEqual(ids(rig, TX), [msgs[0].head]);
  assert.equal(sd.xferStatus(msgs[0]).latency, 2 * PERIOD + PERIOD / 2);
  // Everything played.
  out.last.consume(2 * PERIOD);
  out.last.ahead = 0;
  assert.deepEqual(playFor(rig, TX, 150).map((u) => u.id), msgs.slice(1).map((m) => m.head));
  assert.equal(snd.internalErrors, 0);
});

test('TX: a ring smaller than the buffer fills as the host drains it (no byte dropped)', () => {
  const rig = makeRig({ ringBytes: 4096 });
  const { sd, drv, out, snd } = rig;
  prepared(rig, 0);
  const data = pattern(PERIOD * PERIODS, 3);
  const msgs = [0, 1, 2, 3].map((i) => sd.tx(0, data.subarray(i * PERIOD, (i + 1) * PERIOD)));
  drv.kick(TX);
  assert.equal(out.last.ring.fill(), 4096);
  sd.cmd(P.VIRTIO_SND_R_PCM_START, 0);
  const returned: number[] = [];
  for (let step = 0; step < 80 && returned.length < PERIODS; step++) {
    out.last.consume(1000);
    rig.clock.advance(0.005);
    snd.poll();
    returned.push(...ids(rig, TX));
  }
  assert.deepEqual(
    returned,
    msgs.map((m) => m.head),
  );
  assert.deepEqual(Uint8Array.from(out.last.played), data);
  assert.equal(out.last.ring.stats().overruns, 0, 'the device never wrote more than fitted');
});

test('TX: a host faster than real time never gets a whole buffer back at once (Linux would see no progress)', () => {
  const rig = makeRig();
  const { sd, drv, out, snd } = rig;
  prepared(rig, 0);
  const heads: number[] = [];
  for (let i = 0; i < PERIODS; i++) heads.push(sd.tx(0, pattern(PERIOD, i + 1)).head);
  drv.kick(TX);
  snd.poll();
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_START, 0), P.VIRTIO_SND_S_OK);
  // The host takes the whole buffer at once (a file-backed device): at that instant at most the
  // buffer less one period goes back; ALSA reads the pointer modulo the buffer, and four periods
  // at once would look like none.
  out.last.consume(PERIOD * PERIODS);
  snd.poll();
  assert.deepEqual(ids(rig, TX), heads.slice(0, PERIODS - 1));
  // Over a second of an instant host, the guest's period clock runs at most a little faster than
  // real time (the window lets a stream that fell behind catch up), never ahead by a buffer.
  let returned = PERIODS - 1;
  const rate = (48000 * 4) / PERIOD; // periods per second: 40
  for (let ms = 0; ms < 1000; ms += 5) {
    returned += sd.used(TX).length;
    // Linux re-queues each period as soon as it is back.
    while (readStreams(snd.state)[0].buffersInFlight < PERIODS) {
      sd.tx(0, pattern(PERIOD, 9));
      drv.kick(TX);
    }
    out.last.consume(out.last.ring.fill());
    rig.clock.advance(0.005);
    snd.poll();
  }
  returned += sd.used(TX).length;
  assert.ok(returned >= rate * 0.95 && returned <= rate * 1.25 + PERIODS, `${returned} periods back in 1 s of guest time (real time: ${rate})`);
  assert.equal(snd.internalErrors, 0);
});

// Linux re-queues a capture buffer only once its pointer read showed it returned, and reads the
// pointer modulo the buffer: four periods back between two reads look like none, and capture
// stands still until EIO (a clockless ALSA device, or a guest too slow for its periods).
test('RX: a source faster than the guest never hands back the whole buffer: the last queued message waits for a re-queue or a period', () => {
  const rig = makeRig();
  const { sd, drv, inp, snd, clock } = rig;
  prepared(rig, 1);
  const msgs = [0, 1, 2, 3].map(() => sd.rx(1, PERIOD));
  drv.kick(RX);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_START, 1), P.VIRTIO_SND_S_OK);
  inp.last.produce(pattern(PERIOD * 6, 7)); // six periods at once
  snd.poll();
  assert.deepEqual(ids(rig, RX), msgs.slice(0, 3).map((m) => m.head), 'three of four: the pointer moves three periods');
  clock.advance(0.01);
  snd.poll();
  assert.deepEqual(ids(rig, RX), [], 'the last one stays queued while the guest has not re-queued');
  const again = sd.rx(1, PERIOD);
  drv.kick(RX);
  snd.poll();
  assert.deepEqual(ids(rig, RX), [msgs[3].head], 'a re-queue lets it go');
  assert.equal(readStreams(snd.state)[1].buffersInFlight, 1);
  // However long the guest takes (a starved guest, an application that stopped reading): the
  // last buffer waits for a re-queue. Captured audio meanwhile overruns the ring, which counts.
  inp.last.produce(pattern(PERIOD, 8));
  clock.advance(1);
  snd.poll();
  assert.deepEqual(ids(rig, RX), []);
  sd.rx(1, PERIOD);
  drv.kick(RX);
  snd.poll();
  assert.deepEqual(ids(rig, RX), [again.head]);
  assert.equal(snd.internalErrors, 0);
});

// Linux hands a capture buffer back as soon as its pointer read showed it returned, while the
// application may still be reading the audio in it: ALSA lets it read up to a buffer behind the
// pointer, and the pointer passes that region only when the message before it goes back. A
// burst from the host side while the pacer holds that message must wait in the ring.
test('RX: the next buffer is not written while the message before it waits for its time (the application may still read it)', () => {
  const rig = makeRig();
  const { sd, drv, inp, snd, clock } = rig;
  const period = 160; // 10 ms of 8 kHz mono S16, two periods: the matrix's smallest case
  assert.equal(sd.setParams(1, { bufferBytes: 2 * period, periodBytes: period, rateIndex: P.RATE_BY_INDEX.indexOf(8000), channels: 1 }), P.VIRTIO_SND_S_OK);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 1), P.VIRTIO_SND_S_OK);
  inp.last.deviceClock = true;
  const m0 = sd.rx(1, period);
  const m1 = sd.rx(1, period);
  drv.kick(RX);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_START, 1), P.VIRTIO_SND_S_OK);
  const captured = pattern(period * 3, 11);
  inp.last.produce(captured); // three periods at once: the audio host catching up
  snd.poll();
  assert.deepEqual(ids(rig, RX), [], 'the first period is not back before 10 ms');
  clock.advance(0.0101);
  snd.poll();
  assert.deepEqual(ids(rig, RX), [m0.head]);
  const again = sd.rx(1, period); // Linux re-queues m0's region at once
  drv.kick(RX);
  snd.poll();
  assert.deepEqual(ids(rig, RX), [], 'm1 waits for 20 ms');
  assert.deepEqual(drv.get(m1.dataAddr, period), captured.subarray(period, 2 * period));
  assert.deepEqual(drv.get(again.dataAddr, period), new Uint8Array(period).fill(0xee), 'the re-queued buffer is untouched while m1 is held');
  clock.advance(0.01);
  snd.poll();
  assert.deepEqual(ids(rig, RX), [m1.head]);
  assert.deepEqual(drv.get(again.dataAddr, period), captured.subarray(2 * period), 'then it takes the third period');
  assert.equal(inp.last.ring.stats().overruns, 0);
  assert.equal(snd.internalErrors, 0);
});

test('RX: a driver that queues one buffer at a time gets each back once full, a period apart at most', () => {
  const rig = makeRig();
  const { sd, drv, inp, snd, clock } = rig;
  prepared(rig, 1);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_START, 1), P.VIRTIO_SND_S_OK);
  inp.last.produce(pattern(PERIOD * 3, 9));
  const back: number[] = [];
  for (let i = 0; i < 3; i++) {
    const m = sd.rx(1, PERIOD);
    drv.kick(RX);
    snd.poll();
    if (i > 0) {
      assert.deepEqual(ids(rig, RX), [], 'not within a period of the previous one');
      clock.advance(0.025);
      snd.poll();
    }
    back.push(...ids(rig, RX));
    assert.deepEqual(back.slice(-1), [m.head]);
  }
  assert.equal(snd.internalErrors, 0);
});

test('TX: a drain gets its last buffers back, one period apart at most (never all at once)', () => {
  const rig = makeRig();
  const { sd, drv, out, snd, clock } = rig;
  prepared(rig, 0);
  const heads: number[] = [];
  for (let i = 0; i < PERIODS; i++) heads.push(sd.tx(0, pattern(PERIOD, i + 1)).head);
  drv.kick(TX);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_START, 0), P.VIRTIO_SND_S_OK);
  out.last.consume(PERIOD * PERIODS);
  snd.poll();
  assert.deepEqual(ids(rig, TX), heads.slice(0, PERIODS - 1));
  const back: number[] = [];
  let at = -1;
  for (let ms = 5; ms <= 200 && back.length === 0; ms += 5) {
    clock.advance(0.005);
    snd.poll();
    back.push(...ids(rig, TX));
    if (back.length) at = ms;
  }
  assert.deepEqual(back, [heads[PERIODS - 1]], 'the last one comes back, by itself');
  assert.ok(at >= 25 && at <= 80, `after ${at} ms: not with the others, not a buffer later`);
});

test('RX: buffers held until START, then filled byte for byte, returned when full', () => {
  const rig = makeRig();
  const { sd, drv, inp, snd } = rig;
  prepared(rig, 1);
  const msgs = [0, 1, 2, 3].map(() => sd.rx(1, PERIOD));
  drv.kick(RX);
  const captured = pattern(PERIOD * 3, 4);
  inp.last.produce(captured.subarray(0, PERIOD * 2)); // audio that is there before START
  snd.poll();
  assert.deepEqual(ids(rig, RX), [], 'nothing is captured before START');
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_START, 1), P.VIRTIO_SND_S_OK);
  snd.poll();
  let used = sd.used(RX);
  assert.deepEqual(used, [msgs[0], msgs[1]].map((m) => ({ id: m.head, len: PERIOD + 8 })));
  assert.deepEqual(drv.get(msgs[0].dataAddr, PERIOD), captured.subarray(0, PERIOD));
  assert.deepEqual(drv.get(msgs[1].dataAddr, PERIOD), captured.subarray(PERIOD, 2 * PERIOD));
  assert.equal(sd.xferStatus(msgs[1]).status, P.VIRTIO_SND_S_OK);
  // Half a period: the next buffer is filled halfway and held.
  inp.last.produce(captured.subarray(PERIOD * 2, PERIOD * 2 + PERIOD / 2));
  snd.poll();
  assert.deepEqual(sd.used(RX), []);
  inp.last.produce(captured.subarray(PERIOD * 2 + PERIOD / 2));
  snd.poll();
  used = sd.used(RX);
  assert.deepEqual(used, [{ id: msgs[2].head, len: PERIOD + 8 }]);
  assert.deepEqual(drv.get(msgs[2].dataAddr, PERIOD), captured.subarray(PERIOD * 2));
  assert.equal(readStreams(snd.state)[1].buffersInFlight, 1);
  assert.equal(snd.internalErrors, 0);
});

test('RX with a backend producing at its own pace: a continuous stream arrives intact', () => {
  const rig = makeRig();
  const { sd, drv, inp, snd, clock } = rig;
  prepared(rig, 1, 4, 960);
  // Not a multiple of the period: the stream must not restart at message boundaries.
  const source = pattern(960 * 7 + 4 * 13, 5);
  inp.last.source = source;
  inp.last.autoBytes = 400;
  const byHead = new Map<number, Xfer>();
  for (let i = 0; i < 4; i++) {
    const x = sd.rx(1, 960);
    byHead.set(x.head, x);
  }
  drv.kick(RX);
  sd.cmd(P.VIRTIO_SND_R_PCM_START, 1);
  const got: number[] = [];
  for (let step = 0; step < 200; step++) {
    clock.advance(0.001);
    snd.poll();
    for (const u of sd.used(RX)) {
      const x = byHead.get(u.id)!;
      assert.equal(u.len, 968);
      got.push(...drv.get(x.dataAddr, 960));
      byHead.delete(u.id);
      const again = sd.rx(1, 960);
      byHead.set(again.head, again);
    }
    drv.kick(RX);
  }
  assert.ok(got.length >= 960 * 60, `captured ${got.length} bytes`);
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== source[i % source.length]) assert.fail(`byte ${i}: ${got[i]} != ${source[i % source.length]}`);
  }
  assert.equal(inp.last.ring.stats().overruns, 0);
});

test('STOP holds messages (pause), START resumes them, RELEASE returns all with the right lengths', () => {
  const rig = makeRig();
  const { sd, drv, out, inp, snd } = rig;
  prepared(rig, 0);
  prepared(rig, 1);
  const tx = [0, 1, 2].map((i) => sd.tx(0, pattern(PERIOD, 10 + i)));
  drv.kick(TX);
  const rx = [0, 1, 2].map(() => sd.rx(1, PERIOD));
  drv.kick(RX);
  sd.cmd(P.VIRTIO_SND_R_PCM_START, 0);
  sd.cmd(P.VIRTIO_SND_R_PCM_START, 1);
  out.last.consume(PERIOD);
  inp.last.produce(pattern(PERIOD + 400, 20));
  snd.poll();
  assert.deepEqual(ids(rig, TX), [tx[0].head]);
  assert.deepEqual(ids(rig, RX), [rx[0].head]);
  // Pause both.
  sd.cmd(P.VIRTIO_SND_R_PCM_STOP, 0);
  sd.cmd(P.VIRTIO_SND_R_PCM_STOP, 1);
  snd.poll();
  assert.deepEqual(ids(rig, TX), [], 'STOP returns nothing');
  assert.deepEqual(ids(rig, RX), []);
  inp.last.produce(pattern(PERIOD, 21)); // a host that still delivers must not fill a paused stream
  snd.poll();
  assert.deepEqual(ids(rig, RX), []);
  // Resume: the held TX message plays on.
  sd.cmd(P.VIRTIO_SND_R_PCM_START, 0);
  out.last.consume(PERIOD);
  snd.poll();
  assert.deepEqual(ids(rig, TX), [tx[1].head]);
  sd.cmd(P.VIRTIO_SND_R_PCM_STOP, 0);
  // RELEASE: every held message returns before the RELEASE response.
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_RELEASE, 0), P.VIRTIO_SND_S_OK);
  assert.deepEqual(sd.used(TX), [{ id: tx[2].head, len: 8 }]);
  assert.equal(sd.xferStatus(tx[2]).status, P.VIRTIO_SND_S_OK);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_RELEASE, 1), P.VIRTIO_SND_S_OK);
  // RX: the second buffer had been filled with the 400 bytes present before STOP.
  assert.deepEqual(sd.used(RX), [
    { id: rx[1].head, len: 400 + 8 },
    { id: rx[2].head, len: 8 },
  ]);
  assert.equal(sd.xferStatus(rx[2]).status, P.VIRTIO_SND_S_OK);
  assert.equal(out.last.closed && inp.last.closed, true);
  assert.deepEqual(
    readStreams(snd.state).map((s) => s.buffersInFlight),
    [0, 0],
  );
  assert.equal(drv.outstanding(TX) + drv.outstanding(RX), 0);
});

test('XRUN events: one per host xrun while running, spaced, dropped without event buffers', () => {
  const rig = makeRig();
  const { sd, out, snd, clock } = rig;
  prepared(rig, 0);
  const evAddrs = sd.addEventBuffers(2);
  sd.cmd(P.VIRTIO_SND_R_PCM_START, 0);
  out.last.xruns = 1;
  clock.advance(0.02);
  snd.poll();
  const ev = sd.used(P.VIRTIO_SND_VQ_EVENT);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].len, 8);
  const evAt = evAddrs[0];
  assert.equal(rig.drv.ram.read32(evAt), P.VIRTIO_SND_EVT_PCM_XRUN);
  assert.equal(rig.drv.ram.read32(evAt + 4), 0, 'stream id');
  // Another xrun 30 ms later: rate-limited (dropped), then one 150 ms later is delivered.
  out.last.xruns = 2;
  clock.advance(0.03);
  snd.poll();
  assert.equal(sd.used(P.VIRTIO_SND_VQ_EVENT).length, 0);
  out.last.xruns = 3;
  clock.advance(0.15);
  snd.poll();
  assert.equal(sd.used(P.VIRTIO_SND_VQ_EVENT).length, 1);
  // No event buffer left: counted, not delivered.
  out.last.xruns = 4;
  clock.advance(0.15);
  snd.poll();
  const s = readStreams(snd.state)[0];
  assert.equal(s.xrunsHost, 4);
  assert.equal(s.xrunsGuest, 2);
  // Without the feature selected in SET_PARAMS, no events at all.
  sd.cmd(P.VIRTIO_SND_R_PCM_STOP, 0);
  sd.cmd(P.VIRTIO_SND_R_PCM_RELEASE, 0);
  sd.setParams(0, { bufferBytes: PERIOD * 4, periodBytes: PERIOD, features: 0 });
  sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0);
  sd.addEventBuffers(1);
  sd.cmd(P.VIRTIO_SND_R_PCM_START, 0);
  out.last.xruns = 5;
  clock.advance(0.2);
  snd.poll();
  assert.equal(sd.used(P.VIRTIO_SND_VQ_EVENT).length, 0);
  assert.equal(readStreams(snd.state)[0].xrunsHost, 5);
});

test('levels: peak and RMS of what passes through', () => {
  const rig = makeRig();
  const { sd, drv, out, snd } = rig;
  prepared(rig, 0);
  // 50 ms of a 0.5-amplitude 1 kHz sine, stereo S16.
  const frames = 2400;
  const pcm = new Uint8Array(frames * 4);
  const v = new DataView(pcm.buffer);
  for (let i = 0; i < frames; i++) {
    const s = Math.round(0.5 * 32767 * Math.sin((2 * Math.PI * 1000 * i) / 48000));
    v.setInt16(i * 4, s, true);
    v.setInt16(i * 4 + 2, s, true);
  }
  sd.tx(0, pcm.subarray(0, PERIOD));
  sd.tx(0, pcm.subarray(PERIOD));
  drv.kick(TX);
  const s = readStreams(snd.state)[0];
  assert.ok(Math.abs(s.peak - 0.5) < 0.001, `peak ${s.peak}`);
  assert.ok(Math.abs(s.rms - 0.5 / Math.SQRT2) < 0.002, `rms ${s.rms}`);
  assert.equal(out.last.ring.fill(), pcm.length);
});

test('device reset drops everything without touching the rings', () => {
  const rig = makeRig();
  const { sd, drv, out, snd } = rig;
  prepared(rig, 0);
  sd.tx(0, pattern(PERIOD, 30));
  drv.kick(TX);
  sd.cmd(P.VIRTIO_SND_R_PCM_START, 0);
  const usedIdx = drv.ram.read16(drv.queues[TX].used + 2);
  drv.w(0x070, 0); // status 0
  assert.equal(out.last.closed, true);
  assert.equal(drv.ram.read16(drv.queues[TX].used + 2), usedIdx, 'no used-ring write after reset');
  const s = readStreams(snd.state)[0];
  assert.equal(s.state, 'set-up');
  assert.equal(s.buffersInFlight, 0);
  assert.equal(s.format, null);
  // The driver probes again and everything works.
  drv.init();
  prepared(rig, 0);
  const x = sd.tx(0, pattern(PERIOD, 31));
  drv.kick(TX);
  sd.cmd(P.VIRTIO_SND_R_PCM_START, 0);
  out.last.consume(PERIOD);
  snd.poll();
  assert.deepEqual(ids(rig, TX), [x.head]);
});

test('a backend that cannot open fails PREPARE with IO_ERR and the stream stays usable', () => {
  const rig = makeRig();
  const { sd, out } = rig;
  sd.setParams(0, { bufferBytes: PERIOD * 4, periodBytes: PERIOD });
  out.failOpen = true;
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0), P.VIRTIO_SND_S_IO_ERR);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_START, 0), P.VIRTIO_SND_S_BAD_MSG);
  out.failOpen = false;
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0), P.VIRTIO_SND_S_OK);
});
