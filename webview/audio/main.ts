// Entry of the "semu audio" panel (bundled to dist/webview/audio.js): plays the guest's virtio-snd
// output through Web Audio, one AudioContext (at the stream's own rate) and one AudioWorkletNode
// per open stream. Messages come from the extension host relay (src/panels/audio-relay.ts, types
// in src/shared/audio-link.ts); replies go back to the emulator through it. A browser that keeps
// audio suspended until a click (autoplay policy) gets a button; the stream opens once it runs.
import '../common.css';
import '../audio.css';
import type { HostReply } from '../../src/audio/host-protocol';
import { isLinkRequest, pcmBytes, type LinkOpen, type LinkReply, type PageNotice } from '../../src/shared/audio-link';
import { h } from '../shared/dom';
import type { ToProcessor } from './worklet';

interface VsApi {
  postMessage(m: LinkReply | PageNotice): void;
}
declare const acquireVsCodeApi: undefined | (() => VsApi);
const api: VsApi = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : { postMessage: () => undefined };

const root = document.getElementById('app') ?? document.body;
// The worklet's bundle, inlined by the build (scripts/build.mjs) and loaded from a blob: URL, so
// it needs neither the network nor VS Code's resource service worker.
declare const SEMU_WORKLET_SOURCE: string;
const workletUrl = URL.createObjectURL(new Blob([SEMU_WORKLET_SOURCE], { type: 'text/javascript' }));

interface Stream {
  open: LinkOpen;
  ctx: AudioContext | null;
  node: AudioWorkletNode | null;
  gain: GainNode | null;
  row: HTMLElement;
  status: HTMLElement;
  counters: HTMLElement;
  backlog: ToProcessor[]; // what came before the worklet was ready
  closed: boolean;
}

const streams = new Map<string, Stream>();
const list = h('ul', { class: 'streams', 'aria-live': 'polite' });
const empty = h('p', { class: 'muted' }, 'No stream has played yet. Sound appears here when the guest opens a virtio-snd playback stream with audioOut "webview".');
const allow = h('button', { class: 'allow', hidden: true }, 'Click to allow sound');
const mute = h('button', { class: 'mute', 'aria-pressed': 'false' }, 'Mute');
root.append(
  h('h1', {}, 'semu audio'),
  h('p', { class: 'muted' }, "The guest's playback, played here through Web Audio — where this window is, even when the machine runs remotely. Capture is not available in a webview."),
  h('div', { class: 'controls' }, allow, mute),
  empty,
  list,
);

let muted = false;
mute.addEventListener('click', () => {
  muted = !muted;
  mute.setAttribute('aria-pressed', String(muted));
  mute.textContent = muted ? 'Unmute' : 'Mute';
  for (const s of streams.values()) if (s.gain) s.gain.gain.value = muted ? 0 : 1;
});
allow.addEventListener('click', () => {
  for (const s of streams.values()) void s.ctx?.resume().then(() => whenRunning(s));
});

function reply(id: string, r: HostReply): void {
  api.postMessage({ id, reply: r });
}

function showGesture(): void {
  const needed = [...streams.values()].some((s) => s.ctx?.state === 'suspended' && !s.closed);
  allow.hidden = !needed;
  api.postMessage({ t: 'gesture', needed });
}

/** One AudioContext per sample rate, with the worklet module loaded, shared by the streams. */
const contexts = new Map<number, Promise<AudioContext>>();

function contextFor(rate: number): Promise<AudioContext> {
  let c = contexts.get(rate);
  if (!c) {
    const ctx = new AudioContext({ sampleRate: rate, latencyHint: 'playback' });
    c = ctx.audioWorklet.addModule(workletUrl).then(() => ctx);
    contexts.set(rate, c);
    c.catch(() => contexts.delete(rate));
  }
  return c;
}

