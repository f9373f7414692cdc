// The `webview` backend: the guest's playback goes to Web Audio in a VS Code webview ("semu audio"
// panel), so it sounds where the person sits even when the extension host is remote (SSH, WSL, a
// container, a codespace) or has no PortAudio addon.
//
// Pacing: the guest clock, exactly as the null and WAV backends (PacedStream, docs/audio.md): a
// window may be a network round trip away, so its progress cannot be the guest's period clock
// (a late report would stall the guest or drop its frames). The frames due leave the ring into a
// WebviewSink, which posts them over a BroadcastChannel to the extension host's relay
// (src/panels/audio-relay.ts), which forwards them to the page; the page's AudioWorklet plays
// them from a jitter buffer (webview/audio/pcm-queue.ts). Xruns: the ring's own gaps, as in
// PacedStream, plus the page's (its buffer ran dry while the guest was playing, or overflowed).
// Capture is not offered: a webview cannot open the microphone.

import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { logger } from '../log';
import { AUDIO_CHANNEL, type LinkReply, type LinkRequest } from '../shared/audio-link';
import type { AudioBackend, AudioStream, AudioStreamStats, PcmParams } from './backend';
import { frameBytes } from './backend';
import { nullStream } from './null';
import { PacedStream, type PacedSink } from './paced';
import { checkParams, createStreamRing } from './stream-ring';
import { copyBytes } from '../shared/bytes';

const log = logger('audio');

/** No relay answered an open this fast: no VS Code window is there to play in. */
const ACK_TIMEOUT_MS = 3000;
/** Frames are posted in batches of about this much audio (fewer, larger messages across hops). */
const BATCH_MS = 20;
/** The page's jitter buffer: what it holds before it plays, and so the latency (ms). */
export const WEBVIEW_LATENCY_MS = 200;

export const WEBVIEW_CAPTURE_UNSUPPORTED =
  'the webview backend only plays: a webview cannot open the microphone, so capture is silence (use audioIn "portaudio" or "wav:PATH")';
const NO_WINDOW = 'no VS Code window answered: the webview backend plays only inside VS Code (from the CLI use "portaudio" or "wav:PATH")';

/** Where a paced output stream's frames go: the page, through the relay. */
export class WebviewSink implements PacedSink {
  error: string | null = null;
  /** The page's own xruns (from its progress reports). */
  remoteXruns = 0;
  private readonly ch = new BroadcastChannel(AUDIO_CHANNEL);
  private readonly batch: Uint8Array;
  private batchLen = 0;
  private readonly fb: number;
  private ackTimer: NodeJS.Timeout | null;
  private closed = false;

  constructor(
    readonly id: string,
    p: PcmParams,
  ) {
    this.fb = frameBytes(p);
    this.batch = new Uint8Array(Math.max(1, Math.round((p.rate * BATCH_MS) / 1000)) * this.fb);
    this.ch.unref();
    this.ch.onmessage = (e) => this.onReply((e as { data: unknown }).data as LinkReply);
    const targetFrames = Math.round((p.rate * WEBVIEW_LATENCY_MS) / 1000);
    this.post({ id, t: 'open', rate: p.rate, channels: p.channels, format: p.format, targetFrames, label: 'virtio-snd TX' });
    this.ackTimer = setTimeout(() => this.fail(NO_WINDOW), ACK_TIMEOUT_MS);
    this.ackTimer.unref();
  }

  consume(src: Uint8Array, len: number): void {
    let off = 0;
    while (off < len) {
      const n = Math.min(len - off, this.batch.length - this.batchLen);
      copyBytes(this.batch, this.batchLen, src, off, n);
      this.batchLen += n;
      off += n;
      if (this.batchLen === this.batch.length) this.flush();
    }
  }

  silence(frames: number): void {
    let left = frames * this.fb;
    while (left > 0) {
      const n = Math.min(left, this.batch.length - this.batchLen);
      this.batch.fill(0, this.batchLen, this.batchLen + n);
      this.batchLen += n;
      left -= n;
      if (this.batchLen === this.batch.length) this.flush();
    }
  }

  /** Posts what is batched (when a batch is full, and at START, STOP and close). */
  flush(): void {
    if (this.batchLen === 0) return;
    this.post({ id: this.id, t: 'pcm', data: this.batch.slice(0, this.batchLen) });
    this.batchLen = 0;
  }

  gate(t: 'start' | 'stop'): void {
    this.flush();
    this.post({ id: this.id, t });
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.post({ id: this.id, t: 'end' });
    this.closed = true;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ch.close();
  }

  private post(m: LinkRequest): void {
    if (!this.closed && this.error === null) this.ch.postMessage(m);
  }

  private onReply(m: LinkReply): void {
    if (!m || m.id !== this.id || this.closed) return;
    if ('t' in m) {
      if (this.ackTimer) clearTimeout(this.ackTimer);
      this.ackTimer = null;
      return;
    }
    const r = m.reply;
    if (r.t === 'progress') this.remoteXruns = r.xruns;
    else if (r.t === 'opened') log.info(`output stream plays in the "semu audio" panel (${r.device})`);
    else if (r.t === 'error') this.fail(r.message);
  }

  private fail(message: string): void {
    if (this.error !== null || this.closed) return;
    this.error = `webview audio: ${message}; the stream continues as null audio`;
    log.warn(this.error);
    this.post({ id: this.id, t: 'kill' });
  }
}

/** PacedStream with the page told of START/STOP and its xruns counted. */
class WebviewStream extends PacedStream {
  constructor(
    params: PcmParams,
    private readonly page: WebviewSink,
  ) {
    super(params, createStreamRing(params), 'webview', page, null);
    // After a fallback the stream says 'null', as every backend's does (backend.ts).
    Object.defineProperty(this, 'description', { get: () => (page.error ? 'null' : 'webview') });
  }

  override start(): void {
    super.start();
    this.page.gate('start');
  }

  override stop(): void {
    super.stop();
    this.page.gate('stop');
  }

  override stats(): AudioStreamStats {
    const s = super.stats();
    return { ...s, xruns: s.xruns + this.page.remoteXruns };
  }
}

export class WebviewBackend implements AudioBackend {
  readonly spec = 'webview';
  private readonly streams = new Set<AudioStream>();

  open(params: PcmParams): AudioStream {
    checkParams(params);
    if (params.direction === 'input') {
      log.warn(WEBVIEW_CAPTURE_UNSUPPORTED);
      return nullStream(params, createStreamRing(params), WEBVIEW_CAPTURE_UNSUPPORTED);
    }
    const s = new WebviewStream(params, new WebviewSink(randomUUID(), params));
    this.streams.add(s);
    return s;
  }

  dispose(): void {
    for (const s of this.streams) s.close();
    this.streams.clear();
  }
}
