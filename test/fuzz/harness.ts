// The reusable virtio fuzzer (docs/fuzzing.md). Give it a device factory and a chain generator;
// it drives the real virtio-mmio transport through guest RAM with a driver of its own
// (driver.ts), mixes in transport-level hostility (hostile.ts: loops, indirect tables good and
// bad, lengths up to 2^32 - 1, high address words, buffers aimed at the rings, avail-index
// jumps, stale and out-of-range heads) and checks after every chain:
//
// - nothing throws out of the device (every call is counted through a wrapper) and the
//   device's own internal-error counter, if it has one, stays 0;
// - no step hangs (each kick and host step is timed);
// - no chain is lost: each one made available is popped or pending, each popped one is in the
//   used ring or held by the device (its `held` hook), each used element names a chain in
//   flight once, with a used length within what the chain offered;
// - after a reset the device holds nothing;
// - the heap after GC is back to where it was after warm-up;
// - at most half of the chains do nothing but put the device in DEVICE_NEEDS_RESET (a fuzzer
//   whose chains are all rejected at the door tests only the door).
//
// A failure names the seed and the step, which reproduce it.

import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type { Ram } from '../../src/emulator/ram';
import type { VirtioDevice, VirtioTransport } from '../../src/emulator/virtio/types';
import type { GuestClock } from '../../src/emulator/types';
import { TIMEBASE_HZ } from '../../src/emulator/clock';
import type { DeviceDescriptor } from '../../src/devices/descriptor';
import { setLogLevel } from '../../src/log';
import { type DescSpec, FuzzDriver, type Placed } from './driver';
import type { LogLevel } from '../../src/log';
import { applyHostile, type HostileKind, kindsFor } from './hostile';
import { Rng } from './rng';

export type { DescSpec, FuzzDriver, Placed } from './driver';
export { Rng } from './rng';

/** A guest clock the test moves (a target's host() hook advances it): devices pace by it. */
export class FuzzClock implements GuestClock {
  static readonly HZ = TIMEBASE_HZ;
  ticks = 0;
  now(): number {
    return this.ticks;
  }
  advance(seconds: number): void {
    this.ticks += Math.round(seconds * FuzzClock.HZ);
  }
}

/**
 * The device a registry descriptor builds from `options`, as the emulator worker builds it
 * (deterministic: no host randomness). Dispose it after the run (`device.dispose?.()`).
 */
export function deviceFrom<O extends object>(desc: DeviceDescriptor<O>, options: O, clock: GuestClock = new FuzzClock()): VirtioDevice {
  return desc.create(options, { clock, timebaseHz: FuzzClock.HZ, deterministic: true, wake: null, warn: () => {} });
}

/**
 * A chain of random bytes in the shape most virtio requests take — a readable header (8 to 64
 * bytes), maybe more buffers, a writable tail for the answer — and one chain in five of any
 * shape (random sizes, readable and writable in any split). The floor for every device (the
 * registry test); a device's own generator should send mostly what its real driver sends, so
 * requests get past the header checks and reach the device's logic.
 */
export function anyChain(ctx: GenContext): DescSpec[] {
  const { rng } = ctx;
  const out: DescSpec[] = [];
  const push = (len: number, write: boolean) => out.push({ addr: write ? ctx.alloc(len) : ctx.buffer(rng.bytes(len)), len, write });
  const size = () => (rng.chance(0.7) ? 1 + rng.int(64) : 1 + rng.int(8192));
  if (rng.chance(0.8)) {
    push(8 + rng.int(57), false);
    for (let i = rng.int(3); i > 0; i--) push(size(), rng.chance(0.5));
    push(1 + rng.int(64), true);
    out.sort((x, y) => Number(x.write) - Number(y.write)); // readable first, as the spec requires
    return out;
  }
  const n = 1 + rng.int(4);
  const firstWritable = rng.int(n + 1);
  for (let i = 0; i < n; i++) push(size(), i >= firstWritable);
  return out;
}

/** What a chain generator gets: randomness and guest memory for its buffers. */
export interface GenContext {
  readonly rng: Rng;
  readonly q: number;
  readonly ram: Ram;
  /** Guest memory for a buffer (valid until a few hundred chains later). */
  alloc(len: number, align?: number): number;
  /** A buffer holding `bytes`. */
  buffer(bytes: Uint8Array): number;
  readonly step: number;
}

