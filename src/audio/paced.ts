// A stream paced by the guest clock: the host side moves exactly floor(rate × (t − t0)) frames in
// total between start() and the latest poll(t), so a run with --time icount moves the same frames
// at the same guest instants every time. The null and WAV backends are this class with a different
// sink (output) or source (input); the PortAudio backend falls back to it with the null ones.
//
// Output: frames due are taken from the ring. When the ring runs dry while running, the missing
// time is remembered as a gap; if data comes back before stop(), the gap becomes silence in the
// sink and one xrun (an audible dropout on a real card). A gap that ends with stop() is the normal
// end of a drain, and one before the first frame after start() is the device model handing over
// the driver's pre-queued periods a poll late: neither is written nor counted.
// Input: frames due come from the source into the ring, dropping the oldest when the device model
// does not keep up; each run of such drops is one xrun.

import type { AudioStream, AudioStreamStats, PcmParams } from './backend';
import { frameBytes } from './backend';
import type { PcmRing } from './ring';

/** Where output frames go. Lengths are whole frames, in bytes. */
export interface PacedSink {
  consume(src: Uint8Array, len: number): void;
  /** `frames` frames of silence (an underrun inside the stream). */
  silence(frames: number): void;
  close(): void;
  /** Set when the sink gave up (disk full...): the stream reports it as its failure. */
  readonly error?: string | null;
}

/** Where input frames come from. */
export interface PacedSource {
  /** Fills dst[0, len) with the next len bytes (whole frames). */
  produce(dst: Uint8Array, len: number): void;
  /** Advances past `frames` frames that nobody could hold. */
  skip(frames: number): void;
  close(): void;
  readonly error?: string | null;
}

export const nullSink: PacedSink = { consume() {}, silence() {}, close() {} };

export const nullSource: PacedSource = {
  produce(dst, len) {
    // Every supported format (S16, S32, FLOAT) is silent at all-zero bytes.
    dst.fill(0, 0, len);
  },
  skip() {},
  close() {},
};

const SCRATCH_BYTES = 16384;

export class PacedStream implements AudioStream {
  private readonly fb: number;
  private readonly scratch: Uint8Array;
  private readonly scratchFrames: number;
  private running = false;
  private startPending = false;
  private closed = false;
  private t0 = 0;
  private done = 0; // frames due so far since start (moved + gap)
  private gap = 0; // output: frames missed since the ring ran dry
  private hadData = false; // output: a frame came since start()
  private overrunning = false;
  private moved = 0;
  private xruns = 0;

  constructor(
    readonly params: PcmParams,
    readonly ring: PcmRing,
    readonly description: string,
    private readonly sink: PacedSink | null,
    private readonly source: PacedSource | null,
    private readonly initialFailure: string | null = null,
  ) {
    this.fb = frameBytes(params);
    this.scratchFrames = Math.max(1, Math.floor(Math.min(SCRATCH_BYTES, ring.capacity) / this.fb));
    this.scratch = new Uint8Array(this.scratchFrames * this.fb);
  }

  get failure(): string | null {
    return this.initialFailure ?? this.sink?.error ?? this.source?.error ?? null;
  }

  start(): void {
    if (this.closed || this.running) return;
    // The guest clock is only known at the next poll; t0 is taken there.
    this.running = true;
    this.startPending = true;
    this.hadData = false;
  }

  stop(): void {
    this.running = false;
    this.startPending = false;
    this.gap = 0;
    this.overrunning = false;
  }

  close(): void {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    this.sink?.close();
    this.source?.close();
  }

  poll(guestSeconds: number): void {
    if (!this.running) return;
    if (this.startPending) {
      this.startPending = false;
      this.t0 = guestSeconds;
      this.done = 0;
      return;
    }
    // The epsilon (a millionth of a frame) makes whole-frame instants count as whole even when the
    // double holding t − t0 lands a hair below them (48000 × 0.01 = 479.99999...).
    const total = Math.floor(this.params.rate * (guestSeconds - this.t0) + 1e-6);
    const due = total - this.done;
    if (!(due > 0)) return;
    this.done = total;
    if (this.sink) this.drain(due);
    else this.fill(due);
  }

  stats(): AudioStreamStats {
    return { frames: this.moved, xruns: this.xruns, fill: this.ring.fill(), capacity: this.ring.capacity };
  }

  /** Frames moved and xruns so far, for a stream that carries on from another one's counts. */
  counters(): { frames: number; xruns: number } {
    return { frames: this.moved, xruns: this.xruns };
  }

  private drain(due: number): void {
    const sink = this.sink!;
    const fb = this.fb;
    let want = due;
    while (want > 0) {
      const avail = Math.floor(this.ring.fill() / fb);
      const n = Math.min(want, avail, this.scratchFrames);
      if (n <= 0) break;
      if (this.gap > 0 && this.hadData) {
        sink.silence(this.gap);
        this.xruns++;
      }
      this.gap = 0;
      this.hadData = true;
      const got = this.ring.read(this.scratch, n * fb, fb);
      if (got <= 0) break;
      sink.consume(this.scratch, got);
      this.moved += got / fb;
      want -= got / fb;
    }
    this.gap += want;
  }

  private fill(due: number): void {
    const source = this.source!;
    const fb = this.fb;
    const capFrames = Math.floor(this.ring.capacity / fb);
    let dropped = false;
    let want = due;
    if (want > capFrames) {
      // More time passed than the ring can hold: only the newest capFrames can survive.
      source.skip(want - capFrames);
      want = capFrames;
      dropped = true;
    }
    while (want > 0) {
      const n = Math.min(want, this.scratchFrames);
      source.produce(this.scratch, n * fb);
      if (n * fb > this.ring.room()) dropped = true;
      this.ring.write(this.scratch, n * fb, true, fb);
      want -= n;
    }
    this.moved += due;
    if (dropped && !this.overrunning) this.xruns++;
    this.overrunning = dropped;
  }
}
