// The Screen panel in real Chromium as the controller's ScreenPort: what the controller posts
// goes to the page with window.postMessage (in order), what the panel posts comes back to the
// controller as it posts it. Stands where VS Code's WebviewPanel stands in the extension; the
// transport is Playwright's (CDP), not VS Code's IPC.
import type { Browser } from 'playwright-core';
import { openPanel, type PanelPage } from './harness';
import type { Disposable, ScreenPort } from '../../src/panels/screen-controller';
import type { ToScreenPanel } from '../../src/devices/virtio-gpu/screen-messages';

export class PagePort implements ScreenPort {
  visible = true;
  panel!: PanelPage;
  /** Main-thread ms this port spent encoding posts for CDP (the controller counts it as its own). */
  encodeMs = 0;
  private queue: Promise<unknown>;
  private opened!: (panel: PanelPage) => void;
  private readonly handlers = new Set<(d: unknown) => void>();
  private readonly visibility = new Set<(v: boolean) => void>();
  private readonly gone = new Set<() => void>();

  constructor() {
    // Posts wait for the page: the panel says 'ready' (and gets answers) while it is opening.
    this.queue = new Promise<PanelPage>((resolve) => (this.opened = resolve));
  }

  /** Opens the panel page; the controller subscribed before, so it sees the panel's 'ready'. */
  async open(browser: Browser, size = { width: 1100, height: 850 }): Promise<PanelPage> {
    this.panel = await openPanel(browser, 'screen', { ...size, onPost: (m) => this.deliver(m) });
    this.opened(this.panel);
    return this.panel;
  }

  private deliver(m: unknown): void {
    for (const h of [...this.handlers]) h(m);
  }

  post(msg: ToScreenPanel): void {
    // Typed arrays cross CDP as base64 (Playwright would send them as JSON number arrays:
    // seconds for a 3 MB frame); the page turns them back into Uint8Arrays before posting.
    const t0 = performance.now();
    const wire = JSON.stringify(msg, (_k, v: unknown) => (v instanceof Uint8Array ? { __u8: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') } : v));
    this.encodeMs += performance.now() - t0;
    this.queue = this.queue
      .then(() =>
        this.panel.page.evaluate((text) => {
          const m = JSON.parse(text, (_k, v: unknown) => {
            const b64 = (v as { __u8?: string } | null)?.__u8;
            if (typeof b64 !== 'string') return v;
            const bin = atob(b64);
            const out = new Uint8Array(bin.length);
            for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
            return out;
          });
          window.postMessage(m, '*');
        }, wire),
      )
      .catch(() => undefined);
  }

  /** Resolves when everything posted so far reached the page. */
  settled(): Promise<unknown> {
    return this.queue;
  }

  onMessage(h: (d: unknown) => void): Disposable {
    this.handlers.add(h);
    return { dispose: () => this.handlers.delete(h) };
  }

  onDidChangeVisibility(h: (v: boolean) => void): Disposable {
    this.visibility.add(h);
    return { dispose: () => this.visibility.delete(h) };
  }

  onDidDispose(h: () => void): Disposable {
    this.gone.add(h);
    return { dispose: () => this.gone.delete(h) };
  }

  async close(): Promise<void> {
    await this.settled();
    for (const h of [...this.gone]) h();
    await this.panel?.close();
  }
}

/** The panel canvas's pixels (RGBA) in a rectangle. */
export function canvasPixels(panel: PanelPage, x: number, y: number, w: number, h: number): Promise<number[]> {
  return panel.page.evaluate(
    ({ x, y, w, h }) => [...(document.querySelector('canvas.screen') as HTMLCanvasElement).getContext('2d')!.getImageData(x, y, w, h).data],
    { x, y, w, h },
  );
}
