// Guest MIPS on the guest's own /bin/cpubench (a fixed CPU-bound workload): instructions retired
// over wall time while it runs, read from the worker's control block (no pause, no copies).

import { GuestSession } from '../test/helpers/guest-session';

export interface CpuBench {
  mips: number;
  seconds: number;
  instructions: number;
  guest_line: string;
}

export async function benchCpu(): Promise<CpuBench> {
  const s = await GuestSession.boot({ audioOut: 'null', audioIn: 'null', quietKernel: true });
  try {
    const i0 = s.host.instret();
    const t0 = performance.now();
    const r = await s.run('cpubench', { timeoutMs: 300_000 });
    const seconds = (performance.now() - t0) / 1000;
    const instructions = s.host.instret() - i0;
    const line = r.output.split('\n').find((l) => l.startsWith('cpubench: ')) ?? '';
    if (!line) throw new Error(`cpubench printed no result line:\n${r.output}`);
    return { mips: instructions / seconds / 1e6, seconds, instructions, guest_line: line.trim() };
  } finally {
    await s.dispose();
  }
}
