// What the AudioWorklet does with the guest's PCM, as a plain class (unit-tested in node:
// test/webview/pcm-queue.test.ts): a jitter buffer between frames that arrive paced by the guest
// clock, across a channel that may be a network round trip long, and Web Audio's clock.
//
// - Buffering: nothing plays until `target` frames are queued (the latency), so arrival jitter up
//   to about that much never starves the output.
// - Playing: one render quantum at a time. Running dry while the guest plays (between START and
//   STOP) is an underrun: the rest of the quantum is silence, the queue buffers up to the target
//   again, and it counts as one xrun once guest data resumes (a dry queue at the end of a drain,
//   followed by STOP, is not one — the rule of docs/audio.md).
// - Adaptive: each underrun raises the target by half (up to 8 × the first), so a window far
//   away, or a busy one, settles at the latency its channel needs instead of dropping out again.
// - Overflow: more than 2 × target queued (the host clock ran ahead of the audio clock, or a burst
//   after a stall) drops the oldest frames down to the target: one xrun. Before the first quantum
//   (Web Audio still starting) the cut is start-up latency: counted as dropped, not as an xrun.
// render() allocates nothing: the worklet calls it 375 times a second.

export type PcmFormat = 'S16' | 'S32' | 'FLOAT';

export interface QueueProgress {
  /** Guest frames played. */
  frames: number;
  /** Silent frames played while buffering or dry. */
  silence: number;
  /** Every frame rendered. */
  device: number;
  xruns: number;
  /** Guest frames dropped (overflow, STOP with data queued is not a drop: it still plays). */
  dropped: number;
}

/** Render quantum of Web Audio. */
export const QUANTUM = 128;

export class PcmQueue {
  private readonly ch: number;
  private target: number;
  private readonly maxTarget: number;
  private readonly cap: number;
  private readonly ring: Float32Array; // interleaved, cap frames
  private head = 0;
  private level = 0;
  private playing = false; // false: buffering up to the target
  private started = false; // between START and STOP
  private dry = false; // ran dry while started: an xrun if data resumes before STOP
  private ending = false;
  readonly progress: QueueProgress = { frames: 0, silence: 0, device: 0, xruns: 0, dropped: 0 };

  constructor(
    channels: number,
    targetFrames: number,
    private readonly format: PcmFormat,
  ) {
    this.ch = channels;
    this.target = Math.max(2 * QUANTUM, targetFrames);
    this.maxTarget = 8 * this.target;
    this.cap = 2 * this.maxTarget + 8 * QUANTUM;
    this.ring = new Float32Array(this.cap * channels);
  }

  get queued(): number {
    return this.level;
  }

  /** The jitter buffer's current target (frames). */
  get targetFrames(): number {
    return this.target;
  }

  /** Converts little-endian interleaved PCM to floats and queues it (whole frames only). */
  push(bytes: Uint8Array): void {
    const sb = this.format === 'S16' ? 2 : 4;
    const frames = Math.floor(bytes.byteLength / (sb * this.ch));
    if (frames <= 0) return;
    if (this.dry && this.started) {
      this.progress.xruns++;
      this.target = Math.min(this.maxTarget, Math.round(this.target * 1.5));
    }
    this.dry = false;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, frames * sb * this.ch);
    let at = (this.head + this.level) % this.cap;
    let dropped = 0;
    for (let f = 0; f < frames; f++) {
      if (this.level === this.cap) {
        this.head = (this.head + 1) % this.cap; // full: the oldest frame goes
        this.level--;
        dropped++;
      }
      for (let c = 0; c < this.ch; c++) {
        const i = f * this.ch + c;
        this.ring[at * this.ch + c] = this.format === 'S16' ? dv.getInt16(i * 2, true) / 32768 : this.format === 'S32' ? dv.getInt32(i * 4, true) / 2147483648 : dv.getFloat32(i * 4, true);
      }
      at = at + 1 === this.cap ? 0 : at + 1;
      this.level++;
    }
    if (this.level > 2 * this.target) {
      dropped += this.level - this.target;
      this.head = (this.head + this.level - this.target) % this.cap;
      this.level = this.target;
    }
    if (dropped > 0) {
      this.progress.dropped += dropped;
      // Before the first quantum, what queued while Web Audio was starting is start-up latency
      // cut back to the target, not a dropout in the sound (docs/audio.md: a late start).
      if (this.progress.device > 0) this.progress.xruns++;
    }
    if (!this.playing && this.level >= this.target) this.playing = true;
  }

  start(): void {
    this.started = true;
    this.dry = false;
  }

  stop(): void {
    this.started = false;
    this.dry = false;
    if (this.level > 0) this.playing = true; // a drained stream's last frames play without waiting
  }

  /** No more data will come: play what is queued, then done turns true. */
  end(): void {
    this.ending = true;
    if (this.level > 0) this.playing = true;
  }

  get done(): boolean {
    return this.ending && this.level === 0;
  }

  /** Renders one quantum into the output channels (planar). */
  render(out: Float32Array[]): void {
    const len = out.length ? out[0].length : QUANTUM;
    const avail = this.playing ? Math.min(len, this.level) : 0;
    const ch = this.ch;
    for (let c = 0; c < out.length; c++) {
      const o = out[c];
      const src = c < ch ? c : ch - 1; // mono to every output channel
      let at = this.head;
      for (let i = 0; i < len; i++) {
        if (i < avail) {
          o[i] = this.ring[at * ch + src];
          at = at + 1 === this.cap ? 0 : at + 1;
        } else {
          o[i] = 0;
        }
      }
    }
    this.head = (this.head + avail) % this.cap;
    this.level -= avail;
    this.progress.frames += avail;
    this.progress.silence += len - avail;
    this.progress.device += len;
    if (this.playing && this.level === 0 && !this.ending) {
      this.playing = false; // buffer up to the target again
      if (this.started) this.dry = true;
    }
  }
}
