// One PCM stream of the virtio-snd device (VirtIO 1.2 §5.14.6.6-8): its state machine, its host
// audio stream, and the data path between the guest's I/O messages and the host ring.
//
// TX and RX are the same machine with the copy turned around. An I/O message (a descriptor
// chain) is accepted into a FIFO of in-flight messages; pump() moves PCM between the oldest
// unfinished message and the ring (TX: guest → ring as room allows, RX: ring → guest as data
// arrives, into the oldest message only); complete() returns messages to the used ring in order:
//   TX: once the host has consumed the message's last byte (so the guest's period clock follows
//       the real sound card), with latency_bytes = what is still queued in the ring;
//   RX: once the message is full.
// Chains are only valid until the next pop, so a held message keeps its own copy of the guest
// address ranges (segments) in preallocated typed arrays: nothing is allocated per message.

import type { AudioBackend, AudioStream, PcmParams } from '../../audio/backend';
import { logger } from '../../log';
import type { Ram } from '../../emulator/ram';
import { LevelMeter } from './snd-levels';
import { ReturnPacer } from './snd-pace';
import { F_BUFFER_BYTES, F_CHANNELS, F_DIRECTION, F_FORMAT, F_FRAMES, F_IN_FLIGHT, F_PEAK, F_PERIOD_BYTES, F_RATE, F_RING_CAPACITY, F_RING_FILL, F_RMS, F_STATE, F_XRUNS_DROPPED, F_XRUNS_GUEST, F_XRUNS_HOST, StreamRecord } from './snd-layout';
import {
  CHANNELS_MAX,
  CHANNELS_MIN,
  MAX_BUFFER_BYTES,
  PCM_FEATURES,
  PCM_STATUS_SIZE,
  PCM_XFER_SIZE,
  RATE_BY_INDEX,
  SUPPORTED_RATE_INDEXES,
  VIRTIO_SND_D_INPUT,
  VIRTIO_SND_D_OUTPUT,
  VIRTIO_SND_PCM_F_EVT_XRUNS,
  VIRTIO_SND_S_BAD_MSG,
  VIRTIO_SND_S_IO_ERR,
  VIRTIO_SND_S_NOT_SUPP,
  VIRTIO_SND_S_OK,
  formatName,
  put32,
} from './snd-proto';
import type { DescChain, VirtQueue } from '../../emulator/virtio/types';
import { VIRTQ_DESC_F_WRITE } from '../../emulator/virtio/types';
import { copyBytes } from '../../shared/bytes';

const log = logger('virtio-snd');

/** The spec's PCM command lifecycle (§5.14.6.6.1), plus the state before any SET_PARAMS. */
export const enum PcmState {
  Idle = 0,
  ParamsSet = 1,
  Prepared = 2,
  Running = 3,
  Stopped = 4,
  Released = 5,
}

/** Index into snd-layout's STATE_NAMES ('set-up', 'prepared', 'running', 'stopped', 'released'). */
function layoutState(s: PcmState): number {
  return s <= PcmState.ParamsSet ? 0 : s - 1;
}

/** How often the host xrun counters are sampled, and the least spacing of XRUN events (guest seconds). */
const XRUN_CHECK_SECONDS = 0.01;
/** While running, the longest the device lets the machine go without a poll (real-time backends need feeding). */
const MAX_POLL_INTERVAL_SECONDS = 0.01;
const XRUN_EVENT_SPACING_SECONDS = 0.1;

/** What a stream shares with its device: guest RAM (once attached) and the bounce buffer. */
export interface SndIo {
  ram: Ram | null;
  /** Bounce buffer between guest memory and the ring (a multiple of 8 bytes long). */
  readonly staging: Uint8Array;
}

/** The fields of PCM_SET_PARAMS, decoded. */
export interface SetParamsRequest {
  bufferBytes: number;
  periodBytes: number;
  features: number;
  channels: number;
  format: number;
  rateIndex: number;
}

const statusScratch = new Uint8Array(PCM_STATUS_SIZE);

