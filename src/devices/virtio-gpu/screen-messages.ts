// Messages between the Screen panel's webview and its controller in the extension host, and
// their checks: everything a webview posts is untrusted input. Pure: no Node imports (the
// webview bundle imports this file too).

import type { Rect } from './screen';

export type ScreenSessionState = 'running' | 'paused' | 'none';

/** The guest's cursor plane, when it changed (image only when the image changed). */
export interface CursorMessage {
  visible: boolean;
  x: number;
  y: number;
  hotX: number;
  hotY: number;
  /** 64 × 64 RGBA, straight alpha. */
  image?: Uint8Array;
}

/** Host → panel. */
export type ToScreenPanel =
  /** noScreen: the machine runs without a GPU (launched without "screen"). */
  | { type: 'session'; state: ScreenSessionState; name?: string; noScreen?: boolean }
  | {
      type: 'frame';
      /** The feed's frame number: the panel acknowledges it with frameDone once drawn. */
      frame: number;
      width: number;
      height: number;
      enabled: boolean;
      /** The changed rectangle and its RGBA pixels (rect.w × rect.h × 4 bytes); null: geometry only. */
      rect: Rect | null;
      pixels: Uint8Array | null;
      cursor?: CursorMessage;
      /** The exact frame of a stopped machine: drawn even while paused. */
      final?: boolean;
      /** Host time (ms, performance.now() of the producer) when the frame was read: for latency measurements. */
      readAt?: number;
    };

/** Panel → host. */
export type FromScreenPanel =
  | { type: 'ready' }
  | { type: 'frameDone'; frame: number }
  /** A Linux key code (1..255) went down or up. */
  | { type: 'key'; code: number; down: boolean }
  /** The pointer in scanout pixels (fractions allowed). */
  | { type: 'pointer'; x: number; y: number }
  /** DOM MouseEvent.button: 0 left, 1 middle, 2 right, 3 back, 4 forward. */
  | { type: 'button'; button: number; down: boolean }
  /** Wheel clicks: dy > 0 away from the user (up), dx > 0 right. */
  | { type: 'wheel'; dx: number; dy: number };

const MAX_COORD = 1 << 16;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function finite(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;
}

function int(v: unknown, lo: number, hi: number): v is number {
  return finite(v, lo, hi) && Number.isInteger(v);
}

/** Checks a message from the webview; null when it is not one we accept. */
export function parseFromScreenPanel(data: unknown): FromScreenPanel | null {
  if (!isObj(data)) return null;
  switch (data.type) {
    case 'ready':
      return { type: 'ready' };
    case 'frameDone':
      return int(data.frame, 0, Number.MAX_SAFE_INTEGER) ? { type: 'frameDone', frame: data.frame } : null;
    case 'key':
      return int(data.code, 1, 255) && typeof data.down === 'boolean' ? { type: 'key', code: data.code, down: data.down } : null;
    case 'pointer':
      return finite(data.x, -MAX_COORD, MAX_COORD) && finite(data.y, -MAX_COORD, MAX_COORD) ? { type: 'pointer', x: data.x, y: data.y } : null;
    case 'button':
      return int(data.button, 0, 4) && typeof data.down === 'boolean' ? { type: 'button', button: data.button, down: data.down } : null;
    case 'wheel':
      return int(data.dx, -100, 100) && int(data.dy, -100, 100) ? { type: 'wheel', dx: data.dx, dy: data.dy } : null;
    default:
      return null;
  }
}

function isRect(v: unknown, width: number, height: number): v is Rect {
  return isObj(v) && int(v.x, 0, width) && int(v.y, 0, height) && int(v.w, 1, width) && int(v.h, 1, height) && v.x + v.w <= width && v.y + v.h <= height;
}

/** Checks a message from the host (the webview trusts nothing it cannot draw safely). */
export function parseToScreenPanel(data: unknown): ToScreenPanel | null {
  if (!isObj(data)) return null;
  if (data.type === 'session') {
    if (data.state !== 'running' && data.state !== 'paused' && data.state !== 'none') return null;
    const out: ToScreenPanel = { type: 'session', state: data.state, name: typeof data.name === 'string' ? data.name.slice(0, 200) : undefined };
    if (data.noScreen === true) out.noScreen = true;
    return out;
  }
  if (data.type !== 'frame') return null;
  const { width, height } = data;
  if (!int(data.frame, 0, Number.MAX_SAFE_INTEGER) || !int(width, 0, MAX_COORD) || !int(height, 0, MAX_COORD) || typeof data.enabled !== 'boolean') return null;
  let rect: Rect | null = null;
  let pixels: Uint8Array | null = null;
  if (data.rect !== null && data.rect !== undefined) {
    if (!isRect(data.rect, width, height) || !(data.pixels instanceof Uint8Array) || data.pixels.length !== data.rect.w * data.rect.h * 4) return null;
    rect = { x: data.rect.x, y: data.rect.y, w: data.rect.w, h: data.rect.h };
    pixels = data.pixels;
  }
  const out: ToScreenPanel = { type: 'frame', frame: data.frame, width, height, enabled: data.enabled, rect, pixels, final: data.final === true };
  if (finite(data.readAt, 0, Number.MAX_VALUE)) out.readAt = data.readAt;
  const c = data.cursor;
  if (isObj(c) && typeof c.visible === 'boolean' && int(c.x, -MAX_COORD, MAX_COORD) && int(c.y, -MAX_COORD, MAX_COORD) && int(c.hotX, 0, 63) && int(c.hotY, 0, 63)) {
    out.cursor = { visible: c.visible, x: c.x, y: c.y, hotX: c.hotX, hotY: c.hotY };
    if (c.image instanceof Uint8Array && c.image.length === 64 * 64 * 4) out.cursor.image = c.image;
  }
  return out;
}
