// The Screen panel in real headless Chromium (production HTML builder: CSP, nonce), fed by the
// real virtio-gpu model through the real ScreenFeed, its input turned into events on a real
// virtio-input tablet and keyboard. Pixels are checked on the canvas and in screenshots.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { bundle, launch, openPanel, type PanelPage, repoRoot } from './harness';
import { decodePng, pixel as pngPixel } from './png';
import { GpuDriver } from '../devices/gpu-driver';
import { ScreenFeed } from '../../src/devices/virtio-gpu/feed';
import { screendump } from '../../src/devices/virtio-gpu/png';
import { parseFromScreenPanel, type FromScreenPanel, type ToScreenPanel } from '../../src/devices/virtio-gpu/screen-messages';
import { applyPanelInput, toAbs } from '../../src/devices/virtio-input/panel-input';
import { InputSink } from '../../src/devices/virtio-input/events';
import { VirtioInput } from '../../src/devices/virtio-input/input';
import { EventSource } from '../../src/devices/virtio-input/events';
import * as IP from '../../src/devices/virtio-input/protocol';

const shots = join(repoRoot, 'test-results', 'webview');
const FB = 0x400000;
const W = 1024;
const H = 768;
const BARS = [0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000];
const rgb = (c: number) => [c >> 16, (c >> 8) & 255, c & 255];

let browser: Browser;
before(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await launch();
});
after(() => browser?.close());

/** A guest-side framebuffer on the real device: colour bars, transferred and flushed. */
function barsDevice(): GpuDriver {
  const d = new GpuDriver({ width: W, height: H });
  d.fill(FB, W, H, (x) => BARS[Math.floor((x * 8) / W)]); // B8G8R8X8 words are 0x00RRGGBB
  d.framebuffer(1, FB, W, H);
  d.transfer(1, 0, 0, W, H);
  d.flush(1, 0, 0, W, H);
  return d;
}

async function post(p: PanelPage, msg: ToScreenPanel): Promise<void> {
  await p.page.evaluate((m) => window.postMessage(m, '*'), msg as never);
  await p.frames();
}

/** What the panel posted since the last call, checked as the controller would. */
async function fromPanel(p: PanelPage, since: { n: number }): Promise<FromScreenPanel[]> {
  const all = (await p.posted()) as unknown[];
  const out = all.slice(since.n).map((m) => parseFromScreenPanel(m));
  since.n = all.length;
  assert.ok(out.every((m) => m !== null), 'every message the panel posts passes the controller check');
  return out as FromScreenPanel[];
}

async function canvasPixel(p: PanelPage, x: number, y: number): Promise<number[]> {
  return p.page.evaluate(([px, py]) => [...(document.querySelector('canvas.screen') as HTMLCanvasElement).getContext('2d')!.getImageData(px, py, 1, 1).data].slice(0, 3), [x, y] as const);
}

async function done(p: PanelPage) {
  await p.close();
  assert.deepEqual(p.errors, [], 'no console errors, no CSP violations');
}

async function openScreen(opts: { width?: number; height?: number; bodyClass?: string } = {}): Promise<PanelPage> {
  const p = await openPanel(browser, 'screen', { width: opts.width ?? 1100, height: opts.height ?? 850, bodyClass: opts.bodyClass });
  await post(p, { type: 'session', state: 'running', name: 'Boot semu' });
  return p;
}

test('screen: the bundle builds with its stylesheet; without a session the panel says what to do', async () => {
  const b = await bundle('screen');
  assert.ok(b.js.length > 2000);
  assert.match(b.css, /canvas\.screen/);
  const p = await openPanel(browser, 'screen');
  assert.match(await p.page.locator('.empty').innerText(), /No machine is running\. Start "Boot semu" with "screen": true/);
  assert.equal(await p.page.locator('.stage').isHidden(), true);
  await post(p, { type: 'session', state: 'running', name: 'Boot semu', noScreen: true });
  assert.match(await p.page.locator('.empty').innerText(), /This machine has no screen: add "screen": true/);
  await post(p, { type: 'session', state: 'running' });
  assert.match(await p.page.locator('.empty').innerText(), /has not set a display mode/);
  await done(p);
});