/**
 * Completes a chain the device will not hold: status (and zero latency) in the last 8 bytes of
 * its writable part when there is room for it, used length = the bytes written.
 */
export function rejectXfer(chain: DescChain, q: VirtQueue, status: number): void {
  let used = 0;
  if (chain.writableLength >= PCM_STATUS_SIZE) {
    put32(statusScratch, 0, status);
    put32(statusScratch, 4, 0);
    used = chain.write(chain.writableLength - PCM_STATUS_SIZE, statusScratch);
  }
  q.push(chain.head, used);
}

export class PcmStream {
  state = PcmState.Idle;
  readonly directionCode: number;
  // Parameters from PCM_SET_PARAMS (format -1 until then).
  format = -1;
  rate = 0;
  channels = 0;
  periodBytes = 0;
  bufferBytes = 0;
  features = 0;
  private frameBytes = 1;

  private audio: AudioStream | null = null;
  private audioParams: PcmParams | null = null;
  // A released host stream kept open for a while (backend.keepWarmMs): Linux answers every xrun
  // with STOP, RELEASE, PREPARE, START, and a new PortAudio process per PREPARE (100-300 ms to
  // open) turned one xrun into a cascade of them.
  private warm: AudioStream | null = null;
  private warmParams: PcmParams | null = null;
  private warmUntil = 0; // performance.now() ms
  queue: VirtQueue | null = null;

  // ---- in-flight I/O messages: a FIFO of `cap` entries, struct of arrays ----
  private readonly cap: number;
  private readonly eHead: Int32Array;
  private readonly ePcm: Int32Array; // PCM bytes the message carries (TX) or has room for (RX)
  private readonly eDone: Int32Array; // PCM bytes moved so far
  private readonly eEnd: Int32Array; // TX: the ring's produced-byte count after the message's last byte
  private readonly eSeg: Int32Array; // first segment (free-running index into the segment ring)
  private readonly eNPcm: Int32Array; // segments of the PCM range
  private readonly eNStatus: Int32Array; // segments of the status range
  private readonly pacer: ReturnPacer; // when finished messages may go back (snd-pace.ts)
  private fFirst = 0; // index of the oldest entry
  private fCount = 0;
  private fMoved = 0; // entries at the front whose PCM has been moved completely

  // ---- guest address ranges of the held messages: a ring of segments, allocated in FIFO order ----
  private readonly segMask: number;
  private readonly segAddr: Uint32Array;
  private readonly segLen: Uint32Array;
  private segFree = 0; // oldest segment still in use (free-running)
  private segNext = 0; // next segment to allocate (free-running)

  // ---- data-path counters ----
  private produced = 0; // TX: bytes written into the current ring (uint32, wraps)
  private frames = 0; // frames moved since PREPARE
  private xrunsHost = 0;
  private xrunsGuest = 0;
  private xrunsDropped = 0;
  private hostXrunBase = 0; // the backend's xrun count at the last check
  private lastXrunCheck = -1;
  private lastXrunEvent = -1;
  private readonly levels: LevelMeter;

  constructor(
    readonly id: number,
    readonly direction: 'output' | 'input',
    private readonly backend: AudioBackend,
    private readonly io: SndIo,
    private readonly record: StreamRecord,
    fifoCapacity: number,
    segmentCapacity: number,
  ) {
    this.directionCode = direction === 'output' ? VIRTIO_SND_D_OUTPUT : VIRTIO_SND_D_INPUT;
    this.cap = fifoCapacity;
    this.eHead = new Int32Array(fifoCapacity);
    this.ePcm = new Int32Array(fifoCapacity);
    this.eDone = new Int32Array(fifoCapacity);
    this.eEnd = new Int32Array(fifoCapacity);
    this.eSeg = new Int32Array(fifoCapacity);
    this.eNPcm = new Int32Array(fifoCapacity);
    this.eNStatus = new Int32Array(fifoCapacity);
    this.pacer = new ReturnPacer(fifoCapacity, direction === 'output');
    if ((segmentCapacity & (segmentCapacity - 1)) !== 0) throw new Error('segment capacity must be a power of two');
    this.segMask = segmentCapacity - 1;
    this.segAddr = new Uint32Array(segmentCapacity);
    this.segLen = new Uint32Array(segmentCapacity);
    this.levels = new LevelMeter();
    this.publishParams();
  }

