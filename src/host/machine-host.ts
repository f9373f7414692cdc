// The host side of one machine: starts the emulator worker (dist/worker.js), owns the shared
// memory, and turns the worker's messages into events. Used by the CLI, the debug adapter and
// the extension alike. It never blocks on the worker: pause/quit go through the control block,
// everything else is a message; a worker that stops answering is terminated.

import type { Worker } from 'node:worker_threads';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { distFile } from '../paths';
import { startEmulatorWorker, type PrestartedWorker } from './prestart';
import * as ctl from './control';
import { UsageError, type MachineOptions } from './options';
import type { FromWorker, ToWorker, WorkerInit, VirtioInfo, StopReasonName, NotifyStop, CrashInfo, WorkerArgs, WorkerMethod, WorkerResult } from '../worker/protocol';
import type { NotifyFilter } from './notify-filter';
import type { Watchpoint, WatchHit } from '../emulator/watch';
import type { StepRequest } from '../worker/stepper';
import { Ram } from '../emulator/ram';
import { CONSOLE_INPUT_LIMIT } from '../emulator/devices/console-input';
import { logger, type LogLevel } from '../log';

const log = logger('host');

/** Console input waiting for the guest beyond which consoleIn() asks its caller to hold on. */
const CONSOLE_HIGH_WATER = 1 << 20;
/** ... and below which 'consoleDrain' tells it to go on. */
const CONSOLE_LOW_WATER = 256 << 10;

export interface StoppedEvent {
  reason: StopReasonName;
  hart: number;
  pc: number;
  notify?: NotifyStop;
  /** reason 'watch': the access; its ids are the owners' own (see watchIdsOf). */
  watch?: WatchHit;
}

export type StopAction = 'report' | 'resume' | 'handled';

/** Who asked for breakpoints, watchpoints and run control: the DAP session or the gdb stub. */
export type Owner = 'dap' | 'gdb';
const OWNERS: readonly Owner[] = ['dap', 'gdb'];
/** Watchpoint ids are owner-local; on the wire they are owner index × this + id. */
const WATCH_ID_SPAN = 1_000_000;
export interface ExitedEvent {
  code: number;
  reason: 'poweroff' | 'reboot' | 'crash' | 'error' | 'quit' | 'timeout';
  message?: string;
  crash?: CrashInfo;
}

export interface MachineHostEvents {
  ready: [];
  console: [data: Uint8Array];
  stopped: [StoppedEvent];
  exited: [ExitedEvent];
  /** The machine was resumed (continue, step) by this owner. */
  resumed: [by: Owner];
  /** A device's warning: the machine runs on (passt missing, a backend gone). */
  warning: [message: string];
  /** Console input that made consoleIn() return false has mostly been read by the guest. */
  consoleDrain: [];
}

export interface StartOptions {
  stopOnEntry?: boolean;
  logLevel?: LogLevel;
  /** Forward the worker's log lines here (default: this process's log sink). */
  onLog?: (level: LogLevel, scope: string, message: string) => void;
  /** A worker started earlier to take this machine (host/prestart.ts); a dead one is replaced. */
  prestarted?: PrestartedWorker | null;
}

export class MachineHost extends EventEmitter<MachineHostEvents> {
  readonly control = ctl.createControl();
  readonly ram: Ram;
  virtio: VirtioInfo[] = [];
  harts = 0;
  exited: ExitedEvent | null = null;
  private worker: Worker | null = null;
  private readonly breakpointsBy = new Map<Owner, number[]>();
  private readonly watchpointsBy = new Map<Owner, Watchpoint[]>();
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private consoleSent = 0; // console input bytes posted to the worker (uint32, wraps)
  private drainTimer: NodeJS.Timeout | null = null;

  constructor(readonly options: MachineOptions) {
    super();
    this.ram = Ram.allocate((options.ramMiB ?? 512) * 1024 * 1024);
  }