test('screen: the device’s colour bars reach the canvas and the screen, exactly, scaled to fit', async () => {
  const d = barsDevice();
  const feed = new ScreenFeed(d.gpu.screen);
  const p = await openScreen();
  const f = feed.poll(0)!;
  assert.deepEqual(f.rect, { x: 0, y: 0, w: W, h: H });
  await post(p, f);
  for (let i = 0; i < 8; i++) {
    const x = Math.floor(((i + 0.5) * W) / 8);
    assert.deepEqual(await canvasPixel(p, x, 300), rgb(BARS[i]), `bar ${i} on the canvas`);
  }
  assert.match(await p.page.locator('.banner').innerText(), /Live — Boot semu · 1024×768/);
  // What the user sees: a screenshot, pixels mapped through the canvas's CSS box.
  const box = (await p.page.locator('canvas.screen').boundingBox())!;
  assert.ok(box.width <= 1100 && box.height <= 850 && Math.abs(box.width / box.height - W / H) < 0.01, `fit keeps the aspect ratio: ${box.width}x${box.height}`);
  const png = await p.page.screenshot();
  writeFileSync(join(shots, 'screen-bars.png'), png);
  const img = decodePng(png);
  for (let i = 0; i < 8; i++) {
    const x = Math.round(box.x + ((i + 0.5) * box.width) / 8);
    const y = Math.round(box.y + box.height / 2);
    assert.deepEqual(pngPixel(img, x, y), rgb(BARS[i]), `bar ${i} on screen`);
  }
  // 1:1: the canvas is the guest's size in CSS pixels and the stage scrolls.
  await p.page.locator('button.scale').click();
  const one = (await p.page.locator('canvas.screen').boundingBox())!;
  assert.deepEqual([one.width, one.height], [W, H]);
  assert.equal(await p.page.locator('button.scale').getAttribute('aria-pressed'), 'true');
  assert.deepEqual(await p.state(), { scale: '1:1' }, 'the choice survives a reload');
  await done(p);
});

test('screen: only the flushed rectangle travels and is redrawn; acks pace the feed', async () => {
  const d = barsDevice();
  const feed = new ScreenFeed(d.gpu.screen, { window: 1 });
  const p = await openScreen();
  const seen = { n: 0 };
  await post(p, feed.poll(0)!);
  await p.frames(2);
  let acks = (await fromPanel(p, seen)).filter((m) => m.type === 'frameDone');
  assert.deepEqual(acks.at(-1), { type: 'frameDone', frame: 1 });
  feed.ack(1);
  // The guest draws a 40×20 red box at (100, 50) and flushes just that.
  for (let y = 50; y < 70; y++) for (let x = 100; x < 140; x++) d.ram.write32(FB + 4 * (y * W + x), 0xff0000);
  d.transfer(1, 100, 50, 40, 20, 4 * (50 * W + 100));
  d.flush(1, 100, 50, 40, 20);
  const f2 = feed.poll(100)!;
  assert.deepEqual(f2.rect, { x: 100, y: 50, w: 40, h: 20 });
  assert.equal(f2.pixels!.length, 40 * 20 * 4);
  // Not acknowledged yet: the next change waits (window 1), and accumulates.
  d.flush(1, 0, 700, 10, 10);
  assert.equal(feed.poll(200), null);
  await post(p, f2);
  await p.frames(2);
  acks = (await fromPanel(p, seen)).filter((m) => m.type === 'frameDone');
  for (const a of acks) if (a.type === 'frameDone') feed.ack(a.frame);
  assert.equal(feed.inFlight, 0);
  const f3 = feed.poll(300)!;
  assert.deepEqual(f3.rect, { x: 0, y: 700, w: 10, h: 10 });
  assert.deepEqual(await canvasPixel(p, 120, 60), [255, 0, 0]);
  assert.deepEqual(await canvasPixel(p, 160, 60), rgb(BARS[1]), 'outside the box: still the bar');
  await done(p);
});