  get isOutput(): boolean {
    return this.directionCode === VIRTIO_SND_D_OUTPUT;
  }
  get inFlight(): number {
    return this.fCount;
  }
  /** The open host stream (between PREPARE and RELEASE), for tests and the debugger. */
  get hostStream(): AudioStream | null {
    return this.audio;
  }

  // ================= control requests (§5.14.6.6) =================

  setParams(r: SetParamsRequest): number {
    const s = this.state;
    if (s !== PcmState.Idle && s !== PcmState.ParamsSet && s !== PcmState.Prepared && s !== PcmState.Released) return VIRTIO_SND_S_BAD_MSG;
    if ((r.features & ~PCM_FEATURES) !== 0) return VIRTIO_SND_S_NOT_SUPP;
    const name = formatName(r.format);
    if (name === null || !SUPPORTED_RATE_INDEXES.includes(r.rateIndex)) return VIRTIO_SND_S_NOT_SUPP;
    if (r.channels < CHANNELS_MIN || r.channels > CHANNELS_MAX) return VIRTIO_SND_S_NOT_SUPP;
    const fb = (name === 'S16' ? 2 : 4) * r.channels;
    const { bufferBytes: buf, periodBytes: per } = r;
    if (buf === 0 || per === 0 || buf % fb !== 0 || per % fb !== 0 || per > buf) return VIRTIO_SND_S_BAD_MSG;
    if (buf > MAX_BUFFER_BYTES) return VIRTIO_SND_S_NOT_SUPP;
    if (!this.backendKeeps(per / fb, buf / fb, RATE_BY_INDEX[r.rateIndex])) return VIRTIO_SND_S_NOT_SUPP;
    // New parameters invalidate a prepared host stream and whatever it held.
    this.flush(VIRTIO_SND_S_OK);
    this.closeAudio();
    this.closeWarm();
    this.format = r.format;
    this.rate = RATE_BY_INDEX[r.rateIndex];
    this.channels = r.channels;
    this.periodBytes = per;
    this.bufferBytes = buf;
    this.features = r.features;
    this.frameBytes = fb;
    this.state = PcmState.ParamsSet;
    this.publishParams();
    return VIRTIO_SND_S_OK;
  }

  /**
   * Whether the host backend keeps these periods and buffer in real time. virtio-snd has no way
   * to advertise a shortest period or buffer time (Linux derives its smallest period from 10 ms
   * at the lowest rate, channel count and sample size the device lists: 40 frames at 48 kHz
   * stereo), so what the backend cannot keep is refused here, with a warning saying what to ask for.
   */
  private backendKeeps(period: number, buffer: number, rate: number): boolean {
    const b = this.backend;
    const tooShort = (frames: number, min: number | undefined, what: string, flag: string): boolean => {
      if (min === undefined || frames >= min * rate) return false;
      const want = Math.ceil(min * rate);
      log.warn(
        `stream ${this.id}: SET_PARAMS refused: a ${((frames / rate) * 1000).toFixed(1)} ms ${what} (${frames} frames at ${rate} Hz) ` +
          `is shorter than the ${b.spec} backend keeps in real time (${min * 1000} ms); ask for at least ${want} frames ` +
          `(the guest's pcm tool: ${flag} ${want}), or use the null or wav: backend for shorter ones`,
      );
      return true;
    };
    return !tooShort(period, b.minPeriodSeconds, 'period', '-p') && !tooShort(buffer, b.minBufferSeconds, 'buffer', '-b');
  }