async function openStream(o: LinkOpen): Promise<void> {
  const status = h('span', { class: 'status' }, 'opening');
  const counters = h('span', { class: 'counters' });
  const row = h('li', {}, h('strong', {}, o.label ?? 'stream'), ` ${o.rate} Hz, ${o.channels} ch, ${o.format} — `, status, ' ', counters);
  const s: Stream = { open: o, ctx: null, node: null, gain: null, row, status, counters, backlog: [], closed: false };
  streams.set(o.id, s);
  list.append(row);
  empty.hidden = true;
  try {
    const ctx = await contextFor(o.rate);
    if (s.closed) return;
    s.ctx = ctx;
    const gain = ctx.createGain();
    gain.gain.value = muted ? 0 : 1;
    gain.connect(ctx.destination);
    s.gain = gain;
    const node = new AudioWorkletNode(ctx, 'semu-pcm', {
      numberOfInputs: 0,
      outputChannelCount: [o.channels],
      processorOptions: { channels: o.channels, targetFrames: o.targetFrames, format: o.format },
    });
    node.port.onmessage = (e: MessageEvent) => fromProcessor(s, e.data);
    node.connect(gain);
    s.node = node;
    for (const m of s.backlog) toProcessor(s, m);
    s.backlog = [];
    if (ctx.state !== 'running') await Promise.race([ctx.resume(), new Promise((r) => setTimeout(r, 300))]);
    if (ctx.state === 'running') whenRunning(s);
    else {
      status.textContent = 'waiting for a click to allow sound';
      showGesture();
    }
  } catch (e) {
    fail(s, `Web Audio could not start: ${(e as Error).message}`);
  }
}

function whenRunning(s: Stream): void {
  if (s.closed || s.status.dataset.opened) return;
  s.status.dataset.opened = '1';
  s.status.textContent = 'open';
  reply(s.open.id, { t: 'opened', device: `Web Audio ${s.ctx?.sampleRate ?? s.open.rate} Hz` });
  showGesture();
}

function toProcessor(s: Stream, m: ToProcessor): void {
  if (!s.node) {
    s.backlog.push(m);
    return;
  }
  if (m.t === 'pcm') s.node.port.postMessage(m, [m.data.buffer]);
  else s.node.port.postMessage(m);
  if (m.t === 'start') s.status.textContent = 'playing';
  if (m.t === 'stop') s.status.textContent = 'stopped';
}

function fromProcessor(s: Stream, m: { t: string; frames?: number; xruns?: number; latency?: number }): void {
  if (s.closed) return;
  if (m.t === 'progress') {
    const { latency, ...progress } = m as { t: 'progress'; frames: number; silence: number; device: number; xruns: number; dropped: number; latency: number };
    reply(s.open.id, progress);
    s.counters.textContent = `${(progress.frames / s.open.rate).toFixed(1)} s played, ${progress.xruns} xruns, ${Math.round((latency / s.open.rate) * 1000)} ms queued`;
  } else if (m.t === 'closed') {
    close(s, 'closed');
  }
}

function fail(s: Stream, message: string): void {
  reply(s.open.id, { t: 'error', message });
  close(s, `failed: ${message}`);
}

function close(s: Stream, why: string): void {
  if (s.closed) return;
  s.closed = true;
  s.status.textContent = why;
  if (why === 'closed') reply(s.open.id, { t: 'closed' });
  s.node?.disconnect();
  s.gain?.disconnect();
  streams.delete(s.open.id);
  // Finished streams stay listed with their final counts; only the newest few.
  const rows = Array.from(list.children);
  for (const r of rows.slice(0, Math.max(0, rows.length - 4))) r.remove();
  showGesture();
}

window.addEventListener('message', (event: MessageEvent) => {
  const m: unknown = event.data;
  if (!isLinkRequest(m)) return;
  if (m.t === 'open') {
    if (!streams.has(m.id)) void openStream(m);
    return;
  }
  const s = streams.get(m.id);
  if (!s) return;
  if (m.t === 'kill') close(s, 'stopped by the emulator');
  else toProcessor(s, m.t === 'pcm' ? { t: 'pcm', data: pcmBytes(m.data).slice() } : { t: m.t });
});

// Warm up the common rate at once, so a stream's first frames do not wait for Web Audio to start.
void contextFor(48000).catch(() => undefined);
api.postMessage({ t: 'ready' });
