// What the two panels cost the extension host and the guest, with the real adapter (inline, this
// process, as VS Code runs it), the real SessionFeed and PanelHub, and stand-in panels:
//  - the guest plays a tone in the background (`pcm play 440 … &`, so stream 0 runs and its
//    chains are in flight) and runs `cpubench` rounds in the foreground;
//  - phases rotate through three conditions: panels closed; both panels open (levels at the
//    adapter's 20 Hz, inspector polling semu/virtqueues at 5 Hz, streams at 1 Hz); no panel but
//    semu/virtqueues requested at 20 Hz (the debugger issue's own yardstick);
//  - extension-host cost: main-thread busy time per second (performance.eventLoopUtilization),
//    which is where the adapter, the feed, the hub and postMessage run;
//  - guest slowdown: cpubench's own time (guest clock = host clock) over the closed phase of the
//    same round, minus 1; the median over the rounds.
// The stand-in panels do what VS Code does with a posted message in the extension host: serialise
// it (JSON). Every adapter→client message is also JSON round-tripped, as the extension host ↔
// workbench hop would. What the webview itself costs is bench/panels.ts.

import { performance } from 'node:perf_hooks';
import { PanelHub, type Disposable, type HubPanel, type PanelKind } from '../src/panels/hub';
import { SessionFeed, type FeedSession } from '../src/vscode/session-feed';
import { DAP_CONSOLE_INPUT, DAP_VIRTQUEUES, type FromPanel, type ToPanel } from '../src/shared/protocol';
import { defaultGuest, launchInline, median, sleep } from './util';

export interface PanelsHostBench {
  /** Main-thread busy ms per wall second, panels closed / open (medians over the phases). */
  host_ms_per_s_closed: number;
  host_ms_per_s_open: number;
  /** cpubench time with both panels open over the time with none, minus 1 (median of pairs). */
  guest_slowdown: number;
  cpubench_ms_closed: number;
  cpubench_ms_open: number;
  /** Messages the panels received per second while open, and bytes serialised per second. */
  levels_per_s: number;
  virtqueues_per_s: number;
  posted_kib_per_s: number;
  /** Guest slowdown with semu/virtqueues polled at 20 Hz and no panel (the debugger's bench). */
  poll20_slowdown: number;
  cpubench_ms_poll20: number;
  rounds: number;
}

type Condition = 'closed' | 'panels' | 'poll20';
interface PhaseResult {
  guestMs: number;
  hostMsPerS: number;
  seconds: number;
}

const READY = 'semu-guest: ready';
/** Rounds of the three conditions (panels closed, both open, semu/virtqueues at 20 Hz). */
const ROUNDS_OF_PHASES = 6;
/** cpubench rounds per phase: about one second of guest work at ~400 MIPS. */
const ROUNDS = 7000;


/** A panel as the hub sees it: always visible, serialises what it is sent, counts it. */
class StandInPanel implements HubPanel {
  readonly visible = true;
  readonly counts = new Map<string, number>();
  bytes = 0;
  private handler: ((m: FromPanel) => void) | null = null;
  constructor(readonly kind: PanelKind) {}
  post(msg: ToPanel): void {
    this.bytes += JSON.stringify(msg).length;
    this.counts.set(msg.type, (this.counts.get(msg.type) ?? 0) + 1);
  }
  onMessage(h: (m: FromPanel) => void): Disposable {
    this.handler = h;
    return { dispose: () => (this.handler = null) };
  }
  onDidChangeVisibility(): Disposable {
    return { dispose: () => undefined };
  }
  onDidDispose(): Disposable {
    return { dispose: () => undefined };
  }
  /** The webview finished loading: it says so, as the real one does. */
  ready(): void {
    this.handler?.({ type: 'ready' });
  }
}

