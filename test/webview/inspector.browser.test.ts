// The virtqueue inspector in real headless Chromium, through the production HTML builder.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { bundle, launch, openPanel, PanelPage, repoRoot } from './harness';
import { blkDevice, queue, snapshot, sndDevice, xferChain } from './fixtures';
import { decodePng } from './png';

const shots = join(repoRoot, 'test-results', 'webview');
let browser: Browser;
before(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await launch();
});
after(() => browser?.close());

async function done(p: PanelPage) {
  await p.close();
  assert.deepEqual(p.errors, [], 'no console errors, no CSP violations');
}

async function showTxq(p: PanelPage, running = true) {
  await p.send({ type: 'session', state: running ? 'running' : 'paused', name: 'Boot semu' });
  await p.send({ type: 'virtqueues', body: snapshot(running) });
  await p.page.click('button.queue[data-device="virtio-snd"][data-queue="2"]');
  await p.frames();
}

const fact = (p: PanelPage, name: string) => p.page.locator('.facts dt', { hasText: new RegExp(`^${name}$`) }).locator('xpath=following-sibling::dd[1]').innerText();

test('inspector: the build emits its stylesheet', async () => {
  assert.match((await bundle('inspector')).css, /\.desc-grid/);
});

test('inspector: without a session, an empty state with the hint', async () => {
  const p = await openPanel(browser, 'inspector');
  assert.match(await p.page.locator('.empty').innerText(), /Start a 'Boot semu' debug session/);
  assert.equal(await p.page.locator('.layout').isVisible(), false);
  await done(p);
});

test('inspector: draws the TX queue snapshot — indices, rings, descriptor roles, decoded chains', async () => {
  const p = await openPanel(browser, 'inspector', { height: 1200 });
  await showTxq(p);
  assert.equal(await p.page.locator('.queue h3').first().innerText(), 'Queue 2 — txq');
  assert.equal(await fact(p, 'avail.idx'), '66 → slot 2');
  assert.equal(await fact(p, 'last_avail_idx'), '64 → slot 0');
  assert.equal(await fact(p, 'used.idx'), '63 → slot 63');
  assert.equal(await fact(p, 'pending'), '2');
  assert.equal(await fact(p, 'in flight'), '1');
  assert.equal(await fact(p, 'notifications'), '40');
  assert.equal(await fact(p, 'interrupts'), '37');
  assert.equal(await fact(p, 'desc'), '0x8100_2000');

  const center = await p.page.$$eval('svg.rings text', (ts) => ts.map((t) => t.textContent));
  assert.deepEqual(center, ['txq (64 slots)', 'avail.idx 66', 'last_avail_idx 64', 'used.idx 63', '2 pending · 1 held']);
  assert.match((await p.page.locator('svg.rings title').textContent()) ?? '', /avail\.idx 66 \(slot 2\), last_avail_idx 64 \(slot 0\), used\.idx 63 \(slot 63\)/);
  // Descriptor ring: one pending run (3..8) and one held run (9..11); avail ring: one pending run.
  const runs = await p.page.$$eval('g.runs path', (ps) => ps.filter((x) => x.getAttribute('d')).map((x) => `${x.parentElement!.getAttribute('class')}:${x.getAttribute('class')}`));
  assert.deepEqual(runs.sort(), ['runs avail:pending', 'runs desc:held', 'runs desc:pending']);
  // The pending arc of the avail ring starts at 12 o'clock (slot 0) and spans 2/64 of the circle.
  const arc = await p.page.getAttribute('g.runs.avail path.pending', 'd');
  assert.match(arc ?? '', /^M160 38A122 122 0 0 1 /);

  const cellClass = (i: number) => p.page.getAttribute(`button.cell[data-desc="${i}"]`, 'class');
  assert.equal(await cellClass(3), 'cell pending head');
  assert.equal(await cellClass(4), 'cell pending');
  assert.equal(await cellClass(9), 'cell held head');
  assert.equal(await cellClass(12), 'cell free');
  assert.equal(await p.page.isDisabled('button.cell[data-desc="12"]'), true);
  assert.equal(await p.page.locator('button.cell').count(), 64);

  const chains = await p.page.locator('.chain').allInnerTexts();
  assert.equal(chains.length, 3);
  assert.match(chains[0], /pending\s+head 3\s+xfer stream 0, 4096 PCM bytes/);
  assert.match(chains[0], /4\s+0x8020_0100\s+4096\s+NEXT\s+5/);
  assert.match(chains[0], /5\s+0x8020_2000\s+8\s+WRITE\s+—/);
  assert.match(chains[2], /held\s+head 9\s+xfer stream 0, 1024 PCM bytes/);
  assert.match(await p.page.locator('.device').innerText(), /virtio-snd — sound\s+MMIO 0xf470_0000 · IRQ 5/);
  assert.match(await p.page.locator('.device').innerText(), /0xf ACKNOWLEDGE\|DRIVER\|FEATURES_OK\|DRIVER_OK/);
  await p.page.click('.feature-box summary');
  assert.match(await p.page.locator('.features').innerText(), /32 VERSION_1 negotiated/);
  assert.match(await p.page.locator('.banner').innerText(), /Live — Boot semu: sampled while running/);
  await p.page.screenshot({ path: join(shots, 'inspector-txq.png'), fullPage: true });
  await done(p);
});

