// The guest workloads in this process, on a bare Machine: boot the default guest, then type
// each command and wait for its result line. Reports per workload the guest's own time, the
// instructions retired and the CPU time this process spent (MIPS over CPU time is steadier than
// wall time on a shared machine), and the engine's code-cache statistics. Run with
// `node --cpu-prof dist/bench.js workloads` to see where the emulator spends its time.

import { readFileSync } from 'node:fs';
import { Machine, StopReason } from '../src/emulator/machine';
import { guestArtifacts, GUEST_READY_MARKER } from '../test/guest-artifacts/artifacts';
import { resultLine, WORKLOADS } from './vs-semu';
import { countEngine } from './engine-counts';

export interface WorkloadResult {
  name: string;
  /** Guest-measured seconds (the program's own line). */
  guest_s: number;
  /** Instructions retired from typing the command to its result line. */
  instructions: number;
  /** CPU seconds of this process over the same span. */
  cpu_s: number;
  /** With `counts`: the engine's events over the same span (engine-counts.ts). */
  counts?: Record<string, number>;
}

export interface WorkloadsBench {
  boot: WorkloadResult;
  results: WorkloadResult[];
  translated: number;
  decodes: number;
  invalidated: number;
}

/** The default guest on a bare Machine in this process; its console text goes to `out`. */
export function guestMachine(g: { kernel: string; initrd: string }, out: (text: string) => void): Machine {
  return new Machine({ kernel: readFileSync(g.kernel), initrd: readFileSync(g.initrd) }, { consoleOut: (b, n) => out(Buffer.from(b.subarray(0, n)).toString('latin1')) });
}

/**
 * `commands`: what to type, in order (default: the vs-semu workloads). `counts`: count the
 * engine's events per workload (slows everything down; see engine-counts.ts). `background`:
 * compile translations as the worker does (on V8's threads, pages batched into modules, the
 * event loop turning after each slice of 1 M instructions); off, each compiles at once on this
 * thread (before 2026-12-07 this benchmark always did that).
 */
export async function benchWorkloads(commands: readonly string[] = WORKLOADS.map((w) => w.cmd), counts = false, background = true): Promise<WorkloadsBench> {
  const g = guestArtifacts();
  let text = '';
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const c0 = cpu();
  const m = guestMachine(g, (t) => (text += t));
  m.code.compileInBackground = background;
  // WORKLOAD_HOT: the translation threshold (entries per slot); 0 runs everything in the fast loop.
  if (process.env.WORKLOAD_HOT !== undefined) m.code.hotThreshold = Number(process.env.WORKLOAD_HOT);
  const until = async (done: () => boolean, what: string) => {
    const deadline = Date.now() + 300_000;
    while (!done()) {
      if (background) await new Promise((r) => setImmediate(r));
      const r = m.run(1 << 20);
      if (r === StopReason.Halted || r === StopReason.Crashed) throw new Error(`${what}: the guest stopped: ${m.crash?.description ?? m.haltReason}\n${text.slice(-2000)}`);
      if (r === StopReason.Idle) Atomics.wait(sleeper, 0, 0, Math.min(m.idleMilliseconds(), 5));
      if (Date.now() > deadline) throw new Error(`${what}: no result after 300 s\n${text.slice(-2000)}`);
    }
  };
  const take = counts ? countEngine(m) : null;
  await until(() => text.includes(GUEST_READY_MARKER), 'boot');
  const boot: WorkloadResult = { name: 'boot', guest_s: NaN, instructions: m.instret(), cpu_s: cpu() - c0, counts: take?.() };
  const results: WorkloadResult[] = [];
  for (const cmd of commands) {
    const name = cmd.split(' ')[0];
    const from = text.length;
    const re = resultLine(name);
    const i0 = m.instret();
    const t0 = cpu();
    m.consoleIn(new TextEncoder().encode(`${cmd}\n`));
    let match: RegExpExecArray | null = null;
    await until(() => (match = re.exec(text.slice(from))) !== null, cmd);
    results.push({ name, guest_s: Number(match![1]) / 1e9, instructions: m.instret() - i0, cpu_s: cpu() - t0, counts: take?.() });
  }
  const c = m.code;
  m.shutdown();
  return { boot, results, translated: c.translated, decodes: c.decodes, invalidated: c.invalidated };
}