  prepare(): number {
    const s = this.state;
    if (s !== PcmState.ParamsSet && s !== PcmState.Prepared && s !== PcmState.Released) return VIRTIO_SND_S_BAD_MSG;
    // Linux prepares twice in a row routinely (hw_params, then the application's prepare):
    // keep an open host stream whose parameters match, just emptied.
    this.flush(VIRTIO_SND_S_OK);
    const want = this.pcmParams();
    if (this.audio === null && this.warm !== null) {
      if (sameParams(this.warmParams!, want)) {
        this.audio = this.warm;
        this.audioParams = this.warmParams;
        this.warm = this.warmParams = null;
      } else this.closeWarm();
    }
    if (this.audio !== null && sameParams(this.audioParams!, want)) {
      this.audio.ring.clear();
    } else {
      this.closeAudio();
      if (!this.openAudio(want)) {
        this.state = PcmState.ParamsSet;
        this.publishParams();
        return VIRTIO_SND_S_IO_ERR;
      }
    }
    this.frames = 0;
    this.xrunsHost = 0;
    this.levels.configure(formatName(this.format)!, this.rate, this.channels);
    this.state = PcmState.Prepared;
    this.publishParams();
    return VIRTIO_SND_S_OK;
  }

  /** START at guest time t (seconds). */
  start(t: number): number {
    if (this.state !== PcmState.Prepared && this.state !== PcmState.Stopped) return VIRTIO_SND_S_BAD_MSG;
    const audio = this.audio;
    if (audio === null) return VIRTIO_SND_S_IO_ERR;
    try {
      audio.start();
      this.hostXrunBase = audio.stats().xruns;
    } catch (e) {
      log.error(`stream ${this.id}: host stream failed to start: ${(e as Error).message}`);
      return VIRTIO_SND_S_IO_ERR;
    }
    this.lastXrunCheck = -1;
    this.pacer.reset(this.bufferBytes, this.periodBytes, this.rate * this.frameBytes, t, audio.deviceClock === true);
    this.state = PcmState.Running;
    this.publishParams();
    return VIRTIO_SND_S_OK;
  }

  /**
   * STOP pauses: the host stops moving data and held messages stay held (Linux sends STOP for a
   * pause and later START with the same messages still queued); RELEASE returns them.
   */
  stop(): number {
    if (this.state !== PcmState.Running) return VIRTIO_SND_S_BAD_MSG;
    try {
      this.audio?.stop();
    } catch (e) {
      log.error(`stream ${this.id}: host stream failed to stop: ${(e as Error).message}`);
    }
    this.state = PcmState.Stopped;
    this.levels.clear();
    this.publishParams();
    return VIRTIO_SND_S_OK;
  }

  /** RELEASE: every held message comes back (§5.14.6.6.5.1) before the request completes. */
  release(): number {
    if (this.state !== PcmState.Prepared && this.state !== PcmState.Stopped) return VIRTIO_SND_S_BAD_MSG;
    this.flush(VIRTIO_SND_S_OK);
    this.keepWarm();
    this.levels.clear();
    this.state = PcmState.Released;
    this.publishParams();
    return VIRTIO_SND_S_OK;
  }

  /** Device reset: forget everything without touching guest memory (the rings are gone). */
  reset(): void {
    this.fFirst = this.fCount = this.fMoved = 0;
    this.segFree = this.segNext = 0;
    this.closeAudio();
    this.closeWarm();
    this.state = PcmState.Idle;
    this.format = -1;
    this.rate = this.channels = this.periodBytes = this.bufferBytes = this.features = 0;
    this.frameBytes = 1;
    this.frames = this.xrunsHost = this.xrunsGuest = this.xrunsDropped = 0;
    this.levels.clear();
    this.publishParams();
  }

  // ================= I/O messages (§5.14.6.8) =================

