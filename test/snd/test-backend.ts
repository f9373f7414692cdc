// A host audio backend for the device tests: a real PcmRing per stream, with the host side
// driven by the test (consume what the guest played, produce what it should capture).

import type { AudioBackend, AudioStream, AudioStreamStats, PcmParams } from '../../src/audio/backend';
import { frameBytes } from '../../src/audio/backend';
import { PcmRing } from '../../src/audio/ring';

export class TestStream implements AudioStream {
  readonly description: string;
  failure: string | null = null;
  started = false;
  closed = false;
  /** Extra xruns the test injects (a host under/overrun). */
  xruns = 0;
  frames = 0;
  lastPoll = -1;
  /** If set, poll() plays (output) or captures (input) this many bytes per call while started. */
  autoBytes = 0;
  /** What the host has played so far (output) — every byte, in order, while `record` is set. */
  readonly played: number[] = [];
  record = true;
  private produceCursor = 0;
  /** For input with autoBytes: the bytes the host "captures", repeated. */
  source: Uint8Array | null = null;
  /** Output: frames taken from the ring but not yet played (a prefill ahead of the device). */
  ahead = 0;
  /** The host side runs on a device's clock (as PortAudio's): the pacer holds returns to real time. */
  deviceClock = false;

  constructor(
    readonly params: PcmParams,
    readonly ring: PcmRing,
    name: string,
  ) {
    this.description = name;
  }

  start(): void {
    this.started = true;
  }
  stop(): void {
    this.started = false;
  }
  close(): void {
    this.closed = true;
    this.started = false;
  }
  poll(guestSeconds: number): void {
    this.lastPoll = guestSeconds;
    if (!this.started || this.autoBytes === 0) return;
    if (this.params.direction === 'output') this.consume(this.autoBytes);
    else if (this.source) {
      const chunk = new Uint8Array(this.autoBytes);
      for (let i = 0; i < chunk.length; i++) chunk[i] = this.source[(this.produceCursor + i) % this.source.length];
      this.produceCursor += chunk.length;
      this.produce(chunk);
    }
  }
  pendingFrames(): number {
    return this.ahead;
  }
  stats(): AudioStreamStats {
    return { frames: this.frames, xruns: this.xruns, fill: this.ring.fill(), capacity: this.ring.capacity };
  }

  /** The host plays up to n bytes from the ring; returns them. */
  consume(n: number): Uint8Array {
    const buf = new Uint8Array(n);
    const got = this.ring.read(buf, n, frameBytes(this.params));
    if (this.record) for (let i = 0; i < got; i++) this.played.push(buf[i]);
    this.frames += got / frameBytes(this.params);
    return buf.subarray(0, got);
  }

  /** The host captures bytes into the ring (dropping the oldest on overrun, as real backends do). */
  produce(bytes: Uint8Array): number {
    const n = this.ring.write(bytes, bytes.length, true, frameBytes(this.params));
    this.frames += n / frameBytes(this.params);
    return n;
  }
}

export class TestBackend implements AudioBackend {
  readonly opened: TestStream[] = [];
  /** Ring size for new streams (default: the stream's buffer_bytes). */
  ringBytes = 0;
  failOpen = false;
  /** How many opened streams to remember (a fuzz run opens thousands). */
  retain = Infinity;
  /** As PortAudio's: a released stream stays open this long for a PREPARE with the same parameters. */
  keepWarmMs: number | undefined = undefined;
  /** As PortAudio's: the shortest guest period and buffer (seconds) the backend keeps in real time. */
  minPeriodSeconds: number | undefined = undefined;
  minBufferSeconds: number | undefined = undefined;

  constructor(readonly spec = 'test') {}

  open(params: PcmParams): AudioStream {
    if (this.failOpen) throw new Error('test backend refuses to open');
    const s = new TestStream(params, PcmRing.create(this.ringBytes || params.bufferBytes), `${this.spec}#${this.opened.length}`);
    this.opened.push(s);
    if (this.opened.length > this.retain) this.opened.shift();
    return s;
  }

  /** The most recently opened stream. */
  get last(): TestStream {
    const s = this.opened[this.opened.length - 1];
    if (!s) throw new Error('no stream opened yet');
    return s;
  }

  dispose(): void {}
}