test('screen: keys map to Linux codes, Ctrl+Alt+G releases, held keys are released, VS Code does not see captured keys', async () => {
  const p = await openScreen();
  const d = barsDevice();
  await post(p, new ScreenFeed(d.gpu.screen).poll(0)!);
  const seen = { n: 0 };
  await fromPanel(p, seen);
  await p.page.evaluate(() => {
    const w = window as unknown as { __hostKeys: string[] };
    w.__hostKeys = [];
    window.addEventListener('keydown', (e) => w.__hostKeys.push(e.code)); // what VS Code's webview host listens to
  });
  assert.match(await p.page.locator('.hint').innerText(), /Click the screen to type/);
  await p.page.locator('canvas.screen').click({ position: { x: 10, y: 10 } });
  assert.match(await p.page.locator('.hint').innerText(), /Keyboard captured — Ctrl\+Alt\+G releases it/);
  await p.page.keyboard.press('KeyA');
  await p.page.keyboard.press('Shift+Digit1');
  await p.page.keyboard.press('Enter');
  await p.page.keyboard.press('Tab');
  await p.page.keyboard.down('ControlLeft');
  await p.page.keyboard.press('ArrowUp');
  const keys = (await fromPanel(p, seen)).filter((m) => m.type === 'key');
  assert.deepEqual(
    keys.map((k) => (k.type === 'key' ? `${k.code}${k.down ? '↓' : '↑'}` : '')),
    ['30↓', '30↑', '42↓', '2↓', '2↑', '42↑', '28↓', '28↑', '15↓', '15↑', '29↓', '103↓', '103↑'],
  );
  assert.equal(await p.page.evaluate(() => document.activeElement?.className), 'screen', 'Tab did not move focus');
  // Ctrl is still down: Ctrl+Alt+G releases the keyboard and lets go of Ctrl in the guest.
  await p.page.keyboard.down('AltLeft');
  await p.page.keyboard.press('KeyG');
  await p.page.keyboard.up('AltLeft');
  await p.page.keyboard.up('ControlLeft');
  const after = (await fromPanel(p, seen)).filter((m) => m.type === 'key');
  assert.deepEqual(
    after.map((k) => (k.type === 'key' ? `${k.code}${k.down ? '↓' : '↑'}` : '')),
    ['56↓', '29↑', '56↑'],
  );
  assert.notEqual(await p.page.evaluate(() => document.activeElement?.className), 'screen');
  assert.match(await p.page.locator('.hint').innerText(), /Click the screen/);
  await p.page.keyboard.press('KeyB');
  assert.deepEqual((await fromPanel(p, seen)).filter((m) => m.type === 'key'), [], 'released: keys stay with VS Code');
  const hostKeys = await p.page.evaluate(() => (window as unknown as { __hostKeys: string[] }).__hostKeys);
  assert.deepEqual(hostKeys, ['KeyB'], 'captured keys never reached the window (VS Code keybindings)');
  // The panel's key messages drive the real keyboard device.
  const kbd = new VirtioInput('keyboard');
  const sink = new InputSink(kbd.events);
  for (const k of keys) applyPanelInput(k, { width: W, height: H }, sink, null);
  const src = new EventSource(kbd.events);
  const evs: number[][] = [];
  while (src.pending() > 0) {
    src.peek();
    evs.push([src.type, src.code, src.value]);
    src.consume();
  }
  assert.deepEqual(evs.slice(0, 4), [
    [IP.EV_KEY, 30, 1],
    [IP.EV_SYN, 0, 0],
    [IP.EV_KEY, 30, 0],
    [IP.EV_SYN, 0, 0],
  ]);
  await done(p);
});

