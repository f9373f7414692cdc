// The whole machine as the worker, the CLI, the debugger and the tests drive it: semu's memory
// map (DESIGN.md §3), 1-4 harts, the SBI, the guest clock, and run(budget) — the one loop that
// advances everything and says why it stopped.

import { Bus } from './bus';
import { MIP_STIP } from './types';
import { Ram } from './ram';
import type { VirtioDevice } from './virtio/types';
import { VirtioMmio, VIRTIO_MMIO_SIZE } from './virtio/mmio';
import { EmptyVirtioSlot } from './virtio/empty';
import { Plic } from './devices/plic';
import { Uart16550 } from './devices/uart';
import { AclintMswi, AclintMtimer, AclintSswi } from './devices/aclint';
import {
  MSWI_BASE,
  MTIMER_BASE,
  PLIC_BASE,
  RAM_BASE,
  RAM_SIZE,
  SSWI_BASE,
  UART_BASE,
  UART_IRQ,
  VIRTIO_SLOTS,
} from './devices/map';
import { buildDeviceTree, semuDevices, type DtDevice } from './fdt';
import { Hart, HartState, type HartHost } from './cpu/hart';
import { interpret } from './cpu/run';
import { CodeCache } from './cpu/codecache';
import { runFast } from './cpu/fast';
import { warmUp } from './cpu/warmup';
import { CAUSE_NAMES, INTERRUPT_BIT } from './cpu/csr';
import { disassemble } from './cpu/disasm';
import { Sbi, type ResetKind, type SbiPlatform } from './sbi';
import { createClock, TIMEBASE_HZ, type ClockMode, type MachineClock } from './clock';
import { BootError, checkDtb, imageSize, loadImages, planBoot, type BootImage } from './boot';
import { WatchTable, type Watchpoint } from './watch';
import { logger } from '../log';

const log = logger('machine');

export { BootError };

/** What a device model may use of the machine it is built for (src/devices/descriptor.ts). */
export interface MachineContext {
  readonly clock: MachineClock;
  readonly timebaseHz: number;
  readonly deterministic: boolean;
  readonly wake: WakeWord | null;
  warn(message: string): void;
}

/**
 * An Int32 word in shared memory that the thread running the machine sleeps on while the guest
 * idles: another thread (a device's host I/O thread) bumps it with Atomics.add + notify when it
 * has work for the device, so the guest is not left waiting for the sleep to time out.
 */
export interface WakeWord {
  readonly buffer: SharedArrayBuffer;
  readonly index: number;
}

/**
 * A virtio device on its own transport: the window and PLIC source (semu's slot for registry
 * devices), and the device — or a factory the machine calls once its clock exists.
 */
export interface PlacedVirtio {
  base: number;
  irq: number;
  device: VirtioDevice | ((ctx: MachineContext) => VirtioDevice);
}
/** @deprecated the former name of PlacedVirtio (phase-A device tests still use it). */
export type ExtraVirtio = PlacedVirtio;

export interface MachineConfig {
  /** Bytes of RAM (default 512 MiB). */
  ramSize?: number;
  /** Harts, 1..4 (default 1). */
  harts?: number;
  /** A Linux RISC-V Image (or a raw binary) loaded at the start of RAM: bytes, or a file read there. */
  kernel: BootImage;
  initrd?: BootImage;
  /** Replaces the generated device tree. */
  dtb?: Uint8Array;
  /** Kernel command line for the generated device tree (default "earlycon console=ttyS0"). */
  bootargs?: string;
  /**
   * The virtio devices (src/devices/create.ts builds them from options through the registry).
   * The generated device tree lists them; every slot of semu's map without one answers as an
   * empty transport (DeviceID 0), so a device tree written for semu boots too.
   */
  virtio?: PlacedVirtio[];
  /** @deprecated more devices, appended to `virtio` (phase-A device tests). */
  extraVirtio?: PlacedVirtio[];
  /** 'host' (default) or 'icount' (deterministic). */
  time?: ClockMode;
  /**
   * Let the caller provide RAM (so other threads can see it): ramSize bytes, or with `memory`
   * the buffer of that WebAssembly memory (Ram.allocate: RAM, then the CPU area).
   */
  ramBuffer?: SharedArrayBuffer;
  /** The WebAssembly memory ramBuffer belongs to: hot code is then translated. */
  memory?: WebAssembly.Memory | null;
  /**
   * How harts execute: 'fast' (default: the fast loop over pre-decoded pages, hot pages
   * translated), 'interp' (one instruction at a time: the reference) or 'jit' (the fast loop
   * translating every page on its first entry: for tests of the translator).
   */
  engine?: Engine;
}

