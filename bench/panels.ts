// Render cost of the two panels in real headless Chromium: messages are fed at their real rates
// (levels at 20 Hz, virtqueue snapshots at 5 Hz) for a few seconds, and Chrome's own counters
// (CDP Performance.getMetrics: main-thread task, script, style and layout time) give the cost per
// message — what a panel takes from the renderer that also draws the rest of VS Code.
import type { CDPSession } from 'playwright-core';
import { levels, snapshot, sndDevice, blkDevice } from '../test/webview/fixtures';
import { launch, openPanel } from '../test/webview/harness';

export interface PanelBenchResult {
  panel: 'levels' | 'inspector';
  rateHz: number;
  messages: number;
  /** Main-thread busy time per message (script + style + layout + paint bookkeeping), ms. */
  taskMsPerMessage: number;
  scriptMsPerMessage: number;
  layoutMsPerMessage: number;
  styleMsPerMessage: number;
}

async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

async function feed(kind: 'levels' | 'inspector', rateHz: number, seconds: number): Promise<PanelBenchResult> {
  const browser = await launch();
  try {
    const p = await openPanel(browser, kind, { width: 1000, height: 900 });
    const cdp = await p.page.context().newCDPSession(p.page);
    await cdp.send('Performance.enable');
    await p.send({ type: 'session', state: 'running', name: 'bench' });
    if (kind === 'inspector') {
      await p.send({ type: 'virtqueues', body: snapshot(true) });
      await p.page.click('button.queue[data-device="virtio-snd"][data-queue="2"]');
    }
    await p.frames(4);
    const n = Math.round(rateHz * seconds);
    // The whole schedule runs inside the page, so the test process's latency does not count.
    // Messages are made before the clock starts and posted on a timer inside the page, so neither
    // building them nor the test process's latency is counted.
    await p.page.evaluate(
      ({ kind, n, lv, snd, blk }) => {
        const msgs: unknown[] = [];
        for (let i = 0; i < n; i++) {
          if (kind === 'levels') {
            const body = JSON.parse(JSON.stringify(lv));
            body.time = i / 20;
            body.streams[0].peak = 0.2 + 0.7 * Math.abs(Math.sin(i / 7));
            body.streams[0].rms = body.streams[0].peak / 2;
            body.streams[0].ringFill = (i * 97) % 4096;
            msgs.push({ type: 'levels', body });
          } else {
            const dev = JSON.parse(JSON.stringify(snd));
            const tx = dev.queues[2];
            tx.availIdx = (66 + i * 2) & 0xffff;
            tx.lastAvailIdx = (64 + i * 2) & 0xffff;
            tx.usedIdx = (63 + i * 2) & 0xffff;
            tx.notifications += i;
            msgs.push({ type: 'virtqueues', body: { running: true, devices: [dev, blk] } });
          }
        }
        (window as unknown as { __bench: unknown[] }).__bench = msgs;
      },
      { kind, n, lv: levels(0, 0.5, 0.25), snd: sndDevice(), blk: blkDevice() },
    );
    const before = await metrics(cdp);
    await p.page.evaluate(
      (period) =>
        new Promise<void>((resolve) => {
          const msgs = (window as unknown as { __bench: unknown[] }).__bench;
          let i = 0;
          const tick = () => {
            window.postMessage(msgs[i], '*');
            if (++i < msgs.length) setTimeout(tick, period);
            else setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(() => resolve())), 250);
          };
          tick();
        }),
      1000 / rateHz,
    );
    const after = await metrics(cdp);
    await p.close();
    const per = (k: string) => ((after[k] - before[k]) * 1000) / n;
    return {
      panel: kind,
      rateHz,
      messages: n,
      taskMsPerMessage: per('TaskDuration'),
      scriptMsPerMessage: per('ScriptDuration'),
      layoutMsPerMessage: per('LayoutDuration'),
      styleMsPerMessage: per('RecalcStyleDuration'),
    };
  } finally {
    await browser.close();
  }
}

export async function benchPanels(seconds = 3): Promise<PanelBenchResult[]> {
  return [await feed('levels', 20, seconds), await feed('inspector', 5, seconds)];
}
