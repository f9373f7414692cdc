// An emulator worker started before its machine's options are known. Node takes 50–90 ms to
// start a worker and load its bundle, and the engine's warm-up (cpu/warmup.ts) takes 40–80 ms
// more: none of it depends on the options. The CLI's entry starts one before it even loads the
// rest of the CLI, and MachineHost.start() hands it its WorkerInit as its first message.

import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { distFile } from '../paths';
import { PRESTART } from '../worker/protocol';

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
  const worker = new Worker(script, { workerData: PRESTART, stdout: false, stderr: false });
  worker.unref();
  let alive = true;
  const dead = () => {
    alive = false;
  };
  worker.once('error', dead);
  worker.once('exit', dead);
  return { worker, alive: () => alive };
}
