// The scanout as other threads see it: one SharedArrayBuffer the GPU model (emulator worker)
// writes and any number of readers (the Screen panel's feed, a screendump, the Devices scope)
// read without messaging and without ever making the worker wait.
//
//   header  HDR_INTS int32: geometry, format, cursor, counters, then the dirty-rectangle ring
//   pixels  maxWidth × maxHeight × 4 bytes, row stride maxWidth × 4, in the scanout's format
//   cursor  64 × 64 × 4 bytes, in the cursor resource's format
//
// Every RESOURCE_FLUSH of the scanned-out resource copies the flushed rows here (plain memory
// copies, no conversion on the worker) and publishes the rectangle: ring slot seq % RING gets
// [seq, x, y, w, h], then SEQ is stored with Atomics (seq-cst: a reader that loads SEQ sees the
// slot and the pixels written before it). A reader keeps its own last seq and unions the
// rectangles after it; one that fell more than RING behind, or whose slots were overwritten
// while it read, redraws everything. Pixels may be overwritten while a reader copies them: the
// writer then publishes that area again, so every reader converges on the newest frame, and a
// reader of a paused machine gets the exact frame.
//
// Pure: no Node imports (the extension host, the debug adapter and webview tests import it).

import { formatLayout, formatName } from './protocol';

export const SCREEN_MAGIC = 0x53435231; // 'SCR1'
export const SCREEN_VERSION = 1;
export const CURSOR_SIZE = 64;
export const RING = 64;

// Header slots.
const H_MAGIC = 0;
const H_VERSION = 1;
const H_MAX_WIDTH = 2;
const H_MAX_HEIGHT = 3;
const H_SEQ = 4; // published flushes (wraps as int32)
const H_ENABLED = 5; // 1 while a resource is scanned out
const H_WIDTH = 6; // scanout rectangle size
const H_HEIGHT = 7;
const H_FORMAT = 8; // virtio format of the pixels
const H_RESOURCE = 9; // scanned-out resource id (0 = none)
const H_CURSOR_SEQ = 10; // bumped on every cursor change
const H_CURSOR_VISIBLE = 11;
const H_CURSOR_X = 12;
const H_CURSOR_Y = 13;
const H_CURSOR_HOT_X = 14;
const H_CURSOR_HOT_Y = 15;
const H_CURSOR_FORMAT = 16;
// Counters (device statistics for the Devices scope).
export const C_COMMANDS = 17;
export const C_ERRORS = 18;
export const C_RESOURCES = 19;
export const C_HOST_BYTES = 20;
export const C_HOST_LIMIT = 21;
export const C_TRANSFERS = 22;
export const C_FLUSHES = 23;
export const C_CURSOR_COMMANDS = 24;
export const C_LAST_ERROR = 25; // response code of the last error
export const C_LAST_ERROR_CMD = 26; // command that got it
export const C_TRANSFER_KIB = 27; // KiB copied from guest backing (wraps)
/** Slots 28-29: a float64, the wall-clock time (ms) of the newest publish (latency measurements). */
const PUBLISHED_AT_BYTE = 28 * 4;
const H_RING = 32;
const SLOT_INTS = 5;
const HDR_INTS = H_RING + RING * SLOT_INTS;
const PIXELS_AT = HDR_INTS * 4;

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function allocateScreen(maxWidth: number, maxHeight: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(PIXELS_AT + maxWidth * maxHeight * 4 + CURSOR_SIZE * CURSOR_SIZE * 4);
  const h = new Int32Array(sab, 0, HDR_INTS);
  h[H_MAGIC] = SCREEN_MAGIC;
  h[H_VERSION] = SCREEN_VERSION;
  h[H_MAX_WIDTH] = maxWidth;
  h[H_MAX_HEIGHT] = maxHeight;
  return sab;
}

/** Checks a buffer's header; returns its header view or null when it is not a screen. */
function header(sab: SharedArrayBuffer): Int32Array | null {
  if (sab.byteLength < PIXELS_AT) return null;
  const h = new Int32Array(sab, 0, HDR_INTS);
  if (h[H_MAGIC] !== SCREEN_MAGIC || h[H_VERSION] !== SCREEN_VERSION) return null;
  const w = h[H_MAX_WIDTH];
  const ht = h[H_MAX_HEIGHT];
  if (w <= 0 || ht <= 0 || PIXELS_AT + w * ht * 4 + CURSOR_SIZE * CURSOR_SIZE * 4 > sab.byteLength) return null;
  return h;
}

/** The worker's side. */
export class ScreenWriter {
  readonly h: Int32Array;
  readonly pixels: Uint8Array;
  readonly cursor: Uint8Array;
  readonly maxWidth: number;
  readonly maxHeight: number;
  readonly stride: number;
  private readonly publishedAt: Float64Array;

