// The webview audio backend end to end, in real headless Chromium: the real WebviewBackend stream
// (as in the emulator worker) → BroadcastChannel → the real AudioRelay (as in the extension host)
// → the production "semu audio" page and its AudioWorklet. A 440 Hz tone written into the
// stream's ring as a device model would plays through Web Audio; a tap worklet, connected to the
// page's AudioWorkletNode by an init script, records what it outputs. Checks: 440 ± 1 Hz, no gap,
// every frame played, the ring drained at the device's pace (real time), no xrun, no leftovers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as esbuild from 'esbuild';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { AudioStream, PcmParams } from '../../src/audio/backend';
import { WebviewBackend } from '../../src/audio/webview';
import { AudioRelay } from '../../src/panels/audio-relay';
import { buildPanelHtml } from '../../src/panels/html';
import type { LinkRequest } from '../../src/shared/audio-link';
import { sine } from '../audio/helpers/signal';
import { ORIGIN, repoRoot } from './harness';

const RATE = 48000;
const TONE_S = 3;
const params: PcmParams = { direction: 'output', rate: RATE, channels: 2, format: 'S16', periodBytes: 3840, bufferBytes: 15360 };

// The tap: records its input's first channel, one message per render quantum.
const TAP = `registerProcessor('semu-test-tap', class extends AudioWorkletProcessor {
  process(inputs) { const c = inputs[0] && inputs[0][0]; this.port.postMessage(c ? c.slice() : new Float32Array(128)); return true; }
});`;

async function bundle(entry: string, define: Record<string, string> = {}): Promise<{ js: string; css: string }> {
  const r = await esbuild.build({ entryPoints: [join(repoRoot, entry)], bundle: true, write: false, outdir: join(repoRoot, 'out', 'webview-test-audio'), platform: 'browser', target: 'chrome120', format: 'iife', logLevel: 'silent', define });
  return { js: r.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '', css: r.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '' };
}

async function openAudioPage(browser: Browser, relay: { fromPage(m: unknown): void }): Promise<Page> {
  // As scripts/build.mjs does: the worklet bundled first, inlined into the page.
  const worklet = await bundle('webview/audio/worklet.ts');
  const main = await bundle('webview/audio/main.ts', { SEMU_WORKLET_SOURCE: JSON.stringify(worklet.js) });
  const html = buildPanelHtml({ title: 'semu audio', cspSource: ORIGIN, nonce: 'dGVzdC1ub25jZQ==', scriptUri: `${ORIGIN}/audio.js`, styleUris: [`${ORIGIN}/audio.css`], workletScripts: true });
  const page = await browser.newPage();
  page.on('console', (m) => process.stderr.write(`page: ${m.type()} ${m.text()}\n`));
  page.on('pageerror', (e) => process.stderr.write(`pageerror: ${e.message}\n`));
  await page.exposeFunction('__toHost', (m: unknown) => relay.fromPage(m));
  await page.addInitScript((tap: string) => {
    const w = window as unknown as Record<string, unknown>;
    w.acquireVsCodeApi = () => ({ postMessage: (m: unknown) => (w.__toHost as (m: unknown) => void)(m), getState: () => undefined, setState: () => undefined });
    const rec: Float32Array[] = [];
    w.__rec = rec;
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => (w.__csp as string[]).push(`${e.violatedDirective} ${e.blockedURI}`));
    const Base = AudioWorkletNode;
    w.AudioWorkletNode = class extends Base {
      constructor(ctx: BaseAudioContext, name: string, opts?: AudioWorkletNodeOptions) {
        super(ctx, name, opts);
        if (name !== 'semu-pcm') return;
        void ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([tap], { type: 'text/javascript' }))).then(() => {
          const tap = new Base(ctx, 'semu-test-tap', { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: 'explicit' });
          tap.port.onmessage = (e: MessageEvent) => rec.push(e.data as Float32Array);
          this.connect(tap);
          tap.connect(ctx.destination);
        });
      }
    };
  }, TAP);
  await page.route(`${ORIGIN}/**`, (route) => {
    const url = route.request().url();
    const js = (body: string) => route.fulfill({ status: 200, contentType: 'text/javascript', body });
    if (url.endsWith('/audio.js')) return js(main.js);
    if (url.endsWith('/audio.css')) return route.fulfill({ status: 200, contentType: 'text/css', body: main.css });
    if (url.endsWith('/index.html')) return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    return route.fulfill({ status: 404, body: '' });
  });
  await page.goto(`${ORIGIN}/index.html`);
  return page;
}

/**
 * Posts relay messages into the page as VS Code's webview.postMessage would: in order, pipelined
 * (what queued while one delivery was under way goes in the next), bytes as base64 on the wire.
 */