test('screen: a click gives the right absolute position, buttons and wheel, at any scale', async () => {
  const d = barsDevice();
  for (const mode of ['fit', '1:1'] as const) {
    const p = await openScreen({ width: 800, height: 650 });
    await post(p, new ScreenFeed(d.gpu.screen).poll(0)!);
    if (mode === '1:1') await p.page.locator('button.scale').click();
    const seen = { n: 0 };
    await fromPanel(p, seen);
    const box = (await p.page.locator('canvas.screen').boundingBox())!;
    const scale = box.width / W;
    // Guest pixel (300, 200): its centre in CSS pixels.
    const gx = 300;
    const gy = 200;
    await p.page.mouse.click(box.x + (gx + 0.5) * scale, box.y + (gy + 0.5) * scale, { button: 'right' });
    await p.page.mouse.wheel(0, -100);
    await p.frames(2);
    const msgs = (await fromPanel(p, seen)).filter((m) => m.type !== 'frameDone');
    const ptr = msgs.find((m) => m.type === 'pointer');
    assert.ok(ptr && ptr.type === 'pointer');
    assert.ok(Math.abs(ptr.x - (gx + 0.5)) < 1 && Math.abs(ptr.y - (gy + 0.5)) < 1, `${mode}: pointer at ${ptr.x},${ptr.y}`);
    assert.deepEqual(
      msgs.filter((m) => m.type === 'button'),
      [
        { type: 'button', button: 2, down: true },
        { type: 'button', button: 2, down: false },
      ],
    );
    assert.deepEqual(msgs.find((m) => m.type === 'wheel'), { type: 'wheel', dx: 0, dy: 1 }, 'wheel up is +1');
    // Through the real tablet: ABS_X/ABS_Y as the guest will read them.
    const tab = new VirtioInput('tablet');
    const sink = new InputSink(tab.events);
    applyPanelInput(ptr, { width: W, height: H }, null, sink);
    const src = new EventSource(tab.events);
    src.peek();
    assert.deepEqual([src.type, src.code, src.value], [IP.EV_ABS, IP.ABS_X, toAbs(ptr.x, W)]);
    assert.equal(Math.floor((src.value * (W - 1)) / IP.ABS_MAX + 0.5), gx, 'the guest scales back to the pixel clicked');
    await done(p);
  }
});

test('screen: paused freezes on the exact frame and sends no input; running again resumes', async () => {
  const d = barsDevice();
  const feed = new ScreenFeed(d.gpu.screen, { window: 100 });
  const p = await openScreen();
  await post(p, feed.poll(0)!);
  // The guest changes the screen; a frame with it is in flight when the machine stops.
  for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) d.ram.write32(FB + 4 * (y * W + x), 0x00ff00);
  d.transfer(1, 0, 0, 10, 10);
  d.flush(1, 0, 0, 10, 10);
  const inFlight = feed.poll(100)!;
  // More drawing, then the stop: the controller sends the exact frame, then "paused".
  for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) d.ram.write32(FB + 4 * (y * W + x), 0x0000ff);
  d.transfer(1, 0, 0, 10, 10);
  d.flush(1, 0, 0, 10, 10);
  const exact = feed.freeze(200);
  assert.equal(exact.final, true);
  await post(p, exact);
  await post(p, { type: 'session', state: 'paused', name: 'Boot semu' });
  await post(p, inFlight); // late: must not overwrite the exact frame
  assert.deepEqual(await canvasPixel(p, 5, 5), [0, 0, 255]);
  assert.match(await p.page.locator('.banner').innerText(), /Paused — Boot semu — the exact frame/);
  const seen = { n: 0 };
  await fromPanel(p, seen);
  await p.page.locator('canvas.screen').click();
  await p.page.keyboard.press('KeyA');
  assert.deepEqual((await fromPanel(p, seen)).filter((m) => m.type !== 'frameDone'), [], 'no input while paused');
  await post(p, { type: 'session', state: 'running', name: 'Boot semu' });
  await p.page.keyboard.press('KeyA');
  assert.deepEqual((await fromPanel(p, seen)).filter((m) => m.type === 'key').length, 2);
  await done(p);
});

