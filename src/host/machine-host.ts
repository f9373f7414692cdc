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
import type { FromWorker, ToWorker, VirtioInfo, StopReasonName, NotifyStop, CrashInfo } from './worker-protocol';
import type { NotifyFilter } from './notify-filter';
import { Ram } from '../emulator/ram';
import { logger, type LogLevel } from '../log';

const log = logger('host');

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

  constructor(readonly options: MachineOptions) {
    super();
    this.ram = Ram.allocate((options.ramMiB ?? 512) * 1024 * 1024);
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
        ramSize: this.ram.size,
        memory: this.ram.memory,
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

  consoleIn(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.send({ t: 'console', data: new Uint8Array(bytes) });
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

  /** A debugger request answered by the worker (registers, CSRs, translation, memory writes...). */
  request<T>(method: string, args: unknown = {}): Promise<T> {
    if (!this.worker || this.exited) return Promise.reject(new Error('the machine is not running'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.send({ t: 'request', id, method, args });
    });
  }

  /**
   * Stops the machine and frees the worker: a polite quit through the control block, then
   * terminate() if the worker does not finish within `graceMs`.
   */
  async dispose(graceMs = 2000): Promise<void> {
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
