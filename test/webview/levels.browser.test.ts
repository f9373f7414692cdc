// The levels panel in real headless Chromium, loaded through the production HTML builder (CSP,
// nonce) with a stand-in VS Code API; messages replayed as the extension would post them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { bundle, launch, openPanel, PanelPage, repoRoot } from './harness';
import { levels } from './fixtures';
import { decodePng, pixel } from './png';

const shots = join(repoRoot, 'test-results', 'webview');
let browser: Browser;
before(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await launch();
});
after(() => browser?.close());

/** Reads a meter as the user sees it: aria-valuenow and the lit fraction of its box. */
async function meter(p: PanelPage, stream: number, kind: 'peak' | 'rms') {
  return p.page.evaluate(
    ([id, k]) => {
      const m = document.querySelector(`[data-stream="${id}"] .meter.${k}`) as HTMLElement;
      const box = m.getBoundingClientRect();
      const cover = (m.querySelector('.cover') as HTMLElement).getBoundingClientRect();
      const hold = m.querySelector('.hold') as HTMLElement | null;
      return {
        now: Number(m.getAttribute('aria-valuenow')),
        lit: (box.width - cover.width) / box.width,
        held: hold ? Number(hold.getAttribute('data-db')) : NaN,
      };
    },
    [stream, kind] as const,
  );
}

async function done(p: PanelPage) {
  await p.close();
  assert.deepEqual(p.errors, [], 'no console errors, no CSP violations');
}

test('levels: the build emits the stylesheet the panel links to', async () => {
  const b = await bundle('levels');
  assert.ok(b.js.length > 1000);
  assert.match(b.css, /\.meter/);
});

test('levels: without a session, an empty state with the hint', async () => {
  const p = await openPanel(browser, 'levels');
  const text = await p.page.locator('.empty').innerText();
  assert.match(text, /Start a 'Boot semu' debug session/);
  assert.equal(await p.page.locator('section.stream').count(), 0);
  assert.deepEqual(await p.posted(), [{ type: 'ready' }]);
  await done(p);
});

test('levels: meters, ring fill and stream facts follow the messages', async () => {
  const p = await openPanel(browser, 'levels');
  await p.send({ type: 'session', state: 'running', name: 'Boot semu' });
  await p.send({ type: 'levels', body: levels(1, 0.1, 0.01) }); // −20 dB peak, −40 dB rms
  let pk = await meter(p, 0, 'peak');
  let rms = await meter(p, 0, 'rms');
  assert.equal(pk.now, -20);
  assert.ok(Math.abs(pk.lit - 40 / 60) < 0.01, `lit ${pk.lit}`);
  assert.equal(rms.now, -40);
  assert.ok(Math.abs(rms.lit - 20 / 60) < 0.01);

  await p.send({ type: 'levels', body: levels(1.05, 0.5, 0.25) }); // −6.0 / −12.0 dB
  pk = await meter(p, 0, 'peak');
  rms = await meter(p, 0, 'rms');
  assert.equal(pk.now, -6);
  assert.ok(Math.abs(pk.lit - 54 / 60) < 0.01);
  assert.equal(rms.now, -12);

  const card = p.page.locator('[data-stream="0"]');
  assert.match(await card.innerText(), /Stream 0 — Playback · TX/);
  assert.match(await card.innerText(), /S16 · 48 kHz · 2 ch · backend portaudio:pulse/);
  assert.equal(await card.locator('.state').innerText(), 'running');
  assert.equal(await card.locator('.fill').getAttribute('aria-valuenow'), '1024');
  assert.match(await card.locator('.row', { hasText: 'Ring' }).innerText(), /1024 \/ 4096 frames/);
  const fillFrac = await card.locator('.fill').evaluate((el) => el.querySelector('.bar')!.getBoundingClientRect().width / el.getBoundingClientRect().width);
  assert.ok(Math.abs(fillFrac - 0.25) < 0.01);
  const rx = p.page.locator('[data-stream="1"]');
  assert.match(await rx.innerText(), /Capture · RX/);
  assert.match(await rx.locator('.failure').innerText(), /fell back: PortAudio: no capture device/);
  // Readouts follow at ≤ 5 Hz (bars every frame): the newest guest time shows within 200 ms.
  await p.page.waitForFunction(() => /Live — Boot semu · guest time 1\.050 s/.test(document.querySelector('.banner')!.textContent ?? ''), null, { timeout: 1000 });
  assert.equal(await card.locator('.meter.peak + .value').innerText(), '−6.0 dB');

  // A quieter window: the bar falls gradually, the peak-hold marker stays at the maximum.
  await p.send({ type: 'levels', body: levels(1.1, 0.01, 0.005) });
  pk = await meter(p, 0, 'peak');
  assert.ok(pk.now < -6 && pk.now > -40, `ballistic fall, got ${pk.now}`);
  assert.equal(pk.held, -6);

  await p.send({ type: 'levels', body: levels(1.15, 0.01, 0.005, { xrunsGuest: 2 }) });
  assert.equal(await card.locator('.xruns').getAttribute('class'), 'xruns flash nonzero');
  await done(p);
});

