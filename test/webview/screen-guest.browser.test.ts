// The whole screen path without VS Code: the real Linux guest (in-process, virtio-gpu and
// virtio-input at semu's slots) → the shared screen → ScreenFeed → the Screen panel in real
// Chromium; and back: keys typed and a click in the panel → virtio-input → evtest in the guest.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launch, openPanel, repoRoot } from './harness';
import { decodePng } from './png';
import { GuestRun, READY } from '../boot/guest';
import { GPU_BOOTARGS, matchGlyphs, runWhile, screenDevices, vgaFont } from '../helpers/screen-guest';
import { ScreenFeed } from '../../src/devices/virtio-gpu/feed';
import { ScreenReader } from '../../src/devices/virtio-gpu/screen';
import { parseFromScreenPanel, type ToScreenPanel } from '../../src/devices/virtio-gpu/screen-messages';
import { InputSink } from '../../src/devices/virtio-input/events';
import { applyPanelInput, toAbs } from '../../src/devices/virtio-input/panel-input';

const shots = join(repoRoot, 'test-results', 'webview');
let browser: Browser;
before(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await launch();
});
after(() => browser?.close());

test('the guest’s console text reaches the panel exactly; keys and a click in the panel reach evtest', { timeout: 600_000 }, async () => {
  const d = screenDevices();
  const g = new GuestRun({ bootargs: GPU_BOOTARGS, virtio: d.virtio });
  const boot = g.runUntil(READY);
  assert.ok(boot.at >= 0, g.output.slice(-2000));
  g.runUntil('\n# ', 5e8, boot.at);
  g.command('dmesg -n 1');
  const font = vgaFont();
  const text = 'semu: the Screen panel';
  g.command(`fbtest text "${text}"`);
  const reader = new ScreenReader(d.gpu.screen);
  const onScanout = () => matchGlyphs(reader.readRgba({ x: 0, y: 0, w: 1024, h: 16 }), 1024, font, text).bad === 0;
  assert.ok(runWhile(g, onScanout), 'the text is on the scanout');

  const feed = new ScreenFeed(d.gpu.screen);
  const p = await openPanel(browser, 'screen', { width: 1100, height: 850 });
  const post = async (m: ToScreenPanel) => {
    await p.page.evaluate((x) => window.postMessage(x, '*'), m as never);
    await p.frames();
  };
  await post({ type: 'session', state: 'running', name: 'Boot semu' });
  await post(feed.poll(performance.now())!);
  // The canvas holds the guest's pixels exactly.
  const canvas = await p.page.evaluate(() => [...(document.querySelector('canvas.screen') as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 1024, 16).data]);
  assert.deepEqual(matchGlyphs(canvas, 1024, font, text), { bad: 0, fg: '170,170,170' });
  // At 1:1, what is on screen is the guest's pixels: the glyphs in the screenshot.
  await p.page.locator('button.scale').click();
  await p.frames(2);
  const png = await p.page.screenshot();
  writeFileSync(join(shots, 'screen-console.png'), png);
  const img = decodePng(png);
  const box = (await p.page.locator('canvas.screen').boundingBox())!;
  assert.equal(matchGlyphs(img.data, img.width, font, text, Math.round(box.x), Math.round(box.y)).bad, 0, 'the text in the screenshot');

  // Input: evtest waits; a click at guest pixel (100, 50) and the key A in the panel.
  const from = g.output.length;
  g.m.consoleIn(Buffer.from('evtest 6\n'));
  const ready = g.runUntil('evtest: ready devices=2', 1e9, from);
  assert.ok(ready.at >= 0, g.output.slice(from));
  const seen = ((await p.posted()) as unknown[]).length;
  await p.page.mouse.click(box.x + 100.5, box.y + 50.5);
  await p.page.keyboard.press('KeyA');
  await p.frames(2);
  const msgs = ((await p.posted()) as unknown[]).slice(seen).map((m) => parseFromScreenPanel(m));
  const kbd = new InputSink(d.keyboard.events);
  const tab = new InputSink(d.tablet.events);
  for (const m of msgs) if (m !== null) applyPanelInput(m, reader.geometry(), kbd, tab);
  const end = g.runUntil('\n# ', 2e9, ready.at);
  assert.ok(end.at >= 0, g.output.slice(from));
  const events = g.output.slice(ready.at, end.at).replace(/\r/g, '').split('\n').filter((l) => l.startsWith('input:') && !l.startsWith('input: type=0 '));
  // Two devices: each keeps its order; between them the guest reads whichever is ready first.
  const keyboard = events.filter((l) => / code=30 /.test(l));
  assert.deepEqual(
    events.filter((l) => !keyboard.includes(l)),
    [`input: type=3 code=0 value=${toAbs(100.5, 1024)}`, `input: type=3 code=1 value=${toAbs(50.5, 768)}`, 'input: type=1 code=272 value=1', 'input: type=1 code=272 value=0'],
  );
  assert.deepEqual(keyboard, ['input: type=1 code=30 value=1', 'input: type=1 code=30 value=0']);
  await p.close();
  assert.deepEqual(p.errors, []);
});
