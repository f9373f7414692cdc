// The end-to-end scenario from inside VS Code's extension host, for @vscode/test-electron
// (extensionTestsPath: `run()` is awaited; a rejection fails the run). Same story as the
// code-server e2e, through the API instead of the screen: the installed .vsix activates, "Boot
// semu" boots the guest, which plays a tone (TX levels rise), the virtio-snd TX notify filter stops
// the machine, the Devices scope shows txq, the inspector opens, Continue, Stop, nothing left.
// Prints one line per step and, last, "N passed, N failed".
import * as vscode from 'vscode';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { threadNames } from '../e2e/procs';
import { readdirSync, readFileSync } from 'node:fs';

const EXTENSION_ID = 'vscode-semu.vscode-semu';
const DEBUG_TYPE = 'semu';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** What the adapter said, seen through a DebugAdapterTracker. */
class Traffic {
  readonly events: DebugProtocol.Event[] = [];
  maxTxPeak = 0;
  last(event: string): DebugProtocol.Event | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]!.event === event) return this.events[i];
    return undefined;
  }
  seen(e: DebugProtocol.ProtocolMessage): void {
    if (e.type !== 'event') return;
    const ev = e as DebugProtocol.Event;
    if (ev.event === 'semu/levels') {
      for (const s of (ev.body?.streams ?? []) as { direction: string; peak: number }[]) if (s.direction === 'output') this.maxTxPeak = Math.max(this.maxTxPeak, s.peak);
      return; // ~20 Hz: not kept
    }
    this.events.push(ev);
  }
}

/** Our own child processes running the audio host (the extension host forks them). */
function audioHostChildren(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && /audio-host\.js/.test(readFileSync(`/proc/${name}/cmdline`, 'utf8'))) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

function extraThreads(baseline: readonly string[]): string[] {
  const left = [...baseline];
  return threadNames(process.pid).filter((n) => {
    const i = left.indexOf(n);
    if (i >= 0) left.splice(i, 1);
    return i < 0 && !/^(V8Worker|libuv-worker|DelayedTaskSche|node)$/.test(n);
  });
}

interface VarRow {
  name: string;
  value: string;
  variablesReference: number;
}

async function children(session: vscode.DebugSession, ref: number): Promise<VarRow[]> {
  const r = (await session.customRequest('variables', { variablesReference: ref })) as DebugProtocol.VariablesResponse['body'];
  return r.variables;
}

async function child(session: vscode.DebugSession, ref: number, re: RegExp): Promise<VarRow> {
  const kids = await children(session, ref);
  const v = kids.find((k) => re.test(k.name));
  if (!v) throw new Error(`no ${re} among ${kids.map((k) => k.name).join(', ')}`);
  return v;
}

