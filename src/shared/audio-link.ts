// The webview audio backend's messages. Three hops, one vocabulary:
//   emulator worker (src/audio/webview.ts) ⇄ BroadcastChannel AUDIO_CHANNEL ⇄ extension host relay
//   (src/panels/audio-relay.ts) ⇄ webview.postMessage ⇄ the "semu audio" page (webview/audio/),
//   whose AudioWorklet (webview/audio/worklet.ts) plays the PCM and reports progress.
// Replies reuse the audio host's shapes (src/audio/host-protocol.ts: opened / progress / error /
// closed); the worker side is paced by the guest clock (src/audio/webview.ts).
import type { HostReply } from '../audio/host-protocol';
import type { SampleFormat } from '../audio/backend';

/** The BroadcastChannel name the worker and the extension host share (one process). */
export const AUDIO_CHANNEL = 'vscode-semu/webview-audio';

export interface LinkOpen {
  id: string;
  t: 'open';
  rate: number;
  channels: number;
  format: SampleFormat;
  /** The page's jitter buffer: frames it holds before it plays (its latency). */
  targetFrames: number;
  /** What the page shows, e.g. "virtio-snd TX". */
  label?: string;
}

/** Worker → page (through the relay). `pcm`: interleaved little-endian frames; `end`: play what is queued, then close. */
export type LinkRequest = LinkOpen | { id: string; t: 'start' | 'stop' | 'end' | 'kill' } | { id: string; t: 'pcm'; data: Uint8Array };

/** The bytes of a `pcm` message as a Uint8Array, however the hops delivered them. */
export function pcmBytes(data: ArrayBufferView | ArrayBuffer): Uint8Array {
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Page → worker (through the relay); `ack` comes from the relay itself on `open`. */
export type LinkReply = { id: string; reply: HostReply } | { id: string; t: 'ack' };

/** Page → relay only. */
export type PageNotice = { t: 'ready' } | { t: 'gesture'; needed: boolean };

export const SAMPLE_FORMATS: readonly SampleFormat[] = ['S16', 'S32', 'FLOAT'];

/** True for a well-formed LinkRequest (the page and the relay check what they are handed). */
export function isLinkRequest(m: unknown): m is LinkRequest {
  if (!m || typeof m !== 'object') return false;
  const r = m as Record<string, unknown>;
  if (typeof r.id !== 'string' || r.id.length > 64) return false;
  switch (r.t) {
    case 'open':
      return (
        Number.isInteger(r.rate) && (r.rate as number) >= 3000 && (r.rate as number) <= 384000 &&
        Number.isInteger(r.channels) && (r.channels as number) >= 1 && (r.channels as number) <= 8 &&
        SAMPLE_FORMATS.includes(r.format as SampleFormat) &&
        Number.isInteger(r.targetFrames) && (r.targetFrames as number) > 0 && (r.targetFrames as number) <= 384000
      );
    case 'pcm':
      return ArrayBuffer.isView(r.data) || r.data instanceof ArrayBuffer;
    case 'start':
    case 'stop':
    case 'end':
    case 'kill':
      return true;
    default:
      return false;
  }
}
