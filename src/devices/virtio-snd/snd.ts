// The virtio sound device (VirtIO 1.2 §5.14, device id 25) behind the virtio-mmio transport:
// configuration space, the control queue (jack/PCM/channel-map requests), the event queue
// (XRUN notifications) and the dispatch of I/O messages to the PCM streams (snd-stream.ts),
// which do the actual data movement. Streams 0..outputs-1 play, the following ones capture.
//
// Nothing a guest puts in a queue can throw out of onNotify()/poll(): every request is checked
// and answered with the spec's status, and an unexpected internal error puts the device in
// DEVICE_NEEDS_RESET instead of unwinding into the machine loop.

import type { AudioBackend } from '../../audio/backend';
import { logger } from '../../log';
import type { GuestClock } from '../../emulator/types';
import { StreamRecord, allocateSndState } from './snd-layout';
import {
  CHMAP_INFO_SIZE,
  EVENT_SIZE,
  HDR_SIZE,
  JACK_INFO_SIZE,
  JACK_REMAP_SIZE,
  PCM_HDR_SIZE,
  PCM_INFO_SIZE,
  PCM_SET_PARAMS_SIZE,
  PCM_XFER_SIZE,
  QUERY_INFO_SIZE,
  SND_CONFIG_SIZE,
  SP_BUFFER_BYTES,
  SP_CHANNELS,
  SP_FEATURES,
  SP_FORMAT,
  SP_PERIOD_BYTES,
  SP_RATE,
  VIRTIO_SND_D_INPUT,
  VIRTIO_SND_D_OUTPUT,
  VIRTIO_SND_EVT_PCM_XRUN,
  VIRTIO_SND_R_CHMAP_INFO,
  VIRTIO_SND_R_CTL_FIRST,
  VIRTIO_SND_R_CTL_LAST,
  VIRTIO_SND_R_JACK_INFO,
  VIRTIO_SND_R_JACK_REMAP,
  VIRTIO_SND_R_PCM_INFO,
  VIRTIO_SND_R_PCM_PREPARE,
  VIRTIO_SND_R_PCM_RELEASE,
  VIRTIO_SND_R_PCM_SET_PARAMS,
  VIRTIO_SND_R_PCM_START,
  VIRTIO_SND_R_PCM_STOP,
  VIRTIO_SND_S_BAD_MSG,
  VIRTIO_SND_S_NOT_SUPP,
  VIRTIO_SND_S_OK,
  VIRTIO_SND_VQ_CONTROL,
  VIRTIO_SND_VQ_EVENT,
  VIRTIO_SND_VQ_RX,
  VIRTIO_SND_VQ_TX,
  encodeChmapInfo,
  encodeJackInfo,
  encodePcmInfo,
  le32,
  put32,
  requestName,
  statusName,
} from './snd-proto';
import { PcmStream, type SndIo, rejectXfer } from './snd-stream';
import type { DescChain, VirtQueue, VirtioDevice, VirtioTransport } from '../../emulator/virtio/types';
import { VIRTIO_ID_SOUND } from '../../emulator/virtio/types';

const log = logger('virtio-snd');

export const SND_QUEUE_SIZE = 64;
/** Guest-address fragments a stream can hold across its in-flight messages (Linux needs ~10 per period). */
const SEGMENTS_PER_STREAM = 1024;
const STAGING_BYTES = 16384;
const MAX_STREAMS = 16;

export interface VirtioSndOptions {
  /** Playback streams (default 1) and capture streams (default 1). */
  outputs?: number;
  inputs?: number;
  /** Host audio for each direction (from --audio-out / --audio-in); required when that direction has streams. */
  backendOut?: AudioBackend;
  backendIn?: AudioBackend;
  /**
   * The guest clock: paces the guest-time backends and spaces XRUN events. The Machine makes its
   * clock after its devices, so it may come later through setClock().
   */
  clock?: GuestClock;
  /** Ticks per second of `clock` (semu: 65 MHz). */
  timebaseHz?: number;
  /** Host resources the device owns from now on (its backends, when it was built for them): freed by dispose(). */
  owned?: readonly { dispose(): void }[];
}

/** What one channel map describes. */
interface Chmap {
  direction: number;
  channels: number;
}