  constructor(readonly sab: SharedArrayBuffer) {
    const h = header(sab);
    if (h === null) throw new Error('not a screen buffer');
    this.h = h;
    this.publishedAt = new Float64Array(sab, PUBLISHED_AT_BYTE, 1);
    this.maxWidth = h[H_MAX_WIDTH];
    this.maxHeight = h[H_MAX_HEIGHT];
    this.stride = this.maxWidth * 4;
    this.pixels = new Uint8Array(sab, PIXELS_AT, this.stride * this.maxHeight);
    this.cursor = new Uint8Array(sab, PIXELS_AT + this.pixels.length, CURSOR_SIZE * CURSOR_SIZE * 4);
  }

  /** A new scanout (or none: width 0): geometry first, then a full-screen rectangle. */
  setScanout(resource: number, width: number, height: number, format: number): void {
    const h = this.h;
    h[H_RESOURCE] = resource;
    h[H_WIDTH] = width;
    h[H_HEIGHT] = height;
    h[H_FORMAT] = format;
    h[H_ENABLED] = resource !== 0 ? 1 : 0;
    if (resource === 0) this.pixels.fill(0);
    this.publish(0, 0, Math.max(width, 1), Math.max(height, 1));
  }

  get resource(): number {
    return this.h[H_RESOURCE];
  }

  /** Publishes a rectangle whose pixels are already in place. */
  publish(x: number, y: number, w: number, hgt: number): void {
    const h = this.h;
    const seq = (h[H_SEQ] + 1) | 0;
    const at = H_RING + (seq & (RING - 1)) * SLOT_INTS;
    h[at] = seq;
    h[at + 1] = x;
    h[at + 2] = y;
    h[at + 3] = w;
    h[at + 4] = hgt;
    // Wall clock (timeOrigin + now agrees across threads): readers measure flush-to-screen latency.
    this.publishedAt[0] = performance.timeOrigin + performance.now();
    Atomics.store(h, H_SEQ, seq);
  }

  setCursor(visible: boolean, x: number, y: number, hotX: number, hotY: number, format: number): void {
    const h = this.h;
    h[H_CURSOR_VISIBLE] = visible ? 1 : 0;
    h[H_CURSOR_X] = x;
    h[H_CURSOR_Y] = y;
    h[H_CURSOR_HOT_X] = hotX;
    h[H_CURSOR_HOT_Y] = hotY;
    h[H_CURSOR_FORMAT] = format;
    Atomics.add(h, H_CURSOR_SEQ, 1);
  }

  moveCursor(x: number, y: number): void {
    const h = this.h;
    h[H_CURSOR_X] = x;
    h[H_CURSOR_Y] = y;
    Atomics.add(h, H_CURSOR_SEQ, 1);
  }

  count(slot: number, by = 1): void {
    this.h[slot] = (this.h[slot] + by) | 0;
  }

  set(slot: number, v: number): void {
    this.h[slot] = v;
  }

  /** Back to "no scanout", counters kept (a device reset). */
  reset(): void {
    this.setCursor(false, 0, 0, 0, 0, 0);
    this.setScanout(0, 0, 0, 0);
  }
}

export interface ScreenGeometry {
  enabled: boolean;
  width: number;
  height: number;
  format: number;
}

export interface CursorState {
  seq: number;
  visible: boolean;
  x: number;
  y: number;
  hotX: number;
  hotY: number;
}

/** A reader's view: what changed since its last take(), and the pixels as RGBA. */
export class ScreenReader {
  private readonly h: Int32Array;
  private readonly pixels: Uint8Array;
  private readonly pixels32: Int32Array;
  private readonly cursorPixels: Int32Array;
  private readonly publishedAtView: Float64Array;
  readonly maxWidth: number;
  readonly maxHeight: number;
  /** The last seq this reader consumed. -1 before the first take: everything is new. */
  private seq = -1;
  private primed = false;

  constructor(sab: SharedArrayBuffer) {
    const h = header(sab);
    if (h === null) throw new Error('not a screen buffer');
    this.h = h;
    this.maxWidth = h[H_MAX_WIDTH];
    this.maxHeight = h[H_MAX_HEIGHT];
    this.pixels = new Uint8Array(sab, PIXELS_AT, this.maxWidth * this.maxHeight * 4);
    this.pixels32 = new Int32Array(sab, PIXELS_AT, this.maxWidth * this.maxHeight);
    this.cursorPixels = new Int32Array(sab, PIXELS_AT + this.pixels.length, CURSOR_SIZE * CURSOR_SIZE);
    this.publishedAtView = new Float64Array(sab, PUBLISHED_AT_BYTE, 1);
  }

