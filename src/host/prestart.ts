// How the emulator worker thread starts, and one started before its machine's options are
// known. Node takes 50–90 ms to start a worker and load its bundle, and the engine's warm-up
// (cpu/warmup.ts) takes 40–80 ms more: none of it depends on the options. The CLI's entry starts
// one before it even loads the rest of the CLI, and MachineHost.start() hands it its WorkerInit
// as its first message.

import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { distFile } from '../paths';
import { PRESTART } from '../worker/protocol';

/**
 * Young generation of the worker's heap, in MiB. V8 lets it grow to 16–48 MiB, and the worker's
 * reached ~10 MiB in a boot; the run loop allocates nothing, and translations' garbage dies
 * young, so a small one costs a few more (short) scavenges and saves ~5 MiB of peak RSS
 * (bench/RESULTS.md, ninth session).
 */
const YOUNG_GENERATION_MIB = 4;

/** Starts dist/worker.js (`script`) with `workerData`: a WorkerInit, or PRESTART. */
export function startEmulatorWorker(script: string, workerData: unknown): Worker {
  return new Worker(script, { workerData, stdout: false, stderr: false, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MIB } });
}

export interface PrestartedWorker {
  worker: Worker;
  /** False once it failed or exited (then MachineHost.start() starts another). */
  alive(): boolean;
}

/**
 * Starts a worker that warms up and waits for its options. Null if dist/worker.js is missing
 * (start() then says so). It does not keep the process alive until a MachineHost takes it.
 */
export function prestartWorker(): PrestartedWorker | null {
  const script = distFile('worker.js');
  if (!existsSync(script)) return null;
  const worker = startEmulatorWorker(script, PRESTART);
  worker.unref();
  let alive = true;
  const dead = () => {
    alive = false;
  };
  worker.once('error', dead);
  worker.once('exit', dead);
  return { worker, alive: () => alive };
}
