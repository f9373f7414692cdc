// The extension host's half of the webview audio backend (no VS Code import: the Chromium test
// drives it with a real page, test/webview/audio.browser.test.ts). It listens on the
// BroadcastChannel the emulator workers of this extension host post to, acknowledges each open at
// once (so a worker learns a window is there), asks for the "semu audio" page, and forwards each
// stream's messages to it in order, holding them until the page says it is ready. Replies go
// back unchanged. A page that goes away fails its streams, which fall back to null audio.
import { BroadcastChannel } from 'node:worker_threads';
import type { HostReply } from '../audio/host-protocol';
import { AUDIO_CHANNEL, isLinkRequest, type LinkReply, type LinkRequest, type PageNotice } from '../shared/audio-link';
import { logger } from '../log';

const log = logger('audio-relay');

/** The page, as the relay sees it. */
export interface AudioPage {
  post(m: LinkRequest): void;
}

export interface AudioRelayEvents {
  /** The page needs a click before it can play (autoplay policy), or no longer does. */
  onGesture?(needed: boolean): void;
}

export class AudioRelay {
  private readonly ch = new BroadcastChannel(AUDIO_CHANNEL);
  private readonly streams = new Set<string>();
  private page: AudioPage | null = null;
  private ready = false;
  private waiting: LinkRequest[] = [];
  private opening: Promise<AudioPage | null> | null = null;

  /** `openPage` shows (or creates) the page; null when it cannot. */
  constructor(
    private readonly openPage: () => Promise<AudioPage | null>,
    private readonly events: AudioRelayEvents = {},
  ) {
    this.ch.unref();
    this.ch.onmessage = (e) => this.fromWorker((e as { data: unknown }).data);
  }

  /** Streams open now (for the status bar and tests). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Opens the page ahead of the first stream (a session whose audioOut is "webview" started). */
  prepare(): void {
    void this.ensurePage(null);
  }

  /** The page posted something. */
  fromPage(m: unknown): void {
    const n = m as PageNotice | LinkReply;
    if (!n || typeof n !== 'object') return;
    if ('t' in n && n.t === 'ready') {
      this.ready = true;
      this.flush();
    } else if ('t' in n && n.t === 'gesture') {
      this.events.onGesture?.(n.needed === true);
    } else if ('reply' in n && typeof n.id === 'string' && this.streams.has(n.id)) {
      const t = (n.reply as HostReply).t;
      if (t === 'closed' || t === 'error') this.streams.delete(n.id);
      this.ch.postMessage(n);
    }
  }

  /** The page is gone (closed by the person, or the window reloaded): its streams fail. */
  pageGone(): void {
    this.page = null;
    this.ready = false;
    this.waiting = [];
    for (const id of this.streams) this.toWorker({ id, reply: { t: 'error', message: 'the "semu audio" panel was closed' } });
    this.streams.clear();
  }

  dispose(): void {
    this.pageGone();
    this.ch.close();
  }

  private fromWorker(m: unknown): void {
    if (!isLinkRequest(m)) return;
    if (m.t === 'open') {
      this.streams.add(m.id);
      this.toWorker({ id: m.id, t: 'ack' });
      void this.ensurePage(m.id);
    } else if (!this.streams.has(m.id)) {
      return;
    }
    if (this.page && this.ready) this.page.post(m);
    else this.waiting.push(m);
    if (m.t === 'kill') this.streams.delete(m.id);
  }

  private async ensurePage(id: string | null): Promise<void> {
    if (this.page) return;
    this.opening ??= this.openPage().catch((e: Error) => {
      log.warn(`the "semu audio" panel could not be opened: ${e.message}`);
      return null;
    });
    const page = await this.opening;
    this.opening = null;
    if (page) {
      this.page ??= page;
      this.flush();
      return;
    }
    if (id === null) return;
    this.waiting = this.waiting.filter((r) => r.id !== id);
    if (this.streams.delete(id)) this.toWorker({ id, reply: { t: 'error', message: 'the "semu audio" panel could not be opened' } });
  }

  /** Sends what waited for the page, once it is there and has said it is ready. */
  private flush(): void {
    if (!this.page || !this.ready) return;
    const w = this.waiting;
    this.waiting = [];
    for (const r of w) this.page.post(r);
  }

  private toWorker(m: LinkReply): void {
    this.ch.postMessage(m);
  }
}
