// A few seconds of level history per stream for the sparkline: a fixed ring of (peak, rms) dB
// pairs, oldest overwritten. Float32Arrays so pushing at 20 Hz allocates nothing.
import { DB_FLOOR, clampDb } from './dbfs';

export class LevelHistory {
  readonly peak: Float32Array;
  readonly rms: Float32Array;
  private head = 0; // next write position
  private count = 0;

  constructor(readonly capacity: number) {
    const n = Math.max(1, capacity | 0);
    this.peak = new Float32Array(n).fill(DB_FLOOR);
    this.rms = new Float32Array(n).fill(DB_FLOOR);
  }

  get length(): number {
    return this.count;
  }

  push(peakDb: number, rmsDb: number): void {
    this.peak[this.head] = clampDb(peakDb);
    this.rms[this.head] = clampDb(rmsDb);
    this.head = (this.head + 1) % this.peak.length;
    if (this.count < this.peak.length) this.count++;
  }

  /** Ring position of the i-th oldest entry (0 = oldest). */
  indexOf(i: number): number {
    return (this.head - this.count + i + this.peak.length) % this.peak.length;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  /** Oldest → newest, rounded to 0.1 dB: what the webview saves with setState. */
  toJSON(): { peak: number[]; rms: number[] } {
    const peak: number[] = [];
    const rms: number[] = [];
    for (let i = 0; i < this.count; i++) {
      const k = this.indexOf(i);
      peak.push(Math.round(this.peak[k] * 10) / 10);
      rms.push(Math.round(this.rms[k] * 10) / 10);
    }
    return { peak, rms };
  }

  static fromJSON(capacity: number, saved: unknown): LevelHistory {
    const h = new LevelHistory(capacity);
    const s = saved as { peak?: unknown; rms?: unknown } | null;
    if (s && Array.isArray(s.peak) && Array.isArray(s.rms)) {
      const n = Math.min(s.peak.length, s.rms.length);
      for (let i = Math.max(0, n - h.peak.length); i < n; i++) h.push(Number(s.peak[i]), Number(s.rms[i]));
    }
    return h;
  }
}
