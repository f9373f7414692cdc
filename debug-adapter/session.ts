// SemuDebugSession: the Debug Adapter Protocol in front of one MachineHost. As in
// vscode-mock-debug, the runtime (MachineHost: the emulator worker) only emits events — ready,
// console, stopped, exited — and this class translates between them and DAP.
//
// Threads are harts. Every stop stops the whole machine (allThreadsStopped). Before a stop is
// shown, filterStop() decides whether it is one (a false condition, a hit count not reached or
// a log point resume at once; a line step that is not finished goes on). Looking at a stopped
// machine lives in session-inspect.ts, the shared state in session-core.ts.

import { ContinuedEvent, Event, ExitedEvent, InitializedEvent, OutputEvent, StoppedEvent, TerminatedEvent, Thread } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { MachineHost, type ExitedEvent as HostExited, type StoppedEvent as HostStopped, type StopAction } from '../src/host/machine-host';
import { defaultGuest, type GuestArtifacts } from '../src/host/default-guest';
import { NOTIFY_FILTERS, CONDITION_FIELDS, parseCondition, type NotifyFilter } from '../src/host/notify-filter';
import type { NotifyStop } from '../src/worker/protocol';
import { DAP_CONSOLE_INPUT, DAP_LEVELS, DAP_STATE, DAP_STREAMS, DAP_VIRTQUEUES, type LevelsEventBody, type StateEventBody, type StreamsResponseBody, type VirtqueuesResponseBody } from '../src/shared/protocol';
import { logger, setLogLevel, type LogLevel } from '../src/log';
import { startGdbStub, type GdbStub } from '../src/gdb/stub';
import { resolveLaunch, type SemuLaunchArguments } from './launch';
import { cachedVmlinuxFor, loadDebugInfo } from './debug-load';
import { SourcePaths, kernelTreeRoot } from './source-paths';
import type { BreakpointEntry } from './breakpoints';
import * as bpRequests from './breakpoint-requests';
import { InspectSession } from './session-inspect';
import { linkAddress } from './stack';
import { LineStep, lineRanges } from './stepping';
import { Checker } from './args';
import { hex32 } from './registers';
import { formatMemoryReference } from './memory';
import { snapshotStreams, snapshotDevices } from './devices';
import { ConsoleText, consoleInputText } from './console';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { consoleFullMessage } from '../src/emulator/devices/console-input';

const log = logger('dap');

/** How often semu/levels goes out while the machine runs. */
export const LEVELS_INTERVAL_MS = 50;

export interface SemuSessionOptions {
  /** Guest console text goes here instead of DAP `output` events (the extension's terminal). */
  consoleOut?: (text: string) => void;
  /** Told when a machine starts (host) and ends (null), e.g. to wire terminal input. */
  onMachine?: (host: MachineHost | null) => void;
  /** Builds the default guest when a launch gives no kernel. */
  buildGuest?: (progress: (line: string) => void, signal: AbortSignal) => Promise<GuestArtifacts>;
  /** Running as its own process over stdio: exit by itself once disconnected. */
  standalone?: boolean;
  /** Called once the session has released its machine for good (disconnect or dispose). */
  onClosed?: () => void;
}

export class SemuDebugSession extends InspectSession {
  private lastStop: HostStopped | null = null;
  private configured = false;
  private begun = false;
  private stopOnEntry = false;
  private consoleInput: string[] = [];
  private console: ConsoleText | null = null;
  private levelsTimer: NodeJS.Timeout | null = null;
  private runStartedAt = 0;
  private runSeconds = 0;
  private notifyFilters: NotifyFilter[] = [];
  private ending: Promise<void> | null = null;
  private readonly abort = new AbortController();
  /** The resolved launch, kept for restart. */
  private launchArgs: SemuLaunchArguments | null = null;
  private gdb: GdbStub | null = null;
  /** A source-line step in progress (follow-ups are issued by filterStop). */
  private lineStep: LineStep | null = null;
  /** What the last breakpoint or data breakpoint stop decided (ids and reasons to show). */
  private hit: { ids: number[]; entries: BreakpointEntry[] } | null = null;

