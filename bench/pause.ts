// Debugger benchmark, through the adapter as the extension runs it (inline, this process), on
// the default guest booting (the kernel is busy: the worker is mid-slice, not asleep in WFI):
//  - pause latency: DAP `pause` request → `stopped` event, repeated through one boot;
//  - semu/virtqueues round trip while the kernel boots, polled at 20 Hz (4× the inspector's rate).
// The guest slowdown with semu/virtqueues at 20 Hz (and with both panels open) is measured
// against a CPU-bound guest in bench/panels-host.ts: a boot's wall time was too noisy for it.

import type { DebugProtocol } from '@vscode/debugprotocol';
import { defaultGuest, launchInline, median, percentile, sleep, type GuestPaths } from './util';

export interface PauseBench {
  pause_ms_median: number;
  pause_ms_p90: number;
  pause_ms_max: number;
  pauses: number;
  /** semu/virtqueues round trip (request → response) while running, median ms. */
  virtqueues_ms_median: number;
}

const READY = 'semu-guest: ready';


/**
 * Boots once to the ready marker; returns the wall ms from the launch response to the marker.
 * With `pauses`, pauses every 20-100 ms and records each request → stopped latency.
 * With `rtt`, polls semu/virtqueues at 20 Hz and records each round trip.
 */
async function boot(g: GuestPaths, pauses: number[] | null, rtt: number[] | null): Promise<number> {
  let text = '';
  const { dc, close } = await launchInline(g, (t) => (text += t));
  let done = false;
  try {
    const t0 = performance.now();
    const side = (async () => {
      for (let i = 0; !done; i++) {
        if (pauses) {
          await sleep(20 + ((i * 37) % 80));
          if (done) break;
          const stopped = dc.event('stopped', 5000);
          const p0 = performance.now();
          await dc.request('pause', { threadId: 1 });
          const e = (await stopped) as DebugProtocol.StoppedEvent;
          pauses.push(performance.now() - p0);
          if (e.body.reason !== 'pause') throw new Error(`stopped for ${e.body.reason}`);
          await dc.request('continue', { threadId: 1 });
        } else if (rtt) {
          const r0 = performance.now();
          await dc.request('semu/virtqueues');
          rtt.push(performance.now() - r0);
          await sleep(50);
        } else return;
      }
    })();
    const end = t0 + 300_000;
    while (!text.includes(READY)) {
      if (performance.now() > end) throw new Error(`no "${READY}" after 300 s: ${text.slice(-500)}`);
      await sleep(5);
    }
    const ms = performance.now() - t0;
    done = true;
    await side;
    return ms;
  } finally {
    done = true;
    await close();
  }
}

export async function benchPause(): Promise<PauseBench> {
  const g = defaultGuest();
  const latencies: number[] = [];
  await boot(g, latencies, null);
  const rtt: number[] = [];
  await boot(g, null, rtt);
  return {
    pause_ms_median: median(latencies),
    pause_ms_p90: percentile(latencies, 0.9),
    pause_ms_max: Math.max(...latencies),
    pauses: latencies.length,
    virtqueues_ms_median: median(rtt),
  };
}
