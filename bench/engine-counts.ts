// Event counts of the CPU engine for `workloads` with WORKLOAD_COUNTS=1: page walks by access,
// privilege and SUM, slow-path loads and stores, traps, CSR writes (those JavaScript runs:
// translated code writes the trap CSRs and sstatus inline), SRETs, fences, TLB bank
// flushes, entries into translated code with the instructions they retired and why they came
// back, and the fast loop's runs with their instructions by the kind of page they ran on.
// Counting is how the SUM flushes and the SC of every trap return were found (bench/RESULTS.md);
// a workload's time with counters on says nothing (every counted call goes through a wrapper).

import type { Machine } from '../src/emulator/machine';
import { Hart } from '../src/emulator/cpu/hart';
import { Mmu } from '../src/emulator/cpu/mmu';
import { FLAGS } from '../src/emulator/cpu/layout';

type Counts = Record<string, number>;
interface CacheInternals {
  enter: (hs: number, k: number, budget: number) => number;
  versions: Uint8Array;
  maxVersions: number;
  labelPages: (Uint8Array | null)[];
}
const EXIT_NAMES: Record<number, string> = { 0: 'budget', 1: 'trap', 2: 'leave', 4: 'miss' };

function add(counts: Counts, key: string, n: number): void {
  counts[key] = (counts[key] ?? 0) + n;
}
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
  const cache = m.code as unknown as CacheInternals;
  const enter = cache.enter.bind(cache);
  const cells = m.harts.map((h) => h.cells);
  cache.enter = (hs, k, budget) => {
    const retired = enter(hs, k, budget);
    add(counts, 'translated.enters', 1);
    add(counts, 'translated.instructions', retired);
    // Why it came back: FLAGS of the hart whose state is at hs (layout.ts Exit; 0: the budget).
    const flags = cells.find((c) => c.byteOffset === hs)?.[FLAGS >> 2] ?? -1;
    add(counts, `translated.exit.${EXIT_NAMES[flags] ?? flags}`, 1);
    return retired;
  };
  // Instructions the fast loop ran (its runs go to the crash trace), by what their page is:
  // never translated, translated but entered where the translation has no entry, or a page
  // whose translations are used up (codecache.ts MAX_VERSIONS).
  const record = Hart.prototype.record;
  Hart.prototype.record = function (this: Hart, pc: number, off: number, n: number) {
    const page = off >>> 12;
    const kind = cache.versions[page] >= cache.maxVersions ? 'versionsUsedUp' : cache.labelPages[page] !== null ? 'translatedPage' : 'notTranslated';
    add(counts, 'fast.runs', 1);
    add(counts, `fast.instructions.${kind}`, n);
    record.call(this, pc, off, n);
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