test('screen: the guest cursor is drawn over the screen at its hot spot, scaled, and hides the pointer', async () => {
  const d = barsDevice();
  const feed = new ScreenFeed(d.gpu.screen, { window: 100 });
  const p = await openScreen();
  await post(p, feed.poll(0)!);
  // A 64×64 cursor: opaque red in the top-left 8×8, transparent elsewhere (B8G8R8A8).
  d.fill(0x1000000, 64, 64, (x, y) => (x < 8 && y < 8 ? 0xffff0000 : 0));
  d.create(5, 64, 64, 1);
  d.attach(5, [[0x1000000, 64 * 64 * 4]]);
  d.transfer(5, 0, 0, 64, 64);
  d.sendCursor(0x300, [0, 400, 300, 0, 5, 2, 3, 0]); // UPDATE_CURSOR at (400, 300), hot spot (2, 3)
  const f = feed.poll(100)!;
  assert.equal(f.cursor?.image?.length, 64 * 64 * 4);
  await post(p, f);
  const box = (await p.page.locator('canvas.screen').boundingBox())!;
  const cur = (await p.page.locator('canvas.cursor').boundingBox())!;
  const s = box.width / W;
  assert.ok(Math.abs(cur.x - (box.x + (400 - 2) * s)) < 1 && Math.abs(cur.y - (box.y + (300 - 3) * s)) < 1, `cursor at ${cur.x},${cur.y}`);
  assert.ok(Math.abs(cur.width - 64 * s) < 1);
  assert.equal(await p.page.evaluate(() => getComputedStyle(document.querySelector('canvas.screen')!).cursor), 'none');
  const img = decodePng(await p.page.screenshot());
  assert.deepEqual(pngPixel(img, Math.round(cur.x + 2 * s), Math.round(cur.y + 2 * s)), [255, 0, 0], 'the opaque part');
  assert.deepEqual(pngPixel(img, Math.round(cur.x + 40 * s), Math.round(cur.y + 40 * s)), rgb(BARS[3]), 'the transparent part shows the screen (green bar)');
  d.sendCursor(0x300, [0, 0, 0, 0, 0, 0, 0, 0]); // hide
  await post(p, feed.poll(200)!);
  assert.equal(await p.page.locator('canvas.cursor').isHidden(), true);
  await done(p);
});

test('screen: the theme colours the frame around the canvas; hostile frames are ignored', async () => {
  const dark = await openScreen();
  const light = await openScreen({ bodyClass: 'vscode-light' });
  await light.page.evaluate(() => {
    document.documentElement.style.setProperty('--vscode-editorWidget-background', 'rgb(243, 243, 243)');
    document.documentElement.style.setProperty('--vscode-panel-border', 'rgb(128, 128, 128)');
  });
  const d = barsDevice();
  for (const p of [dark, light]) await post(p, new ScreenFeed(d.gpu.screen).poll(0)!);
  const bg = (p: PanelPage) => p.page.evaluate(() => getComputedStyle(document.querySelector('.stage')!).backgroundColor);
  assert.equal(await bg(light), 'rgb(243, 243, 243)');
  assert.notEqual(await bg(dark), await bg(light));
  // Hostile or broken messages: wrong sizes, rectangles outside, pixels that do not match.
  const before = await canvasPixel(dark, 5, 5);
  for (const m of [
    { type: 'frame', frame: 9, width: W, height: H, enabled: true, rect: { x: 1000, y: 0, w: 100, h: 1 }, pixels: new Uint8Array(400) },
    { type: 'frame', frame: 9, width: W, height: H, enabled: true, rect: { x: 0, y: 0, w: 2, h: 2 }, pixels: new Uint8Array(3) },
    { type: 'frame', frame: 9, width: -1, height: H, enabled: true, rect: null, pixels: null },
    { type: 'frame', frame: 'x' },
    { type: 'session', state: 'exploded' },
    null,
    42,
  ]) {
    await dark.page.evaluate((x) => window.postMessage(x, '*'), m as never);
  }
  await dark.frames(2);
  assert.deepEqual(await canvasPixel(dark, 5, 5), before);
  await done(dark);
  await done(light);
});

test('screendump: the PNG Chromium decodes shows the device’s bars', async () => {
  const d = barsDevice();
  const png = screendump(d.gpu.screen)!;
  writeFileSync(join(shots, 'screendump.png'), png);
  const p = await openPanel(browser, 'screen');
  const px = await p.page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const out: number[][] = [[img.width, img.height]];
    for (let i = 0; i < 8; i++) out.push([...ctx.getImageData(Math.floor(((i + 0.5) * img.width) / 8), 700, 1, 1).data].slice(0, 3));
    return out;
  }, png.toString('base64'));
  assert.deepEqual(px[0], [W, H]);
  for (let i = 0; i < 8; i++) assert.deepEqual(px[i + 1], rgb(BARS[i]), `bar ${i}`);
  assert.equal(screendump(new GpuDriver().gpu.screen), null, 'no scanout: no picture');
  await done(p);
});
