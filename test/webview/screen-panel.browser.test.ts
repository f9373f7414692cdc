// The Screen panel end to end without VS Code: the real guest booted with `screen: true` through
// the options path (MachineHost, the emulator worker, the registry's devices), the extension's
// ScreenController, and the panel bundle in real Chromium. The console's text and fbtest's colour
// bars arrive on the canvas pixel for pixel; a click and a key in the panel reach evtest; a pause
// freezes the panel on the exact frame of the stopped machine.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launch, repoRoot, type PanelPage } from './harness';
import { decodePng } from './png';
import { canvasPixels, PagePort } from './screen-port';
import { GuestSession } from '../helpers/guest-session';
import { matchGlyphs, vgaFont } from '../helpers/screen-guest';
import { ScreenController, screenSourceOf } from '../../src/panels/screen-controller';
import { ScreenReader } from '../../src/devices/virtio-gpu/screen';
import { toAbs } from '../../src/devices/virtio-input/panel-input';

const BARS = [0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000];
const shots = join(repoRoot, 'test-results', 'webview');
let browser: Browser;
before(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await launch();
});
after(() => browser?.close());

/** A real mouse click on the Fit/1:1 button (Playwright's actionability checks stall while frames stream in). */
async function clickScale(panel: PanelPage): Promise<void> {
  const b = (await panel.page.locator('button.scale').boundingBox())!;
  await panel.page.mouse.click(b.x + b.width / 2, b.y + b.height / 2);
}