  /** Takes a chain from txq/rxq whose header names this stream: holds it or completes it at once. */
  accept(chain: DescChain, q: VirtQueue): void {
    const status = this.check(chain);
    if (status !== VIRTIO_SND_S_OK) {
      rejectXfer(chain, q, status);
      return;
    }
    const out = this.isOutput;
    const pcm = out ? chain.readableLength - PCM_XFER_SIZE : chain.writableLength - PCM_STATUS_SIZE;
    const statusAt = chain.writableLength - PCM_STATUS_SIZE;
    const first = this.segNext;
    const nPcm = out ? this.addSegments(chain, false, PCM_XFER_SIZE, chain.readableLength, first) : this.addSegments(chain, true, 0, statusAt, first);
    const nStatus = nPcm < 0 ? -1 : this.addSegments(chain, true, statusAt, chain.writableLength, first + nPcm);
    if (nStatus < 0 || this.fCount === this.cap) {
      // More messages or fragments held than a well-behaved driver ever queues.
      rejectXfer(chain, q, VIRTIO_SND_S_IO_ERR);
      return;
    }
    this.segNext = (first + nPcm + nStatus) | 0;
    const e = (this.fFirst + this.fCount) % this.cap;
    this.eHead[e] = chain.head;
    this.ePcm[e] = pcm;
    this.eDone[e] = 0;
    this.eEnd[e] = 0;
    this.eSeg[e] = first;
    this.eNPcm[e] = nPcm;
    this.eNStatus[e] = nStatus;
    this.fCount++;
  }

  private check(chain: DescChain): number {
    const s = this.state;
    if (s !== PcmState.Prepared && s !== PcmState.Running && s !== PcmState.Stopped) return VIRTIO_SND_S_BAD_MSG;
    // TX: header + PCM readable, exactly the status writable. RX: exactly the header readable.
    if (this.isOutput ? chain.writableLength !== PCM_STATUS_SIZE : chain.readableLength !== PCM_XFER_SIZE) return VIRTIO_SND_S_BAD_MSG;
    if (chain.writableLength < PCM_STATUS_SIZE) return VIRTIO_SND_S_BAD_MSG;
    const pcm = this.isOutput ? chain.readableLength - PCM_XFER_SIZE : chain.writableLength - PCM_STATUS_SIZE;
    if (pcm > MAX_BUFFER_BYTES || pcm % this.frameBytes !== 0) return VIRTIO_SND_S_BAD_MSG;
    return VIRTIO_SND_S_OK;
  }

  /**
   * Records the guest ranges covering bytes [from, to) of the chain's readable (or writable) part
   * as segments starting at free-running index `at`. Returns their count, or -1 if the segment
   * ring is full.
   */
  private addSegments(chain: DescChain, writable: boolean, from: number, to: number, at: number): number {
    let pos = 0;
    let n = 0;
    const inUse = (at - this.segFree) | 0;
    for (let i = 0; i < chain.count && pos < to; i++) {
      if (((chain.flags(i) & VIRTQ_DESC_F_WRITE) !== 0) !== writable) continue;
      const len = chain.len(i);
      const lo = Math.max(pos, from);
      const hi = Math.min(pos + len, to);
      if (hi > lo) {
        if (inUse + n > this.segMask) return -1;
        const k = (at + n) & this.segMask;
        this.segAddr[k] = chain.addr(i) + (lo - pos);
        this.segLen[k] = hi - lo;
        n++;
      }
      pos += len;
    }
    return n;
  }

  /**
   * Copies `len` bytes between the staging buffer (from 0) and the guest ranges of segments
   * [seg, seg+nseg), starting `offset` bytes into them.
   */
  private guestCopy(seg: number, nseg: number, offset: number, len: number, toGuest: boolean, src: Uint8Array): void {
    const ram = this.io.ram;
    if (ram === null) return;
    let s = 0;
    for (let i = 0; i < nseg && len > 0; i++) {
      const k = (seg + i) & this.segMask;
      const slen = this.segLen[k];
      if (offset >= slen) {
        offset -= slen;
        continue;
      }
      const addr = this.segAddr[k] + offset;
      const n = Math.min(slen - offset, len);
      offset = 0;
      // pop() checked every range against RAM; checking again costs nothing and keeps a bug here
      // from ever turning into a write outside the guest's buffer.
      if (ram.contains(addr, n)) {
        const o = addr - ram.base;
        if (toGuest) {
          copyBytes(ram.u8, o, src, s, n);
          ram.noteWrite(addr, n);
        } else {
          copyBytes(src, s, ram.u8, o, n);
        }
      }
      s += n;
      len -= n;
    }
  }