export interface MachineIO {
  /** UART and SBI console output. The buffer is reused: copy what you keep. */
  consoleOut(bytes: Uint8Array, length: number): void;
  /** The word the caller's idle sleep waits on (devices with host threads wake it). */
  wake?: WakeWord;
  /** A device's warning for the person (default: the log). */
  warning?(message: string): void;
}

export const enum StopReason {
  /** The budget ran out: call run() again. */
  Budget,
  /** Every hart waits for an interrupt: sleep up to `idleMs` (or until input), then run() again. */
  Idle,
  /** A hart reached an instruction breakpoint (`stopHart`); it has not executed yet. */
  Breakpoint,
  /** The notify hook asked to stop on a virtqueue kick (`lastNotify`); delivered on the next run(). */
  Notify,
  /** The guest powered off or reset: `exitCode`, `haltReason`. */
  Halted,
  /** The guest died: `crash`. */
  Crashed,
  /** A data watchpoint was hit (`watch.hit`): by a hart after its access retired, or by a device's DMA. */
  Watch,
}

export interface CrashReport {
  hart: number;
  pc: number;
  /** scause of the fatal trap (exception code), -1 when no trap was involved. */
  cause: number;
  causeName: string;
  tval: number;
  /** Why the machine decided the guest is dead. */
  reason: string;
  /** One line for people: reason, cause, pc, tval. */
  description: string;
  /** The last instructions executed by that hart, oldest first (at most 32). */
  lastInstructions: { pc: number; word: number; text: string }[];
}

export type Engine = 'interp' | 'fast' | 'jit';

export type ExitReason = 'poweroff' | 'reboot' | 'failure';

export const MAX_HARTS = 4;
const DEFAULT_BOOTARGS = 'earlycon console=ttyS0';
/** Instructions a hart runs before the machine looks at timers and devices again. */
const SLICE_ONE_HART = 1 << 16;
const SLICE_PER_HART = 1 << 13;

export class Machine implements HartHost, SbiPlatform {
  readonly ram: Ram;
  readonly bus: Bus;
  readonly harts: Hart[];
  readonly virtio: VirtioMmio[] = [];
  readonly clock: MachineClock;
  readonly plic: Plic;
  readonly uart: Uart16550;
  readonly mtimer: AclintMtimer;
  readonly mswi: AclintMswi;
  readonly sswi: AclintSswi;
  readonly sbi: Sbi;
  readonly code: CodeCache;
  /** The device tree the guest got, and where. */
  readonly dtb: Uint8Array;
  readonly dtbAddr: number;

  /** Instruction breakpoints (virtual pc, uint32). When non-empty, run() checks every instruction. */
  readonly breakpoints = new Set<number>();
  /**
   * Called by a virtio transport on QueueNotify before the device sees it: return true to stop
   * the machine; the device then gets the notification when run() is next called.
   */
  notifyHook: ((transport: VirtioMmio, queue: number) => boolean) | null = null;
  /** The kick that stopped the machine (StopReason.Notify). */
  lastNotify: { transport: VirtioMmio; queue: number } | null = null;
  /** Data watchpoints (setWatchpoints); `watch.hit` says what stopped the machine. */
  readonly watch = new WatchTable();
  /** The hart that hit a breakpoint or crashed. */
  stopHart = 0;
  /** After StopReason.Idle: how long nothing happens unless input arrives (ms; Infinity = never). */
  idleMs = 0;

  exitCode: number | null = null;
  haltReason: ExitReason | null = null;
  crash: CrashReport | null = null;

  private readonly engine: Engine;
  private readonly slice: number;
  private current: Hart;
  private stopReason: StopReason = StopReason.Budget;