  /** Starts the worker; resolves once the machine is built (or rejects with the load error). */
  start(opts: StartOptions = {}): Promise<void> {
    const script = distFile('worker.js');
    if (!existsSync(script)) return Promise.reject(new Error(`${script} is missing: run \`npm run build\` first`));
    const onLog = opts.onLog;
    this.runState = opts.stopOnEntry ? 'paused' : 'running';
    const init: WorkerInit = {
      options: this.options,
      control: this.control,
      ram: this.ram.buffer,
      ramSize: this.ram.size,
      memory: this.ram.memory,
      stopOnEntry: opts.stopOnEntry ?? false,
      logLevel: opts.logLevel ?? process.env.SEMU_LOG ?? 'warn',
    };
    const spare = opts.prestarted;
    let worker: Worker;
    if (spare?.alive()) {
      worker = spare.worker;
      worker.ref();
      worker.postMessage({ t: 'init', init } satisfies ToWorker);
    } else {
      if (spare) void spare.worker.terminate();
      worker = startEmulatorWorker(script, init);
    }
    this.worker = worker;
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: FromWorker) => {
        switch (m.t) {
          case 'ready':
            this.virtio = m.virtio;
            this.harts = m.harts;
            ready = true;
            this.emit('ready');
            resolve();
            break;
          case 'console':
            this.emit('console', m.data);
            break;
          case 'stopped': {
            // The worker is paused: a pause asked for since it stopped must not stop the next run.
            // It is not dropped either: if the stop filter resumes (a false condition), that pause
            // is what the person sees. (The entry stop is the start's own state, and may arrive
            // after a first continue was sent.)
            let pauseAsked = m.pauseAsked === true;
            if (m.reason !== 'entry') {
              if (Atomics.compareExchange(this.control, ctl.CTL_REQUEST, ctl.REQ_PAUSE, ctl.REQ_NONE) === ctl.REQ_PAUSE) pauseAsked = true;
              this.runState = 'paused';
            }
            this.onStopped({ reason: m.reason, hart: m.hart, pc: m.pc, notify: m.notify, watch: m.watch }, pauseAsked);
            break;
          }
          case 'continued':
            break;
          case 'exited':
            this.markExited({ code: m.code, reason: m.reason, message: m.message, crash: m.crash });
            // The worker has nothing left to do; its files are closed (Machine.shutdown ran).
            void worker.terminate();
            // Code 2 is the worker's UsageError (a bad kernel path, an image too large...): the
            // person's to fix, so it stays one clear message, not an internal error.
            if (!ready) reject(m.code === 2 ? new UsageError(m.message ?? 'the machine did not start') : new Error(m.message ?? 'the machine did not start'));
            break;
          case 'response': {
            const p = this.pending.get(m.id);
            if (!p) break;
            this.pending.delete(m.id);
            if (m.ok) p.resolve(m.result);
            else p.reject(new Error(m.error));
            break;
          }
          case 'log':
            if (onLog) onLog(m.level, m.scope, m.message);
            else forwardLog(m.level, m.scope, m.message);
            break;
          case 'warning':
            if (this.listenerCount('warning') > 0) this.emit('warning', m.message);
            else forwardLog('warn', 'device', m.message);
            break;
        }
      });
      worker.on('error', (e) => {
        log.error(`emulator worker failed: ${e.stack ?? e.message}`);
        this.markExited({ code: 1, reason: 'error', message: `emulator worker failed: ${e.message}` });
        if (!ready) reject(e);
      });
      worker.on('exit', () => {
        this.worker = null;
        this.markExited({ code: 1, reason: 'error', message: 'the emulator worker exited unexpectedly' });
        if (!ready) reject(new Error('the emulator worker exited before the machine was ready'));
      });
    });
  }

  /**
   * Decides, before anyone sees a stop, whether it is one: a breakpoint whose condition is false
   * or a log point resumes at once ('resume'); a step that goes on has been re-issued by the
   * filter ('handled'). Set by the DAP session; the gdb stub sees only the stops reported.
   */
  stopFilter: ((e: StoppedEvent) => Promise<StopAction>) | null = null;

  private onStopped(e: StoppedEvent, pauseAsked: boolean): void {
    const f = this.stopFilter;
    if (!f || e.reason === 'entry') {
      this.emit('stopped', e);
      return;
    }
    // While the filter decides, the machine is paused but nobody has seen it stop: a pause asked
    // for meanwhile (Ctrl-C in gdb, the pause button) must not be lost to the filter's resume.
    this.deciding = true;
    this.pauseWanted = pauseAsked;
    f(e).then(
      (action) => {
        this.deciding = false;
        if (this.exited) return;
        if (action === 'report') this.emit('stopped', e);
        else if (action === 'resume' && this.pauseWanted) this.emit('stopped', { ...e, reason: 'pause', watch: undefined, notify: undefined });
        else if (action === 'resume') {
          this.runState = 'running';
          this.send({ t: 'continue' });
        } else if (this.pauseWanted) ctl.request(this.control, ctl.REQ_PAUSE); // the filter resumed it: pause again
      },
      (err: Error) => {
        this.deciding = false;
        log.warn(`stop filter failed: ${err.message}`);
        this.emit('stopped', e);
      },
    );
  }
  private deciding = false;
  private pauseWanted = false;

  private markExited(e: ExitedEvent): void {
    if (this.exited) return;
    this.exited = e;
    for (const p of this.pending.values()) p.reject(new Error('the machine has exited'));
    this.pending.clear();
    this.emit('exited', e);
  }

  private send(m: ToWorker): void {
    if (!this.worker || this.exited) return;
    this.worker.postMessage(m);
    ctl.wake(this.control);
  }

  get state(): 'loading' | 'running' | 'paused' | 'exited' {
    switch (Atomics.load(this.control, ctl.CTL_STATE)) {
      case ctl.ST_RUNNING:
        return 'running';
      case ctl.ST_PAUSED:
        return 'paused';
      case ctl.ST_EXITED:
        return 'exited';
      default:
        return 'loading';
    }
  }

  instret(): number {
    return ctl.instret(this.control);
  }

  /**
   * Types into the guest console. Everything is queued in the worker and reaches the guest as it
   * reads (nothing is dropped below CONSOLE_INPUT_LIMIT waiting bytes). Returns false once more
   * than 1 MiB waits: a caller that can hold its input (the CLI reading a pipe) should stop until
   * 'consoleDrain'.
   */
  consoleIn(data: Uint8Array | string): boolean {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (!this.worker || this.exited) return true;
    this.send({ t: 'console', data: new Uint8Array(bytes) });
    this.consoleSent = (this.consoleSent + bytes.length) >>> 0;
    if (this.consolePending() <= CONSOLE_HIGH_WATER) return true;
    this.watchConsoleDrain();
    return false;
  }

  /** Console input bytes sent that the guest's UART has not taken yet. */
  consolePending(): number {
    return (this.consoleSent - Atomics.load(this.control, ctl.CTL_CONSOLE_FED)) >>> 0;
  }

  /** Bytes of console input that can still be queued before the bound. */
  consoleRoom(): number {
    return Math.max(0, CONSOLE_INPUT_LIMIT - this.consolePending());
  }

  private watchConsoleDrain(): void {
    if (this.drainTimer) return;
    this.drainTimer = setInterval(() => {
      if (!this.exited && this.consolePending() > CONSOLE_LOW_WATER) return;
      this.stopConsoleDrain();
      this.emit('consoleDrain');
    }, 20);
  }

  private stopConsoleDrain(): void {
    if (this.drainTimer) clearInterval(this.drainTimer);
    this.drainTimer = null;
  }
  consoleClose(): void {
    this.send({ t: 'consoleClose' });
  }
  /** Stops the machine if it runs (or is about to); a stopped machine is left alone. */
  pause(): void {
    if (this.exited) return;
    if (this.deciding) {
      this.pauseWanted = true;
      return;
    }
    if (this.runState === 'running') ctl.request(this.control, ctl.REQ_PAUSE);
  }
  /**
   * The host's view: 'running' from a continue/step sent until the worker's next stop arrives
   * (the control block's state lags a message behind a continue still on its way).
   */
  get running(): boolean {
    return this.runState === 'running' && !this.exited;
  }
  private runState: 'paused' | 'running' = 'paused';
  continue(by: Owner = 'dap'): void {
    this.runState = 'running';
    this.send({ t: 'continue' });
    this.emit('resumed', by);
  }
  step(hart = 0, count = 1, by: Owner = 'dap'): void {
    this.runState = 'running';
    this.send({ t: 'step', hart, count });
    this.emit('resumed', by);
  }
  /** Source-line step / run to a return (src/host/stepper.ts). */
  stepRange(step: StepRequest, by: Owner = 'dap'): void {
    this.runState = 'running';
    this.send({ t: 'stepRange', step });
    this.emit('resumed', by);
  }
  /** Sets one owner's instruction breakpoints; the machine gets the union of all owners'. */
  setBreakpoints(pcs: number[], by: Owner = 'dap'): void {
    this.breakpointsBy.set(by, pcs.map((p) => p >>> 0));
    const all = new Set<number>();
    for (const list of this.breakpointsBy.values()) for (const p of list) all.add(p);
    this.send({ t: 'breakpoints', pcs: [...all] });
  }
  /** Sets one owner's data watchpoints (ids are the owner's); the machine gets all owners'. */
  setWatchpoints(list: Watchpoint[], by: Owner = 'dap'): void {
    this.watchpointsBy.set(by, list);
    const all: Watchpoint[] = [];
    for (const [owner, l] of this.watchpointsBy) for (const w of l) all.push({ ...w, id: OWNERS.indexOf(owner) * WATCH_ID_SPAN + w.id });
    this.send({ t: 'watchpoints', list: all });
  }
  breakpointsOf(by: Owner): readonly number[] {
    return this.breakpointsBy.get(by) ?? [];
  }
  /** The ids of `by`'s watchpoints that a hit touched. */
  watchIdsOf(by: Owner, hit: WatchHit): number[] {
    const base = OWNERS.indexOf(by) * WATCH_ID_SPAN;
    return hit.ids.filter((id) => id >= base && id < base + WATCH_ID_SPAN).map((id) => id - base);
  }
  setNotifyFilters(filters: NotifyFilter[]): void {
    this.send({ t: 'notifyFilters', filters });
  }

  /**
   * Resolves once the worker has taken every setting sent before (breakpoints, filters): the
   * worker reads messages only between run slices, so without this a breakpoint answered as set
   * could miss what the guest does in the slice that is running. Never rejects.
   */
  async sync(): Promise<void> {
    if (!this.worker || this.exited) return;
    await this.request('sync').catch(() => undefined);
  }

  /** A debugger request answered by the worker (worker/protocol.ts WorkerRequests). */
  request<M extends WorkerMethod>(method: M, args?: WorkerArgs<M>): Promise<WorkerResult<M>> {
    if (!this.worker || this.exited) return Promise.reject(new Error('the machine is not running'));
    const id = this.nextId++;
    return new Promise<WorkerResult<M>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.send({ t: 'request', id, method, args: args ?? {} });
    });
  }

  /**
   * Stops the machine and frees the worker: a polite quit through the control block, then
   * terminate() if the worker does not finish within `graceMs`.
   */
  async dispose(graceMs = 2000): Promise<void> {
    this.stopConsoleDrain();
    const worker = this.worker;
    if (!worker) return;
    ctl.request(this.control, ctl.REQ_QUIT);
    const gone = new Promise<void>((r) => worker.once('exit', () => r()));
    const timer = setTimeout(() => void worker.terminate(), graceMs);
    // A paused worker waits on its event loop, not the control block: tell it too.
    this.send({ t: 'continue' });
    await gone;
    clearTimeout(timer);
    this.worker = null;
  }
}

let forward: ((level: LogLevel, scope: string, message: string) => void) | null = null;
function forwardLog(level: LogLevel, scope: string, message: string): void {
  if (!forward) {
    // Route through the host's own sink (whatever setLogSink installed) at the host's threshold.
    const l = logger('worker');
    forward = (lv, sc, msg) => (lv === 'debug' ? l.debug : lv === 'info' ? l.info : lv === 'warn' ? l.warn : l.error)(`${sc}: ${msg}`);
  }
  forward(level, scope, message);
}
