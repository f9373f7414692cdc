// Helpers for the DAP tests: the standalone adapter (dist/debug-adapter.js) driven by
// @vscode/debugadapter-testsupport's DebugClient, the default guest's paths, and small waits
// on the events the adapter sends (guest console text arrives as `output` events, category stdout).

import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { guestArtifacts, repoRoot, type GuestArtifacts } from '../guest-artifacts/artifacts';

export { guestArtifacts, type GuestArtifacts };

/** Booting Linux to the guest's shell takes ~15 s on one busy core; leave room. */
export const BOOT_TIMEOUT_MS = 120_000;

export function adapterPath(): string {
  const p = join(repoRoot(), 'dist', 'debug-adapter.js');
  if (!existsSync(p) || !existsSync(join(repoRoot(), 'dist', 'worker.js'))) throw new Error('dist/ is not built: run `node scripts/build.mjs` first');
  return p;
}

export class SemuClient extends DebugClient {
  /** Guest console text so far (stdout output events). */
  console = '';
  readonly events: DebugProtocol.Event[] = [];

  constructor() {
    super('node', adapterPath(), 'semu', { stdio: ['pipe', 'pipe', 'pipe'] });
    this.defaultTimeout = 30_000;
    this.on('output', (e: DebugProtocol.OutputEvent) => {
      if (e.body.category === 'stdout') this.console += e.body.output;
    });
  }

  /** The adapter's child process (to watch it exit by itself). */
  get process(): ChildProcess | null {
    return (this as unknown as { _adapterProcess: ChildProcess | null })._adapterProcess;
  }

  /** Resolves when the console shows `text` (already shown counts). */
  waitConsole(text: string | RegExp, timeout = BOOT_TIMEOUT_MS): Promise<void> {
    const seen = () => (typeof text === 'string' ? this.console.includes(text) : text.test(this.console));
    if (seen()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('output', check);
        reject(new Error(`console never showed ${String(text)}; last output:\n${this.console.slice(-2000)}`));
      }, timeout);
      const check = () => {
        if (!seen()) return;
        clearTimeout(timer);
        this.off('output', check);
        resolve();
      };
      this.on('output', check);
    });
  }

  /** The next `stopped` event. */
  nextStop(timeout = this.defaultTimeout): Promise<DebugProtocol.StoppedEvent> {
    return this.waitForEvent('stopped', timeout) as Promise<DebugProtocol.StoppedEvent>;
  }

  /** initialize + launch + configurationDone, the order VS Code uses. */
  async boot(args: Record<string, unknown>, before?: () => Promise<void>): Promise<void> {
    const init = await this.initializeRequest({ adapterID: 'semu', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    if (!init.body?.supportsConfigurationDoneRequest) throw new Error('the adapter should want configurationDone');
    const launched = this.launchRequest(args as DebugProtocol.LaunchRequestArguments);
    if (before) await before();
    await this.configurationDoneRequest();
    await launched;
  }

  /** DebugClient has no helper for this one. */
  setInstructionBreakpointsRequest(args: DebugProtocol.SetInstructionBreakpointsArguments): Promise<DebugProtocol.SetInstructionBreakpointsResponse> {
    return this.customRequest('setInstructionBreakpoints', args) as Promise<DebugProtocol.SetInstructionBreakpointsResponse>;
  }

  /** Variables of a scope/node, as a name → variable map. */
  async vars(ref: number): Promise<Map<string, DebugProtocol.Variable>> {
    const r = await this.variablesRequest({ variablesReference: ref });
    return new Map(r.body.variables.map((v) => [v.name, v]));
  }

  /** Follows a path of names down from a reference: ['virtio-snd @0xf4700000', 'queues', 'txq (2)']. */
  async walk(ref: number, path: (string | RegExp)[]): Promise<DebugProtocol.Variable> {
    let cur: DebugProtocol.Variable | undefined;
    for (const step of path) {
      const r = await this.variablesRequest({ variablesReference: cur ? cur.variablesReference : ref });
      cur = r.body.variables.find((v) => (typeof step === 'string' ? v.name === step : step.test(v.name)));
      if (!cur) throw new Error(`no '${String(step)}' among ${r.body.variables.map((v) => v.name).join(', ')}`);
    }
    return cur!;
  }

  /**
   * DebugClient.stop() sends disconnect first; to an adapter that already exited that request
   * never gets an answer (and nothing else keeps the event loop alive). Skip it then.
   */
  override async stop(): Promise<void> {
    const p = this.process;
    if (p && p.exitCode === null && p.signalCode === null) return super.stop();
    (this as unknown as { stopAdapter(): void }).stopAdapter();
  }

  /** Disconnects and resolves with the adapter's exit code once it exits by itself. */
  async disconnectAndWaitExit(timeout = 10_000): Promise<number | null> {
    const p = this.process;
    if (!p) throw new Error('no adapter process');
    const exited = new Promise<number | null>((resolve, reject) => {
      if (p.exitCode !== null) return resolve(p.exitCode);
      const t = setTimeout(() => reject(new Error(`the adapter did not exit by itself within ${timeout} ms of disconnect`)), timeout);
      p.once('exit', (code) => {
        clearTimeout(t);
        resolve(code);
      });
    });
    await this.disconnectRequest({});
    return exited;
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