export async function benchPanelsHost(): Promise<PanelsHostBench> {
  const g = defaultGuest();
  let text = '';
  const { dc, close } = await launchInline(g, (t) => (text += t));
  const hub = new PanelHub();
  const feed = new SessionFeed(hub);
  const fs: FeedSession = {
    id: 'bench',
    name: 'Boot semu',
    customRequest: async (command, args) => {
      const r = await dc.request(command, args);
      if (!r.success) throw new Error(`${command}: ${r.message}`);
      return JSON.parse(JSON.stringify(r.body)) as unknown;
    },
  };
  dc.onEvent((e) => {
    if (e.event.startsWith('semu/')) feed.customEvent(fs, e.event, JSON.parse(JSON.stringify(e.body ?? null)));
  });
  const waitFor = async (re: RegExp, from: number, ms: number): Promise<RegExpExecArray> => {
    const end = performance.now() + ms;
    for (;;) {
      const m = re.exec(text.slice(from));
      if (m) return m;
      if (performance.now() > end) throw new Error(`no ${re} after ${ms} ms: ${text.slice(-400)}`);
      await sleep(5);
    }
  };
  const type = (line: string) => dc.request(DAP_CONSOLE_INPUT, { text: `${line}\n` });

  try {
    feed.started(fs);
    await waitFor(new RegExp(READY), 0, 120_000);
    await type('dmesg -n 1');
    await type(`pcm play 440 ${ROUNDS_OF_PHASES * 12 + 30} &`);
    await waitFor(/pcmC0D0p: S16/, 0, 20_000);

    // One cpubench run under the current condition: its guest-clock ms, the host's main thread.
    const phase = async (): Promise<PhaseResult> => {
      const from = text.length;
      const elu0 = performance.eventLoopUtilization();
      const t0 = performance.now();
      await type(`cpubench ${ROUNDS}`);
      const m = await waitFor(/cpubench: ns=(\d+) iters=\d+/, from, 60_000);
      const elu = performance.eventLoopUtilization(elu0);
      const seconds = (performance.now() - t0) / 1000;
      return { guestMs: Number(m[1]) / 1e6, hostMsPerS: elu.active / seconds, seconds };
    };
    await phase(); // warm-up: code cache, JIT of both sides

    const panels = [new StandInPanel('levels'), new StandInPanel('inspector')];
    let openSeconds = 0;
    const conditions: Record<Condition, () => Promise<PhaseResult>> = {
      closed: phase,
      panels: async () => {
        for (const p of panels) {
          hub.attach(p);
          p.ready();
        }
        const r = await phase();
        openSeconds += r.seconds;
        for (const p of panels) hub.detach(p);
        return r;
      },
      // The debugger issue's yardstick: semu/virtqueues at 20 Hz (4× the inspector's rate).
      poll20: async () => {
        let on = true;
        const poller = (async () => {
          while (on) {
            await dc.request(DAP_VIRTQUEUES);
            await sleep(50);
          }
        })();
        const r = await phase();
        on = false;
        await poller;
        return r;
      },
    };
    const results: Record<Condition, PhaseResult[]> = { closed: [], panels: [], poll20: [] };
    const order: Condition[] = ['closed', 'panels', 'poll20'];
    for (let i = 0; i < ROUNDS_OF_PHASES; i++) {
      // Rotate the order, so a drift of the machine's speed favours no condition.
      for (let k = 0; k < order.length; k++) {
        const c = order[(i + k) % order.length];
        results[c].push(await conditions[c]());
      }
    }
    const slowdown = (c: Condition) => median(results[c].map((r, i) => r.guestMs / results.closed[i].guestMs - 1));
    const hostMs = (c: Condition) => median(results[c].map((r) => r.hostMsPerS));
    const guestMs = (c: Condition) => median(results[c].map((r) => r.guestMs));
    const count = (kind: number, type: string) => panels[kind].counts.get(type) ?? 0;
    return {
      host_ms_per_s_closed: hostMs('closed'),
      host_ms_per_s_open: hostMs('panels'),
      guest_slowdown: slowdown('panels'),
      cpubench_ms_closed: guestMs('closed'),
      cpubench_ms_open: guestMs('panels'),
      poll20_slowdown: slowdown('poll20'),
      cpubench_ms_poll20: guestMs('poll20'),
      levels_per_s: count(0, 'levels') / openSeconds,
      virtqueues_per_s: count(1, 'virtqueues') / openSeconds,
      posted_kib_per_s: (panels[0].bytes + panels[1].bytes) / 1024 / openSeconds,
      rounds: ROUNDS_OF_PHASES,
    };
  } finally {
    feed.terminated(fs);
    feed.dispose();
    hub.dispose();
    await close();
  }
}
