// The emulator worker: owns one Machine and runs it in slices. Between slices it answers the
// host's messages (console input, breakpoints, debugger requests); the host's pause/quit
// requests arrive through the shared control block, so they land within one slice even while
// this thread is busy. Guest RAM and device state are shared memory the host reads directly.

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { setLogSink, setLogLevel, logger, type LogLevel } from '../log';
import * as ctl from '../host/control';
import { PRESTART, type FromWorker, type ToWorker, type WorkerInit } from './protocol';
import { warmUp } from '../emulator/cpu/warmup';
import { loadMachine } from './load';
import { Session } from './session';

function workerPort(): MessagePort {
  if (!parentPort) throw new Error('src/worker/main.ts must run in a worker thread');
  return parentPort;
}
const port = workerPort();
const post = (m: FromWorker) => port.postMessage(m);

if (workerData === PRESTART) {
  // Started before the host knew the options (host/prestart.ts): warm the engine up meanwhile.
  warmUp();
  port.once('message', (m: ToWorker) => {
    if (m.t === 'init') boot(m.init);
  });
} else boot(workerData as WorkerInit);

function boot(init: WorkerInit): void {
  setLogLevel(init.logLevel as LogLevel);
  setLogSink((level, scope, message) => {
    if (level !== 'silent') post({ t: 'log', level, scope, message });
  });
  const log = logger('worker');
  let session: Session | undefined;
  try {
    const machine = loadMachine(init.options, { buffer: init.ram, size: init.ramSize, memory: init.memory }, {
      consoleOut: (bytes, length) => session!.consoleOut(bytes, length),
      wake: { buffer: init.control.buffer as SharedArrayBuffer, index: ctl.CTL_WAKE },
      warning: (message) => post({ t: 'warning', message }),
    });
    session = new Session(machine, init.control, post, init.stopOnEntry);
  } catch (e) {
    const err = e as Error;
    log.debug(err.stack ?? String(err));
    post({ t: 'exited', code: 2, reason: 'error', message: err.message });
    Atomics.store(init.control, ctl.CTL_STATE, ctl.ST_EXITED);
    port.close();
    return;
  }
  const s = session;
  port.on('message', (m: ToWorker) => s.onMessage(m));
  s.start();
}