  constructor(config: MachineConfig, private readonly io: MachineIO) {
    const ramSize = config.ramSize ?? RAM_SIZE;
    const nharts = config.harts ?? 1;
    if (!Number.isInteger(nharts) || nharts < 1 || nharts > MAX_HARTS) throw new BootError(`harts must be 1..${MAX_HARTS}, not ${nharts}`);
    if (!Number.isInteger(ramSize) || ramSize < 4 * 1024 * 1024 || ramSize > 0xf0000000 || ramSize % 4096 !== 0) {
      throw new BootError(`RAM size ${ramSize} must be a multiple of 4 KiB between 4 MiB and 3.75 GiB`);
    }
    const memory = config.memory ?? null;
    const buf = config.ramBuffer;
    if (buf && (memory ? (memory.buffer as unknown) !== buf || buf.byteLength < ramSize : buf.byteLength !== ramSize)) {
      throw new BootError(`ramBuffer is ${buf.byteLength} bytes, RAM is ${ramSize}`);
    }
    this.engine = config.engine ?? 'fast';
    if (this.engine !== 'interp') warmUp();
    this.slice = nharts === 1 ? SLICE_ONE_HART : SLICE_PER_HART;

    this.ram = config.ramBuffer ? new Ram(config.ramBuffer, RAM_BASE, ramSize, memory) : Ram.allocate(ramSize, RAM_BASE);
    this.bus = new Bus(this.ram);
    this.code = new CodeCache(this.ram);
    if (this.engine === 'jit') this.code.hotThreshold = 1;
    this.clock = createClock(config.time ?? 'host', () => this.instret());
    this.harts = [];
    for (let i = 0; i < nharts; i++) {
      const h = new Hart(i, this.ram, this.bus, this.code, this);
      h.state = i === 0 ? HartState.Started : HartState.Stopped;
      this.harts.push(h);
      this.code.addHart(h);
    }
    this.current = this.harts[0];

    // Devices, at semu's addresses.
    this.plic = new Plic(PLIC_BASE, this.harts);
    this.uart = new Uart16550(UART_BASE, this.plic, (b, n) => this.io.consoleOut(b, n), { irq: UART_IRQ });
    this.mtimer = new AclintMtimer(MTIMER_BASE, this.clock, this.harts);
    this.mswi = new AclintMswi(MSWI_BASE, this.harts);
    this.sswi = new AclintSswi(SSWI_BASE, this.harts);
    for (const d of [this.plic, this.uart, this.mtimer, this.mswi, this.sswi]) this.bus.add(d);
    this.sbi = new Sbi(this);

    const ctx: MachineContext = {
      clock: this.clock,
      timebaseHz: TIMEBASE_HZ,
      deterministic: this.clock.mode === 'icount',
      wake: io.wake ?? null,
      warn: (message) => (io.warning ? io.warning(message) : log.warn(message)),
    };
    const placed = [...(config.virtio ?? []), ...(config.extraVirtio ?? [])].sort((a, b) => a.base - b.base);
    try {
      for (const p of placed) this.addVirtio(p, ctx);
      this.addEmptySlots();
      const boot = this.loadBoot(config, ramSize, nharts);
      this.dtb = boot.dtb;
      this.dtbAddr = boot.dtbAddr;
    } catch (e) {
      this.shutdown(); // a bad image or device: free what the devices built so far hold
      throw e;
    }
    const initrdLen = config.initrd?.length ?? 0;
    log.info(`${nharts} hart(s), ${ramSize >> 20} MiB, kernel ${config.kernel.length} bytes, initrd ${initrdLen} bytes, dtb at 0x${this.dtbAddr.toString(16)}`);
  }

  /** Places the kernel, initrd and device tree (generated unless given) in RAM; hart 0 at the kernel. */
  private loadBoot(config: MachineConfig, ramSize: number, nharts: number): { dtb: Uint8Array; dtbAddr: number } {
    const kernel = config.kernel;
    const initrdLen = config.initrd?.length ?? 0;
    if (config.dtb) checkDtb(config.dtb);
    // The generated tree's size does not depend on the initrd addresses: plan with a bound first.
    const footprint = imageSize(kernel); // reads the header: from the file when the kernel is one
    const plan0 = planBoot(RAM_BASE, ramSize, kernel.length, footprint, initrdLen, config.dtb?.length ?? 0);
    const dtDevices: DtDevice[] = semuDevices();
    for (const t of this.virtio) dtDevices.push({ kind: 'virtio', base: t.base, size: VIRTIO_MMIO_SIZE, irq: t.irq });
    dtDevices.sort((a, b) => a.base - b.base);
    const dtb =
      config.dtb ??
      buildDeviceTree({
        ramBase: RAM_BASE,
        ramSize,
        harts: nharts,
        timebase: TIMEBASE_HZ,
        bootargs: config.bootargs ?? DEFAULT_BOOTARGS,
        initrd: plan0.initrd ?? undefined,
        devices: dtDevices,
      });
    const plan = planBoot(RAM_BASE, ramSize, kernel.length, footprint, initrdLen, dtb.length);
    loadImages(this.ram, plan, kernel, config.initrd, dtb);
    this.harts[0].reset(plan.kernelAddr, 0, plan.dtbAddr);
    return { dtb, dtbAddr: plan.dtbAddr };
  }