test('levels: paused freezes the meters and says so; running again moves them', async () => {
  const p = await openPanel(browser, 'levels');
  await p.send({ type: 'session', state: 'running' });
  await p.send({ type: 'levels', body: levels(2, 0.1, 0.05) });
  await p.send({ type: 'session', state: 'paused' });
  const frozen = await meter(p, 0, 'peak');
  const frozenRms = await meter(p, 0, 'rms');
  await p.sendMany([1, 2, 3, 4, 5].map((i) => ({ type: 'levels' as const, body: levels(2 + i / 20, 1, 0.9) })));
  assert.deepEqual(await meter(p, 0, 'peak'), frozen);
  assert.deepEqual(await meter(p, 0, 'rms'), frozenRms);
  assert.match(await p.page.locator('.banner').innerText(), /Paused.*frozen at guest time 2\.000 s/);
  assert.equal(await p.page.evaluate(() => document.body.dataset.session), 'paused');

  await p.send({ type: 'session', state: 'running' });
  await p.send({ type: 'levels', body: levels(3, 1, 0.9) });
  assert.equal((await meter(p, 0, 'peak')).now, 0);
  await done(p);
});

test('levels: screenshots — the meter and the history show the new level in pixels', async () => {
  const p = await openPanel(browser, 'levels', { width: 900, height: 420 });
  await p.send({ type: 'session', state: 'running', name: 'Boot semu' });
  for (let i = 0; i < 30; i++) await p.page.evaluate((m) => window.postMessage(m, '*'), { type: 'levels', body: levels(i / 20, 0.05, 0.02) });
  await p.frames();
  const meterBox = (await p.page.locator('[data-stream="0"] .meter.peak').boundingBox())!;
  const sparkBox = (await p.page.locator('[data-stream="0"] canvas.spark').boundingBox())!;
  const quiet = await p.page.screenshot({ path: join(shots, 'levels-quiet.png') });
  for (let i = 30; i < 60; i++) await p.page.evaluate((m) => window.postMessage(m, '*'), { type: 'levels', body: levels(i / 20, 0.7, 0.35) });
  await p.frames();
  const loud = await p.page.screenshot({ path: join(shots, 'levels-loud.png') });
  const a = decodePng(quiet);
  const b = decodePng(loud);
  // Column at −10 dBFS (83 % of the scale): unlit at −26 dB, lit at −3 dB.
  const x = Math.round(meterBox.x + meterBox.width * (50 / 60));
  const y = Math.round(meterBox.y + meterBox.height / 2);
  const track = pixel(a, x, y);
  const lit = pixel(b, x, y);
  const dist = Math.abs(track[0] - lit[0]) + Math.abs(track[1] - lit[1]) + Math.abs(track[2] - lit[2]);
  assert.ok(dist > 60, `meter pixel at −10 dB changed colour: ${track} → ${lit}`);
  // The sparkline's right edge has the new (louder) values drawn higher up.
  const sx = Math.round(sparkBox.x + sparkBox.width - 3);
  let changed = 0;
  for (let sy = Math.round(sparkBox.y) + 2; sy < sparkBox.y + sparkBox.height - 2; sy++) {
    const p1 = pixel(a, sx, sy);
    const p2 = pixel(b, sx, sy);
    if (Math.abs(p1[0] - p2[0]) + Math.abs(p1[1] - p2[1]) + Math.abs(p1[2] - p2[2]) > 30) changed++;
  }
  assert.ok(changed >= 5, `sparkline column changed in ${changed} pixels`);
  await done(p);
});

