// Event counts of the CPU engine for `workloads` with WORKLOAD_COUNTS=1: page walks by access,
// privilege and SUM, slow-path loads and stores, traps, CSR writes, SRETs, fences, TLB bank
// flushes, and entries into translated code with the instructions they retired. Counting is how
// the SUM flushes and the SC of every trap return were found (bench/RESULTS.md); a workload's
// time with counters on says nothing (every counted call goes through a wrapper).

import type { Machine } from '../src/emulator/machine';
import { Hart } from '../src/emulator/cpu/hart';
import { Mmu } from '../src/emulator/cpu/mmu';

type Counts = Record<string, number>;
type Method = (...args: never[]) => unknown;

const HART_METHODS = ['loadSlow', 'storeSlow', 'raise', 'sret', 'csrWrite', 'amo', 'sfenceVma', 'checkInterrupt'] as const;
const BANK_METHODS = ['flush', 'flushPage', 'inherit'] as const;
const ACCESS = ['fetch', 'load', 'store'];

/** Wraps `proto[name]` so that each call adds one to `counts[key(this, args)]`. */
function count(proto: object, name: string, counts: Counts, key: (self: unknown, args: unknown[]) => string): void {
  const target = proto as Record<string, Method>;
  const original = target[name];
  if (typeof original !== 'function') throw new Error(`engine-counts: no method ${name} to count`);
  target[name] = function (this: unknown, ...args: never[]) {
    const k = key(this, args);
    counts[k] = (counts[k] ?? 0) + 1;
    return original.apply(this, args);
  };
}

/**
 * Installs the counters (for the rest of this process: the prototypes stay wrapped) and returns
 * `take()`, which hands back the counts since the last take and starts again from zero.
 */
export function countEngine(m: Machine): () => Counts {
  const counts: Counts = {};
  for (const name of HART_METHODS) count(Hart.prototype, name, counts, () => name);
  // The walk is private to the MMU: reached by name, as a debugger would.
  count(Mmu.prototype, 'walk', counts, (self, args) => {
    const mmu = self as { priv: number; status: number };
    const [, acc, commit] = args as [number, number, boolean];
    return `walk.${ACCESS[acc]}.${mmu.priv === 0 ? 'U' : 'S'}${(mmu.status >>> 18) & 1 ? '+SUM' : ''}${commit ? '' : '.probe'}`;
  });
  const banks = (m.harts[0] as unknown as { banks: object[] }).banks;
  for (const name of BANK_METHODS) count(Object.getPrototypeOf(banks[0]) as object, name, counts, () => `bank.${name}`);
  const cache = m.code as unknown as { enter: (hs: number, k: number, budget: number) => number };
  const enter = cache.enter.bind(cache);
  cache.enter = (hs, k, budget) => {
    const retired = enter(hs, k, budget);
    counts['translated.enters'] = (counts['translated.enters'] ?? 0) + 1;
    counts['translated.instructions'] = (counts['translated.instructions'] ?? 0) + retired;
    return retired;
  };
  return () => {
    const out: Counts = {};
    for (const k of Object.keys(counts)) {
      if (counts[k] !== 0) out[k] = counts[k];
      counts[k] = 0;
    }
    return out;
  };
}