export async function run(): Promise<void> {
  const results: { name: string; ok: boolean; error?: string }[] = [];
  const step = async (name: string, fn: () => Promise<void>) => {
    const blocked = results.length > 0 && !results[results.length - 1]!.ok;
    let error: string | undefined = blocked ? 'not run: the step before failed' : undefined;
    if (!blocked) {
      try {
        await fn();
      } catch (e) {
        error = (e as Error).message;
      }
    }
    results.push({ name, ok: !error, error });
    console.log(`${error ? 'FAIL' : 'PASS'} ${name}${error ? `: ${error}` : ''}`);
  };

  const traffic = new Traffic();
  const trackerSub = vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, { createDebugAdapterTracker: () => ({ onDidSendMessage: (m) => traffic.seen(m) }) });
  let session: vscode.DebugSession | undefined;
  let threadId = 0;
  let baseline: string[] = [];
  const folder = vscode.workspace.workspaceFolders?.[0];

  await step('the installed extension activates and registers its commands', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    if (!ext) throw new Error(`${EXTENSION_ID} is not installed`);
    const installedIn = process.env.SEMU_SUITE_EXTENSIONS_DIR;
    if (installedIn && !ext.extensionPath.startsWith(installedIn)) throw new Error(`${EXTENSION_ID} runs from ${ext.extensionPath}, not from the installed .vsix in ${installedIn}`);
    await ext.activate();
    const contributed = ((ext.packageJSON as { contributes?: { commands?: { command: string }[] } }).contributes?.commands ?? []).map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    if (contributed.length === 0 || missing.length) throw new Error(`commands not registered: ${missing.join(', ') || '(none contributed)'}`);
    baseline = threadNames(process.pid);
  });

  await step('"Boot semu" boots the guest, which plays "pcm play 440 5": the TX level rises', async () => {
    if (!folder) throw new Error('no workspace folder');
    const launch = vscode.workspace.getConfiguration('launch', folder).get<vscode.DebugConfiguration[]>('configurations') ?? [];
    const boot = launch.find((c) => c.name === 'Boot semu');
    if (!boot) throw new Error('no "Boot semu" in .vscode/launch.json');
    const started = new Promise<vscode.DebugSession>((resolve) => {
      const sub = vscode.debug.onDidStartDebugSession((s) => {
        if (s.type === DEBUG_TYPE) {
          sub.dispose();
          resolve(s);
        }
      });
    });
    // consoleInput: the adapter types it once the guest prints "semu-guest: ready".
    if (!(await vscode.debug.startDebugging(folder, { ...boot, consoleInput: ['pcm play 440 5'] }))) throw new Error('startDebugging failed');
    session = await started;
    if (!vscode.window.terminals.some((t) => t.name === 'semu console')) throw new Error('no "semu console" terminal');
    await until('the TX peak to rise above -30 dBFS', 120_000, () => traffic.maxTxPeak > 0.0316, 200);
    if (audioHostChildren().length === 0) throw new Error('no audio-host process while playing');
  });

  await step('the virtio-snd TX notify filter stops the machine; Devices > virtio-snd > queues > txq', async () => {
    const s = session!;
    await s.customRequest('setExceptionBreakpoints', { filters: ['virtio-snd-tx'] });
    const before = traffic.events.length;
    const stopped = () => traffic.events.slice(before).find((e) => e.event === 'stopped') as DebugProtocol.StoppedEvent | undefined;
    // If the 5 s tone is over, give the guest something to queue.
    await sleep(2000);
    if (!stopped()) await s.customRequest('semu/consoleInput', { text: 'pcm play 440 2\n' });
    const ev = await until('a stopped event', 30_000, stopped, 100);
    if (ev.body.reason !== 'exception' || !/virtio-snd.*txq/.test(ev.body.description ?? '')) throw new Error(`stopped: ${JSON.stringify(ev.body)}`);
    threadId = ev.body.threadId ?? 0;
    const frames = (await s.customRequest('stackTrace', { threadId })) as DebugProtocol.StackTraceResponse['body'];
    const scopes = (await s.customRequest('scopes', { frameId: frames.stackFrames[0]!.id })) as DebugProtocol.ScopesResponse['body'];
    const devices = scopes.scopes.find((x) => x.name === 'Devices');
    if (!devices) throw new Error(`no Devices scope: ${scopes.scopes.map((x) => x.name).join(', ')}`);
    const snd = await child(s, devices.variablesReference, /^virtio-snd/);
    const queues = await child(s, snd.variablesReference, /^queues$/);
    const txq = await child(s, queues.variablesReference, /^txq/);
    const names = (await children(s, txq.variablesReference)).map((k) => k.name);
    for (const n of ['avail.idx', 'used.idx', 'pending']) if (!names.includes(n)) throw new Error(`txq has no ${n}: ${names.join(', ')}`);
  });

  await step('the virtqueue inspector opens on the stopped machine', async () => {
    await vscode.commands.executeCommand('semu.openInspector');
    await until('the inspector tab', 10_000, () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputWebview && /virtqueue/i.test(t.input.viewType + t.label)),
    );
    const snap = (await session!.customRequest('semu/virtqueues')) as { devices: { name: string; queues: { name: string; availIdx: number }[] }[] };
    const tx = snap.devices.find((d) => d.name === 'virtio-snd')?.queues.find((q) => q.name === 'txq');
    if (!tx || tx.availIdx === 0) throw new Error(`semu/virtqueues has no used txq: ${JSON.stringify(tx)}`);
  });

  await step('Continue, then Stop: the session ends, no worker thread or audio host is left', async () => {
    const s = session!;
    await s.customRequest('setExceptionBreakpoints', { filters: [] });
    await s.customRequest('continue', { threadId });
    const ended = new Promise<void>((resolve) => {
      const sub = vscode.debug.onDidTerminateDebugSession((x) => {
        if (x.id === s.id) {
          sub.dispose();
          resolve();
        }
      });
    });
    await vscode.debug.stopDebugging(s);
    await Promise.race([ended, sleep(20_000).then(() => Promise.reject(new Error('the session did not end')))]);
    await until('no audio-host process', 15_000, () => audioHostChildren().length === 0, 250).catch(() => {
      throw new Error(`audio hosts left: ${audioHostChildren().join(', ')}`);
    });
    await until('the worker thread to end', 15_000, () => extraThreads(baseline).length === 0, 250).catch(() => {
      throw new Error(`threads left: ${extraThreads(baseline).join(', ')}`);
    });
  });

  trackerSub.dispose();
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  if (failed) throw new Error(`${failed} of ${results.length} steps failed`);
}