  /** Moves PCM between held messages and the ring as far as the ring allows. */
  private pump(): void {
    const audio = this.audio;
    if (audio === null) return;
    const out = this.isOutput;
    // Output pre-buffers from PREPARE on (the host is not consuming yet); input moves only while running.
    if (out ? this.state < PcmState.Prepared : this.state !== PcmState.Running) return;
    const ring = audio.ring;
    const staging = this.io.staging;
    const fb = this.frameBytes;
    while (this.fMoved < this.fCount) {
      // Capture fills the oldest message only. The next one's buffer is the region Linux handed
      // back with the message returned a buffer ago, which the application may still be reading:
      // ALSA lets it read up to a buffer behind the pointer, and the pointer passes that region
      // only when the oldest message goes back (snd-pace.ts may hold it). Filling ahead overwrote
      // captured audio not yet read, with no xrun anywhere (a loaded host heard 991-997 Hz for
      // 1 kHz at 8 kHz, 2 x 10 ms: docs/sound-tests.md). A real card's DMA is at its pointer.
      if (!out && this.fMoved > 0) return;
      const e = (this.fFirst + this.fMoved) % this.cap;
      const left = this.ePcm[e] - this.eDone[e];
      if (left > 0) {
        let n = Math.min(left, out ? ring.room() : ring.fill(), staging.length);
        n -= n % fb;
        if (n <= 0) return;
        const done = this.eDone[e];
        let moved: number;
        if (out) {
          this.guestCopy(this.eSeg[e], this.eNPcm[e], done, n, false, staging);
          moved = ring.write(staging, n, false, fb);
          this.produced = (this.produced + moved) | 0;
        } else {
          moved = ring.read(staging, n, fb);
          if (moved > 0) this.guestCopy(this.eSeg[e], this.eNPcm[e], done, moved, true, staging);
        }
        if (moved <= 0) return;
        this.levels.measure(staging, moved);
        this.eDone[e] = done + moved;
        this.frames = (this.frames + moved / fb) | 0;
        if (moved < left) continue;
      }
      if (out) this.eEnd[e] = this.produced;
      this.fMoved++;
    }
  }

  /**
   * Moves PCM and returns finished messages (t: guest seconds now). Capture fills one message at
   * a time (pump()), so each return lets the next message take what the ring holds.
   */
  move(t: number): void {
    for (;;) {
      this.pump();
      const held = this.fCount;
      this.complete(t);
      if (this.isOutput || this.fCount === held) return;
    }
  }

  /** Returns, in order, the held messages that are finished (t: guest seconds now). */
  private complete(t: number): void {
    const q = this.queue;
    const audio = this.audio;
    if (q === null || audio === null) return;
    // Retiring moves nothing on the host side: what it still holds is the same for every message.
    const queued = this.hostQueued(audio);
    while (this.fMoved > 0) {
      const e = this.fFirst;
      if (this.isOutput) {
        const consumed = (this.produced - queued) | 0;
        if (((consumed - this.eEnd[e]) | 0) < 0) return; // the host has not played it all yet
      }
      if (!this.pacer.allows(t, this.ePcm[e], this.fCount)) return; // see snd-pace.ts
      this.pacer.returned(t, this.ePcm[e]);
      this.retire(q, VIRTIO_SND_S_OK, queued);
    }
  }

  /**
   * Bytes the host side holds that its device has not taken yet: the ring, plus (output) what
   * the backend has taken from the ring ahead of its device (AudioStream.pendingFrames).
   */
  private hostQueued(audio: AudioStream): number {
    const fill = audio.ring.fill();
    if (!this.isOutput || audio.pendingFrames === undefined) return fill;
    return (fill + audio.pendingFrames() * this.frameBytes) | 0;
  }

  /** Returns every held message (RELEASE, new parameters, re-PREPARE). */
  flush(status: number): void {
    const q = this.queue;
    if (q === null) {
      this.fFirst = this.fCount = this.fMoved = 0;
      this.segFree = this.segNext;
      return;
    }
    while (this.fCount > 0) this.retire(q, status, 0);
  }