  private addVirtio(p: PlacedVirtio, ctx: MachineContext): void {
    const device = typeof p.device === 'function' ? p.device(ctx) : p.device;
    const name = `${device.name}@${(p.base >>> 0).toString(16)}`;
    let t: VirtioMmio;
    try {
      t = new VirtioMmio(name, p.base, this.plic, p.irq, device, this.ram);
      this.bus.add(t);
    } catch (e) {
      device.dispose?.();
      throw e;
    }
    t.notifyHook = (tr, q) => this.onNotify(tr, q);
    this.virtio.push(t);
  }

  /** semu's slots without a device answer "no device here" (virtio/empty.ts). */
  private addEmptySlots(): void {
    for (const [slot, { base }] of Object.entries(VIRTIO_SLOTS)) {
      if (this.bus.deviceAt(base) === null) this.bus.add(new EmptyVirtioSlot(`empty ${slot} slot@${base.toString(16)}`, base));
    }
  }

  private onNotify(t: VirtioMmio, q: number): boolean {
    const hook = this.notifyHook;
    if (hook === null || !hook(t, q)) return false;
    this.lastNotify = { transport: t, queue: q };
    this.stopReason = StopReason.Notify;
    this.current.stop = true;
    return true;
  }

  /**
   * Replaces the data watchpoints. With none, the harts drop their reference to the table and
   * RAM's write hook is unwrapped: no cost at all. Throws (nothing changed) for a bad entry.
   */
  setWatchpoints(list: readonly Watchpoint[]): void {
    const w = this.watch;
    const wasActive = w.active;
    w.set(list);
    for (const h of this.harts) {
      h.watch = w.active ? w : null;
      h.flushTlb(); // entries of pages that now hold a watched byte must go
    }
    if (w.active && !wasActive) {
      const codeHook = this.ram.onExternalWrite;
      this.unwatchRam = () => (this.ram.onExternalWrite = codeHook);
      this.ram.onExternalWrite = (pa, len) => {
        if (codeHook !== null) codeHook(pa, len);
        w.dma(pa, len);
      };
      w.onDmaHit = () => {
        this.current.stop = true;
      };
    } else if (!w.active && wasActive) {
      this.unwatchRam?.();
      this.unwatchRam = null;
    }
  }
  private unwatchRam: (() => void) | null = null;

  /** Total instructions retired by all harts. */
  instret(): number {
    let n = 0;
    for (const h of this.harts) n += h.instret;
    return n;
  }

  /** After StopReason.Idle: milliseconds until the next timer event (Infinity: only input wakes it). */
  idleMilliseconds(): number {
    return this.idleMs;
  }

  /**
   * Executes one instruction on hart `hart` (the debugger's step), ignoring breakpoints there.
   * Timers and devices are updated first, so a pending interrupt is taken as the step.
   */
  step(hart: number): StopReason {
    if (this.exitCode !== null) return StopReason.Halted;
    if (this.crash !== null) return StopReason.Crashed;
    const h = this.harts[hart];
    if (h === undefined || h.state !== HartState.Started) return StopReason.Budget;
    for (const t of this.virtio) t.deliverDeferredNotifies();
    this.lastNotify = null;
    this.stopReason = StopReason.Budget;
    this.watch.hit = null;
    this.mtimer.update();
    if (h.idle && (h.mip & h.sie) !== 0) h.idle = false;
    let r = StopReason.Budget;
    if (!h.idle) {
      this.current = h;
      h.stop = false;
      h.atBreakpoint = false;
      this.watch.armed = true;
      interpret(h, 1, null, true);
      this.watch.armed = false;
      if (h.stop) r = this.afterStop(h) ?? StopReason.Budget;
    }
    this.uart.flush();
    return r;
  }

  /** Releases host resources (disk file, audio, ...): call once when the machine will not run again. */
  shutdown(): void {
    this.uart.flush();
    this.code.dispose();
    for (const t of this.virtio) {
      try {
        t.device.reset();
        t.device.dispose?.();
      } catch (e) {
        log.warn(`${t.name}: shutdown failed: ${(e as Error).message}`);
      }
    }
  }

  consoleIn(bytes: Uint8Array): void {
    this.uart.pushInput(bytes);
  }

  consoleInClosed(): void {
    this.uart.closeInput();
  }

