// The Screen panel's feed (extension-host side): turns the shared screen into frame messages of
// dirty rectangles, at most `maxFps` a second, and only while the panel keeps up — a frame is
// sent when the panel has acknowledged all but `window` of the frames before it. While the
// panel is slow the dirty area keeps growing here (poll() drains the device's ring every call),
// so nothing is lost and the worker never waits; the next frame simply covers more.
// Pure: no Node imports.

import { CURSOR_SIZE, ScreenReader, type Rect } from './screen';
import type { CursorMessage, ToScreenPanel } from './screen-messages';

/** A frame as the feed builds it: what the panel gets, and when its newest flush was published. */
export type FrameMessage = Extract<ToScreenPanel, { type: 'frame' }> & { flushedAt?: number };

export interface ScreenFeedOptions {
  /** Frames per second at most (default 60). */
  maxFps?: number;
  /** Frames sent and not yet acknowledged (default 2: one drawing, one on the way). */
  window?: number;
}

export interface FeedStats {
  frames: number;
  acked: number;
  /** Bytes of pixels sent. */
  bytes: number;
  /** poll() calls that had changes but waited for the panel. */
  heldBack: number;
}

export class ScreenFeed {
  private readonly reader: ScreenReader;
  private readonly minGapMs: number;
  private readonly window: number;
  private pending: Rect | null = null;
  private geometryKey = '';
  private frame = 0;
  private acked = 0;
  private lastSent = -Infinity;
  private cursorSeq = -1;
  private cursorHash = -1;
  readonly stats: FeedStats = { frames: 0, acked: 0, bytes: 0, heldBack: 0 };

  constructor(screen: SharedArrayBuffer, opts: ScreenFeedOptions = {}) {
    this.reader = new ScreenReader(screen);
    this.minGapMs = 1000 / (opts.maxFps ?? 60);
    this.window = opts.window ?? 2;
  }

  /** The panel (re)loaded: its canvas is empty, so everything is new and nothing is in flight. */
  restart(): void {
    this.reader.invalidate();
    this.pending = null;
    this.geometryKey = '';
    this.acked = this.frame;
    this.cursorSeq = -1;
    this.cursorHash = -1;
  }

  ack(frame: number): void {
    if (frame > this.acked && frame <= this.frame) {
      this.stats.acked += frame - this.acked;
      this.acked = frame;
    }
  }

  /** Frames sent and not acknowledged. */
  get inFlight(): number {
    return this.frame - this.acked;
  }

  /**
   * Call often (every ~16 ms, and on each ack): the next frame to post, or null when nothing
   * changed, the last frame was sent less than 1/maxFps ago, or the panel is behind.
   */
  poll(now: number): FrameMessage | null {
    this.drain();
    const cursor = this.cursorChange();
    const geometry = this.geometryChanged();
    if (this.pending === null && cursor === undefined && !geometry) return null;
    if (this.inFlight >= this.window || now - this.lastSent < this.minGapMs) {
      this.stats.heldBack++;
      this.keepCursor(cursor);
      return null;
    }
    this.lastSent = now;
    return this.build(now, cursor, false);
  }

  /**
   * The machine stopped: the exact frame (everything still dirty, and the cursor), whatever the
   * rate limit and the panel's lag (rect null when nothing changed since the last frame).
   */
  freeze(now: number): FrameMessage {
    this.drain();
    return this.build(now, this.cursorChange(), true);
  }

  private drain(): void {
    const t = this.reader.take();
    if (t === null || t.rect === null) return;
    this.pending = this.pending === null ? t.rect : union(this.pending, t.rect);
  }

  private geometryChanged(): boolean {
    const g = this.reader.geometry();
    return `${g.enabled}:${g.width}x${g.height}` !== this.geometryKey;
  }

  private build(now: number, cursor: CursorMessage | undefined, final: boolean): FrameMessage {
    const g = this.reader.geometry();
    this.geometryKey = `${g.enabled}:${g.width}x${g.height}`;
    let rect = this.pending;
    this.pending = null;
    if (rect !== null) rect = clip(rect, g.width, g.height);
    const pixels = rect !== null ? this.reader.readRgba(rect) : null;
    this.frame++;
    this.stats.frames++;
    if (pixels !== null) this.stats.bytes += pixels.length;
    const msg: FrameMessage = { type: 'frame', frame: this.frame, width: g.width, height: g.height, enabled: g.enabled, rect, pixels, readAt: now };
    if (rect !== null) msg.flushedAt = this.reader.publishedAt();
    if (final) msg.final = true;
    if (cursor !== undefined) msg.cursor = cursor;
    return msg;
  }

  /** The cursor as a message when it changed since the last frame (image only if it changed). */
  private cursorChange(): CursorMessage | undefined {
    const c = this.reader.cursor();
    if (c.seq === this.cursorSeq) return undefined;
    this.cursorSeq = c.seq;
    const msg: CursorMessage = { visible: c.visible, x: c.x, y: c.y, hotX: c.hotX, hotY: c.hotY };
    if (c.visible) {
      const image = this.reader.cursorRgba();
      const h = hash(image);
      if (h !== this.cursorHash) {
        this.cursorHash = h;
        msg.image = image;
      }
    }
    return msg;
  }

  /** A cursor change we could not send yet: forget we saw it, so the next poll sends it. */
  private keepCursor(c: CursorMessage | undefined): void {
    if (c === undefined) return;
    this.cursorSeq = -1;
    if (c.image !== undefined) this.cursorHash = -1;
  }
}

function union(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}

function clip(r: Rect, width: number, height: number): Rect | null {
  const x2 = Math.min(r.x + r.w, width);
  const y2 = Math.min(r.y + r.h, height);
  return x2 > r.x && y2 > r.y ? { x: r.x, y: r.y, w: x2 - r.x, h: y2 - r.y } : null;
}

/** FNV-1a over the cursor image: tells a new cursor shape from a move. */
function hash(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < CURSOR_SIZE * CURSOR_SIZE * 4; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}
