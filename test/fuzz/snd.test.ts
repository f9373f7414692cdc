// Fuzz virtio-snd through the harness: 10 000+ chains on each of its four queues — control
// requests mostly as Linux sends them (so streams really run) plus hostile and garbage ones,
// event buffers of every size, TX/RX messages of every shape — interleaved with host audio
// activity (the test backend consuming, capturing, reporting xruns) and the harness's hostile
// chains. Nothing may throw, hang or be lost; each chain the device holds is counted by its
// streams; the data path must really move audio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FuzzDriver } from './driver';
import * as P from '../../src/devices/virtio-snd/snd-proto';
import { PcmState } from '../../src/devices/virtio-snd/snd-stream';
import { VirtioSnd } from '../../src/devices/virtio-snd/snd';
import { TIMEBASE, TestClock, setParamsBytes, u32s } from '../snd/snd-driver';
import { TestBackend, type TestStream } from '../snd/test-backend';
import { type DescSpec, type GenContext, type Rng, runFuzz } from './harness';

function makeDevice() {
  const clock = new TestClock();
  const out = new TestBackend('test-out');
  const inp = new TestBackend('test-in');
  out.retain = inp.retain = 2;
  const snd = new VirtioSnd({ backendOut: out, backendIn: inp, clock, timebaseHz: TIMEBASE });
  return { snd, out, inp, clock };
}

/** What Linux would send next for a stream in its current state (keeps the data path busy). */
function sensible(snd: VirtioSnd, rng: Rng, id: number): Uint8Array {
  switch (snd.streams[id].state) {
    case PcmState.Idle:
      return setParamsBytes(id, { bufferBytes: 4 * 1920, periodBytes: 1920 });
    case PcmState.ParamsSet:
    case PcmState.Released:
      return u32s(P.VIRTIO_SND_R_PCM_PREPARE, id);
    case PcmState.Prepared:
      return u32s(P.VIRTIO_SND_R_PCM_START, id);
    case PcmState.Running:
      return rng.chance(0.05) ? u32s(P.VIRTIO_SND_R_PCM_STOP, id) : u32s(P.VIRTIO_SND_R_PCM_INFO, 0, 2, 32);
    default:
      return u32s(rng.chance(0.5) ? P.VIRTIO_SND_R_PCM_START : P.VIRTIO_SND_R_PCM_RELEASE, id);
  }
}

/** A control request: mostly what a driver would send, plus hostile and garbage ones. */
function controlRequest(snd: VirtioSnd, rng: Rng): Uint8Array {
  if (rng.chance(0.6)) return sensible(snd, rng, rng.int(2));
  const stream = rng.chance(0.9) ? rng.int(2) : rng.next();
  switch (rng.int(8)) {
    case 0:
    case 1: {
      const period = 4 * (1 + rng.int(600));
      return setParamsBytes(stream, {
        bufferBytes: rng.chance(0.9) ? period * (2 + rng.int(6)) : rng.next() % (1 << 23),
        periodBytes: rng.chance(0.9) ? period : rng.next(),
        channels: rng.chance(0.9) ? 2 : rng.int(4),
        format: rng.chance(0.9) ? P.VIRTIO_SND_PCM_FMT_S16 : rng.int(32),
        rateIndex: rng.chance(0.9) ? 7 : rng.int(16),
        features: rng.chance(0.9) ? 1 << P.VIRTIO_SND_PCM_F_EVT_XRUNS : rng.next(),
      });
    }
    case 2:
    case 3:
    case 4:
      return u32s(rng.pick([P.VIRTIO_SND_R_PCM_PREPARE, P.VIRTIO_SND_R_PCM_START, P.VIRTIO_SND_R_PCM_STOP, P.VIRTIO_SND_R_PCM_RELEASE]), stream);
    case 5:
      return u32s(rng.pick([P.VIRTIO_SND_R_JACK_INFO, P.VIRTIO_SND_R_PCM_INFO, P.VIRTIO_SND_R_CHMAP_INFO]), rng.int(4), rng.int(5), rng.pick([0, 16, 24, 32, 40, rng.next()]));
    case 6:
      return rng.bytes(rng.int(40));
    default:
      return u32s(rng.next(), rng.next(), rng.next(), rng.next()).subarray(0, rng.int(17));
  }
}

/** `len` bytes split into 1-4 buffers of one direction. */
function frags(ctx: GenContext, addr: number, len: number, write: boolean): DescSpec[] {
  const out: DescSpec[] = [];
  const n = 1 + ctx.rng.int(4);
  let at = 0;
  for (let i = 0; i < n && at < len; i++) {
    const l = i === n - 1 ? len - at : Math.min(len - at, ctx.rng.int(len + 1));
    if (l > 0) out.push({ addr: addr + at, len: l, write });
    at += l;
  }
  return out;
}