function pageSender(page: Page): (m: LinkRequest) => void {
  let queue: Record<string, unknown>[] = [];
  let busy = false;
  const pump = async () => {
    busy = true;
    while (queue.length) {
      const batch = queue;
      queue = [];
      await page
        .evaluate((ws: Record<string, unknown>[]) => {
          for (const w of ws) window.postMessage(typeof w.data === 'string' ? { ...w, data: Uint8Array.from(atob(w.data), (c) => c.charCodeAt(0)) } : w, '*');
        }, batch)
        .catch(() => undefined);
    }
    busy = false;
  };
  return (m) => {
    queue.push(m.t === 'pcm' ? { ...m, data: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString('base64') } : { ...m });
    if (!busy) void pump();
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('webview backend: a 440 Hz tone plays through the AudioWorklet at 440 ± 1 Hz, whole, without gaps, in real time', { timeout: 60_000 }, async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'] });
  let page: Page | null = null;
  let stream: AudioStream | null = null;
  const relay = new AudioRelay(async () => ({ post: (m) => send(m) }));
  let send: (m: LinkRequest) => void = () => undefined;
  // Which streams the page has opened (its `opened` replies, seen on their way through the relay).
  const opened = new Set<string>();
  const fromPage = relay.fromPage.bind(relay);
  relay.fromPage = (m: unknown) => {
    const r = m as { id?: string; reply?: { t: string } };
    if (r.reply?.t === 'opened' && r.id) opened.add(r.id);
    fromPage(m);
  };
  try {
    page = await openAudioPage(browser, relay);
    send = pageSender(page);
    const backend = new WebviewBackend();
    stream = backend.open(params);
    const s = stream;
    const fb = 4;
    assert.equal(s.description, 'webview');
    // As in a session, where the panel opens when it starts: the page is playing before the guest
    // sends its first frame (a cold page and CDP take seconds under load; that is not the backend).
    await until(() => opened.size === 1, 15_000, 'the page to open the stream');

    // The device model's side: keep the ring topped up with the tone; the worker's run loop polls
    // the stream with the guest clock (here --time host: the wall clock).
    const total = RATE * TONE_S;
    const tone = sine({ rate: RATE, channels: 2, format: 'S16' }, 440, total, 0.5);
    let written = 0;
    const writeSome = () => {
      const n = Math.min(total - written, Math.floor(s.ring.room() / fb));
      if (n > 0) written += s.ring.write(tone.subarray(written * fb, (written + n) * fb), n * fb) / fb;
    };
    const clock = () => performance.now() / 1000;
    writeSome();
    s.start();
    s.poll(clock());
    const t0 = performance.now();
    const pump = setInterval(() => {
      writeSome();
      s.poll(clock());
    }, 8);
    await until(() => written === total && s.ring.fill() === 0, 20_000, 'the ring to drain');
    const drainS = (performance.now() - t0) / 1000;
    await sleep(400); // the page's jitter buffer (200 ms) plays out
    clearInterval(pump);
    assert.ok(Math.abs(drainS - TONE_S) < 0.25, `drained in ${drainS.toFixed(2)} s: paced by the guest clock`);
    const stats = s.stats();
    assert.equal(stats.frames >= total, true, 'every frame left the ring');
    assert.equal(stats.xruns, 0, 'no xrun, in the ring or in the page');
    assert.equal(s.failure, null);
    s.stop();
    s.close();
    stream = null;
    await until(() => relay.openStreams === 0, 5000, 'the stream to close in the page');

    const b64 = await page.evaluate(() => {
      const rec = (window as unknown as { __rec: Float32Array[] }).__rec;
      const all = new Float32Array(rec.reduce((n, c) => n + c.length, 0));
      let o = 0;
      for (const c of rec) {
        all.set(c, o);
        o += c.length;
      }
      let bin = '';
      const u8 = new Uint8Array(all.buffer);
      for (let i = 0; i < u8.length; i += 0x8000) bin += String.fromCharCode(...u8.subarray(i, i + 0x8000));
      return btoa(bin);
    });
    const buf = Buffer.from(b64, 'base64');
    const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    let first = -1;
    let last = -1;
    for (let i = 0; i < x.length; i++) if (Math.abs(x[i]) > 1e-3) (first < 0 ? (first = i) : 0, (last = i));
    assert.ok(first >= 0, 'the tap heard the tone');
    const span = last - first + 1;
    assert.ok(Math.abs(span - total) < 64, `played ${span} frames of ${total}`);
    // No gap: inside the tone, a sine at 0.5 never stays below 0.01 for more than 2 samples.
    let quiet = 0;
    let longest = 0;
    let crossings = 0;
    let firstCross = -1;
    let lastCross = -1;
    let peak = 0;
    for (let i = first; i <= last; i++) {
      quiet = Math.abs(x[i]) < 0.01 ? quiet + 1 : 0;
      longest = Math.max(longest, quiet);
      peak = Math.max(peak, Math.abs(x[i]));
      if (i > first && x[i - 1] < 0 && x[i] >= 0) {
        const t = i - 1 - x[i - 1] / (x[i] - x[i - 1]);
        if (firstCross < 0) firstCross = t;
        lastCross = t;
        crossings++;
      }
    }
    assert.ok(longest <= 2, `a gap of ${longest} near-silent samples inside the tone`);
    const freq = ((crossings - 1) * RATE) / (lastCross - firstCross);
    assert.ok(Math.abs(freq - 440) <= 1, `measured ${freq.toFixed(3)} Hz`);
    assert.ok(Math.abs(peak - 0.5) < 0.01, `peak ${peak}`);
    const csp = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
    assert.deepEqual(csp, [], 'no CSP violation');
  } finally {
    stream?.close();
    relay.dispose();
    await browser.close();
  }
});

test('webview backend: capture is refused with a message saying what to use instead; no window → one clear failure', { timeout: 10_000 }, async () => {
  const backend = new WebviewBackend();
  const inp = backend.open({ ...params, direction: 'input' });
  assert.match(inp.failure ?? '', /cannot open the microphone.*portaudio.*wav:PATH/);
  inp.close();
  // Nobody relays (the CLI): the stream fails within the 3 s it waits for an answer, and the guest's audio goes on as null.
  const out = backend.open(params);
  await until(() => out.failure !== null, 5000, 'the failure');
  assert.match(out.failure!, /only inside VS Code/);
  assert.equal(out.description, 'null');
  out.close();
});
