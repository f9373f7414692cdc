// Fuzz: at least 10 000 random, malformed and valid-but-hostile chains on each of the four
// queues, interleaved with host activity. Nothing may throw, hang, leak or lose a chain: after
// every step each chain the transport handed out is either back in the used ring or held by a
// stream, and the heap after GC stays flat.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { HEADER_INTS, Q_IN_FLIGHT, ST_QUEUE_STRIDE } from '../../src/emulator/virtio/layout';
import * as P from '../../src/devices/virtio-snd/snd-proto';
import { PcmState } from '../../src/devices/virtio-snd/snd-stream';
import { VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../../src/emulator/virtio/types';
import { setLogLevel } from '../../src/log';
import { makeRig, setParamsBytes, u32s } from './snd-driver';
import type { TestStream } from './test-backend';

const PER_QUEUE = 10_000;

function gcFunction(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

class Rng {
  constructor(private x: number) {}
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  int(n: number): number {
    return this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

test('fuzz: every queue, 10 000+ chains each: no throw, no hang, no lost chain, flat heap', () => {
  setLogLevel('silent'); // thousands of expected DEVICE_NEEDS_RESET warnings
  const gc = gcFunction();
  const rig = makeRig({ ramBytes: 2 << 20 });
  const { drv, sd, snd, out, inp, clock } = rig;
  out.retain = inp.retain = 2;
  const rng = new Rng(0x5eed);
  const W = VIRTQ_DESC_F_WRITE;
  const counts = [0, 0, 0, 0];
  let resets = 0;
  let heapAfterWarmup = 0;

  const randBytes = (n: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = rng.next() & 0xff;
    return b;
  };
  const buf = (bytes: Uint8Array | number) => {
    const len = typeof bytes === 'number' ? bytes : bytes.length;
    const at = drv.alloc(Math.max(len, 1), 4);
    if (typeof bytes !== 'number') drv.put(at, bytes);
    return at;
  };

  /** What Linux would send next for a stream in its current state (keeps the data path busy). */
  const sensible = (id: number): Uint8Array => {
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
  };

  /** A control request: mostly what a driver would send, plus hostile and garbage ones. */
  const controlRequest = (): Uint8Array => {
    if (rng.chance(0.6)) return sensible(rng.int(2));
    const stream = rng.chance(0.9) ? rng.int(2) : rng.next();
    switch (rng.int(8)) {
      case 0:
      case 1: {
        const fb = 4;
        const period = fb * (1 + rng.int(600));
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
        return randBytes(rng.int(40));
      default:
        return u32s(rng.next(), rng.next(), rng.next(), rng.next()).subarray(0, rng.int(17));
    }
  };

  /** Descriptors for one chain on queue q: usually plausible, sometimes hostile. */
  const chainFor = (q: number): { addr: number; len: number; flags: number }[] => {
    const d: { addr: number; len: number; flags: number }[] = [];
    const frags = (addr: number, len: number, flags: number) => {
      const n = 1 + rng.int(4);
      let at = 0;
      for (let i = 0; i < n && at < len; i++) {
        const l = i === n - 1 ? len - at : Math.min(len - at, rng.int(len + 1));
        if (l > 0) d.push({ addr: addr + at, len: l, flags });
        at += l;
      }
    };
    if (q === P.VIRTIO_SND_VQ_CONTROL) {
      const req = controlRequest();
      if (req.length > 0) frags(buf(req), req.length, 0);
      const resp = rng.pick([0, 2, 4, 4, 4, 4 + 24, 4 + 64, 4 + 128, rng.int(300)]);
      if (resp > 0) frags(buf(resp), resp, rng.chance(0.95) ? W : 0);
    } else if (q === P.VIRTIO_SND_VQ_EVENT) {
      if (rng.chance(0.1)) d.push({ addr: buf(4), len: 4, flags: 0 });
      const len = rng.pick([8, 8, 8, 0, 4, 16]);
      if (len > 0) frags(buf(len), len, W);
    } else {
      const tx = q === P.VIRTIO_SND_VQ_TX;
      const stream = rng.chance(0.9) ? (tx ? 0 : 1) : rng.int(3);
      const hdrLen = rng.chance(0.95) ? 4 : rng.int(8);
      if (hdrLen > 0) d.push({ addr: buf(u32s(stream)), len: hdrLen, flags: 0 });
      const pcm = rng.chance(0.9) ? 4 * rng.int(1500) : rng.int(6000);
      if (pcm > 0) frags(buf(pcm), pcm, tx ? (rng.chance(0.97) ? 0 : W) : rng.chance(0.97) ? W : 0);
      const st = rng.pick([8, 8, 8, 8, 0, 4, 12]);
      if (st > 0) d.push({ addr: buf(st), len: st, flags: W });
    }
    // Hostile shapes: out of RAM, writable before readable.
    if (d.length > 0 && rng.chance(0.003)) d[rng.int(d.length)].addr = drv.ram.size - rng.int(64);
    if (d.length > 1 && rng.chance(0.003)) {
      d[0].flags |= W;
      d[d.length - 1].flags &= ~W;
    }
    return d;
  };

  /** Checks that every chain popped and not returned is held by a stream. */
  const account = () => {
    const st = drv.mmio.state;
    const inFlight = (q: number) => st[HEADER_INTS + q * st[ST_QUEUE_STRIDE] + Q_IN_FLIGHT];
    assert.equal(inFlight(P.VIRTIO_SND_VQ_CONTROL), 0, 'control requests are answered at once');
    assert.equal(inFlight(P.VIRTIO_SND_VQ_EVENT), 0, 'event buffers are only popped to deliver');
    assert.equal(inFlight(P.VIRTIO_SND_VQ_TX), snd.streams[0].inFlight, 'TX chains held = chains popped and not returned');
    assert.equal(inFlight(P.VIRTIO_SND_VQ_RX), snd.streams[1].inFlight, 'RX chains held = chains popped and not returned');
  };

  let played = 0;
  let captured = 0;
  const hostActivity = () => {
    const o = snd.streams[0].hostStream as TestStream | null;
    const i = snd.streams[1].hostStream as TestStream | null;
    if (o) {
      o.record = false;
      if (rng.chance(0.5)) played += o.consume(rng.int(8000)).length;
      if (rng.chance(0.02)) o.xruns++;
    }
    if (i) {
      if (rng.chance(0.5)) i.produce(randBytes(4 * rng.int(1000)));
      if (rng.chance(0.02)) i.xruns++;
    }
    clock.advance(rng.int(20) / 1000);
    snd.poll();
  };

  const drain = (q: number) => {
    for (const u of drv.used(q)) if (q === P.VIRTIO_SND_VQ_RX && u.len > 8) captured += u.len - 8;
  };

  const started = Date.now();
  for (let iter = 0; Math.min(...counts) < PER_QUEUE; iter++) {
    for (let q = 0; q < 4; q++) {
      if (drv.queues[q].free.length < 12) {
        // Our driver ran out of descriptors (the device holds them): release like Linux would.
        if (!drv.needsReset && drv.queues[P.VIRTIO_SND_VQ_CONTROL].free.length >= 2) {
          sd.control(u32s(P.VIRTIO_SND_R_PCM_STOP, q === P.VIRTIO_SND_VQ_RX ? 1 : 0), 4);
          sd.control(u32s(P.VIRTIO_SND_R_PCM_RELEASE, q === P.VIRTIO_SND_VQ_RX ? 1 : 0), 4);
        }
        drain(q);
        if (drv.queues[q].free.length < 12) {
          drv.init(); // e.g. event buffers nobody consumed, or chains lost to NEEDS_RESET
          resets++;
          continue;
        }
      }
      const descs = chainFor(q);
      if (descs.length === 0) continue;
      const head = drv.submitRaw(q, descs);
      if (rng.chance(0.002)) {
        // A loop: the last descriptor points back at the head.
        const dq = drv.queues[q];
        const idx = dq.chains.get(head)!;
        const last = dq.desc + 16 * idx[idx.length - 1];
        drv.ram.write16(last + 12, drv.ram.read16(last + 12) | VIRTQ_DESC_F_NEXT);
        drv.ram.write16(last + 14, head);
      }
      counts[q]++;
      drv.kick(q);
      drain(q);
    }
    hostActivity();
    for (let q = 0; q < 4; q++) drain(q);
    if (drv.needsReset) {
      drv.init();
      resets++;
    }
    account();
    if (iter === 2000) {
      gc();
      heapAfterWarmup = process.memoryUsage().heapUsed;
    }
  }
  gc();
  const growth = process.memoryUsage().heapUsed - heapAfterWarmup;
  setLogLevel('warn');
  assert.equal(snd.internalErrors, 0, 'no internal error');
  assert.ok(resets > 10, `hostile chains forced resets (${resets})`);
  assert.ok(played > 1 << 20 && captured > 1 << 20, `the data path was exercised (played ${played}, captured ${captured} bytes)`);
  assert.ok(growth < 4 << 20, `heap grew ${(growth / 1048576).toFixed(2)} MiB after warm-up`);
  assert.ok(Date.now() - started < 60_000, 'bounded time');
  // The device still works after all that.
  drv.init();
  assert.equal(sd.setParams(0, { bufferBytes: 7680, periodBytes: 1920 }), P.VIRTIO_SND_S_OK);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0), P.VIRTIO_SND_S_OK);
});
