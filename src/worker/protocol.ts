// Messages between the extension host (MachineHost) and the emulator worker (worker/main.ts).
// Bulk state (guest RAM, device registers, audio rings, stream state) is shared memory and never
// travels in these messages; they carry events, requests and small answers.

import type { MachineOptions } from '../host/options';
import type { NotifyFilter } from '../host/notify-filter';
import type { HartState } from '../../debug-adapter/registers';
import type { Watchpoint, WatchHit } from '../emulator/watch';
import type { StepRequest } from './stepper';

/**
 * The debugger requests the worker answers (requests.ts), method → args → result: what needs
 * the harts' private state (registers, CSRs) or must invalidate their decoded-code caches
 * (memory writes). Reading RAM, the virtqueues and the streams happens in the host, from shared
 * memory. MachineHost.request() is typed by this map.
 */
export interface WorkerRequests {
  harts: { args: Record<string, never>; result: HartState[] };
  /** name: x0-x31, an ABI name, or pc. */
  setRegister: { args: { hart: number; name: string; value: number }; result: { value: number } };
  /** A writable S-mode CSR by name. */
  setCsr: { args: { hart: number; name: string; value: number }; result: { value: number } };
  /** Guest-physical RAM only. */
  writeMemory: { args: { paddr: number; data: Uint8Array }; result: { written: number } };
  /** Answers once every message sent before it has been handled (messages keep their order). */
  sync: { args: Record<string, never>; result: null };
}
export type WorkerMethod = keyof WorkerRequests;
export type WorkerArgs<M extends WorkerMethod> = WorkerRequests[M]['args'];
export type WorkerResult<M extends WorkerMethod> = WorkerRequests[M]['result'];

/**
 * The workerData of a worker started before its options are known (host/prestart.ts): it warms
 * the engine up, then takes `{ t: 'init', init }` as its first message.
 */
export const PRESTART = 'prestart';

export interface WorkerInit {
  options: MachineOptions;
  control: Int32Array;
  ram: SharedArrayBuffer;
  /** Bytes of `ram` that are guest RAM, and the WebAssembly memory it is (Ram.allocate), if any. */
  ramSize: number;
  memory: WebAssembly.Memory | null;
  stopOnEntry: boolean;
  logLevel: string;
}

/** A virtio device as the host sees it: where its shared register state is. */
export interface VirtioInfo {
  name: string;
  deviceId: number;
  base: number;
  irq: number;
  queueNames: string[];
  queueMaxSize: number;
  state: Int32Array; // transport state (virtio/layout.ts)
  deviceState?: SharedArrayBuffer; // device-specific (VirtioDevice.sharedState, read by its descriptor)
}

export type StopReasonName = 'entry' | 'pause' | 'step' | 'breakpoint' | 'notify' | 'watch';

export interface NotifyStop {
  device: string;
  queue: number;
  queueName: string;
  availIdx: number;
  usedIdx: number;
  lastAvailIdx: number;
  filter: string; // the exception filter id that matched
  description: string;
}

export interface CrashInfo {
  pc: number;
  cause: number;
  tval: number;
  description: string;
  lastInstructions: { pc: number; word: number; text: string }[];
}

export type FromWorker =
  | { t: 'ready'; virtio: VirtioInfo[]; harts: number }
  | { t: 'console'; data: Uint8Array }
  /** pauseAsked: a pause request was pending when the machine stopped for another reason. */
  | { t: 'stopped'; reason: StopReasonName; hart: number; pc: number; notify?: NotifyStop; watch?: WatchHit; pauseAsked?: boolean }
  | { t: 'continued' }
  | { t: 'exited'; code: number; reason: 'poweroff' | 'reboot' | 'crash' | 'error' | 'quit' | 'timeout'; message?: string; crash?: CrashInfo }
  | { t: 'response'; id: number; ok: boolean; result?: unknown; error?: string }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; scope: string; message: string }
  /** A device's problem the person should see that leaves the machine running (DeviceContext.warn). */
  | { t: 'warning'; message: string };

export type ToWorker =
  | { t: 'init'; init: WorkerInit }
  | { t: 'console'; data: Uint8Array }
  | { t: 'consoleClose' }
  | { t: 'continue' }
  | { t: 'step'; hart: number; count: number }
  | { t: 'stepRange'; step: StepRequest }
  | { t: 'breakpoints'; pcs: number[] }
  | { t: 'notifyFilters'; filters: NotifyFilter[] }
  | { t: 'watchpoints'; list: Watchpoint[] }
  | { t: 'request'; id: number; method: WorkerMethod; args: unknown };