  /** Writes the oldest entry's status, pushes it to the used ring and frees its slots. */
  private retire(q: VirtQueue, status: number, latency: number): void {
    const e = this.fFirst;
    put32(statusScratch, 0, status);
    put32(statusScratch, 4, latency);
    this.guestCopy(this.eSeg[e] + this.eNPcm[e], this.eNStatus[e], 0, PCM_STATUS_SIZE, true, statusScratch);
    // Used length = bytes written into the chain: the status, plus the captured PCM for RX.
    const used = this.isOutput ? PCM_STATUS_SIZE : this.eDone[e] + PCM_STATUS_SIZE;
    q.push(this.eHead[e], used);
    this.segFree = (this.eSeg[e] + this.eNPcm[e] + this.eNStatus[e]) | 0;
    this.fFirst = (this.fFirst + 1) % this.cap;
    this.fCount--;
    if (this.fMoved > 0) this.fMoved--;
  }

  // ================= host side =================

  /**
   * Between run slices: let the host stream move its data (guest-time paced backends), move PCM,
   * return finished messages. Returns true when an XRUN event should go to the guest.
   */
  service(guestSeconds: number): boolean {
    const audio = this.audio;
    if (audio === null) return false;
    audio.poll(guestSeconds);
    this.move(guestSeconds);
    return this.checkXruns(audio, guestSeconds);
  }

  /**
   * Guest seconds until this stream next has work for poll() (t: guest seconds now): the oldest
   * message completing (TX: the host reaching its last byte; RX: enough captured to fill it; then
   * the pacer letting it go), at most MAX_POLL_INTERVAL_SECONDS while running, at least one
   * frame; Infinity when not running.
   */
  secondsToNextWork(t: number): number {
    const audio = this.audio;
    if (this.state !== PcmState.Running || audio === null) return Infinity;
    const fill = this.hostQueued(audio);
    let bytes: number;
    if (this.fCount === 0) {
      bytes = Infinity; // nothing of the guest's to finish: only keep the host side serviced
    } else if (this.isOutput) {
      const e = this.fFirst;
      // Until the host has consumed the oldest message's end, or made room for the rest of it.
      bytes = this.fMoved > 0 ? (this.eEnd[e] - ((this.produced - fill) | 0)) | 0 : this.ePcm[e] - this.eDone[e] - audio.ring.room();
    } else {
      const e = this.fFirst;
      bytes = this.ePcm[e] - this.eDone[e] - fill;
    }
    const oneFrame = 1 / this.rate;
    // Finished: then it is the pacer's turn (snd-pace.ts).
    if (bytes <= 0 && this.fMoved > 0) return Math.min(MAX_POLL_INTERVAL_SECONDS, Math.max(oneFrame, this.pacer.waitSeconds(t, this.ePcm[this.fFirst], this.fCount)));
    const frames = Math.max(1, Math.ceil(bytes / this.frameBytes));
    return Math.min(MAX_POLL_INTERVAL_SECONDS, frames * oneFrame);
  }

  private checkXruns(audio: AudioStream, t: number): boolean {
    if (this.state !== PcmState.Running) return false;
    if (this.lastXrunCheck >= 0 && t - this.lastXrunCheck < XRUN_CHECK_SECONDS) return false;
    this.lastXrunCheck = t;
    const x = audio.stats().xruns;
    const delta = x - this.hostXrunBase;
    this.hostXrunBase = x;
    if (delta <= 0) return false;
    this.xrunsHost += delta;
    if ((this.features & (1 << VIRTIO_SND_PCM_F_EVT_XRUNS)) === 0) return false;
    if (this.lastXrunEvent >= 0 && t - this.lastXrunEvent < XRUN_EVENT_SPACING_SECONDS) {
      this.xrunsDropped++;
      return false;
    }
    this.lastXrunEvent = t;
    return true;
  }

  /** The device delivered (or could not deliver) the XRUN event this stream asked for. */
  noteXrunEvent(delivered: boolean): void {
    if (delivered) this.xrunsGuest++;
    else this.xrunsDropped++;
  }

