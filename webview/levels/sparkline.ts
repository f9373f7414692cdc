// The level history of one stream on a canvas: RMS as a filled area, peak as a line, guide lines
// at −18 and −6 dBFS. The canvas backing store is resized only when its box changes (no layout
// reads per frame); a draw is a few hundred path segments.
import { DB_FLOOR, dbToFraction } from '../shared/dbfs';
import type { LevelHistory } from '../shared/history';
import type { ThemeColors } from '../shared/theme';

export class Sparkline {
  readonly canvas: HTMLCanvasElement;
  private ctx: CanvasRenderingContext2D | null;
  private cssWidth = 0;

  constructor(label: string, private readonly colors: ThemeColors) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'spark';
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', label);
    this.ctx = this.canvas.getContext('2d');
  }

  /** Called by the panel's ResizeObserver with the canvas's CSS box. */
  resize(width: number, height: number): void {
    const dpr = window.devicePixelRatio || 1;
    this.cssWidth = width;
    const w = Math.max(1, Math.round(width * dpr));
    const hgt = Math.max(1, Math.round(height * dpr));
    if (this.canvas.width !== w) this.canvas.width = w;
    if (this.canvas.height !== hgt) this.canvas.height = hgt;
  }

  draw(history: LevelHistory, frozen: boolean): void {
    const ctx = this.ctx;
    if (!ctx || this.cssWidth <= 0) return;
    const w = this.canvas.width;
    const hgt = this.canvas.height;
    ctx.clearRect(0, 0, w, hgt);
    const y = (db: number) => hgt - dbToFraction(db) * (hgt - 1) - 0.5;

    ctx.lineWidth = 1;
    ctx.strokeStyle = this.colors.get('--grid');
    ctx.beginPath();
    for (const db of [-18, -6]) {
      ctx.moveTo(0, Math.round(y(db)) + 0.5);
      ctx.lineTo(w, Math.round(y(db)) + 0.5);
    }
    ctx.stroke();

    const n = history.length;
    if (n === 0) return;
    const cap = history.capacity;
    const dx = w / Math.max(1, cap - 1);
    const x = (i: number) => w - (n - 1 - i) * dx; // newest at the right edge

    ctx.globalAlpha = frozen ? 0.35 : 0.5;
    ctx.fillStyle = this.colors.get('--spark-rms');
    ctx.beginPath();
    ctx.moveTo(x(0), hgt);
    for (let i = 0; i < n; i++) ctx.lineTo(x(i), y(history.rms[history.indexOf(i)]));
    ctx.lineTo(x(n - 1), hgt);
    ctx.closePath();
    ctx.fill();

    ctx.globalAlpha = frozen ? 0.6 : 1;
    ctx.strokeStyle = this.colors.get('--spark-peak');
    ctx.lineWidth = Math.max(1, window.devicePixelRatio || 1);
    ctx.beginPath();
    for (let i = 0; i < n; i++) {
      const v = history.peak[history.indexOf(i)];
      const yy = y(v > DB_FLOOR ? v : DB_FLOOR);
      if (i === 0) ctx.moveTo(x(i), yy);
      else ctx.lineTo(x(i), yy);
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
  }
}
