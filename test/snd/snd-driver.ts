// The virtio-snd side of the scripted driver: control requests, TX/RX messages and event buffers
// built the way Linux's sound/virtio driver builds them (request + response for control;
// xfer header + PCM + status for I/O, split at page boundaries like a vmalloc'ed buffer).

import { VirtioSnd, type VirtioSndOptions } from '../../src/devices/virtio-snd/snd';
import * as P from '../../src/devices/virtio-snd/snd-proto';
import { Driver, type Seg, type UsedElem } from './driver';
import { TestBackend } from './test-backend';

export const TIMEBASE = 65_000_000;

export class TestClock {
  ticks = 0;
  now(): number {
    return this.ticks;
  }
  advance(seconds: number): void {
    this.ticks += Math.round(seconds * TIMEBASE);
  }
}

export function u32s(...words: number[]): Uint8Array {
  const b = new Uint8Array(words.length * 4);
  words.forEach((w, i) => P.put32(b, i * 4, w >>> 0));
  return b;
}

export interface ParamsIn {
  bufferBytes: number;
  periodBytes: number;
  features?: number;
  channels?: number;
  format?: number;
  rateIndex?: number;
}

export function setParamsBytes(stream: number, p: ParamsIn): Uint8Array {
  const b = new Uint8Array(P.PCM_SET_PARAMS_SIZE);
  P.put32(b, 0, P.VIRTIO_SND_R_PCM_SET_PARAMS);
  P.put32(b, 4, stream);
  P.put32(b, P.SP_BUFFER_BYTES, p.bufferBytes);
  P.put32(b, P.SP_PERIOD_BYTES, p.periodBytes);
  P.put32(b, P.SP_FEATURES, p.features ?? 1 << P.VIRTIO_SND_PCM_F_EVT_XRUNS);
  b[P.SP_CHANNELS] = p.channels ?? 2;
  b[P.SP_FORMAT] = p.format ?? P.VIRTIO_SND_PCM_FMT_S16;
  b[P.SP_RATE] = p.rateIndex ?? 7; // 48 kHz
  return b;
}

export interface ControlResult {
  status: number;
  used: number;
  resp: Uint8Array; // the whole writable area after the call
}

export interface Xfer {
  head: number;
  statusAddr: number;
  dataAddr: number;
  dataLen: number;
}

/** Splits [addr, addr+len) at 4 KiB boundaries, as a vmalloc'ed buffer becomes an sg list. */
function pageSegments(addr: number, len: number, write: boolean, pageSplit: boolean): Seg[] {
  if (!pageSplit) return [{ addr, len, write }];
  const segs: Seg[] = [];
  while (len > 0) {
    const n = Math.min(len, 4096 - (addr & 4095));
    segs.push({ addr, len: n, write });
    addr += n;
    len -= n;
  }
  return segs;
}

export class SndDriver {
  constructor(
    readonly drv: Driver,
    readonly snd: VirtioSnd,
  ) {}

  /** Sends one control request and returns the device's answer (synchronous on this device). */
  control(req: Uint8Array, respLen: number, extraWritable = 0): ControlResult {
    const d = this.drv;
    const reqAt = d.alloc(Math.max(req.length, 1));
    d.put(reqAt, req);
    const respAt = d.alloc(Math.max(respLen + extraWritable, 4));
    d.put(respAt, new Uint8Array(respLen + extraWritable).fill(0xee));
    const segs: Seg[] = [];
    if (req.length > 0) segs.push({ addr: reqAt, len: req.length, write: false });
    if (respLen > 0) segs.push({ addr: respAt, len: respLen, write: true });
    const head = d.submit(P.VIRTIO_SND_VQ_CONTROL, segs);
    d.kick(P.VIRTIO_SND_VQ_CONTROL);
    const used = d.used(P.VIRTIO_SND_VQ_CONTROL);
    const mine = used.find((u) => u.id === head);
    if (!mine) throw new Error(`control request not answered (used: ${JSON.stringify(used)})`);
    const resp = d.get(respAt, respLen);
    return { status: respLen >= 4 ? P.le32(resp, 0) : -1, used: mine.len, resp };
  }

