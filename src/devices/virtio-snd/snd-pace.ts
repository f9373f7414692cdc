// How fast a TX stream may hand buffers back to the guest.
//
// Linux's virtio-snd driver reports its hardware pointer as "the position of the first message
// still queued", so each returned TX message moves it one period. The ALSA core reads that
// pointer modulo the buffer: when a whole buffer's worth of messages comes back between two of
// its reads, the pointer is where it was, and ALSA takes it for no progress unless more than
// half the buffer's time (+1 jiffy) has passed since its last read (snd_pcm_update_hw_ptr0).
// The writer then sleeps until its wait times out (100 ms) and gets -EIO. A real card cannot do
// that — its pointer moves at the sample rate — but our device returns a message when the host
// has consumed it, and a host that consumes faster than real time (a file-backed ALSA device, a
// sound server catching up after a stall) would.
//
// So the stream returns at most (buffer - one period) bytes within any window of
// min(buffer - period - 2 ms, buffer/2 + 12 ms) of guest time: less than a whole buffer between
// two reads that are closer than half the buffer (+ 3 jiffies at HZ=250), and still a little
// faster than real time, so a stream that fell behind catches up. Preallocated: the returns in
// the window live in a small ring of (time, bytes); nothing is allocated per message.

const MARGIN_S = 0.012;
const SLACK_S = 0.002;

export class TxReturnPacer {
  private readonly at: Float64Array;
  private readonly bytes: Int32Array;
  private head = 0;
  private count = 0;
  private sum = 0;
  private windowS = 0;
  private limit = 0;

  constructor(capacity: number) {
    this.at = new Float64Array(capacity);
    this.bytes = new Int32Array(capacity);
  }

  /** New stream parameters (or START): forget earlier returns. */
  reset(bufferBytes: number, periodBytes: number, bytesPerSecond: number): void {
    this.head = this.count = this.sum = 0;
    const bufferS = bufferBytes / bytesPerSecond;
    const periodS = periodBytes / bytesPerSecond;
    this.windowS = Math.max(periodS, Math.min(bufferS - periodS - SLACK_S, bufferS / 2 + MARGIN_S));
    this.limit = Math.max(periodBytes, bufferBytes - periodBytes);
  }

  /** May a message of `n` bytes go back at guest time t? */
  allows(t: number, n: number): boolean {
    this.expire(t);
    if (this.count === this.at.length) return false; // as many as we can track: wait for one to age
    return this.count === 0 || this.sum + n <= this.limit;
  }

  /** Records a message of `n` bytes returned at guest time t. */
  returned(t: number, n: number): void {
    if (this.count === this.at.length) return;
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
