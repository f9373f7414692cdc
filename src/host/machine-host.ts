// The host side of one machine: starts the emulator worker (dist/worker.js), owns the shared
// memory, and turns the worker's messages into events. Used by the CLI, the debug adapter and
// the extension alike. It never blocks on the worker: pause/quit go through the control block,
// everything else is a message; a worker that stops answering is terminated.

import { Worker } from 'node:worker_threads';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { distFile } from '../paths';
import * as ctl from './control';
import { UsageError, type MachineOptions } from './options';
import type { FromWorker, ToWorker, VirtioInfo, StopReasonName, NotifyStop, CrashInfo, WorkerArgs, WorkerMethod, WorkerResult } from '../worker/protocol';
import type { NotifyFilter } from './notify-filter';
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
}
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
  /** Console input that made consoleIn() return false has mostly been read by the guest. */
  consoleDrain: [];
}

export interface StartOptions {
  stopOnEntry?: boolean;
  logLevel?: LogLevel;
  /** Forward the worker's log lines here (default: this process's log sink). */
  onLog?: (level: LogLevel, scope: string, message: string) => void;
}

export class MachineHost extends EventEmitter<MachineHostEvents> {
  readonly control = ctl.createControl();
  readonly ram: Ram;
  virtio: VirtioInfo[] = [];
  harts = 0;
  exited: ExitedEvent | null = null;
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private consoleSent = 0; // console input bytes posted to the worker (uint32, wraps)
  private drainTimer: NodeJS.Timeout | null = null;

  constructor(readonly options: MachineOptions) {
    super();
    this.ram = new Ram(new SharedArrayBuffer((options.ramMiB ?? 512) * 1024 * 1024));
  }

  /** Starts the worker; resolves once the machine is built (or rejects with the load error). */
  start(opts: StartOptions = {}): Promise<void> {
    const script = distFile('worker.js');
    if (!existsSync(script)) return Promise.reject(new Error(`${script} is missing: run \`npm run build\` first`));
    const onLog = opts.onLog;
    const worker = new Worker(script, {
      workerData: {
        options: this.options,
        control: this.control,
        ram: this.ram.buffer,
        stopOnEntry: opts.stopOnEntry ?? false,
        logLevel: opts.logLevel ?? process.env.SEMU_LOG ?? 'warn',
      },
      stdout: false,
      stderr: false,
    });
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
          case 'stopped':
            this.emit('stopped', { reason: m.reason, hart: m.hart, pc: m.pc, notify: m.notify });
            break;
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

  private markExited(e: ExitedEvent): void {
    if (this.exited) return;
    this.exited = e;
    for (const p of this.pending.values()) p.reject(new Error('the machine has exited'));
    this.pending.clear();
    this.emit('exited', e);
  }

  private send(m: ToWorker, transfer?: ArrayBuffer[]): void {
    if (!this.worker || this.exited) return;
    this.worker.postMessage(m, transfer ?? []);
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
  pause(): void {
    if (!this.exited) ctl.request(this.control, ctl.REQ_PAUSE);
  }
  continue(): void {
    this.send({ t: 'continue' });
  }
  step(hart = 0, count = 1): void {
    this.send({ t: 'step', hart, count });
  }
  setBreakpoints(pcs: number[]): void {
    this.send({ t: 'breakpoints', pcs });
  }
  setNotifyFilters(filters: NotifyFilter[]): void {
    this.send({ t: 'notifyFilters', filters });
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
