// The Screen panel's DOM: a toolbar (status, capture hint, Fit/1:1), the scanout canvas with the
// guest's cursor on an overlay canvas, and an empty state. Frames are drawn as they arrive
// (putImageData of the dirty rectangle only); the layout is recomputed on resize and on a new
// scanout size. Colours around the canvas come from the theme (screen.css).

import { h, setAttr, setHidden, setStyle, setText, toggleClass } from '../shared/dom';
import type { CursorMessage, ScreenSessionState, ToScreenPanel } from '../../src/devices/virtio-gpu/screen-messages';

type Frame = Extract<ToScreenPanel, { type: 'frame' }>;
export type ScaleMode = 'fit' | '1:1';

export class ScreenView {
  readonly canvas: HTMLCanvasElement;
  private readonly cursorCanvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly cursorCtx: CanvasRenderingContext2D;
  private readonly stage: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly hint: HTMLElement;
  private readonly scaleButton: HTMLButtonElement;
  private readonly empty: HTMLElement;
  width = 0;
  height = 0;
  enabled = false;
  private cursor: CursorMessage | null = null;
  private scale = 1;
  private session: ScreenSessionState = 'none';
  private sessionName: string | undefined;
  private noScreen = false;

  constructor(
    root: HTMLElement,
    private mode: ScaleMode,
    onScale: (mode: ScaleMode) => void,
  ) {
    this.banner = h('span', { class: 'banner', role: 'status' });
    this.hint = h('span', { class: 'hint', 'aria-live': 'polite' });
    this.scaleButton = h('button', { class: 'scale', type: 'button', title: 'Toggle between scale-to-fit and one guest pixel per CSS pixel' });
    this.scaleButton.addEventListener('click', () => {
      this.mode = this.mode === 'fit' ? '1:1' : 'fit';
      onScale(this.mode);
      this.layout();
    });
    this.canvas = h('canvas', { class: 'screen', tabindex: 0, 'aria-label': 'Guest screen: click to type into the guest' });
    this.cursorCanvas = h('canvas', { class: 'cursor', width: 64, height: 64, 'aria-hidden': 'true' });
    this.ctx = this.canvas.getContext('2d', { alpha: false })!;
    this.cursorCtx = this.cursorCanvas.getContext('2d')!;
    this.empty = h('div', { class: 'empty' });
    this.stage = h('div', { class: 'stage' }, h('div', { class: 'frame' }, this.canvas, this.cursorCanvas));
    root.append(h('div', { class: 'toolbar' }, this.banner, this.hint, this.scaleButton), this.stage, this.empty);
    new ResizeObserver(() => this.layout()).observe(this.stage);
    this.setCaptured(false);
    this.setSession('none');
    this.layout();
  }

  setSession(state: ScreenSessionState, name?: string, noScreen = false): void {
    this.session = state;
    this.sessionName = name;
    this.noScreen = noScreen;
    document.body.dataset.session = state;
    const size = this.enabled ? ` · ${this.width}×${this.height}` : '';
    const who = name ? ` — ${name}` : '';
    if (state === 'running') setText(this.banner, `● Live${who}${size}`);
    else if (state === 'paused') setText(this.banner, `Paused${who} — the exact frame when the machine stopped; input is not sent`);
    else setText(this.banner, 'No session');
    this.updateEmpty(state);
  }

  setCaptured(on: boolean): void {
    toggleClass(this.stage, 'captured', on);
    setText(this.hint, on ? 'Keyboard captured — Ctrl+Alt+G releases it' : 'Click the screen to type into the guest');
  }

  private updateEmpty(state: ScreenSessionState): void {
    const show = state === 'none' || !this.enabled;
    setHidden(this.empty, !show);
    setHidden(this.stage, show && !this.enabled);
    setText(this.empty, this.emptyText(state));
  }

  private emptyText(state: ScreenSessionState): string {
    if (state === 'none') return 'No machine is running. Start "Boot semu" with "screen": true in its launch configuration (or run "semu: Show Screen" again to boot one).';
    if (this.noScreen) return 'This machine has no screen: add "screen": true to its launch configuration and restart it.';
    return 'No picture yet: the guest has not set a display mode (no scanout).';
  }

  /** Draws a frame: a new size first (which clears the canvas), then the dirty rectangle. */
  draw(f: Frame): void {
    const resized = f.width !== this.width || f.height !== this.height;
    if (resized) {
      this.width = f.width;
      this.height = f.height;
      this.canvas.width = Math.max(1, f.width);
      this.canvas.height = Math.max(1, f.height);
      this.layout();
    }
    if (f.enabled !== this.enabled || resized) {
      this.enabled = f.enabled;
      this.setSession(this.session, this.sessionName, this.noScreen);
    }
    if (f.rect !== null && f.pixels !== null) {
      this.ctx.putImageData(imageData(f.pixels, f.rect.w, f.rect.h), f.rect.x, f.rect.y);
    }
    if (f.cursor !== undefined) this.setCursor(f.cursor);
  }

  private setCursor(c: CursorMessage): void {
    if (c.image !== undefined) this.cursorCtx.putImageData(imageData(c.image, 64, 64), 0, 0);
    this.cursor = c;
    toggleClass(this.stage, 'guest-cursor', c.visible);
    this.placeCursor();
  }

  private placeCursor(): void {
    const c = this.cursor;
    setHidden(this.cursorCanvas, c === null || !c.visible);
    if (c === null || !c.visible) return;
    const s = this.scale;
    setStyle(this.cursorCanvas, 'width', `${64 * s}px`);
    setStyle(this.cursorCanvas, 'height', `${64 * s}px`);
    setStyle(this.cursorCanvas, 'transform', `translate(${(c.x - c.hotX) * s}px, ${(c.y - c.hotY) * s}px)`);
  }

  /** CSS size of the canvas: fit the stage keeping the aspect ratio, or one guest pixel per CSS pixel. */
  layout(): void {
    setText(this.scaleButton, this.mode === 'fit' ? '1:1' : 'Fit');
    setAttr(this.scaleButton, 'aria-pressed', this.mode === '1:1' ? 'true' : 'false');
    toggleClass(this.stage, 'one-to-one', this.mode === '1:1');
    if (this.width <= 0 || this.height <= 0) return;
    const box = this.stage.getBoundingClientRect();
    this.scale = this.mode === '1:1' ? 1 : Math.max(0.05, Math.min((box.width - 2) / this.width, (box.height - 2) / this.height));
    setStyle(this.canvas, 'width', `${Math.round(this.width * this.scale)}px`);
    setStyle(this.canvas, 'height', `${Math.round(this.height * this.scale)}px`);
    this.placeCursor();
  }
}

/** The message's bytes as ImageData without a copy (structured clone gave us our own buffer). */
function imageData(px: Uint8Array, w: number, h: number): ImageData {
  return new ImageData(new Uint8ClampedArray(px.buffer as ArrayBuffer, px.byteOffset, px.length), w, h);
}
