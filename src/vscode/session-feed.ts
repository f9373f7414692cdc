// Feeds the panels (PanelHub) from the current semu debug session: semu/levels and semu/state
// events as they arrive, semu/virtqueues polled at 5 Hz while the machine runs and an inspector
// is visible (once more when it pauses — a paused snapshot is exact), semu/streams at 1 Hz for a
// visible levels panel. No VS Code import: the session is reached through FeedSession, so this
// is unit-tested with stand-ins (test/extension/session-feed.test.ts).

import type { PanelHub } from '../panels/hub';
import { DAP_LEVELS, DAP_STATE, DAP_STREAMS, DAP_VIRTQUEUES, type LevelsEventBody, type StreamsResponseBody, type VirtqueuesResponseBody } from '../shared/protocol';
import { logger } from '../log';

const log = logger('feed');

export const VIRTQUEUE_POLL_MS = 200;
export const STREAMS_POLL_MS = 1000;

export interface FeedSession {
  readonly id: string;
  readonly name: string;
  customRequest(command: string, args?: unknown): PromiseLike<unknown>;
}

type Hub = Pick<PanelHub, 'session' | 'levels' | 'streams' | 'virtqueues' | 'wantsVirtqueues' | 'wantsStreams' | 'onDidChangeWants' | 'onRequest' | 'sessionState'>;

export class SessionFeed {
  private current: FeedSession | null = null;
  private running = false;
  private vqTimer: ReturnType<typeof setInterval> | null = null;
  private streamsTimer: ReturnType<typeof setInterval> | null = null;
  private inFlight = new Set<string>();
  private readonly subs: { dispose(): void }[];

  constructor(private readonly hub: Hub) {
    this.subs = [
      hub.onDidChangeWants(() => this.schedule()),
      hub.onRequest((what) => void this.fetch(what === 'virtqueues' ? DAP_VIRTQUEUES : DAP_STREAMS)),
    ];
  }

  get session(): FeedSession | null {
    return this.current;
  }

  started(s: FeedSession): void {
    this.current = s;
    this.running = true;
    this.hub.session('running', s.name);
    this.schedule();
  }

  customEvent(s: FeedSession, event: string, body: unknown): void {
    if (s.id !== this.current?.id) return;
    if (event === DAP_LEVELS) {
      this.hub.levels(body as LevelsEventBody);
    } else if (event === DAP_STATE) {
      const state = (body as { state?: string } | undefined)?.state;
      if (state === 'running' || state === 'paused') {
        this.running = state === 'running';
        this.hub.session(state, s.name);
        this.schedule();
      } else if (state === 'exited') {
        this.running = false;
        this.schedule();
      }
    }
  }

  terminated(s: FeedSession): void {
    if (s.id !== this.current?.id) return;
    this.current = null;
    this.running = false;
    this.schedule();
    this.hub.session('none');
  }

  /** Starts/stops the poll timers to match what is wanted now. */
  private schedule(): void {
    const live = this.current !== null && this.running;
    const wantVq = live && this.hub.wantsVirtqueues;
    const wantStreams = live && this.hub.wantsStreams;
    if (wantVq && !this.vqTimer) this.vqTimer = setInterval(() => void this.fetch(DAP_VIRTQUEUES), VIRTQUEUE_POLL_MS);
    if (!wantVq && this.vqTimer) {
      clearInterval(this.vqTimer);
      this.vqTimer = null;
    }
    if (wantStreams && !this.streamsTimer) this.streamsTimer = setInterval(() => void this.fetch(DAP_STREAMS), STREAMS_POLL_MS);
    if (!wantStreams && this.streamsTimer) {
      clearInterval(this.streamsTimer);
      this.streamsTimer = null;
    }
  }

  /** One custom request; a slow answer is never stacked behind another of the same kind. */
  private async fetch(command: string): Promise<void> {
    const s = this.current;
    if (!s || this.inFlight.has(command)) return;
    this.inFlight.add(command);
    try {
      const body = await s.customRequest(command);
      if (s !== this.current || !body) return;
      if (command === DAP_VIRTQUEUES) this.hub.virtqueues(body as VirtqueuesResponseBody);
      else this.hub.streams(body as StreamsResponseBody);
    } catch (e) {
      log.debug(`${command}: ${(e as Error).message}`);
    } finally {
      this.inFlight.delete(command);
    }
  }

  get polling(): { virtqueues: boolean; streams: boolean } {
    return { virtqueues: this.vqTimer !== null, streams: this.streamsTimer !== null };
  }

  dispose(): void {
    this.current = null;
    this.running = false;
    this.schedule();
    for (const s of this.subs) s.dispose();
  }
}
