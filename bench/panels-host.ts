// The panels' cost where it matters: the extension host's main thread and the guest. The debug
// adapter runs inline as in VS Code; both panels are "open" as stand-ins that serialise every
// message as VS Code's postMessage would, fed by the real PanelHub and SessionFeed (levels at
// ~20 Hz, semu/virtqueues polled at 5 Hz). Alternates closed/open:
//  - extension-host main-thread busy time (event-loop utilisation) while the guest plays audio;
//  - guest slowdown: wall time of the guest's cpubench with and without the panels.

import type { DebugProtocol } from '@vscode/debugprotocol';
import { SemuDebugSession } from '../debug-adapter/session';
import { InlineClient } from '../test/dap/inline-client';
import { PanelHub, type HubPanel, type PanelKind } from '../src/panels/hub';
import { SessionFeed, type FeedSession } from '../src/vscode/session-feed';
import { guestArtifacts } from '../test/guest-artifacts/artifacts';
import type { ToPanel } from '../src/shared/protocol';
import { performance } from 'node:perf_hooks';

export interface PanelsHostBench {
  host_ms_per_s_closed: number;
  host_ms_per_s_open: number;
  messages_per_s_open: number;
  cpubench_s_closed: number;
  cpubench_s_open: number;
  guest_slowdown: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function standIn(kind: PanelKind, count: { n: number; bytes: number }): HubPanel {
  const none = { dispose() {} };
  return {
    kind,
    visible: true,
    post(msg: ToPanel) {
      count.n++;
      count.bytes += JSON.stringify(msg).length;
    },
    onMessage: () => none,
    onDidChangeVisibility: () => none,
    onDidDispose: () => none,
  };
}

export async function benchPanelsHost(rounds = 2, playSeconds = 6): Promise<PanelsHostBench> {
  const g = guestArtifacts();
  let text = '';
  const session = new SemuDebugSession({ consoleOut: (t) => (text += t) });
  const dc = new InlineClient(session);
  const hub = new PanelHub();
  const feed = new SessionFeed(hub);
  const fs: FeedSession = { id: 'bench', name: 'Boot semu', customRequest: (c, a) => dc.request(c, a).then((r) => r.body) };
  const sub = session.onDidSendMessage((m) => {
    const e = m as DebugProtocol.Event;
    if (e.type === 'event' && e.event.startsWith('semu/')) feed.customEvent(fs, e.event, e.body);
  });
  const waitFor = async (what: string, from: number, timeoutMs: number) => {
    const end = performance.now() + timeoutMs;
    while (text.indexOf(what, from) < 0) {
      if (performance.now() > end) throw new Error(`no "${what}" after ${timeoutMs} ms: ${text.slice(-400)}`);
      await sleep(5);
    }
  };
  const type = async (line: string, until: string, timeoutMs: number) => {
    const from = text.length;
    const t0 = performance.now();
    await dc.request('semu/consoleInput', { text: line + '\n' });
    await waitFor(until, from, timeoutMs);
    return (performance.now() - t0) / 1000;
  };
  const res = { closed: { host: [] as number[], cpu: [] as number[] }, open: { host: [] as number[], cpu: [] as number[] } };
  const count = { n: 0, bytes: 0 };
  let openSeconds = 0;
  try {
    await dc.request('initialize', { adapterID: 'semu', pathFormat: 'path' });
    const launched = dc.request('launch', { kernel: g.kernel, initrd: g.initrd, audioOut: 'null', audioIn: 'null' });
    await dc.request('configurationDone');
    const l = await launched;
    if (!l.success) throw new Error(`launch failed: ${l.message}`);
    feed.started(fs);
    await waitFor('semu-guest: ready', 0, 120_000);
    await type('dmesg -n 1', '# ', 10_000);
    for (let r = 0; r < rounds * 2; r++) {
      const open = r % 2 === 1;
      const panels = open ? [standIn('levels', count), standIn('inspector', count)] : [];
      for (const p of panels) hub.attach(p);
      const n0 = count.n;
      const e0 = performance.eventLoopUtilization();
      const t0 = performance.now();
      await type(`pcm play 440 ${playSeconds}`, 'pcm: play', (playSeconds + 30) * 1000);
      const elu = performance.eventLoopUtilization(e0);
      const wall = (performance.now() - t0) / 1000;
      const cpu = await type('cpubench', 'cpubench: ns=', 300_000);
      if (open) openSeconds += wall;
      const bucket = open ? res.open : res.closed;
      bucket.host.push(elu.active / wall);
      bucket.cpu.push(cpu);
      for (const p of panels) hub.detach(p);
      if (open && count.n === n0) throw new Error('the open panels received no messages');
    }
  } finally {
    sub.dispose();
    feed.dispose();
    hub.dispose();
    await dc.request('disconnect', {});
    await session.close();
    dc.dispose();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const out: PanelsHostBench = {
    host_ms_per_s_closed: mean(res.closed.host),
    host_ms_per_s_open: mean(res.open.host),
    messages_per_s_open: count.n / openSeconds,
    cpubench_s_closed: mean(res.closed.cpu),
    cpubench_s_open: mean(res.open.cpu),
    guest_slowdown: mean(res.open.cpu) / mean(res.closed.cpu) - 1,
  };
  return out;
}