  static isScreen(sab: SharedArrayBuffer): boolean {
    return header(sab) !== null;
  }

  geometry(): ScreenGeometry {
    const h = this.h;
    const width = Math.min(Math.max(h[H_WIDTH], 0), this.maxWidth);
    const height = Math.min(Math.max(h[H_HEIGHT], 0), this.maxHeight);
    return { enabled: h[H_ENABLED] === 1 && width > 0 && height > 0, width, height, format: h[H_FORMAT] };
  }

  /** Wall-clock time (ms, timeOrigin + now) of the newest publish; 0 before the first. */
  publishedAt(): number {
    return this.publishedAtView[0];
  }

  /** The newest published seq. */
  published(): number {
    return Atomics.load(this.h, H_SEQ);
  }

  /** True when something was published since the last take(). */
  changed(): boolean {
    return !this.primed || this.published() !== this.seq;
  }

  /** Forget what was consumed: the next take() returns the whole screen. */
  invalidate(): void {
    this.primed = false;
  }

  /**
   * The union of the rectangles published since the last take (clipped to the scanout), or null
   * when nothing changed. Marks them consumed.
   */
  take(): { seq: number; rect: Rect | null } | null {
    const h = this.h;
    const now = Atomics.load(h, H_SEQ);
    if (this.primed && now === this.seq) return null;
    let rect = this.primed ? this.union(this.seq, now) : null;
    const full = !this.primed || rect === null;
    // Slots may have been overwritten while we read them: the writer was RING flushes ahead.
    const after = Atomics.load(h, H_SEQ);
    if (full || ((after - this.seq) | 0) >= RING) rect = this.fullRect();
    this.seq = now;
    this.primed = true;
    return { seq: now, rect: this.clip(rect) };
  }

  private fullRect(): Rect {
    const g = this.geometry();
    return { x: 0, y: 0, w: g.width, h: g.height };
  }

  /** Union of slots (from, to]; null when a slot is missing (overwritten or never written). */
  private union(from: number, to: number): Rect | null {
    const n = (to - from) | 0;
    if (n <= 0 || n > RING) return null;
    const h = this.h;
    let x1 = Infinity;
    let y1 = Infinity;
    let x2 = -Infinity;
    let y2 = -Infinity;
    for (let k = 1; k <= n; k++) {
      const seq = (from + k) | 0;
      const at = H_RING + (seq & (RING - 1)) * SLOT_INTS;
      if (h[at] !== seq) return null;
      const x = h[at + 1];
      const y = h[at + 2];
      x1 = Math.min(x1, x);
      y1 = Math.min(y1, y);
      x2 = Math.max(x2, x + h[at + 3]);
      y2 = Math.max(y2, y + h[at + 4]);
    }
    return { x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
  }