test('levels: state is restored when the panel is shown again', async () => {
  const p = await openPanel(browser, 'levels');
  await p.send({ type: 'session', state: 'running', name: 'Boot semu' });
  for (let i = 0; i < 40; i++) await p.page.evaluate((m) => window.postMessage(m, '*'), { type: 'levels', body: levels(i / 20, 0.3 + (i % 5) / 10, 0.2) });
  await p.frames();
  await p.send({ type: 'session', state: 'paused' }); // a state change saves at once
  const before = { peak: await meter(p, 0, 'peak'), rms: await meter(p, 0, 'rms') };
  const state = await p.state();
  assert.ok(state, 'the panel saved its state');
  await done(p);

  // VS Code destroys a hidden webview (retainContextWhenHidden: false) and recreates it with the state.
  const again = await openPanel(browser, 'levels', { state });
  await again.frames();
  assert.deepEqual({ peak: await meter(again, 0, 'peak'), rms: await meter(again, 0, 'rms') }, before);
  assert.match(await again.page.locator('.banner').innerText(), /Paused — Boot semu/);
  assert.equal(await again.page.locator('section.stream').count(), 2);
  await done(again);
});

test('levels: keyboard and screen readers — refresh button, labelled meters, focusable cards', async () => {
  const p = await openPanel(browser, 'levels');
  await p.send({ type: 'session', state: 'running' });
  await p.send({ type: 'levels', body: levels(1, 0.5, 0.25) });
  await p.page.keyboard.press('Tab');
  assert.equal(await p.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Refresh stream facts');
  await p.page.keyboard.press('Enter');
  assert.deepEqual((await p.posted()).at(-1), { type: 'refresh' });
  await p.page.keyboard.press('Tab');
  assert.match((await p.page.evaluate(() => document.activeElement?.getAttribute('aria-label'))) ?? '', /^Stream 0, Playback · TX, running, peak −6\.0 dB/);
  const labels = await p.page.$$eval('[role="meter"]', (els) => els.map((e) => e.getAttribute('aria-label')));
  assert.ok(labels.includes('Stream 0 peak level') && labels.includes('Stream 1 host ring fill'));
  await done(p);
});

test('levels: theme colours come from VS Code variables (light theme readable)', async () => {
  const p = await openPanel(browser, 'levels', { bodyClass: 'vscode-light' });
  await p.page.evaluate(() => {
    const s = document.documentElement.style;
    s.setProperty('--vscode-editor-background', '#ffffff');
    s.setProperty('--vscode-foreground', '#1f1f1f');
    s.setProperty('--vscode-descriptionForeground', '#595959');
    s.setProperty('--vscode-sideBar-background', '#f3f3f3');
    s.setProperty('--vscode-input-background', '#e4e4e4');
  });
  await p.send({ type: 'session', state: 'running' });
  await p.send({ type: 'levels', body: levels(1, 0.5, 0.25) });
  const colors = await p.page.evaluate(() => {
    const cs = (sel: string) => getComputedStyle(document.querySelector(sel)!);
    return { bg: cs('body').backgroundColor, card: cs('section.stream').backgroundColor, title: cs('section.stream h2').color, meta: cs('.meta').color };
  });
  assert.equal(colors.bg, 'rgb(255, 255, 255)');
  const lum = (c: string) => {
    const [r, g, b] = c.match(/\d+/g)!.map(Number).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a: string, b: string) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
  assert.ok(contrast(colors.title, colors.card) > 7, `title contrast ${contrast(colors.title, colors.card)}`);
  assert.ok(contrast(colors.meta, colors.card) > 4.5, `secondary text contrast ${contrast(colors.meta, colors.card)}`);
  assert.match(await p.page.locator('.banner').innerText(), /Live/, 'a session change shows at once');
  writeFileSync(join(shots, 'levels-light.png'), await p.page.screenshot());
  await done(p);
});
