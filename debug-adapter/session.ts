// SemuDebugSession: the Debug Adapter Protocol in front of one MachineHost. As in
// vscode-mock-debug, the runtime (MachineHost: the emulator worker) only emits events — ready,
// console, stopped, exited — and this class translates between them and DAP.
//
// Threads are harts. Every stop stops the whole machine (allThreadsStopped). Registers and
// CSRs come from the worker once per stop (cached); memory, virtqueues and streams are read
// from shared memory without pausing anything, so the custom requests work while running.

import {
  DebugSession,
  ExitedEvent,
  InitializedEvent,
  InvalidatedEvent,
  MemoryEvent,
  OutputEvent,
  Scope,
  StoppedEvent,
  TerminatedEvent,
  Thread,
  Event,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { MachineHost, type ExitedEvent as HostExited, type StoppedEvent as HostStopped } from '../src/host/machine-host';
import { defaultGuest, type GuestArtifacts } from '../src/host/default-guest';
import { NOTIFY_FILTERS, CONDITION_FIELDS, parseCondition, type NotifyFilter } from '../src/host/notify-filter';
import type { NotifyStop } from '../src/worker/protocol';
import { DAP_CONSOLE_INPUT, DAP_LEVELS, DAP_STATE, DAP_STREAMS, DAP_VIRTQUEUES, type LevelsEventBody, type StateEventBody, type StreamsResponseBody, type VirtqueuesResponseBody } from '../src/shared/protocol';
import { logger, setLogLevel, type LogLevel } from '../src/log';
import { resolveLaunch, type SemuLaunchArguments } from './launch';
import { SymbolTable } from './symbols';
import { VariableStore, leaf, type VarNode } from './variables';
import {
  CSR_SCOPE, PRIV_NAMES, REGISTER_NAMES, decodeInterruptBits, decodeSatp, decodeScause, decodeSstatus, decodeStvec, hex32, registerIndex, type HartState,
} from './registers';
import { deviceNodes, snapshotDevices, snapshotStreams } from './devices';
import { formatMemoryReference, offsetAddress, parseMemoryReference, physicalRanges, readGuest, readWords } from './memory';
import { CSR_EXPRESSION_NAMES, ExpressionError, evaluate, formatValue, parseAssignment, parseExpression, resultWidth, type EvalContext } from './expressions';
import { disassembleAt, disassemblyListing } from './disasm';
import { ConsoleText, consoleInputText } from './console';
import { consoleFullMessage } from '../src/emulator/devices/console-input';

const log = logger('dap');

/** How often semu/levels goes out while the machine runs. */
export const LEVELS_INTERVAL_MS = 50;
/** Largest readMemory answered at once (the memory view asks for pages). */
const MAX_READ = 1 << 20;
/** The kernel's physical load address on semu's map (kernel at the start of RAM). */
const KERNEL_LOAD_PHYS = 0;

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

interface BreakpointEntry {
  id: number;
  pc: number;
  kind: 'instruction' | 'function';
}

export class SemuDebugSession extends DebugSession {
  private host: MachineHost | null = null;
  private symbols: SymbolTable | null = null;
  private readonly vars = new VariableStore();
  private hartCache: Promise<HartState[]> | null = null;
  private deviceCache: VarNode[] | null = null;
  private lastStop: HostStopped | null = null;
  private running = false;
  private launched = false;
  private configured = false;
  private begun = false;
  private stopOnEntry = false;
  private consoleInput: string[] = [];
  private console: ConsoleText | null = null;
  private levelsTimer: NodeJS.Timeout | null = null;
  private runStartedAt = 0;
  private runSeconds = 0;
  private nextBreakpointId = 1;
  private instructionBps: BreakpointEntry[] = [];
  private functionBps: BreakpointEntry[] = [];
  private stepOutTarget: number | null = null;
  private notifyFilters: NotifyFilter[] = [];
  private ending: Promise<void> | null = null;
  private readonly abort = new AbortController();

  constructor(private readonly opts: SemuSessionOptions = {}) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  // ---------------- lifecycle ----------------

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, _args: DebugProtocol.InitializeRequestArguments): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsInstructionBreakpoints: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: false,
      supportsDisassembleRequest: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsSteppingGranularity: true,
      supportsExceptionInfoRequest: true,
      supportsExceptionFilterOptions: true,
      supportsSetVariable: true,
      supportsEvaluateForHovers: true,
      supportsTerminateRequest: true,
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
      const launch = resolveLaunch(args);
      this.stopOnEntry = launch.stopOnEntry;
      this.consoleInput = launch.consoleInput;
      if (launch.symbols) {
        try {
          this.symbols = SymbolTable.load(launch.symbols);
        } catch (e) {
          throw new Error(`cannot read the symbols ${launch.symbols}: ${(e as Error).message} (launch.json "symbols")`);
        }
      }
      const host = new MachineHost(launch.options);
      this.host = host;
      this.console = new ConsoleText(this.consoleInput.length ? () => this.typeConsoleInput() : null);
      host.on('console', (d) => this.onConsole(d));
      host.on('stopped', (e) => this.onStopped(e));
      host.on('exited', (e) => this.onExited(e));
      // Always start paused: breakpoints and filters reach the worker before the first instruction.
      await host.start({
        stopOnEntry: true,
        logLevel: (args.logLevel as LogLevel | undefined) ?? undefined,
        onLog: (level, scope, message) => this.onWorkerLog(level, scope, message),
      });
      this.syncBreakpoints();
      host.setNotifyFilters(this.notifyFilters);
      this.opts.onMachine?.(host);
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

  private async fillDefaultGuest(args: SemuLaunchArguments): Promise<void> {
    const build = this.opts.buildGuest ?? ((progress, signal) => defaultGuest({ onProgress: progress, signal }));
    this.sendEvent(new OutputEvent('semu: no "kernel" given: building/using the default guest (guest/build.sh)\n', 'console'));
    const g = await build((line) => this.sendEvent(new OutputEvent(`  ${line}\n`, 'console')), this.abort.signal);
    args.kernel = g.kernel;
    args.initrd ??= g.initrd;
    args.symbols ??= g.systemMap;
  }

  /** Runs (or reports the entry stop) once both launch and configurationDone happened. */
  private maybeBegin(): void {
    if (!this.launched || !this.configured || this.begun || !this.host) return;
    this.begun = true;
    if (this.stopOnEntry) {
      this.lastStop = { reason: 'entry', hart: 0, pc: 0 };
      this.sendStopped('entry', 1, 'Paused at the first instruction');
      this.sendState('paused');
    } else {
      this.resume();
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

  /** Stops the machine and frees everything it holds (worker, audio, timers). Safe to repeat. */
  private endMachine(): Promise<void> {
    if (this.ending) return this.ending;
    this.stopLevels();
    const host = this.host;
    this.host = null;
    this.running = false;
    if (!host) return Promise.resolve();
    host.removeAllListeners();
    this.ending = host.dispose().finally(() => {
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

  private onStopped(e: HostStopped): void {
    // The worker's start-up pause (launchRequest always starts paused); maybeBegin reports entry.
    if (e.reason === 'entry') return;
    this.markPaused();
    this.lastStop = e;
    const tid = e.hart + 1;
    switch (e.reason) {
      case 'pause':
        return this.sendStopped('pause', tid);
      case 'step':
        return this.sendStopped('step', tid);
      case 'breakpoint': {
        if (this.stepOutTarget !== null && e.pc === this.stepOutTarget) {
          this.clearStepOut();
          return this.sendStopped('step', tid, 'Returned to ra');
        }
        this.clearStepOut();
        const fn = this.functionBps.filter((b) => b.pc === e.pc);
        const ins = this.instructionBps.filter((b) => b.pc === e.pc);
        const ids = [...fn, ...ins].map((b) => b.id);
        const reason = fn.length ? 'function breakpoint' : 'instruction breakpoint';
        return this.sendStopped(reason, tid, undefined, ids);
      }
      case 'notify': {
        this.clearStepOut();
        const n = e.notify;
        return this.sendStopped('exception', tid, n?.description ?? 'virtio notification', undefined, n ? `Paused on ${n.device} ${n.queueName} notify` : undefined);
      }
    }
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

  private resume(): void {
    const host = this.host;
    if (!host) return;
    this.invalidate();
    this.running = true;
    this.runStartedAt = performance.now();
    host.continue();
    this.startLevels();
    this.sendState('running');
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

  /** Every cached value belongs to one stop. */
  private invalidate(): void {
    this.hartCache = null;
    this.deviceCache = null;
    this.vars.reset();
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    this.resume();
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.sendResponse(response);
    this.host?.pause();
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.stepOne(response, args.threadId);
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    this.stepOne(response, args.threadId);
  }

  private stepOne(response: DebugProtocol.Response, threadId: number): void {
    const host = this.host;
    if (!host) return this.fail(response, 'the machine is not running');
    this.sendResponse(response);
    this.invalidate();
    host.step(this.hartOf(threadId), 1);
  }

  /** Step out = run until the hart reaches its current ra (a temporary breakpoint). */
  protected override async stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): Promise<void> {
    const host = this.host;
    if (!host) return this.fail(response, 'the machine is not running');
    try {
      const s = (await this.harts())[this.hartOf(args.threadId)];
      const ra = s?.x[1] ?? 0;
      if (ra === 0 || ra === s.pc) return this.stepOne(response, args.threadId);
      this.stepOutTarget = ra >>> 0;
      this.syncBreakpoints();
      this.sendResponse(response);
      this.resume();
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  private clearStepOut(): void {
    if (this.stepOutTarget === null) return;
    this.stepOutTarget = null;
    this.syncBreakpoints();
  }

  private hartOf(threadId: number | undefined): number {
    const h = (threadId ?? 1) - 1;
    return h >= 0 && h < Math.max(1, this.host?.harts ?? 1) ? h : 0;
  }

  // ---------------- breakpoints ----------------

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    // There are no source files: every source breakpoint stays unverified, saying why.
    response.body = {
      breakpoints: (args.breakpoints ?? []).map(() => ({ verified: false, message: 'semu has no source mapping: use the Disassembly view (instruction breakpoints) or a function breakpoint' })),
    };
    this.sendResponse(response);
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): void {
    const out: DebugProtocol.Breakpoint[] = [];
    const entries: BreakpointEntry[] = [];
    for (const bp of args.breakpoints) {
      try {
        const ref = parseMemoryReference(bp.instructionReference, (n) => this.symbols?.address(n));
        if (ref.physical) throw new Error('instruction breakpoints take virtual addresses (the pc), not p: references');
        const pc = offsetAddress(ref.address, bp.offset);
        if (pc & 3) throw new Error(`0x${pc.toString(16)} is not 4-byte aligned`);
        const e: BreakpointEntry = { id: this.nextBreakpointId++, pc, kind: 'instruction' };
        entries.push(e);
        out.push({ id: e.id, verified: true, instructionReference: formatMemoryReference(pc), message: this.symbols?.describe(pc) });
      } catch (err) {
        out.push({ verified: false, message: (err as Error).message });
      }
    }
    this.instructionBps = entries;
    this.syncBreakpoints();
    response.body = { breakpoints: out };
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    const out: DebugProtocol.Breakpoint[] = [];
    const entries: BreakpointEntry[] = [];
    for (const bp of args.breakpoints) {
      const name = bp.name.trim();
      let pc: number | undefined;
      if (/^\*?0x[0-9a-f]+$/i.test(name)) pc = parseInt(name.replace(/^\*/, ''), 16) >>> 0;
      else pc = this.symbols?.address(name);
      if (pc === undefined) {
        out.push({ verified: false, message: this.symbols ? `no symbol '${name}' in ${this.symbols.source}` : `no symbols loaded: set "symbols" (System.map or vmlinux) in launch.json` });
        continue;
      }
      const e: BreakpointEntry = { id: this.nextBreakpointId++, pc, kind: 'function' };
      entries.push(e);
      out.push({ id: e.id, verified: true, instructionReference: formatMemoryReference(pc) });
    }
    this.functionBps = entries;
    this.syncBreakpoints();
    response.body = { breakpoints: out };
    this.sendResponse(response);
  }

  private syncBreakpoints(): void {
    const pcs = new Set<number>();
    for (const b of this.instructionBps) pcs.add(b.pc);
    for (const b of this.functionBps) pcs.add(b.pc);
    if (this.stepOutTarget !== null) pcs.add(this.stepOutTarget);
    this.host?.setBreakpoints([...pcs]);
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    const wanted: NotifyFilter[] = [];
    const seen = new Set<string>();
    try {
      for (const o of args.filterOptions ?? []) {
        if (o.condition && o.condition.trim()) parseCondition(o.condition); // throws with the parser's message
        wanted.push({ id: o.filterId, condition: o.condition?.trim() || undefined });
        seen.add(o.filterId);
      }
      for (const id of args.filters ?? []) if (!seen.has(id)) wanted.push({ id });
      for (const f of wanted) if (!NOTIFY_FILTERS.some((d) => d.id === f.id)) throw new Error(`unknown exception filter '${f.id}'`);
    } catch (e) {
      return this.fail(response, (e as Error).message);
    }
    this.notifyFilters = wanted;
    this.host?.setNotifyFilters(wanted);
    response.body = { breakpoints: wanted.map(() => ({ verified: true })) };
    this.sendResponse(response);
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
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

  // ---------------- threads, stack, variables ----------------

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const n = Math.max(1, this.host?.harts ?? 1);
    response.body = { threads: Array.from({ length: n }, (_, i) => new Thread(i + 1, `hart ${i}`)) };
    this.sendResponse(response);
  }

  private harts(): Promise<HartState[]> {
    const host = this.host;
    if (!host) return Promise.reject(new Error('the machine is not running'));
    if (!this.hartCache || this.running) {
      const p = host.request('harts');
      this.hartCache = p;
      p.catch(() => {
        if (this.hartCache === p) this.hartCache = null;
      });
    }
    return this.hartCache;
  }

  /** Name for an address: symbol+offset; with the MMU off, the kernel symbol of that physical address. */
  private symbolize(addr: number, satp: number): string | undefined {
    const s = this.symbols;
    if (!s) return undefined;
    const direct = s.describe(addr);
    if (direct || (satp & 0x80000000) !== 0) return direct;
    const start = s.address('_start');
    if (start === undefined || addr < KERNEL_LOAD_PHYS) return undefined;
    const v = s.describe((addr - KERNEL_LOAD_PHYS + start) >>> 0);
    return v ? `${v} (phys)` : undefined;
  }

  protected override async stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): Promise<void> {
    try {
      const hart = this.hartOf(args.threadId);
      const s = (await this.harts())[hart];
      if (!s) throw new Error(`no hart ${hart}`);
      const satp = s.csrs.satp ?? 0;
      const name = this.symbolize(s.pc, satp) ?? hex32(s.pc);
      const frames: DebugProtocol.StackFrame[] = [
        { id: hart * 2 + 1, name, ...this.listingFor(s.pc, satp, name), column: 1, instructionPointerReference: formatMemoryReference(s.pc) },
      ];
      const ra = s.x[1];
      if (ra !== 0 && ra !== s.pc) {
        // The return address: the caller's next instruction; named after the call site (ra - 4).
        const where = this.symbolize((ra - 4) >>> 0, satp) ?? hex32(ra);
        frames.push({ id: hart * 2 + 2, name: `${where} (ra)`, ...this.listingFor(ra, satp, where), column: 1, instructionPointerReference: formatMemoryReference(ra), presentationHint: 'subtle' });
      }
      const start = args.startFrame ?? 0;
      const sel = frames.slice(start, args.levels ? start + args.levels : undefined);
      response.body = { stackFrames: sel, totalFrames: frames.length };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  /** Disassembly listings handed out as frame sources (sourceReference → text); the newest few. */
  private readonly listings = new Map<number, string>();
  private nextListing = 1;

  private listingFor(pc: number, satp: number, name: string): { source: DebugProtocol.Source; line: number } {
    const host = this.requireHost();
    const l = disassemblyListing(pc, (start, count) => readWords(host.ram, satp, start, count, false), this.symbols);
    const ref = this.nextListing++;
    this.listings.set(ref, l.text);
    if (this.listings.size > 32) this.listings.delete(this.listings.keys().next().value!);
    const source: DebugProtocol.Source = { name: `${name.replace(/[^\w.+-]/g, '_')}.s`, sourceReference: ref, origin: 'disassembly' };
    return { source, line: l.line };
  }

  protected override sourceRequest(response: DebugProtocol.SourceResponse, args: DebugProtocol.SourceArguments): void {
    const ref = args.source?.sourceReference ?? args.sourceReference;
    const text = this.listings.get(ref);
    if (text === undefined) return this.fail(response, `no disassembly listing ${ref}: it was replaced by a newer stop`);
    response.body = { content: text, mimeType: 'text/x-asm' };
    this.sendResponse(response);
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const hart = Math.floor((args.frameId - 1) / 2);
    response.body = {
      scopes: [
        { ...new Scope('Registers', this.vars.add(() => this.registerNodes(hart)), false), presentationHint: 'registers' },
        new Scope('CSRs', this.vars.add(() => this.csrNodes(hart)), false),
        new Scope('Devices', this.vars.add(() => this.deviceNodesCached()), false),
      ],
    };
    this.sendResponse(response);
  }

  private async registerNodes(hart: number): Promise<VarNode[]> {
    const s = (await this.harts())[hart];
    if (!s) return [];
    const satp = s.csrs.satp ?? 0;
    const annotate = (v: number) => {
      const name = this.symbols && v !== 0 ? this.symbolize(v, satp) : undefined;
      return name ? `${hex32(v)} <${name}>` : hex32(v);
    };
    const nodes: VarNode[] = [
      leaf('pc', annotate(s.pc), { memoryReference: formatMemoryReference(s.pc), evaluateName: '$pc', set: (t) => this.setRegister(hart, 'pc', t) }),
    ];
    for (let i = 0; i < 32; i++) {
      const v = s.x[i];
      nodes.push(leaf(REGISTER_NAMES[i], annotate(v), {
        type: `x${i}`,
        evaluateName: `$${REGISTER_NAMES[i]}`,
        memoryReference: v !== 0 ? formatMemoryReference(v) : undefined,
        set: i === 0 ? undefined : (t) => this.setRegister(hart, REGISTER_NAMES[i], t),
        readOnly: i === 0,
      }));
    }
    return nodes;
  }

  private async csrNodes(hart: number): Promise<VarNode[]> {
    const s = (await this.harts())[hart];
    if (!s) return [];
    const nodes: VarNode[] = [leaf('privilege', PRIV_NAMES[s.priv] ?? String(s.priv), { evaluateName: '$priv' })];
    if (s.wait) nodes.push(leaf('waiting', s.wait === 'wfi' ? 'in WFI (no enabled interrupt pending)' : `HSM ${s.wait}`));
    for (const c of CSR_SCOPE) {
      const lo = s.csrs[c.name];
      if (lo === undefined) continue;
      if (c.wide) {
        const v = (s.csrs[c.name + 'h'] ?? 0) * 4294967296 + lo;
        nodes.push(leaf(c.name, `${v} (0x${v.toString(16)})`, { evaluateName: `$${c.name}`, readOnly: true }));
        continue;
      }
      let value = hex32(lo);
      if (c.name === 'sstatus') value += ` ${decodeSstatus(lo)}`;
      else if (c.name === 'sie' || c.name === 'sip') value += ` ${decodeInterruptBits(lo)}`;
      else if (c.name === 'scause') value += ` ${decodeScause(lo)}`;
      else if (c.name === 'satp') value += ` ${decodeSatp(lo)}`;
      else if (c.name === 'stvec') value += ` ${decodeStvec(lo)}`;
      if (c.address && lo !== 0) {
        const sym = this.symbolize(c.name === 'stvec' ? lo & ~3 : lo, s.csrs.satp ?? 0);
        if (sym) value += ` <${sym}>`;
      }
      nodes.push(leaf(c.name, value, {
        evaluateName: `$${c.name}`,
        memoryReference: c.address && lo !== 0 ? formatMemoryReference(c.name === 'stvec' ? lo & ~3 : lo) : undefined,
        set: (t) => this.setCsr(hart, c.name, t),
      }));
    }
    return nodes;
  }

  private deviceNodesCached(): VarNode[] {
    const host = this.host;
    if (!host) return [];
    if (!this.deviceCache || this.running) {
      this.deviceCache = deviceNodes(snapshotDevices(host), host.ram, host.virtio);
    }
    return this.deviceCache;
  }

  protected override async variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): Promise<void> {
    try {
      response.body = { variables: await this.vars.list(args.variablesReference, args.start, args.count) };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  protected override async setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): Promise<void> {
    try {
      const node = await this.vars.find(args.variablesReference, args.name);
      if (!node?.set) throw new Error(`${args.name} cannot be changed`);
      const value = await node.set(args.value);
      response.body = { value };
      this.sendResponse(response);
      this.sendEvent(new InvalidatedEvent(['variables']));
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  private async evalText(text: string, hart: number): Promise<number> {
    return evaluate(parseExpression(text), await this.evalContext(hart));
  }

  private async setRegister(hart: number, name: string, text: string): Promise<string> {
    const host = this.requireHost();
    const v = await this.evalText(text, hart);
    const r = await host.request('setRegister', { hart, name, value: v });
    this.hartCache = null;
    return hex32(r.value);
  }

  private async setCsr(hart: number, name: string, text: string): Promise<string> {
    const host = this.requireHost();
    const v = await this.evalText(text, hart);
    const r = await host.request('setCsr', { hart, name, value: v });
    this.hartCache = null;
    return hex32(r.value);
  }

  private requireHost(): MachineHost {
    if (!this.host) throw new Error('the machine is not running');
    return this.host;
  }

  // ---------------- evaluate ----------------

  private async evalContext(hart: number): Promise<EvalContext> {
    const host = this.requireHost();
    const s = (await this.harts())[hart];
    const satp = s?.csrs.satp ?? 0;
    return {
      register: (name) => {
        if (!s) return undefined;
        if (name === 'pc') return s.pc;
        if (name === 'priv') return s.priv;
        const i = registerIndex(name);
        if (i >= 0) return s.x[i];
        return s.csrs[name];
      },
      symbol: (name) => this.symbols?.address(name),
      load: async (addr, width, physical) => {
        const r = readGuest(host.ram, satp, addr, width, physical);
        if (r.data.length < width) throw new ExpressionError(`cannot read ${width} byte${width > 1 ? 's' : ''} at ${physical ? 'p:' : ''}${hex32(addr)}: ${r.stoppedBecause}`);
        let v = 0;
        for (let i = width - 1; i >= 0; i--) v = (v * 256 + r.data[i]) >>> 0;
        return v;
      },
    };
  }

  protected override async evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): Promise<void> {
    try {
      const hart = args.frameId !== undefined ? Math.floor((args.frameId - 1) / 2) : (this.lastStop?.hart ?? 0);
      const ctx = await this.evalContext(hart);
      const assign = args.context === 'repl' ? parseAssignment(args.expression) : undefined;
      if (assign) {
        response.body = { result: await this.assign(assign.target, assign.value, ctx, hart), variablesReference: 0 };
        this.sendResponse(response);
        this.sendEvent(new InvalidatedEvent(['variables']));
        return;
      }
      const expr = parseExpression(args.expression);
      const v = await evaluate(expr, ctx);
      let result = formatValue(v, resultWidth(expr));
      const sym = expr.k !== 'num' && this.symbols && v >= 0x1000 ? this.symbols.describe(v) : undefined;
      if (sym && !(expr.k === 'sym' && sym === expr.name)) result += ` <${sym}>`;
      response.body = { result, variablesReference: 0, memoryReference: formatMemoryReference(v), type: expr.k === 'load' ? expr.type : 'u32' };
      this.sendResponse(response);
    } catch (e) {
      // Hovering over arbitrary words must stay silent.
      if (args.context === 'hover') return this.fail(response, '', false);
      this.fail(response, (e as Error).message);
    }
  }

  private async assign(target: ReturnType<typeof parseExpression>, valueExpr: ReturnType<typeof parseExpression>, ctx: EvalContext, hart: number): Promise<string> {
    const host = this.requireHost();
    const value = await evaluate(valueExpr, ctx);
    if (target.k === 'reg') {
      const isCsr = CSR_EXPRESSION_NAMES.includes(target.name) && target.name !== 'priv';
      if (target.name === 'priv') throw new ExpressionError('the privilege mode cannot be set from the debugger');
      const r = await host.request(isCsr ? 'setCsr' : 'setRegister', { hart, name: target.name, value });
      this.hartCache = null;
      return `${target.name} = ${formatValue(r.value)}`;
    }
    if (target.k !== 'load') throw new ExpressionError('can only assign to a register, a CSR or memory');
    const addr = await evaluate(target.addr, ctx);
    const width = resultWidth(target);
    const s = (await this.harts())[hart];
    const bytes = new Uint8Array(width);
    for (let i = 0; i < width; i++) bytes[i] = (value >>> (8 * i)) & 0xff;
    await this.writeBytes(addr, bytes, target.physical, s?.csrs.satp ?? 0);
    return `${target.physical ? 'p:' : ''}${hex32(addr)} = ${formatValue(value, width)}`;
  }

  protected override completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): void {
    const before = args.text.slice(0, Math.max(0, args.column - 1));
    const m = /\$?[A-Za-z_][A-Za-z0-9_.]*$/.exec(before);
    const word = m ? m[0] : '';
    const bare = word.replace(/^\$/, '');
    const names = new Set<string>();
    for (const r of [...REGISTER_NAMES, 'pc', ...CSR_EXPRESSION_NAMES]) if (r.startsWith(bare)) names.add(word.startsWith('$') ? `$${r}` : r);
    if (!word.startsWith('$') && bare.length >= 2 && this.symbols) for (const s of this.symbols.complete(bare, 100)) names.add(s);
    response.body = {
      targets: [...names].slice(0, 200).map((label) => ({ label, start: before.length - word.length, length: word.length })),
    };
    this.sendResponse(response);
  }

  // ---------------- memory and disassembly ----------------

  /** satp for memory references: the stopped hart's, or hart 0's. */
  private async currentSatp(): Promise<number> {
    const s = await this.harts();
    return s[this.lastStop?.hart ?? 0]?.csrs.satp ?? s[0]?.csrs.satp ?? 0;
  }

  protected override async readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): Promise<void> {
    try {
      const host = this.requireHost();
      const ref = parseMemoryReference(args.memoryReference, (n) => this.symbols?.address(n));
      const address = offsetAddress(ref.address, args.offset);
      const count = Math.max(0, Math.min(args.count, MAX_READ));
      const satp = ref.physical ? 0 : await this.currentSatp();
      const r = readGuest(host.ram, satp, address, count, ref.physical);
      response.body = {
        address: formatMemoryReference(address, ref.physical),
        unreadableBytes: count - r.data.length,
      };
      if (r.data.length) response.body.data = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.length).toString('base64');
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  protected override async writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): Promise<void> {
    try {
      const ref = parseMemoryReference(args.memoryReference, (n) => this.symbols?.address(n));
      const address = offsetAddress(ref.address, args.offset);
      const bytes = new Uint8Array(Buffer.from(args.data, 'base64'));
      const satp = ref.physical ? 0 : await this.currentSatp();
      await this.writeBytes(address, bytes, ref.physical, satp);
      response.body = { bytesWritten: bytes.length };
      this.sendResponse(response);
      this.sendEvent(new MemoryEvent(args.memoryReference, args.offset ?? 0, bytes.length));
      this.sendEvent(new InvalidatedEvent(['variables']));
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  /** Writes through the worker (so decoded code of those pages is dropped). */
  private async writeBytes(address: number, bytes: Uint8Array, physical: boolean, satp: number): Promise<void> {
    const host = this.requireHost();
    const ranges = physicalRanges(host.ram, satp, address, bytes.length, physical);
    let off = 0;
    for (const r of ranges) {
      await host.request('writeMemory', { paddr: r.pa, data: bytes.slice(off, off + r.len) });
      off += r.len;
    }
    this.deviceCache = null;
  }

  protected override async disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): Promise<void> {
    try {
      const host = this.requireHost();
      const ref = parseMemoryReference(args.memoryReference, (n) => this.symbols?.address(n));
      // RV32IMA without C: every instruction is 4 bytes, so instruction offsets are exact.
      const start = (offsetAddress(ref.address, (args.offset ?? 0) + (args.instructionOffset ?? 0) * 4) & ~3) >>> 0;
      const count = Math.max(0, Math.min(args.instructionCount, 4096));
      const satp = ref.physical ? 0 : await this.currentSatp();
      const words = readWords(host.ram, satp, start, count, ref.physical);
      const symbols = args.resolveSymbols === false ? null : this.symbols;
      const out: DebugProtocol.DisassembledInstruction[] = [];
      for (let i = 0; i < count; i++) {
        const pc = (start + i * 4) >>> 0;
        const ins: DebugProtocol.DisassembledInstruction = { address: formatMemoryReference(pc, ref.physical), instruction: '' };
        const word = words[i];
        if (word !== null) {
          ins.instructionBytes = [0, 8, 16, 24].map((sh) => ((word >>> sh) & 0xff).toString(16).padStart(2, '0')).join(' ');
          ins.instruction = disassembleAt(word, pc, symbols);
        } else {
          ins.instruction = '??';
          ins.presentationHint = 'invalid';
        }
        if (symbols) {
          const hit = symbols.lookup(pc);
          if (hit && hit.offset === 0) ins.symbol = hit.symbol.name;
          else if (i === 0 && hit) ins.symbol = symbols.describe(pc);
        }
        out.push(ins);
      }
      response.body = { instructions: out };
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

  // ---------------- helpers ----------------

  private fail(response: DebugProtocol.Response, message: string, showUser = false): void {
    this.sendErrorResponse(response, { id: 1002, format: message.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')), showUser });
  }
}

function setLevelSafely(level: string): void {
  if (['debug', 'info', 'warn', 'error', 'silent'].includes(level)) setLogLevel(level as LogLevel);
}