  private clip(r: Rect | null): Rect | null {
    if (r === null) return null;
    const g = this.geometry();
    const x1 = Math.max(0, r.x);
    const y1 = Math.max(0, r.y);
    const x2 = Math.min(g.width, r.x + r.w);
    const y2 = Math.min(g.height, r.y + r.h);
    if (x2 <= x1 || y2 <= y1) return null;
    return { x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
  }

  /**
   * Copies rectangle r of the scanout as RGBA (alpha 255) into out (r.w × r.h × 4 bytes, or a
   * new array). Pixels of a disabled scanout read black.
   */
  readRgba(r: Rect, out?: Uint8ClampedArray | Uint8Array): Uint8Array {
    const n = r.w * r.h;
    const dst = out ?? new Uint8Array(n * 4);
    const d32 = new Int32Array(dst.buffer, dst.byteOffset, n);
    const g = this.geometry();
    if (!g.enabled) {
      d32.fill(OPAQUE);
      return dst as Uint8Array;
    }
    convertRows(this.pixels32, this.maxWidth, r, formatLayout(g.format), d32);
    return dst as Uint8Array;
  }

  cursor(): CursorState {
    const h = this.h;
    return {
      seq: Atomics.load(h, H_CURSOR_SEQ),
      visible: h[H_CURSOR_VISIBLE] === 1,
      x: h[H_CURSOR_X],
      y: h[H_CURSOR_Y],
      hotX: h[H_CURSOR_HOT_X],
      hotY: h[H_CURSOR_HOT_Y],
    };
  }

  /** The 64 × 64 cursor image as RGBA, alpha kept (straight, as the guest drew it). */
  cursorRgba(): Uint8Array {
    const out = new Uint8Array(CURSOR_SIZE * CURSOR_SIZE * 4);
    convertCursor(this.cursorPixels, formatLayout(this.h[H_CURSOR_FORMAT]), new Int32Array(out.buffer));
    return out;
  }
}

/**
 * Converts rows of 32-bit pixels (little-endian words) to RGBA words (bytes R,G,B,A in memory),
 * opaque. Int32 views throughout: the words stay small integers (no doubles in the loop).
 */
function convertRows(src: Int32Array, srcWidth: number, r: Rect, layout: number, dst: Int32Array): void {
  let o = 0;
  for (let y = 0; y < r.h; y++) {
    let i = (r.y + y) * srcWidth + r.x;
    const end = i + r.w;
    switch (layout) {
      case 0: // B,G,R,(A|X) bytes: word 0xAARRGGBB
        for (; i < end; i++, o++) {
          const v = src[i];
          dst[o] = OPAQUE | ((v & 0xff) << 16) | (v & 0xff00) | ((v >> 16) & 0xff);
        }
        break;
      case 1: // (A|X),R,G,B bytes: word 0xBBGGRRAA
        for (; i < end; i++, o++) {
          const v = src[i];
          dst[o] = OPAQUE | ((v >>> 24) << 16) | ((v >> 8) & 0xff00) | ((v >> 8) & 0xff);
        }
        break;
      case 2: // R,G,B,(A|X) bytes: already RGBA
        for (; i < end; i++, o++) dst[o] = src[i] | OPAQUE;
        break;
      case 3: // (X|A),B,G,R bytes: word 0xRRGGBBXX
        for (; i < end; i++, o++) {
          const v = src[i];
          dst[o] = OPAQUE | ((v << 8) & 0xff0000) | ((v >> 8) & 0xff00) | (v >>> 24);
        }
        break;
      default:
        dst.fill(OPAQUE, o, o + r.w);
        o += r.w;
    }
  }
}

const OPAQUE = 0xff000000 | 0;

/** The 64 × 64 cursor to straight-alpha RGBA: the same byte orders, alpha kept where there is one. */
function convertCursor(src: Int32Array, layout: number, dst: Int32Array): void {
  convertRows(src, CURSOR_SIZE, { x: 0, y: 0, w: CURSOR_SIZE, h: CURSOR_SIZE }, layout, dst);
  const bytes = new Uint8Array(src.buffer, src.byteOffset, src.length * 4);
  const alphaAt = layout === 0 || layout === 2 ? 3 : layout === 1 || layout === 3 ? 0 : -1;
  if (alphaAt < 0) return;
  const out = new Uint8Array(dst.buffer, dst.byteOffset, dst.length * 4);
  for (let i = 0; i < src.length; i++) out[i * 4 + 3] = bytes[i * 4 + alphaAt];
}

/** The GPU's live state for the debugger's Devices scope: plain JSON. */
export interface GpuStateSnapshot {
  scanout: { enabled: boolean; resource: number; width: number; height: number; format: string | null; flushes: number };
  cursor: { visible: boolean; x: number; y: number; hotX: number; hotY: number };
  resources: number;
  hostBytes: number;
  hostLimit: number;
  commands: number;
  cursorCommands: number;
  transfers: number;
  transferredKiB: number;
  errors: number;
  lastError: { response: number; command: number } | null;
  maxWidth: number;
  maxHeight: number;
}

export function readGpuState(sab: SharedArrayBuffer): GpuStateSnapshot | null {
  const h = header(sab);
  if (h === null) return null;
  const r = new ScreenReader(sab);
  const g = r.geometry();
  const c = r.cursor();
  return {
    scanout: { enabled: g.enabled, resource: h[H_RESOURCE] >>> 0, width: g.width, height: g.height, format: g.enabled ? formatName(g.format) : null, flushes: h[C_FLUSHES] >>> 0 },
    cursor: { visible: c.visible, x: c.x, y: c.y, hotX: c.hotX, hotY: c.hotY },
    resources: h[C_RESOURCES],
    hostBytes: h[C_HOST_BYTES] >>> 0,
    hostLimit: h[C_HOST_LIMIT] >>> 0,
    commands: h[C_COMMANDS] >>> 0,
    cursorCommands: h[C_CURSOR_COMMANDS] >>> 0,
    transfers: h[C_TRANSFERS] >>> 0,
    transferredKiB: h[C_TRANSFER_KIB] >>> 0,
    errors: h[C_ERRORS] >>> 0,
    lastError: h[C_LAST_ERROR] !== 0 ? { response: h[C_LAST_ERROR] >>> 0, command: h[C_LAST_ERROR_CMD] >>> 0 } : null,
    maxWidth: r.maxWidth,
    maxHeight: r.maxHeight,
  };
}