  queryInfo(code: number, start: number, count: number, size: number, respLen = 4 + count * size): ControlResult {
    return this.control(u32s(code, start, count, size), respLen);
  }

  setParams(stream: number, p: ParamsIn): number {
    return this.control(setParamsBytes(stream, p), 4).status;
  }

  cmd(code: number, stream: number): number {
    return this.control(u32s(code, stream), 4).status;
  }

  /** A TX message: header + PCM (page-split) + status; not kicked. */
  tx(stream: number, pcm: Uint8Array, pageSplit = true): Xfer {
    const d = this.drv;
    const hdr = d.alloc(4);
    d.put(hdr, u32s(stream));
    const data = d.alloc(pcm.length, 4);
    d.put(data, pcm);
    const st = d.alloc(8);
    d.put(st, new Uint8Array(8).fill(0xee));
    const head = d.submit(P.VIRTIO_SND_VQ_TX, [
      { addr: hdr, len: 4, write: false },
      ...pageSegments(data, pcm.length, false, pageSplit),
      { addr: st, len: 8, write: true },
    ]);
    return { head, statusAddr: st, dataAddr: data, dataLen: pcm.length };
  }

  /** An RX message: header + room for `bytes` PCM bytes (page-split) + status; not kicked. */
  rx(stream: number, bytes: number, pageSplit = true): Xfer {
    const d = this.drv;
    const hdr = d.alloc(4);
    d.put(hdr, u32s(stream));
    const data = d.alloc(bytes, 4);
    d.put(data, new Uint8Array(bytes).fill(0xee));
    const st = d.alloc(8);
    d.put(st, new Uint8Array(8).fill(0xee));
    const head = d.submit(P.VIRTIO_SND_VQ_RX, [{ addr: hdr, len: 4, write: false }, ...pageSegments(data, bytes, true, pageSplit), { addr: st, len: 8, write: true }]);
    return { head, statusAddr: st, dataAddr: data, dataLen: bytes };
  }

  /** The status and latency a message's status field holds now. */
  xferStatus(x: Xfer): { status: number; latency: number } {
    const b = this.drv.get(x.statusAddr, 8);
    return { status: P.le32(b, 0), latency: P.le32(b, 4) };
  }

  /** Event buffers for the event queue (as virtsnd_event_send does: one writable 8-byte buffer each). */
  addEventBuffers(n: number): number[] {
    const addrs: number[] = [];
    for (let i = 0; i < n; i++) {
      const at = this.drv.alloc(8);
      this.drv.put(at, new Uint8Array(8));
      this.drv.submit(P.VIRTIO_SND_VQ_EVENT, [{ addr: at, len: 8, write: true }]);
      addrs.push(at);
    }
    this.drv.kick(P.VIRTIO_SND_VQ_EVENT);
    return addrs;
  }

  used(q: number): UsedElem[] {
    return this.drv.used(q);
  }
}

export interface Rig {
  snd: VirtioSnd;
  drv: Driver;
  sd: SndDriver;
  out: TestBackend;
  inp: TestBackend;
  clock: TestClock;
}

/** A device on a real virtio-mmio transport, brought up like Linux does, with test backends. */
export function makeRig(opts: Partial<VirtioSndOptions> & { ramBytes?: number; ringBytes?: number; init?: boolean } = {}): Rig {
  const clock = new TestClock();
  const out = new TestBackend('test-out');
  const inp = new TestBackend('test-in');
  if (opts.ringBytes) out.ringBytes = inp.ringBytes = opts.ringBytes;
  const snd = new VirtioSnd({ backendOut: out, backendIn: inp, clock, timebaseHz: TIMEBASE, ...opts });
  const drv = new Driver(snd, opts.ramBytes ?? 1 << 20);
  if (opts.init !== false) drv.init();
  return { snd, drv, sd: new SndDriver(drv, snd), out, inp, clock };
}

/** A deterministic PCM pattern (bytes), distinct per call site via `seed`. */
export function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
