// Messages between the extension host (MachineHost) and the emulator worker (src/worker.ts).
// Bulk state (guest RAM, device registers, audio rings, stream state) is shared memory and never
// travels in these messages; they carry events, requests and small answers.

import type { MachineOptions } from './options';
import type { NotifyFilter } from './notify-filter';

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
  deviceState?: SharedArrayBuffer; // device-specific (virtio-snd streams: virtio/snd-layout.ts readStreams)
}

export type StopReasonName = 'entry' | 'pause' | 'step' | 'breakpoint' | 'notify';

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
  | { t: 'stopped'; reason: StopReasonName; hart: number; pc: number; notify?: NotifyStop }
  | { t: 'continued' }
  | { t: 'exited'; code: number; reason: 'poweroff' | 'reboot' | 'crash' | 'error' | 'quit' | 'timeout'; message?: string; crash?: CrashInfo }
  | { t: 'response'; id: number; ok: boolean; result?: unknown; error?: string }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; scope: string; message: string };

export type ToWorker =
  | { t: 'console'; data: Uint8Array }
  | { t: 'consoleClose' }
  | { t: 'continue' }
  | { t: 'step'; hart: number; count: number }
  | { t: 'breakpoints'; pcs: number[] }
  | { t: 'notifyFilters'; filters: NotifyFilter[] }
  | { t: 'request'; id: number; method: string; args: unknown };