test('inspector: clicking or pressing Enter on a descriptor posts openMemory for its buffer', async () => {
  const p = await openPanel(browser, 'inspector', { height: 1200 });
  await showTxq(p);
  await p.page.click('button.cell[data-desc="4"]');
  await p.frames();
  assert.deepEqual((await p.posted()).at(-1), { type: 'openMemory', address: 0x8020_0100, length: 4096 });
  assert.match((await p.page.getAttribute('button.cell[data-desc="4"]', 'class')) ?? '', /selected/);
  assert.equal(await p.page.locator('tr.selected').count(), 1);

  await p.page.click('button.addr[data-desc="10"]');
  assert.deepEqual((await p.posted()).at(-1), { type: 'openMemory', address: 0x8022_0100, length: 1024 });

  await p.page.focus('button.cell[data-desc="5"]');
  await p.page.keyboard.press('Enter');
  assert.deepEqual((await p.posted()).at(-1), { type: 'openMemory', address: 0x8020_2000, length: 8 });

  const count = (await p.posted()).length;
  await p.page.click('button.cell[data-desc="20"]', { force: true }); // a free descriptor: nothing known
  assert.equal((await p.posted()).length, count);
  assert.equal(await p.page.getAttribute('button.cell[data-desc="5"]', 'aria-label'), 'Descriptor 5, pending of chain 3: addr 0x8020_2000, len 8, WRITE. Open in memory view.');
  await done(p);
});

test('inspector: keyboard moves between queues; selection is announced', async () => {
  const p = await openPanel(browser, 'inspector');
  await showTxq(p);
  await p.page.focus('button.queue[data-queue="2"][data-device="virtio-snd"]');
  await p.page.keyboard.press('ArrowDown');
  await p.page.keyboard.press('Enter');
  await p.frames();
  assert.equal(await p.page.locator('.queue h3').first().innerText(), 'Queue 3 — rxq');
  assert.equal(await p.page.getAttribute('button.queue[data-queue="3"]', 'aria-current'), 'true');
  assert.match((await p.page.getAttribute('button.queue[data-queue="3"]', 'aria-label')) ?? '', /virtio-snd queue 3 rxq: 0 pending, 0 held/);
  await p.page.keyboard.press('ArrowDown');
  await p.page.keyboard.press('Space');
  await p.frames();
  assert.match(await p.page.locator('.device h2').innerText(), /virtio-blk — block/);
  assert.match(await p.page.locator('.chain').innerText(), /IN sector 2048 × 8/);
  await done(p);
});

test('inspector: a device that needs a reset is flagged in red', async () => {
  const p = await openPanel(browser, 'inspector');
  await p.send({ type: 'session', state: 'paused' });
  await p.send({ type: 'virtqueues', body: snapshot(false, [sndDevice({ needsReset: true, status: 0x4f, statusNames: 'ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK|DEVICE_NEEDS_RESET' })]) });
  const banner = p.page.locator('.device .needs-reset');
  assert.equal(await banner.isVisible(), true);
  assert.match(await banner.innerText(), /DEVICE_NEEDS_RESET/);
  const color = await banner.evaluate((e) => getComputedStyle(e).color);
  const [r, g, b] = color.match(/\d+/g)!.map(Number);
  assert.ok(r > 200 && r > g + 60 && r > b + 60, `red text, got ${color}`);
  assert.equal(await p.page.locator('.reset-flag.on').count(), 1);
  assert.match(await p.page.locator('.banner').innerText(), /Paused: exact snapshot/);
  await done(p);
});