export class VirtioSnd implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_SOUND;
  readonly name = 'virtio-snd';
  readonly queueNames = ['controlq', 'eventq', 'txq', 'rxq'] as const;
  readonly queueMaxSize = SND_QUEUE_SIZE;
  readonly features: readonly [number, number] = [0, 0]; // no VIRTIO_SND_F_CTLS
  readonly configSize = SND_CONFIG_SIZE;
  /** Shared stream state for the debugger and the panels (snd-layout.ts, readStreams()). */
  readonly state: SharedArrayBuffer;
  get sharedState(): SharedArrayBuffer {
    return this.state;
  }
  readonly streams: readonly PcmStream[];
  /** Internal errors turned into DEVICE_NEEDS_RESET (tests expect 0). */
  internalErrors = 0;

  private transport: VirtioTransport | null = null;
  private readonly jacks: readonly number[]; // direction per jack
  private readonly chmaps: readonly Chmap[];
  private readonly config = new Uint8Array(SND_CONFIG_SIZE);
  private readonly io: SndIo;
  private clock: GuestClock | null;
  private readonly timebase: number;
  // Scratch for requests and responses (control requests are at most 24 bytes; info items 32).
  private readonly req = new Uint8Array(32);
  private readonly item = new Uint8Array(32);
  private readonly zeros = new Uint8Array(256);
  private readonly word = new Uint8Array(4);
  private readonly event = new Uint8Array(EVENT_SIZE);
  private infoBytes = 0; // response bytes an info request wrote after its status
  private warnedNoClock = false;
  private readonly owned: readonly { dispose(): void }[];

  constructor(opts: VirtioSndOptions) {
    const outputs = opts.outputs ?? 1;
    const inputs = opts.inputs ?? 1;
    for (const [what, n] of [['outputs', outputs], ['inputs', inputs]] as const) {
      if (!Number.isInteger(n) || n < 0 || n > MAX_STREAMS) throw new Error(`virtio-snd: ${what} must be an integer from 0 to ${MAX_STREAMS} (got ${n})`);
    }
    if (outputs > 0 && !opts.backendOut) throw new Error('virtio-snd: output streams need an audio backend (backendOut)');
    if (inputs > 0 && !opts.backendIn) throw new Error('virtio-snd: input streams need an audio backend (backendIn)');
    this.clock = opts.clock ?? null;
    this.owned = opts.owned ?? [];
    this.timebase = opts.timebaseHz ?? 65_000_000;
    this.io = { ram: null, staging: new Uint8Array(STAGING_BYTES) };
    this.state = allocateSndState(outputs + inputs);
    const streams: PcmStream[] = [];
    for (let id = 0; id < outputs + inputs; id++) {
      const out = id < outputs;
      const backend = out ? opts.backendOut! : opts.backendIn!;
      streams.push(new PcmStream(id, out ? 'output' : 'input', backend, this.io, new StreamRecord(this.state, id), SND_QUEUE_SIZE, SEGMENTS_PER_STREAM));
    }
    this.streams = streams;
    const dirs: number[] = [];
    if (outputs > 0) dirs.push(VIRTIO_SND_D_OUTPUT);
    if (inputs > 0) dirs.push(VIRTIO_SND_D_INPUT);
    this.jacks = dirs;
    this.chmaps = dirs.flatMap((direction) => [
      { direction, channels: 1 },
      { direction, channels: 2 },
    ]);
    put32(this.config, 0, this.jacks.length);
    put32(this.config, 4, streams.length);
    put32(this.config, 8, this.chmaps.length);
    put32(this.config, 12, 0); // controls: only meaningful with VIRTIO_SND_F_CTLS
  }

  setClock(clock: GuestClock): void {
    this.clock = clock;
  }

  /** Guest seconds; without a clock, host time (one warning: guest-time pacing then follows the host). */
  private seconds(): number {
    if (this.clock !== null) return this.clock.now() / this.timebase;
    if (!this.warnedNoClock) {
      this.warnedNoClock = true;
      log.warn('no guest clock given (VirtioSnd.setClock): audio is paced by host time');
    }
    return performance.now() / 1000;
  }

  attach(transport: VirtioTransport): void {
    this.transport = transport;
    this.io.ram = transport.ram;
    for (const s of this.streams) s.queue = transport.queue(s.isOutput ? VIRTIO_SND_VQ_TX : VIRTIO_SND_VQ_RX);
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    if (offset < 0 || offset + width > SND_CONFIG_SIZE) return 0;
    const c = this.config;
    if (width === 1) return c[offset];
    if (width === 2) return c[offset] | (c[offset + 1] << 8);
    return le32(c, offset);
  }

  writeConfig(): void {
    // The configuration space is read-only (§5.14.4).
  }

  reset(): void {
    for (const s of this.streams) s.reset();
  }

  dispose(): void {
    this.reset();
    for (const r of this.owned) r.dispose();
  }

  onNotify(q: number): void {
    const t = this.transport;
    if (t === null) return;
    try {
      if (q === VIRTIO_SND_VQ_CONTROL) this.drainControl(t.queue(q));
      else if (q === VIRTIO_SND_VQ_TX || q === VIRTIO_SND_VQ_RX) this.drainXfer(t.queue(q));
      // eventq: the driver only hands us empty event buffers; they wait for an event.
    } catch (e) {
      this.internalError(e);
    }
  }

  poll(): void {
    if (this.transport === null) return;
    try {
      let seconds = -1;
      const streams = this.streams;
      for (let i = 0; i < streams.length; i++) {
        const s = streams[i];
        s.expireWarm();
        if (s.hostStream !== null) {
          if (seconds < 0) seconds = this.seconds();
          if (s.service(seconds)) s.noteXrunEvent(this.sendEvent(VIRTIO_SND_EVT_PCM_XRUN, s.id));
        }
        s.publishCounters();
      }
    } catch (e) {
      this.internalError(e);
    }
  }

  /** The next guest tick a running stream needs a poll at (the machine must not idle past it). */
  nextDeadline(): number {
    const now = this.clock !== null ? this.clock.now() : (performance.now() / 1000) * this.timebase;
    let seconds = Infinity;
    for (let i = 0; i < this.streams.length; i++) seconds = Math.min(seconds, this.streams[i].secondsToNextWork(now / this.timebase));
    if (seconds === Infinity) return Infinity;
    return now + Math.max(1, Math.ceil(seconds * this.timebase));
  }

  // ================= control queue =================

  private drainControl(q: VirtQueue): void {
    for (let chain = q.pop(); chain !== null; chain = q.pop()) this.control(chain, q);
  }

  private control(chain: DescChain, q: VirtQueue): void {
    if (chain.writableLength < HDR_SIZE) {
      // No room for even a status: all we can do is give the buffer back.
      log.warn(`control request without a writable status (head ${chain.head})`);
      q.push(chain.head, 0);
      return;
    }
    this.infoBytes = 0;
    const status = this.request(chain);
    put32(this.word, 0, status);
    chain.write(0, this.word);
    if (status !== VIRTIO_SND_S_OK && log.enabled('debug')) {
      const code = chain.readableLength >= 4 ? le32(this.req, 0) : -1;
      log.debug(`${requestName(code)} → ${statusName(status)}`);
    }
    q.push(chain.head, HDR_SIZE + (status === VIRTIO_SND_S_OK ? this.infoBytes : 0));
  }

  /** Decodes one control request and returns its status (info payloads are written here). */
  private request(chain: DescChain): number {
    const len = chain.readableLength;
    if (len < HDR_SIZE) return VIRTIO_SND_S_BAD_MSG;
    this.req.fill(0);
    chain.read(0, this.req);
    const code = le32(this.req, 0);
    switch (code) {
      case VIRTIO_SND_R_JACK_INFO:
      case VIRTIO_SND_R_PCM_INFO:
      case VIRTIO_SND_R_CHMAP_INFO:
        return len === QUERY_INFO_SIZE ? this.queryInfo(chain, code) : VIRTIO_SND_S_BAD_MSG;
      case VIRTIO_SND_R_JACK_REMAP:
        if (len !== JACK_REMAP_SIZE || le32(this.req, 4) >= this.jacks.length) return VIRTIO_SND_S_BAD_MSG;
        return VIRTIO_SND_S_NOT_SUPP; // jacks advertise no VIRTIO_SND_JACK_F_REMAP
      case VIRTIO_SND_R_PCM_SET_PARAMS:
        return len === PCM_SET_PARAMS_SIZE ? this.setParams() : VIRTIO_SND_S_BAD_MSG;
      case VIRTIO_SND_R_PCM_PREPARE:
      case VIRTIO_SND_R_PCM_RELEASE:
      case VIRTIO_SND_R_PCM_START:
      case VIRTIO_SND_R_PCM_STOP:
        return len === PCM_HDR_SIZE ? this.pcmCommand(code) : VIRTIO_SND_S_BAD_MSG;
      default:
        // Control elements are a defined part of the spec this device does not offer.
        if (code >= VIRTIO_SND_R_CTL_FIRST && code <= VIRTIO_SND_R_CTL_LAST) return VIRTIO_SND_S_NOT_SUPP;
        return VIRTIO_SND_S_BAD_MSG;
    }
  }

  /** JACK_INFO / PCM_INFO / CHMAP_INFO: `count` items of `size` bytes after the status. */
  private queryInfo(chain: DescChain, code: number): number {
    const start = le32(this.req, 4);
    const count = le32(this.req, 8);
    const size = le32(this.req, 12);
    const items = code === VIRTIO_SND_R_JACK_INFO ? this.jacks.length : code === VIRTIO_SND_R_PCM_INFO ? this.streams.length : this.chmaps.length;
    const itemSize = code === VIRTIO_SND_R_JACK_INFO ? JACK_INFO_SIZE : code === VIRTIO_SND_R_PCM_INFO ? PCM_INFO_SIZE : CHMAP_INFO_SIZE;
    // Doubles: start + count and count * size are exact for any pair of uint32s that could fit.
    if (start + count > items || size < itemSize) return VIRTIO_SND_S_BAD_MSG;
    const total = count * size;
    if (chain.writableLength < HDR_SIZE + total) return VIRTIO_SND_S_BAD_MSG;
    const item = this.item;
    for (let k = 0; k < count; k++) {
      const id = start + k;
      if (code === VIRTIO_SND_R_JACK_INFO) encodeJackInfo(item, 0, this.jacks[id]);
      else if (code === VIRTIO_SND_R_PCM_INFO) encodePcmInfo(item, 0, this.streams[id].directionCode);
      else encodeChmapInfo(item, 0, this.chmaps[id].direction, this.chmaps[id].channels);
      const at = HDR_SIZE + k * size;
      chain.write(at, item.subarray(0, itemSize));
      // A larger item size (a newer driver's structure): the fields we do not know are zero.
      for (let pad = itemSize; pad < size; pad += this.zeros.length) {
        chain.write(at + pad, this.zeros.subarray(0, Math.min(this.zeros.length, size - pad)));
      }
    }
    this.infoBytes = total;
    return VIRTIO_SND_S_OK;
  }

  private streamOf(id: number): PcmStream | null {
    return id < this.streams.length ? this.streams[id] : null;
  }

  private setParams(): number {
    const s = this.streamOf(le32(this.req, 4));
    if (s === null) return VIRTIO_SND_S_BAD_MSG;
    const r = this.req;
    return s.setParams({
      bufferBytes: le32(r, SP_BUFFER_BYTES),
      periodBytes: le32(r, SP_PERIOD_BYTES),
      features: le32(r, SP_FEATURES),
      channels: r[SP_CHANNELS],
      format: r[SP_FORMAT],
      rateIndex: r[SP_RATE],
    });
  }

  private pcmCommand(code: number): number {
    const s = this.streamOf(le32(this.req, 4));
    if (s === null) return VIRTIO_SND_S_BAD_MSG;
    switch (code) {
      case VIRTIO_SND_R_PCM_PREPARE:
        return s.prepare();
      case VIRTIO_SND_R_PCM_START:
        return s.start(this.seconds());
      case VIRTIO_SND_R_PCM_STOP:
        return s.stop();
      default:
        return s.release();
    }
  }

  // ================= tx / rx queues =================

  private drainXfer(q: VirtQueue): void {
    const tx = q.index === VIRTIO_SND_VQ_TX;
    for (let chain = q.pop(); chain !== null; chain = q.pop()) {
      if (chain.readableLength < PCM_XFER_SIZE || chain.read(0, this.word) < PCM_XFER_SIZE) {
        rejectXfer(chain, q, VIRTIO_SND_S_BAD_MSG);
        continue;
      }
      const s = this.streamOf(le32(this.word, 0));
      // An unknown stream, or a stream of the other direction on this queue.
      if (s === null || s.isOutput !== tx) rejectXfer(chain, q, VIRTIO_SND_S_BAD_MSG);
      else s.accept(chain, q);
    }
    // Output can pre-buffer right away; messages with nothing left to wait for go back now.
    for (const s of this.streams) {
      if (s.isOutput === tx) {
        s.move(this.seconds());
        s.publishCounters();
      }
    }
  }

  // ================= event queue =================

  /** Delivers one event in the next event buffer; false when the driver left none. */
  private sendEvent(code: number, data: number): boolean {
    const q = this.transport!.queue(VIRTIO_SND_VQ_EVENT);
    const chain = q.pop();
    if (chain === null) return false;
    if (chain.writableLength < EVENT_SIZE) {
      q.push(chain.head, 0);
      return false;
    }
    put32(this.event, 0, code);
    put32(this.event, 4, data);
    q.push(chain.head, chain.write(0, this.event));
    return true;
  }

  // ================= helpers =================

  private internalError(e: unknown): void {
    this.internalErrors++;
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    log.error(`internal error: ${msg}`);
    this.transport?.needsReset(`virtio-snd internal error: ${e instanceof Error ? e.message : String(e)}`);
  }
}