  constructor(private readonly opts: SemuSessionOptions = {}) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  protected defaultHart(): number {
    return this.lastStop?.hart ?? 0;
  }

  // ---------------- lifecycle ----------------

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, _args: DebugProtocol.InitializeRequestArguments): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsInstructionBreakpoints: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsDataBreakpoints: true,
      supportsDataBreakpointBytes: true,
      supportsDisassembleRequest: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsSteppingGranularity: true,
      supportsExceptionInfoRequest: true,
      supportsExceptionFilterOptions: true,
      supportsSetVariable: true,
      supportsEvaluateForHovers: true,
      supportsTerminateRequest: true,
      supportsRestartRequest: true,
      supportsCompletionsRequest: true,
      completionTriggerCharacters: ['$'],
      supportsValueFormattingOptions: false,
      exceptionBreakpointFilters: NOTIFY_FILTERS.map((f) => ({
        filter: f.id,
        label: f.label,
        description: f.description,
        default: false,
        supportsCondition: true,
        conditionDescription: `e.g. stream == 0 && pending > 1 — fields: ${CONDITION_FIELDS.join(', ')}`,
      })),
    };
    this.sendResponse(response);
    // Breakpoints may be set from now on; the machine starts paused, so none is missed.
    this.sendEvent(new InitializedEvent());
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.configured = true;
    this.sendResponse(response);
    this.maybeBegin();
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: SemuLaunchArguments): Promise<void> {
    try {
      if (this.host || this.launched) throw new Error('this session already launched a machine');
      if (args.logLevel) setLevelSafely(args.logLevel);
      if (!args.kernel) await this.fillDefaultGuest(args);
      await this.loadSymbols(args);
      this.launchArgs = args;
      await this.startMachine(args);
      this.launched = true;
      this.sendResponse(response);
      this.maybeBegin();
    } catch (e) {
      const msg = (e as Error).message;
      log.info(`launch failed: ${msg}`);
      await this.endMachine();
      this.sendErrorResponse(response, { id: 1001, format: `semu: ${msg}`, showUser: true });
    }
  }

  /** Symbols, DWARF and source paths from the launch's `symbols`, `sourceRoot` and `sourceMap`. */
  private async loadSymbols(args: SemuLaunchArguments): Promise<void> {
    const launch = resolveLaunch(args);
    if (!launch.symbols) return;
    try {
      const t0 = performance.now();
      let from = launch.symbols;
      let loaded = await loadDebugInfo(from);
      // Only names, and no vmlinux beside the kernel (the packaged guest): the same kernel built
      // here may have one in the guest cache. A System.map chosen over a vmlinux at hand stays.
      const kernel = launch.options.kernel;
      const lone = !loaded.debug && !existsSync(join(dirname(kernel), 'vmlinux'));
      const twin = lone ? await cachedVmlinuxFor(kernel).catch(() => undefined) : undefined;
      if (twin) {
        this.sendEvent(new OutputEvent(`semu: ${twin} is the vmlinux of this kernel (the same Image, built here): using its DWARF\n`, 'console'));
        from = twin;
        loaded = await loadDebugInfo(twin);
      }
      this.symbols = loaded.symbols;
      this.debug = loaded.debug;
      const lines = loaded.debug?.lines;
      if (lines) {
        this.sendEvent(new OutputEvent(`semu: debug info from ${from}: ${lines.files.length} source files, ${loaded.debug?.info?.functions.length ?? 0} functions (${(performance.now() - t0).toFixed(0)} ms)\n`, 'console'));
      }
      for (const n of loaded.notes) this.sendEvent(new OutputEvent(`semu: ${n}\n`, 'console'));
    } catch (e) {
      throw new Error(`cannot read the symbols ${launch.symbols}: ${(e as Error).message} (launch.json "symbols")`);
    }
    const root = this.debug?.lines ? kernelTreeRoot(this.debug.lines.files) : undefined;
    this.paths = SourcePaths.from(launch.sourceRoot, launch.sourceMap, root);
    if (root && !launch.sourceRoot && !existsSync(root)) {
      this.sendEvent(new OutputEvent(`semu: the kernel was built in ${root}, which is not here: set "sourceRoot" to your kernel tree to see its sources\n`, 'console'));
    }
  }

  private async startMachine(args: SemuLaunchArguments): Promise<void> {
    const launch = resolveLaunch(args);
    this.stopOnEntry = launch.stopOnEntry;
    this.consoleInput = launch.consoleInput;
    const host = new MachineHost(launch.options);
    this.host = host;
    this.console = new ConsoleText(this.consoleInput.length ? () => this.typeConsoleInput() : null);
    host.on('console', (d) => this.onConsole(d));
    host.on('stopped', (e) => this.onStopped(e));
    host.on('exited', (e) => this.onExited(e));
    host.on('resumed', (by) => this.onResumed(by));
    host.on('warning', (m) => this.onDeviceWarning(m));
    host.stopFilter = (e) => this.filterStop(e);
    // Always start paused: breakpoints and filters reach the worker before the first instruction.
    await host.start({
      stopOnEntry: true,
      logLevel: (args.logLevel as LogLevel | undefined) ?? undefined,
      onLog: (level, scope, message) => this.onWorkerLog(level, scope, message),
    });
    this.syncBreakpoints();
    host.setNotifyFilters(this.notifyFilters);
    if (launch.gdbPort !== undefined) {
      this.gdb = await startGdbStub(host, launch.gdbPort, { onKill: () => void this.terminateFromGdb() });
      this.sendEvent(new OutputEvent(`semu: gdb stub on localhost:${this.gdb.port} (gdb-multiarch vmlinux -ex 'target remote :${this.gdb.port}')\n`, 'console'));
    }
    this.opts.onMachine?.(host);
  }

  private async fillDefaultGuest(args: SemuLaunchArguments): Promise<void> {
    const build = this.opts.buildGuest ?? ((progress, signal) => defaultGuest({ onProgress: progress, signal }));
    this.sendEvent(new OutputEvent('semu: no "kernel" given: building/using the default guest (guest/build.sh)\n', 'console'));
    const g = await build((line) => this.sendEvent(new OutputEvent(`  ${line}\n`, 'console')), this.abort.signal);
    args.kernel = g.kernel;
    args.initrd ??= g.initrd;
    // vmlinux carries DWARF (source lines, call stacks); System.map is the fallback.
    args.symbols ??= g.vmlinux && existsSync(g.vmlinux) ? g.vmlinux : g.systemMap;
  }

  /** Runs (or reports the entry stop) once both launch and configurationDone happened. */
  private maybeBegin(): void {
    if (!this.launched || !this.configured || this.begun || !this.host) return;
    this.begun = true;
    if (this.stopOnEntry) {
      this.lastStop = { reason: 'entry', hart: 0, pc: 0 };
      this.sendStopped('entry', 1, 'Paused at the first instruction');
    } else {
      this.resume();
    }
  }

  /** restart: the same machine again (a reboot), keeping the session, its breakpoints and views. */
  protected override async restartRequest(response: DebugProtocol.RestartResponse, _args: DebugProtocol.RestartArguments): Promise<void> {
    try {
      const args = this.launchArgs;
      if (!args || !this.launched) throw new Error('restart: nothing was launched yet');
      await this.endMachine();
      this.lastStop = null;
      this.lineStep = null;
      this.runSeconds = 0;
      this.invalidate();
      await this.startMachine(args);
      this.sendResponse(response);
      this.sendEvent(new OutputEvent('semu: restarted the machine\n', 'console'));
      this.begun = false;
      this.maybeBegin();
    } catch (e) {
      await this.endMachine();
      this.fail(response, `restart failed: ${(e as Error).message}`, true);
      this.sendEvent(new TerminatedEvent());
    }
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse): Promise<void> {
    await this.close();
    this.sendResponse(response);
    this.shutdown();
  }

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    await this.endMachine();
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  /** gdb's `kill` ends the machine, and so the session. */
  private async terminateFromGdb(): Promise<void> {
    await this.endMachine();
    this.sendEvent(new OutputEvent('semu: gdb killed the machine\n', 'console'));
    this.sendEvent(new TerminatedEvent());
  }

  /** Stops the machine and frees everything it holds (worker, audio, timers, gdb stub). Safe to repeat. */
  private endMachine(): Promise<void> {
    if (this.ending) return this.ending;
    this.stopLevels();
    const host = this.host;
    const gdb = this.gdb;
    this.host = null;
    this.gdb = null;
    this.running = false;
    if (!host) return Promise.resolve();
    host.removeAllListeners();
    host.stopFilter = null;
    this.ending = Promise.all([host.dispose(), gdb?.close()]).then(() => undefined).finally(() => {
      this.ending = null;
      this.opts.onMachine?.(null);
    });
    return this.ending;
  }

  /** Ends the machine (if any) and forgets it; for the extension's deactivate. */
  async close(): Promise<void> {
    this.abort.abort(); // a default-guest build still running for this session
    await this.endMachine();
    this.opts.onClosed?.();
  }

  /** VS Code disposes an inline adapter when its session ends, even without a disconnect. */
  override dispose(): void {
    void this.close();
    super.dispose();
  }

  override shutdown(): void {
    if (!this.opts.standalone) return; // inline: the extension host owns the process
    // Standalone: stop reading stdin so the process ends by itself once nothing is left. If
    // something still holds it after a while, say what and exit anyway (never hang a client).
    void this.endMachine().then(() => {
      process.stdin.pause();
      process.stdin.unref?.();
      const t = setTimeout(() => {
        log.error(`adapter still alive after disconnect: ${process.getActiveResourcesInfo().join(', ')}`);
        process.exit(3);
      }, 5000);
      t.unref();
    });
  }

  // ---------------- machine events ----------------

  private onConsole(data: Uint8Array): void {
    const text = this.console ? this.console.push(data) : new TextDecoder().decode(data);
    if (!text) return;
    if (this.opts.consoleOut) this.opts.consoleOut(text);
    else this.sendEvent(new OutputEvent(text, 'stdout'));
  }

  private typeConsoleInput(): void {
    const text = consoleInputText(this.consoleInput);
    log.info(`guest ready: typing ${this.consoleInput.length} console line(s)`);
    this.host?.consoleIn(text);
  }

  /** Text typed by the person (the terminal, or semu/consoleInput). */
  consoleInputText(text: string): void {
    this.host?.consoleIn(text);
  }

  private onWorkerLog(level: LogLevel, scope: string, message: string): void {
    const l = logger(`worker:${scope}`);
    (level === 'debug' ? l.debug : level === 'info' ? l.info : level === 'warn' ? l.warn : l.error)(message);
    // Warnings a person should see (audio device gone, device reset...) go to the Debug Console.
    if (level === 'warn' || level === 'error') this.sendEvent(new OutputEvent(`semu ${scope}: ${message}\n`, level === 'error' ? 'stderr' : 'console'));
  }

  /** A device runs degraded (passt missing): a notification in VS Code ('important'), the launch goes on. */
  private onDeviceWarning(message: string): void {
    log.warn(message);
    this.sendEvent(new OutputEvent(`semu: ${message}\n`, 'important'));
  }

  /** gdb resumed the machine: the DAP views follow (continued, running). */
  private onResumed(by: string): void {
    if (by === 'dap' || this.running) return;
    this.markRunning();
    this.sendEvent(new ContinuedEvent(1, true));
  }

  /**
   * Before a stop is shown: breakpoints' conditions, hit counts and log messages; line steps
   * that must go on. Runs with the machine paused; the gdb stub sees only stops reported here.
   */
  private async filterStop(e: HostStopped): Promise<StopAction> {
    const host = this.host;
    if (!host) return 'report';
    this.dropHartCache();
    if (e.reason === 'step' && this.lineStep) {
      const s = (await this.harts())[e.hart];
      const next = s ? this.lineStep.followUp(s) : null;
      if (next) {
        host.stepRange(next);
        return 'handled';
      }
      this.lineStep = null;
      return 'report';
    }
    this.lineStep = null;
    let entries: BreakpointEntry[] = [];
    let forOthers = false;
    if (e.reason === 'breakpoint') {
      entries = this.bps.atPc(e.pc);
      forOthers = host.breakpointsOf('gdb').includes(e.pc >>> 0);
    } else if (e.reason === 'watch' && e.watch) {
      entries = this.bps.byIds(host.watchIdsOf('dap', e.watch));
      forOthers = host.watchIdsOf('gdb', e.watch).length > 0;
    } else {
      return 'report';
    }
    if (entries.length === 0) {
      this.hit = null;
      return 'report';
    }
    const d = await this.bps.decide(entries, await this.evalContext(undefined, e.hart));
    for (const line of d.logs) this.sendEvent(new OutputEvent(`${line}\n`, 'console'));
    for (const err of d.errors) this.sendEvent(new OutputEvent(`semu: ${err}\n`, 'stderr'));
    this.hit = { ids: d.ids, entries: entries.filter((x) => d.ids.includes(x.id)) };
    return d.stop || forOthers ? 'report' : 'resume';
  }

  private onStopped(e: HostStopped): void {
    // The worker's start-up pause (launchRequest always starts paused); maybeBegin reports entry.
    if (e.reason === 'entry') return;
    this.markPaused();
    this.lastStop = e;
    const tid = e.hart + 1;
    const hit = this.hit;
    this.hit = null;
    switch (e.reason) {
      case 'pause':
        return this.sendStopped('pause', tid);
      case 'step':
        return this.sendStopped('step', tid);
      case 'breakpoint': {
        if (!hit || hit.ids.length === 0) return this.sendStopped('breakpoint', tid, 'Paused on a gdb breakpoint', undefined, `Paused at ${this.describe(e.pc)} (a breakpoint set from gdb)`);
        const kinds = new Set(hit.entries.map((x) => x.kind));
        const reason = kinds.has('source') ? 'breakpoint' : kinds.has('function') ? 'function breakpoint' : 'instruction breakpoint';
        return this.sendStopped(reason, tid, undefined, hit.ids);
      }
      case 'watch': {
        const w = e.watch;
        const who = !w ? '' : w.hart < 0 ? 'a device\'s DMA' : `hart ${w.hart} at ${this.describe(w.pc)}`;
        const what = w ? `${w.access === 2 ? 'write' : 'read'} of ${w.width} byte${w.width > 1 ? 's' : ''} at 0x${w.addr.toString(16)} by ${who}` : 'data breakpoint';
        return this.sendStopped('data breakpoint', tid, what, hit?.ids, `Paused on a ${what}`);
      }
      case 'notify': {
        const n = e.notify;
        return this.sendStopped('exception', tid, n?.description ?? 'virtio notification', undefined, n ? `Paused on ${n.device} ${n.queueName} notify` : undefined);
      }
    }
  }

  private describe(pc: number): string {
    return this.symbols?.describe(pc) ?? hex32(pc);
  }

  private sendStopped(reason: string, threadId: number, text?: string, hitIds?: number[], description?: string): void {
    const ev = new StoppedEvent(reason, threadId, text) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    ev.body.preserveFocusHint = false;
    if (description) ev.body.description = description;
    if (hitIds && hitIds.length) ev.body.hitBreakpointIds = hitIds;
    this.sendEvent(ev);
    this.sendState('paused');
  }

  private onExited(e: HostExited): void {
    this.markPaused();
    if (e.reason === 'crash' || e.reason === 'error') {
      let text = `semu: the machine stopped: ${e.message ?? e.reason}\n`;
      for (const i of e.crash?.lastInstructions ?? []) text += `  ${hex32(i.pc)}: ${i.word.toString(16).padStart(8, '0')}  ${i.text}\n`;
      this.sendEvent(new OutputEvent(text, 'stderr'));
    } else if (e.reason !== 'quit') {
      this.sendEvent(new OutputEvent(`semu: the guest ${e.reason === 'reboot' ? 'rebooted' : 'powered off'} (exit code ${e.code})\n`, 'console'));
    }
    this.sendState('exited');
    if (e.reason === 'quit') return; // we asked for it (disconnect/terminate)
    this.sendEvent(new ExitedEvent(e.code));
    this.sendEvent(new TerminatedEvent());
    void this.endMachine();
  }

  private sendState(state: StateEventBody['state']): void {
    this.sendEvent(new Event(DAP_STATE, { state } satisfies StateEventBody));
  }

  // ---------------- run control ----------------

  private markRunning(): void {
    this.invalidate();
    this.running = true;
    this.runStartedAt = performance.now();
    this.startLevels();
    this.sendState('running');
  }

  private resume(): void {
    const host = this.host;
    if (!host) return;
    this.markRunning();
    host.continue();
  }

  private markPaused(): void {
    if (this.running) this.runSeconds += (performance.now() - this.runStartedAt) / 1000;
    this.running = false;
    this.invalidate();
    if (this.levelsTimer) {
      this.stopLevels();
      this.sendLevels(); // one last frame, running: false
    }
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse, args: DebugProtocol.ContinueArguments): void {
    try {
      this.requireHost();
      this.hartOfThread(args?.threadId, 'continue');
      response.body = { allThreadsContinued: true };
      this.sendResponse(response);
      if (!this.running) this.resume();
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse, args: DebugProtocol.PauseArguments): void {
    try {
      const host = this.requireHost();
      this.hartOfThread(args?.threadId, 'pause');
      this.sendResponse(response);
      host.pause();
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    void this.step(response, args, 'over', 'next');
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    void this.step(response, args, 'into', 'stepIn');
  }

  /**
   * next / stepIn: by source line when the pc has one (granularity 'statement' or 'line'), by
   * one instruction otherwise or when asked ('instruction': the Disassembly view has focus).
   */
  private async step(response: DebugProtocol.Response, args: DebugProtocol.NextArguments, kind: 'over' | 'into', command: string): Promise<void> {
    try {
      const host = this.requirePaused(command);
      const c = new Checker(command, args as unknown as Record<string, unknown>);
      const hart = this.hartOfThread(c.int('threadId'), command);
      const granularity = c.str('granularity', true);
      if (granularity !== undefined && !['statement', 'line', 'instruction'].includes(granularity)) c.fail('granularity', '"statement", "line" or "instruction"', granularity);
      const s = (await this.harts())[hart];
      const satp = s?.csrs.satp ?? 0;
      const pc = s?.pc ?? 0;
      const at = linkAddress(pc, satp, this.symbols);
      const ranges = granularity === 'instruction' || !this.debug ? null : lineRanges(this.debug, at);
      this.sendResponse(response);
      this.markRunning();
      if (!ranges) {
        host.step(hart, 1);
        return;
      }
      const delta = (pc - at) | 0;
      const runtime = ranges.map(([lo, hi]) => [(lo + delta) >>> 0, (hi + delta) >>> 0] as [number, number]);
      this.lineStep = new LineStep(kind, hart, runtime, this.debug!, (p) => linkAddress(p, satp, this.symbols));
      host.stepRange(this.lineStep.first());
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  /** Step out: run until the frame returns — to its caller's pc, with sp back above the frame. */
  protected override async stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): Promise<void> {
    try {
      const host = this.requirePaused('stepOut');
      const hart = this.hartOfThread(new Checker('stepOut', args as unknown as Record<string, unknown>).int('threadId'), 'stepOut');
      const stack = await this.stackOf(hart);
      const s = (await this.harts())[hart];
      const top = stack.frames[0];
      if (s && top?.inlined && this.debug?.info) {
        // Out of an inlined call: run until the pc leaves its code (its caller is this frame).
        const satp = s.csrs.satp ?? 0;
        const at = linkAddress(s.pc, satp, this.symbols);
        const inl = this.debug.info.inlinesAt(at).pop();
        if (inl) {
          const delta = (s.pc - at) | 0;
          this.sendResponse(response);
          this.markRunning();
          host.stepRange({ hart, ranges: [[(inl.lo + delta) >>> 0, (inl.hi + delta) >>> 0]], over: true });
          return;
        }
      }
      // The physical caller: the first frame below the innermost physical frame.
      const caller = stack.frames.find((f) => f.depth === 1);
      if (!s || !caller) {
        this.sendResponse(response);
        this.markRunning();
        host.step(hart, 1);
        return;
      }
      const minSp = caller.regs[2] ?? s.x[2];
      this.sendResponse(response);
      this.markRunning();
      host.stepRange({ hart, ranges: [], over: true, until: { pc: caller.pc, minSp: top.how === 'cfi' ? minSp : s.x[2] } });
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  // ---------------- breakpoints ----------------

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    void this.answerBreakpoints(response, () => bpRequests.setSourceBreakpoints(this.bpContext(), args));
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): void {
    void this.answerBreakpoints(response, () => bpRequests.setInstructionBreakpoints(this.bpContext(), args));
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    void this.answerBreakpoints(response, () => bpRequests.setFunctionBreakpoints(this.bpContext(), args));
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    void this.answerBreakpoints(response, () => bpRequests.setDataBreakpoints(this.bpContext(), args));
  }

  protected override async dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): Promise<void> {
    try {
      response.body = await bpRequests.dataBreakpointInfo(this.bpContext(), args);
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  private bpContext(): bpRequests.BreakpointContext {
    return { bps: this.bps, symbols: this.symbols, debug: this.debug, paths: this.paths, vars: this.vars, evalContext: (f) => this.evalContext(f) };
  }

  private async answerBreakpoints(response: DebugProtocol.Response & { body: { breakpoints: DebugProtocol.Breakpoint[] } }, set: () => DebugProtocol.Breakpoint[]): Promise<void> {
    try {
      response.body = { breakpoints: set() };
      this.syncBreakpoints();
    } catch (e) {
      return this.fail(response, (e as Error).message);
    }
    // Answered once the machine has them: the guest's next instruction already sees them.
    await this.host?.sync();
    this.sendResponse(response);
  }

  private syncBreakpoints(): void {
    this.host?.setBreakpoints(this.bps.pcs(), 'dap');
    this.host?.setWatchpoints(this.bps.watchpoints(), 'dap');
  }

  protected override async setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): Promise<void> {
    const wanted: NotifyFilter[] = [];
    const seen = new Set<string>();
    try {
      const c = new Checker('setExceptionBreakpoints', args as unknown as Record<string, unknown>);
      const filters = c.array('filters')!;
      const options = c.array('filterOptions', true) ?? [];
      options.forEach((o, i) => {
        const oc = c.item('filterOptions', i, o);
        const id = oc.str('filterId')!;
        const condition = oc.str('condition', true);
        if (condition && condition.trim()) parseCondition(condition); // throws with the parser's message
        wanted.push({ id, condition: condition?.trim() || undefined });
        seen.add(id);
      });
      filters.forEach((id, i) => {
        if (typeof id !== 'string') return c.fail(`filters[${i}]`, 'a filter id (string)', id);
        if (!seen.has(id)) wanted.push({ id });
      });
      for (const f of wanted) if (!NOTIFY_FILTERS.some((d) => d.id === f.id)) throw new Error(`unknown exception filter '${f.id}'`);
    } catch (e) {
      return this.fail(response, (e as Error).message);
    }
    this.notifyFilters = wanted;
    this.host?.setNotifyFilters(wanted);
    response.body = { breakpoints: wanted.map(() => ({ verified: true })) };
    await this.host?.sync(); // the next kick already sees them
    this.sendResponse(response);
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse, args: DebugProtocol.ExceptionInfoArguments): void {
    try {
      this.requireHost();
      this.hartOfThread(args?.threadId, 'exceptionInfo');
    } catch (e) {
      return this.fail(response, (e as Error).message);
    }
    const n: NotifyStop | undefined = this.lastStop?.reason === 'notify' ? this.lastStop.notify : undefined;
    if (!n) return this.fail(response, 'the machine did not stop on a virtio notification');
    response.body = {
      exceptionId: n.filter,
      description: n.description,
      breakMode: 'always',
      details: {
        message: n.description,
        typeName: `${n.device} ${n.queueName} notify`,
        fullTypeName: `virtio notification: ${n.device} queue ${n.queue} (${n.queueName})`,
        stackTrace: `avail.idx ${n.availIdx}, used.idx ${n.usedIdx}, last_avail_idx ${n.lastAvailIdx}: the device has not seen this kick yet (Variables → Devices shows the pending chains)`,
      },
    };
    this.sendResponse(response);
  }

  // ---------------- threads and stack ----------------

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const n = this.threadCount();
    response.body = { threads: Array.from({ length: n }, (_, i) => new Thread(i + 1, `hart ${i}`)) };
    this.sendResponse(response);
  }

  protected override async stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): Promise<void> {
    try {
      this.requirePaused('stackTrace');
      const c = new Checker('stackTrace', args as unknown as Record<string, unknown>);
      const hart = this.hartOfThread(c.int('threadId'), 'stackTrace');
      const start = c.int('startFrame', { optional: true, min: 0 }) ?? 0;
      const levels = c.int('levels', { optional: true, min: 0 }) ?? 0;
      const stack = await this.stackOf(hart);
      const s = (await this.harts())[hart];
      const satp = s?.csrs.satp ?? 0;
      const frames: DebugProtocol.StackFrame[] = stack.frames.map((f, i) => {
        const where = f.path && f.line && existsSync(f.path) ? { source: { name: f.path.split('/').pop(), path: f.path }, line: f.line } : this.listingFor(f.pc, satp, f.name);
        const frame: DebugProtocol.StackFrame = {
          id: this.frameId(f, i),
          name: f.line && !(f.path && existsSync(f.path)) ? `${f.name} (${f.path?.split('/').pop()}:${f.line})` : f.name,
          ...where,
          column: f.column ?? 1,
          instructionPointerReference: formatMemoryReference(f.pc),
        };
        if (f.how === 'ra') frame.presentationHint = 'subtle';
        return frame;
      });
      if (stack.note) frames.push({ id: 0, name: stack.note, line: 0, column: 0, presentationHint: 'label' });
      const sel = frames.slice(start, levels ? start + levels : undefined);
      response.body = { stackFrames: sel, totalFrames: frames.length };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  // ---------------- custom requests and the levels stream ----------------

  protected override customRequest(command: string, response: DebugProtocol.Response, args: unknown): void {
    const host = this.host;
    switch (command) {
      case DAP_VIRTQUEUES: {
        const body: VirtqueuesResponseBody = { devices: host ? snapshotDevices(host) : [], running: this.running };
        response.body = body;
        return this.sendResponse(response);
      }
      case DAP_STREAMS: {
        const body: StreamsResponseBody = { streams: host ? snapshotStreams(host) : [], running: this.running };
        response.body = body;
        return this.sendResponse(response);
      }
      case DAP_CONSOLE_INPUT: {
        const text = (args as { text?: unknown } | undefined)?.text;
        if (typeof text !== 'string') return this.fail(response, `${DAP_CONSOLE_INPUT} needs { text: string }`);
        if (!host) return this.fail(response, 'the machine is not running');
        const bytes = Buffer.byteLength(text);
        if (bytes > host.consoleRoom()) return this.fail(response, consoleFullMessage(bytes, host.consolePending()));
        host.consoleIn(text);
        return this.sendResponse(response);
      }
    }
    super.customRequest(command, response, args);
  }

  private startLevels(): void {
    if (this.levelsTimer) return;
    this.levelsTimer = setInterval(() => this.sendLevels(), LEVELS_INTERVAL_MS);
  }

  private stopLevels(): void {
    if (!this.levelsTimer) return;
    clearInterval(this.levelsTimer);
    this.levelsTimer = null;
  }

  private sendLevels(): void {
    const host = this.host;
    if (!host) return;
    const seconds = this.runSeconds + (this.running ? (performance.now() - this.runStartedAt) / 1000 : 0);
    const body: LevelsEventBody = {
      time: seconds,
      running: this.running,
      instret: host.instret(),
      streams: snapshotStreams(host).map((s) => ({
        id: s.id, direction: s.direction, state: s.state, peak: s.peak, rms: s.rms, ringFill: s.ringFill, ringCapacity: s.ringCapacity,
        xrunsGuest: s.xrunsGuest, xrunsHost: s.xrunsHost, format: s.format, rate: s.rate, channels: s.channels, backend: s.backend,
        backendFailure: s.backendFailure,
      })),
    };
    this.sendEvent(new Event(DAP_LEVELS, body));
  }
}

function setLevelSafely(level: string): void {
  if (['debug', 'info', 'warn', 'error', 'silent'].includes(level)) setLogLevel(level as LogLevel);
}
