// Boot benchmark: the default guest (guest/build.sh) from power-on to "semu-guest: ready",
// in this process, with the default machine (host time, fast engine). Includes the engine
// warm-up when it is the first machine of the process, as a user's first boot would.

import { readFileSync } from 'node:fs';
import { Machine, StopReason } from '../src/emulator/machine';
import { defaultGuest } from './util';

const READY = 'semu-guest: ready';

export interface BootBench {
  /** Wall seconds from Machine construction to the ready marker. */
  boot_s: number;
  /** Guest instructions per wall second over that boot. */
  mips: number;
  /** Instructions retired to the marker. */
  instructions: number;
  /** CPU seconds (user + system) this process spent on it. */
  cpu_s: number;
}

export async function benchBoot(): Promise<BootBench> {
  const paths = defaultGuest();
  const kernel = readFileSync(paths.kernel);
  const initrd = readFileSync(paths.initrd);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let text = '';
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const m = new Machine({ kernel, initrd }, { consoleOut: (b, n) => (text += Buffer.from(b.subarray(0, n)).toString('latin1')) });
  for (;;) {
    const r = m.run(1 << 20);
    if (text.includes(READY)) break;
    if (r === StopReason.Halted || r === StopReason.Crashed) throw new Error(`guest stopped before "${READY}": ${m.crash?.description ?? m.haltReason}`);
    if (r === StopReason.Idle) Atomics.wait(sleeper, 0, 0, Math.min(m.idleMilliseconds(), 10));
  }
  const boot_s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const instructions = m.instret();
  m.shutdown();
  return { boot_s, mips: instructions / boot_s / 1e6, instructions, cpu_s: (cpu.user + cpu.system) / 1e6 };
}
