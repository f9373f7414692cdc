// Our own processes — the CLI's and the standalone debug adapter's — give their cores to the
// emulator first. Node starts V8's platform threads (four by default, whatever the machine)
// before any JavaScript runs; they compile hot JavaScript and WebAssembly in the background and
// help the garbage collector. On a 2-core machine, bursts of those compiles took the core the
// emulator thread runs on: against the same build with these threads at nice 19, `pipebench` ran
// 1.17–1.40× and `forkbench` 1.16–1.24× slower, and the boot 5 % (bench/RESULTS.md, twelfth
// session). At nice 19 they still run whenever a core is free. `node --v8-pool-size=1` measured
// the same but must be on Node's command line.
//
// Only the threads that exist when the process starts are lowered: the emulator worker, the audio
// and I/O threads are all created afterwards and keep the default priority. Linux only (a
// thread's priority by its id); elsewhere, and where the kernel refuses, nothing changes. The
// VS Code extension host is VS Code's process: the extension leaves its threads alone.

import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The nice value V8's background threads get. */
export const BACKGROUND_NICE = 19;

/** Lowers every thread of this process but the calling main thread to BACKGROUND_NICE. */
export function lowerBackgroundThreads(): void {
  if (process.platform !== 'linux') return;
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return;
  }
  for (const t of tasks) {
    const tid = Number(t);
    if (tid === process.pid) continue;
    try {
      setPriority(tid, BACKGROUND_NICE);
    } catch {
      // The thread ended, or the kernel refused: it keeps its priority.
    }
  }
}