async function until(cond: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('Screen panel: console text and colour bars exact on the canvas; click and key reach evtest; pause freezes the exact frame', { timeout: 600_000 }, async (t) => {
  const g = await GuestSession.boot({ screen: true, audioOut: 'null', audioIn: 'null' });
  const port = new PagePort();
  const controller = new ScreenController(port);
  try {
    const source = screenSourceOf(g.host, 'Boot semu');
    assert.ok(source.screen && source.keyboard && source.tablet, 'the GPU and both input devices share their state with the host');
    g.host.on('stopped', () => controller.machineStopped());
    controller.setSource(source);
    const panel = await port.open(browser);
    const cmdline = (await g.run('cat /proc/cmdline')).output;
    assert.match(cmdline, /console=tty0 .*console=ttyS0/, 'the screen’s console word, before the serial console');

    // Console text, glyph for glyph in the kernel's VGA font, on the panel's canvas.
    const font = vgaFont();
    const text = 'semu: the Screen panel';
    assert.match((await g.run(`fbtest text "${text}"`)).output, /fbtest: text/);
    const textOnCanvas = async () => matchGlyphs(await canvasPixels(panel, 0, 0, text.length * 8, 16), text.length * 8, font, text);
    await until(async () => (await textOnCanvas()).bad === 0, 'the console text on the canvas').catch(async (e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(await textOnCanvas())}, stats ${JSON.stringify({ ...controller.stats, latencies: controller.stats.latencies.length })}, banner ${await panel.page.locator('.banner').innerText()}, errors ${panel.errors.join('; ')}, screen ${JSON.stringify(new ScreenReader(source.screen!).geometry())}`);
    });
    assert.deepEqual(await textOnCanvas(), { bad: 0, fg: '170,170,170' }, 'fbcon’s light grey on black');
    await clickScale(panel); // 1:1: the screenshot holds the guest's pixels
    await panel.frames(2);
    const png = await panel.page.screenshot();
    writeFileSync(join(shots, 'screen-console.png'), png);
    const box = (await panel.page.locator('canvas.screen').boundingBox())!;
    const img = decodePng(png);
    assert.equal(matchGlyphs(img.data, img.width, font, text, Math.round(box.x), Math.round(box.y)).bad, 0, 'the text in the screenshot');

    // fbtest's colour bars through DRM dumb buffers, the expected colour in the middle of each bar.
    await g.run('fbtest bars 25 &');
    await g.waitFor(() => /fbtest: bars width=1024 height=768/.test(g.output), 60_000, 'fbtest bars');
    const barsOnCanvas = async () => {
      const row = await canvasPixels(panel, 0, 400, 1024, 1);
      return BARS.map((_, i) => row.slice(Math.floor((i + 0.5) * 128) * 4, Math.floor((i + 0.5) * 128) * 4 + 3));
    };
    const want = BARS.map((c) => [c >> 16, (c >> 8) & 255, c & 255]);
    await until(async () => JSON.stringify(await barsOnCanvas()) === JSON.stringify(want), 'the colour bars on the canvas');
    writeFileSync(join(shots, 'screen-bars.png'), await panel.page.screenshot());

    // Pause: the panel freezes on the frame of the stopped machine, exactly.
    g.host.pause();
    await until(async () => /Paused/.test(await panel.page.locator('.banner').innerText()), 'the paused banner', 10_000);
    await port.settled();
    await panel.frames(2);
    const r = new ScreenReader(source.screen);
    const exact = [...r.readRgba({ x: 0, y: 0, w: 1024, h: 768 })];
    const shown = await canvasPixels(panel, 0, 0, 1024, 768);
    assert.equal(shown.length, exact.length);
    let differ = 0;
    for (let i = 0; i < exact.length; i++) if (shown[i] !== exact[i]) differ++;
    assert.equal(differ, 0, 'the paused canvas is the stopped machine’s frame');
    g.host.continue();
    await until(async () => /Live/.test(await panel.page.locator('.banner').innerText()), 'live again', 10_000);

    // Input: evtest waits in the background; a click at guest pixel (100.5, 50.5) and the key A.
    const from = g.output.length;
    await g.run('evtest 40 &');
    await g.waitFor(() => g.output.indexOf('evtest: ready devices=2', from) >= 0, 60_000, 'evtest ready');
    await clickScale(panel); // back to Fit: the click maps through the scale
    await panel.frames(2);
    const fit = (await panel.page.locator('canvas.screen').boundingBox())!;
    const scale = fit.width / 1024;
    await panel.page.mouse.click(fit.x + 100.5 * scale, fit.y + 50.5 * scale);
    await panel.page.keyboard.press('KeyA');
    const seen = () => g.output.slice(from).split('\n').map((l) => l.trim()).filter((l) => l.startsWith('input:') && !l.startsWith('input: type=0 '));
    await g.waitFor(() => seen().includes('input: type=1 code=30 value=0') && seen().includes('input: type=1 code=272 value=0'), 60_000, 'the key and the button released');
    // value=2 lines are the guest's own autorepeat (EV_REP) when the release came late on a busy host.
    const events = seen().filter((l) => !/ value=2$/.test(l));
    const keyboard = events.filter((l) => / code=30 /.test(l));
    const pointer = events.filter((l) => !keyboard.includes(l));
    // The click lands within one guest pixel of where it was aimed, through Fit's scale.
    const [ax, ay] = [/code=0 value=(\d+)/.exec(pointer[0])?.[1], /code=1 value=(\d+)/.exec(pointer[1])?.[1]].map(Number);
    assert.ok(Math.abs(ax - toAbs(100.5, 1024)) <= toAbs(1, 1024) && Math.abs(ay - toAbs(50.5, 768)) <= toAbs(1, 768), `click at ${ax},${ay}; ${pointer.join(' | ')}`);
    assert.deepEqual(pointer.slice(2), ['input: type=1 code=272 value=1', 'input: type=1 code=272 value=0']);
    assert.deepEqual(keyboard, ['input: type=1 code=30 value=1', 'input: type=1 code=30 value=0']);
    assert.equal(controller.stats.droppedInput, 0);
    const st = controller.stats;
    assert.ok(st.latencies.length > 0, 'flush-to-panel latencies measured');
    // Numbers: the controller's main-thread time per frame without this port's base64 encoding,
    // and flush → drawn-and-acknowledged, which here includes frames queued behind CDP's
    // page.evaluate of megabytes of base64 (VS Code transfers the buffers instead).
    const l = [...st.latencies].sort((a, b) => a - b);
    const q = (f: number) => l[Math.min(l.length - 1, Math.floor(f * l.length))]!.toFixed(1);
    const own = (st.busyMs - port.encodeMs) / st.frames;
    t.diagnostic(`controller ${own.toFixed(2)} ms per frame (+${(port.encodeMs / st.frames).toFixed(1)} ms base64 for CDP; ${st.frames} frames, ${(st.bytes / 1048576).toFixed(1)} MiB); flush → panel over CDP: median ${q(0.5)} ms, p90 ${q(0.9)} ms (${l.length} frames)`);
  } finally {
    controller.dispose();
    await port.close().catch(() => undefined);
    await g.dispose();
  }
  assert.deepEqual(port.panel.errors, []);
});
