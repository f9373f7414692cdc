// When a PCM stream may hand a finished message back to the guest.
//
// Linux's virtio-snd driver reports its hardware pointer as "the position of the first message
// still queued", so each returned message moves it one period, and the pointer only moves when
// its kworker runs (snd_pcm_period_elapsed, one run for any number of completions). The PCM
// indirect helpers (include/sound/pcm-indirect.h) and the ALSA core read that pointer modulo the
// buffer: when a whole buffer's worth of messages comes back between two of its reads, the
// pointer is where it was and Linux sees *no* progress. Nothing is then re-queued (capture
// re-queues what the pointer showed it; playback has no room to write into), the stream stands
// still and the blocked read/write/drain fails with EIO after max(100 ms, 1.1 × buffer). A real
// card cannot do that — its pointer moves at the sample rate — but our device completes a
// message when the host side is done with it, and a host can be faster than real time (a
// file-backed ALSA device, a sound server catching up after a stall), or the guest slower (tiny
// periods, a loaded host).
//
// Three rules, all needed:
//
// 1. Never the last one (structural). A message goes back only while another stays queued.
//    Linux re-queues a message only after its pointer read showed it returned, so the returns it
//    has not seen yet are at most (messages it queued) − (messages the device holds) < a buffer:
//    whatever the speeds, a pointer read always sees progress. Capture waits for the re-queue
//    (with a time-out instead, a guest starved on a loaded host got all four buffers back before
//    its pointer read and stood still until EIO); only a driver that never queued more than one
//    buffer gets its last one back a period after the previous. Playback's last messages are
//    never re-queued (a drain): they go back a period apart, as from a card, and rule 2 keeps a
//    whole buffer from returning within half a buffer, which the ALSA core's own jiffies check
//    then reads as the wrap it is.
// 2. Not faster than the buffer allows (time, playback): at most (buffer − one period) within
//    any window of min(buffer − period − 2 ms, buffer/2 + 12 ms) of guest time, so a host that
//    consumes faster than real time cannot hand Linux a whole buffer between two of its reads
//    that are closer than half the buffer (snd_pcm_update_hw_ptr0), and the guest's playback
//    clock stays near real time even through a clockless device. The window still lets a stream
//    that fell behind after a stall catch up a little. Capture is paced by its source.
//
// 3. Not ahead of a real card (time, both directions): the message that completes byte B since
//    START goes back no earlier than START + B / rate (less DRIFT_MAX, a real clock's error).
//    A clockless or bursty host side (the audio host moves 10 ms chunks; a file-backed device
//    answers at once; a sound server hands over what it buffered) otherwise shows the guest a
//    clock running fast: a 0.5 s capture measured 2–4 % fast, and with 2-period buffers a burst
//    of returns ran the hardware pointer a whole buffer past the application's reads (overrun).
//    A host side that fell behind (a stall) is not held back by this rule: it only bounds from
//    above, on the timeline since START. Only for host sides on a device's clock (PortAudio):
//    the null and WAV backends are paced by guest time and cannot be ahead of it.
//
// A message held back goes on the record at the time it was due, not when the next poll found it
// (up to LATE_S or a quarter window later): with a window of one period (2-period buffers),
// lateness recorded as such would add up period after period into a slow clock (8 kHz,
// 10 ms × 2: 2.5 % slow). More lateness than that is a stall, and is not made up in a burst.
//
// Preallocated: the returns in the window live in a small ring of (time, bytes); nothing is
// allocated per message.

import { DRIFT_MAX } from '../../audio/backend';

const MARGIN_S = 0.012;
const SLACK_S = 0.002;
const LATE_S = 0.002;

export class ReturnPacer {
  private readonly at: Float64Array;
  private readonly bytes: Int32Array;
  private head = 0;
  private count = 0;
  private sum = 0;
  private windowS = 0;
  private lateS = 0;
  private limit = 0;
  private periodS = 0;
  // Rule 3: guest seconds at START, bytes returned since, the fastest byte rate allowed.
  private startT = 0;
  private total = 0;
  private maxBytesPerSecond = Infinity;
  private lastReturn = -Infinity;
  /** When the message held back last could first go (guest seconds); -Infinity: none held. */
  private due = -Infinity;
  private maxHeld = 0; // the most messages the driver had queued since reset()

  constructor(
    capacity: number,
    /** Apply rule 2 (playback). */
    private readonly windowed: boolean,
  ) {
    this.at = new Float64Array(capacity);
    this.bytes = new Int32Array(capacity);
  }

  /**
   * START at guest time t (new parameters, or a resume): forget earlier returns. `deviceClock`:
   * the host side runs on a device's clock (rule 3 applies; guest-time paced backends cannot be
   * ahead of it).
   */
  reset(bufferBytes: number, periodBytes: number, bytesPerSecond: number, t: number, deviceClock: boolean): void {
    this.head = this.count = this.sum = 0;
    this.startT = t;
    this.total = 0;
    this.maxBytesPerSecond = deviceClock ? bytesPerSecond * (1 + DRIFT_MAX) : Infinity;
    this.lastReturn = this.due = -Infinity;
    this.maxHeld = 0;
    const bufferS = bufferBytes / bytesPerSecond;
    this.periodS = periodBytes / bytesPerSecond;
    this.windowS = Math.max(this.periodS, Math.min(bufferS - this.periodS - SLACK_S, bufferS / 2 + MARGIN_S));
    this.limit = Math.max(periodBytes, bufferBytes - periodBytes);
    this.lateS = Math.min(LATE_S, this.windowS / 4);
  }

  /** May a message of `n` bytes go back at guest time t, while the device holds `held` (it included)? */
  allows(t: number, n: number, held: number): boolean {
    return this.waitSeconds(t, n, held) <= 0;
  }

  /** Guest seconds until a message of `n` bytes may go back (≤ 0: now). */
  waitSeconds(t: number, n: number, held: number): number {
    if (held > this.maxHeld) this.maxHeld = held;
    if (held <= 1 && !this.windowed && this.maxHeld > 1) return Infinity; // until a re-queue
    let wait = held > 1 ? 0 : this.lastReturn + this.periodS - t;
    wait = Math.max(wait, this.startT + (this.total + n) / this.maxBytesPerSecond - t);
    if (this.windowed) {
      this.expire(t);
      if (this.count === this.at.length || (this.count > 0 && this.sum + n > this.limit)) {
        // Until the oldest return in the window ages out (then check again).
        wait = Math.max(wait, this.at[this.head] + this.windowS - t, 1e-6);
      }
    }
    if (wait > 0) this.due = t + wait;
    return wait;
  }

  /** Records a message of `n` bytes returned at guest time t. */
  returned(t: number, n: number): void {
    // Held back: recorded when due (a little lateness is not carried over; more is: a stall).
    if (this.due > -Infinity) t = Math.min(t, Math.max(this.due, t - this.lateS));
    this.due = -Infinity;
    this.lastReturn = t;
    this.total += n;
    if (!this.windowed || this.count === this.at.length) return;
    const i = (this.head + this.count) % this.at.length;
    this.at[i] = t;
    this.bytes[i] = n;
    this.count++;
    this.sum += n;
  }

  private expire(t: number): void {
    while (this.count > 0 && t - this.at[this.head] >= this.windowS) {
      this.sum -= this.bytes[this.head];
      this.head = (this.head + 1) % this.at.length;
      this.count--;
    }
  }
}