function chainFor(snd: VirtioSnd) {
  return (ctx: GenContext): DescSpec[] => {
    const { rng, q } = ctx;
    const d: DescSpec[] = [];
    if (q === P.VIRTIO_SND_VQ_CONTROL) {
      const req = controlRequest(snd, rng);
      if (req.length > 0) d.push(...frags(ctx, ctx.buffer(req), req.length, false));
      const resp = rng.pick([0, 2, 4, 4, 4, 4 + 24, 4 + 64, 4 + 128, rng.int(300)]);
      if (resp > 0) d.push(...frags(ctx, ctx.alloc(resp), resp, rng.chance(0.95)));
    } else if (q === P.VIRTIO_SND_VQ_EVENT) {
      if (rng.chance(0.1)) d.push({ addr: ctx.alloc(4), len: 4, write: false });
      const len = rng.pick([8, 8, 8, 0, 4, 16]);
      if (len > 0) d.push(...frags(ctx, ctx.alloc(len), len, true));
    } else {
      const tx = q === P.VIRTIO_SND_VQ_TX;
      const stream = rng.chance(0.9) ? (tx ? 0 : 1) : rng.int(3);
      const hdrLen = rng.chance(0.95) ? 4 : rng.int(8);
      if (hdrLen > 0) d.push({ addr: ctx.buffer(u32s(stream, 0)), len: hdrLen, write: false });
      const pcm = rng.chance(0.9) ? 4 * rng.int(1500) : rng.int(6000);
      if (pcm > 0) d.push(...frags(ctx, tx ? ctx.buffer(rng.bytes(pcm)) : ctx.alloc(pcm), pcm, tx ? !rng.chance(0.97) : rng.chance(0.97)));
      const st = rng.pick([8, 8, 8, 8, 0, 4, 12]);
      if (st > 0) d.push({ addr: ctx.alloc(st), len: st, write: true });
    }
    return d;
  };
}

/** Linux's stop: STOP then RELEASE, after which the stream returns every message it held. */
function release(drv: FuzzDriver, stream: number): void {
  for (const code of [P.VIRTIO_SND_R_PCM_STOP, P.VIRTIO_SND_R_PCM_RELEASE]) {
    const req = u32s(code, stream);
    const reqAt = drv.alloc(req.length);
    drv.put(reqAt, req);
    const p = drv.place(P.VIRTIO_SND_VQ_CONTROL, [{ addr: reqAt, len: req.length, write: false }, { addr: drv.alloc(4), len: 4, write: true }], false);
    if (p === null) return;
    drv.publish(p);
    drv.kick(P.VIRTIO_SND_VQ_CONTROL);
  }
}

test('fuzz: virtio-snd, 10 000+ chains on each of its 4 queues: no throw, no hang, no lost chain, flat heap, audio moves', { timeout: 180_000 }, (t) => {
  const { snd, out, inp, clock } = makeDevice();
  let played = 0;
  let captured = 0;
  const r = runFuzz({
    name: 'virtio-snd',
    seed: 0x5eed,
    chain: chainFor(snd),
    queueSize: 64,
    hostile: 0.05, // each hostile chain costs a reset, and a reset stops the streams: keep audio flowing
    target: () => ({
      device: snd,
      held: (q) => (q === P.VIRTIO_SND_VQ_TX ? snd.streams[0].inFlight : q === P.VIRTIO_SND_VQ_RX ? snd.streams[1].inFlight : 0),
      internalErrors: () => snd.internalErrors,
      release: (drv, q) => {
        if (q === P.VIRTIO_SND_VQ_TX || q === P.VIRTIO_SND_VQ_RX) release(drv, q === P.VIRTIO_SND_VQ_RX ? 1 : 0);
      },
      used: (q, len) => {
        if (q === P.VIRTIO_SND_VQ_RX && len > 8) captured += len - 8;
        return [];
      },
      host: (rng) => {
        const o = snd.streams[0].hostStream as TestStream | null;
        const i = snd.streams[1].hostStream as TestStream | null;
        if (o) {
          o.record = false;
          if (rng.chance(0.5)) played += o.consume(rng.int(8000)).length;
          if (rng.chance(0.02)) o.xruns++;
        }
        if (i) {
          if (rng.chance(0.5)) i.produce(rng.bytes(4 * rng.int(1000)));
          if (rng.chance(0.02)) i.xruns++;
        }
        clock.advance(rng.int(20) / 1000);
        snd.poll();
      },
    }),
  });
  t.diagnostic(JSON.stringify({ ...r, played, captured, opened: [out.opened.length, inp.opened.length] }));
  assert.ok(played > 1 << 20 && captured > 1 << 20, `the data path was exercised (played ${played}, captured ${captured} bytes)`);
  assert.ok(r.resets > 10, `hostile chains forced resets (${r.resets})`);
});