  /** Console input bytes the UART has moved into its FIFO so far (uint32, wraps). */
  consoleInputFed(): number {
    return this.uart.inputFed;
  }

  /** Runs up to `budget` instructions (all harts together); returns why it stopped. */
  run(budget: number): StopReason {
    if (this.exitCode !== null) return StopReason.Halted;
    if (this.crash !== null) return StopReason.Crashed;
    let reason: StopReason;
    try {
      for (const t of this.virtio) t.deliverDeferredNotifies();
      this.lastNotify = null;
      this.stopReason = StopReason.Budget;
      this.watch.hit = null;
      this.watch.armed = true;
      reason = this.loop(budget);
    } catch (e) {
      reason = this.internalError(e);
    }
    this.watch.armed = false;
    this.uart.flush();
    return reason;
  }

  /** A bug in the emulator itself must not take the host down: stop the machine and say so. */
  private internalError(e: unknown): StopReason {
    const h = this.current;
    const msg = e instanceof Error ? e.message : String(e);
    log.error(`internal error at hart ${h.id} pc 0x${(h.pc >>> 0).toString(16)}: ${e instanceof Error ? e.stack : msg}`);
    h.crashed = { cause: -1, pc: h.pc, tval: 0, reason: `emulator internal error: ${msg}` };
    this.crash = this.report(h);
    this.stopHart = h.id;
    return StopReason.Crashed;
  }

  private loop(budget: number): StopReason {
    const harts = this.harts;
    const clock = this.clock;
    const bps = this.breakpoints.size > 0 ? this.breakpoints : null;
    let done = 0;
    while (done < budget) {
      this.mtimer.update();
      for (const t of this.virtio) t.poll();
      if (this.watch.hit !== null) return StopReason.Watch; // a device's DMA hit a watchpoint
      let slice = Math.min(budget - done, this.slice);
      if (clock.followsInstructions()) slice = Math.min(slice, clock.insnsUntil(this.nextTimer(false)));
      let ran = false;
      for (let i = 0; i < harts.length; i++) {
        const h = harts[i];
        if (h.state !== HartState.Started) continue;
        if (h.idle) {
          if ((h.mip & h.sie) === 0) continue;
          h.idle = false;
        }
        ran = true;
        this.current = h;
        h.stop = false;
        const skipBp = h.atBreakpoint;
        h.atBreakpoint = false;
        done += this.runHart(h, slice, bps, skipBp);
        if (harts.length > 1) h.reservation = -1; // another hart runs next: its stores may hit the reserved word
        if (h.stop) {
          const r = this.afterStop(h);
          if (r !== null) return r;
        }
      }
      if (!ran) {
        const r = this.allIdle();
        if (r !== null) return r;
      }
    }
    return StopReason.Budget;
  }

  private runHart(h: Hart, slice: number, bps: ReadonlySet<number> | null, skipBp: boolean): number {
    if (bps !== null || this.engine === 'interp') return interpret(h, slice, bps, skipBp);
    return runFast(h, this.code, slice);
  }

  /** A hart left its loop early: decide whether the machine stops too. */
  private afterStop(h: Hart): StopReason | null {
    h.stop = false;
    if (h.crashed !== null) {
      this.crash = this.report(h);
      this.stopHart = h.id;
      log.warn(`hart ${h.id} crashed: ${this.crash.reason} (${this.crash.causeName} at pc 0x${(this.crash.pc >>> 0).toString(16)})`);
      return StopReason.Crashed;
    }
    if (this.exitCode !== null) return StopReason.Halted;
    if (h.atBreakpoint) {
      this.stopHart = h.id;
      return StopReason.Breakpoint;
    }
    if (this.watch.hit !== null) {
      this.stopHart = h.id;
      return StopReason.Watch;
    }
    if (this.stopReason === StopReason.Notify) return StopReason.Notify;
    return null; // WFI or HSM stop: the other harts go on
  }

  /** No hart can run: skip time forward (instruction-driven clock) or tell the caller to sleep. */
  private allIdle(): StopReason | null {
    if (!this.harts.some((h) => h.state === HartState.Started)) {
      const reason = 'every hart is stopped (SBI HSM hart_stop)';
      this.crash = { hart: 0, pc: this.harts[0].pc >>> 0, cause: -1, causeName: 'none', tval: 0, reason, description: reason, lastInstructions: [] };
      return StopReason.Crashed;
    }
    this.mtimer.update();
    if (this.harts.some((h) => h.state === HartState.Started && (!h.idle || (h.mip & h.sie) !== 0))) return null;
    const deadline = this.nextTimer(true);
    if (this.clock.followsInstructions()) {
      if (deadline !== Infinity) {
        this.clock.skipTo(deadline);
        return null;
      }
      this.idleMs = Infinity;
      return StopReason.Idle;
    }
    const ticks = deadline - this.clock.now();
    if (ticks <= 0) return null;
    this.idleMs = deadline === Infinity ? Infinity : ticks / (TIMEBASE_HZ / 1000);
    return StopReason.Idle;
  }

