// What data breakpoints cost the guest: /bin/cpubench (user code plus one system call a round)
// with 0, 1 and 4 write watchpoints on read-mostly kernel data in hot pages — softirq_vec (the
// jiffies page), then sys_call_table, fair_sched_class and __cpu_online_mask — so the pages
// stay out of the TLBs but nothing fires. Rounds interleave the three settings on one booted
// guest, so machine load hits them alike; the median of each is reported. The machine runs in a
// worker thread of this process, so process CPU time is the emulator's (wall time on a shared
// machine mostly measures the neighbours).

import { GuestSession } from '../test/helpers/guest-session';
import { guestArtifacts } from '../test/guest-artifacts/artifacts';
import { SymbolTable } from '../debug-adapter/symbols';
import { WATCH_WRITE, type Watchpoint } from '../src/emulator/watch';

export interface WatchBench {
  /** Median guest MIPS (instructions per second of wall time) with 0, 1 and 4 watchpoints. */
  mips: Record<0 | 1 | 4, number>;
  /** Median cpubench wall time (s). */
  seconds: Record<0 | 1 | 4, number>;
  /** Median CPU time of the process during cpubench (s): the emulator's cost. */
  cpu: Record<0 | 1 | 4, number>;
  rounds: number;
  /** Watchpoint hits seen (should be 0: the watched data is not written while it runs). */
  hits: number;
  symbols: string[];
}

const SYMBOLS = ['softirq_vec', 'sys_call_table', 'fair_sched_class', '__cpu_online_mask'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export async function benchWatch(rounds = 7, cpubenchRounds = 3000): Promise<WatchBench> {
  const syms = SymbolTable.load(guestArtifacts().vmlinux);
  const list: Watchpoint[] = SYMBOLS.map((name, id) => {
    const a = syms.address(name);
    if (a === undefined) throw new Error(`no symbol ${name} in vmlinux`);
    return { id, addr: a, len: 4, kind: WATCH_WRITE, physical: false };
  });
  const s = await GuestSession.boot({ audioOut: 'null', audioIn: 'null', quietKernel: true });
  let hits = 0;
  s.host.on('stopped', (e) => {
    if (e.reason === 'watch') {
      hits++;
      s.host.continue();
    }
  });
  const mips: Record<number, number[]> = { 0: [], 1: [], 4: [] };
  const secs: Record<number, number[]> = { 0: [], 1: [], 4: [] };
  const cpus: Record<number, number[]> = { 0: [], 1: [], 4: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const n of r % 2 ? [4, 1, 0] : [0, 1, 4]) {
        s.host.setWatchpoints(list.slice(0, n));
        const i0 = s.host.instret();
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        await s.run(`cpubench ${cpubenchRounds}`, { timeoutMs: 300_000 });
        const c = process.cpuUsage(c0);
        const sec = (performance.now() - t0) / 1000;
        mips[n].push((s.host.instret() - i0) / sec / 1e6);
        secs[n].push(sec);
        cpus[n].push((c.user + c.system) / 1e6);
      }
    }
  } finally {
    await s.dispose();
  }
  return {
    mips: { 0: median(mips[0]), 1: median(mips[1]), 4: median(mips[4]) },
    seconds: { 0: median(secs[0]), 1: median(secs[1]), 4: median(secs[4]) },
    cpu: { 0: median(cpus[0]), 1: median(cpus[1]), 4: median(cpus[4]) },
    rounds,
    hits,
    symbols: SYMBOLS,
  };
}
