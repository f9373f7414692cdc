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
import { FLAGS, PC } from '../src/emulator/cpu/layout';

type Counts = Record<string, number>;
interface CacheInternals {
  enter: (hs: number, k: number, budget: number) => number;
  versions: Uint8Array;
  maxVersions: number;
  labelPages: (Uint8Array | null)[];
  decodedPages: (Int32Array | null)[];
  heatPages: (Uint16Array | null)[];
  pending: Uint8Array;
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
  const missTargets = new Map<number, number>();
  const enter = cache.enter.bind(cache);
  const cells = m.harts.map((h) => h.cells);
  cache.enter = (hs, k, budget) => {
    const retired = enter(hs, k, budget);
    add(counts, 'translated.enters', 1);
    add(counts, 'translated.instructions', retired);
    // Why it came back: FLAGS of the hart whose state is at hs (layout.ts Exit; 0: the budget).
    const hart = cells.findIndex((c) => c.byteOffset === hs);
    const flags = hart < 0 ? -1 : cells[hart][FLAGS >> 2];
    add(counts, `translated.exit.${EXIT_NAMES[flags] ?? flags}`, 1);
    if (flags === 4) countMiss(m, cache, hart, counts, missTargets);
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
    summarizeMisses(missTargets, counts);
    const out: Counts = {};
    for (const k of Object.keys(counts)) {
      if (counts[k] !== 0) out[k] = counts[k];
      counts[k] = 0;
    }
    return out;
  };
}

/**
 * Where translated code went when it left on a miss: the target's page is not decoded, decoded
 * but never translated, compiling, out of versions, translated without an entry at that slot, or
 * an entry that the dispatcher's fetch TLB did not hold (with the slot's count at the moment,
 * bucketed). `missTargets` counts each physical target.
 */
function countMiss(m: Machine, cache: CacheInternals, hart: number, counts: Counts, missTargets: Map<number, number>): void {
  const h = m.harts[hart];
  const pc = h.cells[PC >> 2];
  const pa = h.probe(pc, 0);
  if (pa < 0) return add(counts, 'miss.unmapped', 1);
  const off = (pa - h.ramBase) | 0;
  const page = off >>> 12;
  const slot = (off >>> 2) & 1023;
  missTargets.set(off, (missTargets.get(off) ?? 0) + 1);
  const heat = cache.heatPages[page]?.[slot] ?? 0;
  const bucket = heat === 0 ? '0' : heat < 10 ? '<10' : heat < 100 ? '<100' : heat < 250 ? '<250' : '>=250';
  let kind: string;
  if (cache.decodedPages[page] === null) kind = 'notDecoded';
  else if (cache.pending[page] !== 0) kind = 'compiling';
  else if (cache.versions[page] >= cache.maxVersions) kind = 'versionsUsedUp';
  else if (cache.labelPages[page] === null) kind = 'pageNotTranslated';
  else if (cache.labelPages[page]![slot] !== 0) kind = 'fetchTlb'; // an entry: the dispatcher's fetch TLB missed
  else kind = 'noEntry';
  add(counts, `miss.${kind}`, 1);
  add(counts, `miss.heat${bucket}`, 1);
}

/** Adds how the misses spread over targets: distinct targets, and the share of the top ones. */
function summarizeMisses(missTargets: Map<number, number>, counts: Counts): void {
  if (missTargets.size === 0) return;
  const sorted = [...missTargets.values()].sort((a, b) => b - a);
  const total = sorted.reduce((a, b) => a + b, 0);
  add(counts, 'miss.targets', sorted.length);
  for (const top of [10, 100, 1000]) add(counts, `miss.top${top}`, sorted.slice(0, top).reduce((a, b) => a + b, 0));
  add(counts, 'miss.total', total);
  missTargets.clear();
}