/** The descriptors of one chain for queue ctx.q: readable first, then writable, or anything. */
export type ChainGenerator = (ctx: GenContext) => DescSpec[];

/** The device under test and what the harness needs to know about it. */
export interface FuzzTarget {
  device: VirtioDevice;
  /** Chains of queue q the device holds (popped, not yet returned); default 0 (synchronous). */
  held?(q: number): number;
  /** Called once with the driver, before the first chain. */
  attach?(drv: FuzzDriver): void;
  /**
   * Host-side activity between steps: audio backends, clocks, poll(). A device that completes
   * requests off the CPU thread (libuv's pool, a socket) returns a promise: run it with
   * runFuzzAsync, which awaits it (timed like a kick) before the next step.
   */
  host?(rng: Rng, drv: FuzzDriver): void | Promise<void>;
  /**
   * A chain the driver placed came back with used length `len`: check what the device did
   * (returns problems found). `trusted` is false when a hostile edit touched the chain or the
   * rings: the device may have done anything legal with it, so resynchronise rather than check.
   */
  used?(q: number, len: number, p: Placed, drv: FuzzDriver, trusted: boolean): string[];
  /** The device's own count of internal errors it caught, if it keeps one. */
  internalErrors?(): number;
  /** The driver ran out of descriptors: ask the device to give back what it holds (or do nothing). */
  release?(drv: FuzzDriver, q: number): void;
  /** Device-specific invariants, checked after every step; returns problems found. */
  check?(drv: FuzzDriver): string[];
}

export interface FuzzOptions {
  /** Names the run in messages. */
  name: string;
  /** Builds the device; called once. */
  target(): FuzzTarget;
  /** One generator for every queue, or one per queue. */
  chain: ChainGenerator | ChainGenerator[];
  /** Chains per fuzzed queue (default 10 000). */
  chains?: number;
  /** Queues to fuzz (default: all). */
  queues?: number[];
  seed?: number;
  /** Guest RAM (default 16 MiB: lets an indirect table reach 2^32 bytes). */
  ramBytes?: number;
  /** Ring size (default: min(device's, 256)). */
  queueSize?: number;
  /** Share of chains given a transport-level hostile edit (default 0.15). */
  hostile?: number;
  /** Share of well-formed chains sent through an indirect table (default 0.2). */
  indirect?: number;
  /** A single kick or host step longer than this is a hang (default 2000 ms). */
  stepLimitMs?: number;
}

export interface FuzzReport {
  chains: number;
  chainsPerQueue: number[];
  /** Chains whose only effect was DEVICE_NEEDS_RESET, and their share. */
  resetOnly: number;
  resetOnlyShare: number;
  /** Driver resets (after needs-reset, or out of descriptors). */
  resets: number;
  /** Used elements returned. */
  used: number;
  indirectChains: number;
  hostile: Partial<Record<HostileKind, number>>;
  exceptions: number;
  maxStepMs: number;
  heapGrowthBytes: number;
  ms: number;
}

function gcFunction(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** The device, with every call the transport makes counted when it throws (then rethrown). */
class Counted implements VirtioDevice {
  exceptions = 0;
  firstException: unknown = null;
  readonly deviceId: number;
  readonly name: string;
  readonly queueNames: readonly string[];
  readonly queueMaxSize: number;
  readonly features: readonly [number, number];
  readonly configSize: number;
  poll?: () => void;
  nextDeadline?: () => number;

  constructor(private readonly d: VirtioDevice) {
    this.deviceId = d.deviceId;
    this.name = d.name;
    this.queueNames = d.queueNames;
    this.queueMaxSize = d.queueMaxSize;
    this.features = d.features;
    this.configSize = d.configSize;
    if (d.poll) this.poll = () => this.guard(() => d.poll!());
    if (d.nextDeadline) this.nextDeadline = () => this.guard(() => d.nextDeadline!());
  }

  private guard<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      this.exceptions++;
      this.firstException ??= e;
      throw e;
    }
  }
  readConfig(o: number, w: 1 | 2 | 4): number {
    return this.guard(() => this.d.readConfig(o, w));
  }
  writeConfig(o: number, w: 1 | 2 | 4, v: number): void {
    this.guard(() => this.d.writeConfig(o, w, v));
  }
  attach(t: VirtioTransport): void {
    this.guard(() => this.d.attach(t));
  }
  onNotify(q: number): void {
    this.guard(() => this.d.onNotify(q));
  }
  reset(): void {
    this.guard(() => this.d.reset());
  }
}

