// Meter ballistics in the dB domain, driven by elapsed time so the same code works at any message
// rate: the bar attacks instantly and falls at a fixed rate (like a digital peak programme
// meter, so a 50 ms transient stays readable); the peak-hold marker keeps the highest recent value
// for `holdSeconds`, then falls. Time is passed in, never read here, which keeps it testable and
// lets the panel stop the clock while the machine is paused.
import { DB_FLOOR } from './dbfs';

export interface BallisticsOptions {
  /** How fast the bar falls, dB per second. */
  releaseDbPerSecond: number;
  /** How long the peak-hold marker stays put, seconds. */
  holdSeconds: number;
  /** How fast the marker falls once the hold is over, dB per second. */
  holdReleaseDbPerSecond: number;
}

export const DEFAULT_BALLISTICS: BallisticsOptions = {
  releaseDbPerSecond: 24,
  holdSeconds: 1.5,
  holdReleaseDbPerSecond: 20,
};

export class PeakMeter {
  /** What the bar shows now, dB (DB_FLOOR when silent). */
  level = DB_FLOOR;
  /** The peak-hold marker, dB. Never below `level`. */
  held = DB_FLOOR;
  /** Seconds since the marker was last raised. */
  heldAge = 0;

  constructor(private readonly opts: BallisticsOptions = DEFAULT_BALLISTICS) {}

  /** Feed the newest window's peak (dB) after `dt` seconds. */
  update(db: number, dt: number): void {
    const input = db > DB_FLOOR ? db : DB_FLOOR;
    const step = dt > 0 ? dt : 0;
    const fallen = this.level - this.opts.releaseDbPerSecond * step;
    this.level = input >= fallen ? input : fallen;
    if (this.level < DB_FLOOR) this.level = DB_FLOOR;

    if (this.level >= this.held) {
      this.held = this.level;
      this.heldAge = 0;
      return;
    }
    const before = this.heldAge;
    this.heldAge += step;
    // Only the part of this step that lies beyond the hold time makes the marker fall.
    const over = this.heldAge - Math.max(before, this.opts.holdSeconds);
    if (over > 0) {
      this.held -= this.opts.holdReleaseDbPerSecond * over;
      if (this.held < this.level) this.held = this.level;
    }
  }

  reset(): void {
    this.level = DB_FLOOR;
    this.held = DB_FLOOR;
    this.heldAge = 0;
  }
}