  private pcmParams(): PcmParams {
    return {
      direction: this.direction,
      rate: this.rate,
      channels: this.channels,
      format: formatName(this.format)!,
      periodBytes: this.periodBytes,
      bufferBytes: this.bufferBytes,
    };
  }

  private openAudio(p: PcmParams): boolean {
    try {
      this.audio = this.backend.open(p);
    } catch (e) {
      log.error(`stream ${this.id}: cannot open the host ${this.direction} stream (${this.backend.spec}): ${(e as Error).message}`);
      this.audio = null;
      return false;
    }
    this.audioParams = p;
    this.produced = 0; // a new ring starts empty
    this.hostXrunBase = this.audio.stats().xruns;
    this.lastXrunEvent = -1;
    return true;
  }

  /** RELEASE: the host stream is closed, or kept warm for a PREPARE with the same parameters. */
  private keepWarm(): void {
    const audio = this.audio;
    const ms = this.backend.keepWarmMs;
    if (audio === null || ms === undefined || audio.failure !== null) return this.closeAudio();
    this.closeWarm();
    this.warm = audio;
    this.warmParams = this.audioParams;
    this.warmUntil = performance.now() + ms;
    this.audio = this.audioParams = null;
  }

  /** Closes a warm stream whose time is up (the device calls this on every poll). */
  expireWarm(): void {
    if (this.warm !== null && performance.now() >= this.warmUntil) this.closeWarm();
  }

  private closeWarm(): void {
    const warm = this.warm;
    if (warm === null) return;
    this.warm = this.warmParams = null;
    this.closeHost(warm);
  }

  private closeAudio(): void {
    const audio = this.audio;
    if (audio === null) return;
    this.audio = this.audioParams = null;
    this.closeHost(audio);
  }

  private closeHost(audio: AudioStream): void {
    try {
      audio.close();
    } catch (e) {
      log.error(`stream ${this.id}: closing the host stream failed: ${(e as Error).message}`);
    }
  }

  // ================= shared state =================

  private lastFailure: string | null = null;

  /** State, parameters and backend strings: under the record's sequence counter. */
  publishParams(): void {
    const r = this.record;
    const i = r.i32;
    r.beginUpdate();
    i[F_DIRECTION] = this.directionCode;
    i[F_STATE] = layoutState(this.state);
    i[F_FORMAT] = this.format;
    i[F_RATE] = this.rate;
    i[F_CHANNELS] = this.channels;
    i[F_PERIOD_BYTES] = this.periodBytes;
    i[F_BUFFER_BYTES] = this.bufferBytes;
    const audio = this.audio;
    this.lastFailure = audio === null ? null : audio.failure;
    r.setStrings(audio === null ? this.backend.spec : audio.description, this.lastFailure);
    r.endUpdate();
    this.publishCounters();
  }

  /** Counters and levels: single slots, written every poll. */
  publishCounters(): void {
    const audio = this.audio;
    if (audio !== null && audio.failure !== this.lastFailure) {
      this.publishParams(); // the backend fell back to null since: show why
      return;
    }
    const i = this.record.i32;
    const f = this.record.f32;
    i[F_FRAMES] = this.frames;
    i[F_IN_FLIGHT] = this.fCount;
    i[F_RING_FILL] = audio === null ? 0 : audio.ring.fill();
    i[F_RING_CAPACITY] = audio === null ? 0 : audio.ring.capacity;
    i[F_XRUNS_GUEST] = this.xrunsGuest;
    i[F_XRUNS_HOST] = this.xrunsHost;
    i[F_XRUNS_DROPPED] = this.xrunsDropped;
    f[F_PEAK] = this.levels.peak;
    f[F_RMS] = this.levels.rms;
  }
}

function sameParams(a: PcmParams, b: PcmParams): boolean {
  return a.rate === b.rate && a.channels === b.channels && a.format === b.format && a.periodBytes === b.periodBytes && a.bufferBytes === b.bufferBytes;
}