/** Runs the fuzzer with a synchronous device (its host hook, if any, returns nothing). */
export function runFuzz(o: FuzzOptions): FuzzReport {
  const steps = fuzzSteps(o);
  try {
    let r = steps.next();
    while (!r.done) {
      const t0 = performance.now();
      if (r.value() instanceof Promise) throw new Error(`${o.name}: the host hook returned a promise: use runFuzzAsync`);
      r = steps.next(performance.now() - t0);
    }
    return r.value;
  } finally {
    steps.return(undefined as never); // a host hook that threw: the loop's own clean-up still runs
  }
}

/** Runs the fuzzer awaiting the host hook between steps (devices that finish work asynchronously). */
export async function runFuzzAsync(o: FuzzOptions): Promise<FuzzReport> {
  const steps = fuzzSteps(o);
  try {
    let r = steps.next();
    while (!r.done) {
      const t0 = performance.now();
      await r.value();
      r = steps.next(performance.now() - t0);
    }
    return r.value;
  } finally {
    steps.return(undefined as never);
  }
}

/**
 * The fuzz loop. It yields each host step for the runner to call (and await, if asynchronous),
 * and gets back how long that took; everything else it does itself.
 */
function* fuzzSteps(o: FuzzOptions): Generator<() => void | Promise<void>, FuzzReport, number> {
  const seed = o.seed ?? 0x5eed;
  const rng = new Rng(seed);
  const target = o.target();
  const device = new Counted(target.device);
  const nq = device.queueNames.length;
  const queues = o.queues ?? [...Array(nq).keys()];
  const perQueue = o.chains ?? 10_000;
  const drv = new FuzzDriver(device, o.ramBytes ?? 16 << 20, o.queueSize ?? Math.min(device.queueMaxSize, 256));
  const gens = Array.isArray(o.chain) ? o.chain : queues.map(() => o.chain as ChainGenerator);
  const hostileShare = o.hostile ?? 0.15;
  const indirectShare = o.indirect ?? 0.2;
  const stepLimit = o.stepLimitMs ?? 2000;
  const problems: string[] = [];
  const counts = new Array<number>(nq).fill(0);
  const report: FuzzReport = { chains: 0, chainsPerQueue: counts, resetOnly: 0, resetOnlyShare: 0, resets: 0, used: 0, indirectChains: 0, hostile: {}, exceptions: 0, maxStepMs: 0, heapGrowthBytes: 0, ms: 0 };
  const where = (step: number, what: string) => `${o.name} (seed 0x${seed.toString(16)}, step ${step}): ${what}`;
  const gc = gcFunction();
  setLogLevel('silent'); // thousands of expected DEVICE_NEEDS_RESET warnings
  const started = performance.now();
  let heapAfterWarmup = -1;
  let step = 0;

  const timed = (what: string, f: () => void) => {
    const t0 = performance.now();
    f();
    const dt = performance.now() - t0;
    if (dt > report.maxStepMs) report.maxStepMs = dt;
    if (dt > stepLimit) problems.push(where(step, `${what} took ${dt.toFixed(0)} ms (a hang?)`));
  };
  const reset = () => {
    report.resets++;
    timed('reset', () => assert.ok(drv.init(), where(step, 'the device refused FEATURES_OK after a reset')));
    for (const q of queues) {
      if (drv.inFlight(q) !== 0) problems.push(where(step, `queue ${q}: ${drv.inFlight(q)} chains still held after a reset`));
      if (target.held && target.held(q) !== 0) problems.push(where(step, `queue ${q}: the device says it holds ${target.held(q)} chains after a reset`));
    }
  };
  const reap = (q: number) => {
    for (const e of drv.reap(q, problems)) {
      report.used++;
      if (target.used && e.placed !== null) {
        for (const p of target.used(q, e.len, e.placed, drv, !e.placed.hostile && !drv.corrupted)) problems.push(where(step, p));
      }
    }
  };
  const reapAll = () => {
    for (const q of queues) reap(q);
  };
  const ctxFor = (q: number): GenContext => ({
    rng,
    q,
    ram: drv.ram,
    step,
    alloc: (len, align) => drv.alloc(Math.max(1, len), align),
    buffer: (bytes) => {
      const at = drv.alloc(Math.max(1, bytes.length), 8);
      drv.put(at, bytes);
      return at;
    },
  });

  try {
    target.attach?.(drv);
    reset();
    report.resets = 0;
    while (queues.some((q) => counts[q] < perQueue)) {
      for (let k = 0; k < queues.length; k++) {
        const q = queues[k];
        if (counts[q] >= perQueue) continue;
        if (drv.needsReset || drv.corrupted) reset();
        const descs = gens[k](ctxFor(q));
        const indirect = drv.indirect && descs.length > 0 && rng.chance(indirectShare);
        let p = drv.place(q, descs, indirect);
        if (p === null && descs.length > 0) {
          timed('release', () => target.release?.(drv, q));
          reapAll();
          p = drv.place(q, descs, indirect);
          if (p === null) {
            reset(); // the device holds every descriptor and will not give them back
            p = drv.place(q, descs, indirect);
          }
        }
        if (p === null) continue; // an empty chain: nothing to publish
        if (indirect) report.indirectChains++;
        let publish = true;
        if (rng.chance(hostileShare)) {
          const kind = rng.pick(kindsFor(p, drv));
          report.hostile[kind] = (report.hostile[kind] ?? 0) + 1;
          p.hostile = true;
          const r = applyHostile(kind, drv, p, rng);
          publish = r.publish;
          if (r.corrupts) drv.corrupted = true;
        }
        if (publish) drv.publish(p);
        const wasBroken = drv.needsReset;
        timed(`kick of queue ${q}`, () => drv.kick(q));
        if (!wasBroken && drv.needsReset) report.resetOnly++;
        counts[q]++;
        report.chains++;
        reap(q);
      }
      if (target.host) {
        const dt: number = yield () => target.host!(rng, drv);
        if (dt > report.maxStepMs) report.maxStepMs = dt;
        if (dt > stepLimit) problems.push(where(step, `host step took ${dt.toFixed(0)} ms (a hang?)`));
      }
      reapAll();
      check(step);
      if (problems.length > 0) break;
      step++;
      if (step === 500) {
        gc();
        heapAfterWarmup = process.memoryUsage().heapUsed;
      }
    }
  } finally {
    setLogLevel((process.env.SEMU_LOG as LogLevel | undefined) ?? 'warn');
  }
  gc();
  report.heapGrowthBytes = heapAfterWarmup < 0 ? 0 : process.memoryUsage().heapUsed - heapAfterWarmup;
  report.exceptions = device.exceptions;
  report.resetOnlyShare = report.chains === 0 ? 0 : report.resetOnly / report.chains;
  report.ms = performance.now() - started;
  assert.deepEqual(problems, [], problems.slice(0, 5).join('\n'));
  assert.equal(device.exceptions, 0, `${o.name}: ${device.exceptions} exceptions from the device, the first: ${String(device.firstException)}`);
  assert.equal(target.internalErrors?.() ?? 0, 0, `${o.name}: the device caught internal errors of its own`);
  assert.ok(report.resetOnlyShare <= 0.5, `${o.name}: ${(report.resetOnlyShare * 100).toFixed(1)} % of the chains only put the device into needs-reset (at most 50 %)`);
  assert.ok(report.heapGrowthBytes < 8 << 20, `${o.name}: the heap grew ${(report.heapGrowthBytes / 1048576).toFixed(1)} MiB after warm-up`);
  for (const q of queues) assert.ok(counts[q] >= perQueue, `${o.name}: queue ${q} got ${counts[q]} chains`);
  return report;

  /** Nothing lost: what the driver made available is pending, held, or came back. */
  function check(at: number): void {
    if (target.check) for (const p of target.check(drv)) problems.push(where(at, p));
    if (drv.needsReset || drv.corrupted) return;
    for (const q of queues) {
      const mine = drv.queues[q].inflight.size;
      const theirs = drv.inFlight(q) + drv.pending(q);
      if (mine !== theirs) problems.push(where(at, `queue ${q}: ${mine} chains in flight for the driver, ${drv.inFlight(q)} held + ${drv.pending(q)} pending for the transport`));
      const held = target.held ? target.held(q) : 0;
      if (held !== drv.inFlight(q)) problems.push(where(at, `queue ${q}: the transport counts ${drv.inFlight(q)} chains held, the device ${held}`));
    }
  }
}