test('inspector: live snapshots update in place and show ring activity', async () => {
  const p = await openPanel(browser, 'inspector', { height: 1200 });
  await showTxq(p);
  const ring = (await p.page.locator('svg.rings').boundingBox())!;
  const first = decodePng(await p.page.screenshot({ clip: ring }));
  const cell = await p.page.$('button.cell[data-desc="12"]');
  const dev = sndDevice();
  const tx = dev.queues[2];
  tx.availIdx = 68; // the driver queued two more chains
  tx.usedIdx = 65; // the device returned two
  tx.notifications = 41;
  tx.pending.push(xferChain(12, 0x8023_0000, 4096), xferChain(15, 0x8024_0000, 4096));
  await p.send({ type: 'virtqueues', body: snapshot(true, [dev, blkDevice()]) });
  assert.equal(await fact(p, 'avail.idx'), '68 → slot 4');
  assert.equal(await fact(p, 'notifications'), '41');
  assert.equal(await p.page.getAttribute('button.cell[data-desc="12"]', 'class'), 'cell pending head');
  assert.ok(await cell!.evaluate((e) => e.isConnected), 'the grid cell is the same element, updated in place');
  // used.idx moved 63 → 65: slots 63 and 0 are fresh (across the wrap); the avail ring's new
  // entries are pending (not yet taken), which is shown over "fresh": slots 0..3.
  const fresh = await p.page.$$eval('g.runs path.fresh', (ps) => ps.map((x) => x.parentElement!.getAttribute('class')));
  assert.deepEqual(fresh, ['runs used', 'runs used']);
  assert.match((await p.page.getAttribute('g.runs.avail path.pending', 'd')) ?? '', /^M160 38A122 122 0 0 1 206\.69 47\.29L/);
  assert.match(await p.page.locator('.banner').innerText(), /snapshot #2/);
  const second = decodePng(await p.page.screenshot({ clip: ring, path: join(shots, 'inspector-ring-live.png') }));
  let diff = 0;
  for (let i = 0; i < first.data.length; i += 4) if (Math.abs(first.data[i] - second.data[i]) + Math.abs(first.data[i + 1] - second.data[i + 1]) > 40) diff++;
  assert.ok(diff > 200, `the ring drawing changed (${diff} pixels)`);
  await done(p);
});

test('inspector: state (snapshot and selection) is restored when the panel is shown again', async () => {
  const p = await openPanel(browser, 'inspector');
  await showTxq(p, false);
  await p.page.click('button.queue[data-device="virtio-blk"]');
  await p.page.click('button.cell[data-desc="18"]');
  await p.frames();
  const state = await p.state();
  await done(p);
  const again = await openPanel(browser, 'inspector', { state });
  await again.frames();
  assert.match(await again.page.locator('.device h2').innerText(), /virtio-blk/);
  assert.match((await again.page.getAttribute('button.cell[data-desc="18"]', 'class')) ?? '', /selected/);
  assert.match(await again.page.locator('.banner').innerText(), /Paused — Boot semu: exact snapshot/);
  await done(again);
});

test('inspector: a huge hostile queue stays cheap to draw', async () => {
  const p = await openPanel(browser, 'inspector');
  await p.send({ type: 'session', state: 'running' });
  const pending = Array.from({ length: 500 }, (_, i) => xferChain((i * 3) % 1020, 0x8000_0000 + i * 0x1000, 64));
  const big = sndDevice({ queues: [queue({ index: 0, name: 'controlq', size: 1024, availIdx: 600, lastAvailIdx: 100, pending }), queue({ index: 1, name: 'eventq', size: 32768, availIdx: 65535 })] });
  // Time from the message to the frame after it has been drawn, measured in the page.
  const ms = await p.page.evaluate(
    (body) =>
      new Promise<number>((resolve) => {
        const t = performance.now();
        window.postMessage({ type: 'virtqueues', body }, '*');
        requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t)));
      }),
    snapshot(true, [big]),
  );
  assert.ok(ms < 2000, `drawn in ${ms.toFixed(1)} ms`);
  assert.equal(await p.page.locator('.chain').count(), 64, 'chains capped');
  assert.match(await p.page.locator('.chains .note').innerText(), /500 pending.*436 not shown/);
  assert.ok((await p.page.locator('g.runs.desc path[d^="M"]').count()) < 400, 'runs, not one path per slot');
  await p.page.click('button.queue[data-queue="1"]');
  await p.frames();
  assert.match(await p.page.locator('.note').first().innerText(), /32768 entries: too many to draw/);
  await done(p);
});