  /**
   * The earliest timer compare value still in the future, over the started harts (only those a
   * timer interrupt would wake from WFI when `wakersOnly`); Infinity when none.
   */
  private nextTimer(wakersOnly: boolean): number {
    const now = this.clock.now();
    let d = Infinity;
    for (const h of this.harts) {
      if (h.state !== HartState.Started || (wakersOnly && (h.sie & MIP_STIP) === 0)) continue;
      const c = this.mtimer.timecmp(h.id);
      if (c > now && c < d) d = c;
    }
    // Devices with host-side pacing (virtio-snd periods) need poll() on time, or an idle skip
    // would swallow several audio periods at once and the guest would see an xrun per buffer.
    for (const t of this.virtio) {
      const dl = t.device.nextDeadline?.() ?? Infinity;
      if (dl < d) d = dl;
    }
    return d >= 18446744073709552000 ? Infinity : d;
  }

  private report(h: Hart): CrashReport {
    const c = h.crashed!;
    const last: { pc: number; word: number; text: string }[] = [];
    // Walk the trace ring backwards, newest run first, until 32 instructions are collected.
    const t = h.trace;
    const n = t.length / 3;
    for (let k = 1; k <= n && last.length < 32; k++) {
      const p = (h.tracePos / 3 - k + n) % n;
      const count = t[p * 3 + 2];
      if (count === 0) break;
      for (let i = count - 1; i >= 0 && last.length < 32; i--) {
        const off = t[p * 3 + 1] + 4 * i;
        const pc = (t[p * 3] + 4 * i) >>> 0;
        const word = off >= 0 && off + 4 <= this.ram.size ? this.ram.i32[off >> 2] >>> 0 : 0;
        last.push({ pc, word, text: disassemble(word, pc) });
      }
    }
    last.reverse();
    const cause = c.cause < 0 ? -1 : c.cause & ~INTERRUPT_BIT;
    const causeName = c.cause < 0 ? 'no trap' : CAUSE_NAMES[cause] ?? `cause ${cause}`;
    const hex = (n: number) => '0x' + (n >>> 0).toString(16);
    return {
      hart: h.id,
      pc: c.pc >>> 0,
      cause,
      causeName,
      tval: c.tval,
      reason: c.reason,
      description: `hart ${h.id}: ${c.reason}: ${causeName} at pc ${hex(c.pc)} (tval ${hex(c.tval)}, stvec ${hex(h.stvec)})`,
      lastInstructions: last,
    };
  }

  // ---------------------------------------------------------------- HartHost

  ecall(h: Hart): void {
    this.sbi.ecall(h);
  }

  enteredUserMode(): void {
    this.clock.enteredUserMode();
  }

  // ---------------------------------------------------------------- SbiPlatform

  setTimer(hart: number, ticks: number): void {
    this.mtimer.setTimecmp(hart, ticks);
    // End the slice: the next one is clipped to the new deadline, so STIP rises on time.
    this.current.stop = true;
  }

  sendIpi(hart: number): void {
    this.sswi.send(hart);
  }

  putchar(byte: number): void {
    this.uart.flush(); // keep UART and SBI output in order
    this.sbiOut[0] = byte;
    this.io.consoleOut(this.sbiOut, 1);
  }
  private readonly sbiOut = new Uint8Array(1);

  getchar(): number {
    // The UART owns console input: take a byte through its registers (LSR.DR, then RBR).
    const LSR = 5;
    if ((this.uart.read(LSR, 1) & 1) === 0) return -1;
    return this.uart.read(0, 1);
  }

  systemReset(kind: ResetKind, failure: boolean): void {
    this.exitCode = failure ? 1 : 0;
    this.haltReason = failure ? 'failure' : kind;
    for (const h of this.harts) h.stop = true;
    log.info(`guest requested ${kind}${failure ? ' (system failure)' : ''}`);
  }

  hartStarted(_hart: Hart): void {
    // The run loop picks up every Started hart at its next slice.
  }
}
