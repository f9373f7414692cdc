// The worker side of a running machine: the run loop in slices, pause/step/continue, the
// breakpoint hooks, console batching, and debugger requests. One Session per worker.

import type { Machine } from '../emulator/machine';
import { StopReason } from '../emulator/machine';
import * as ctl from '../host/control';
import type { FromWorker, ToWorker, StopReasonName, NotifyStop, VirtioInfo } from './protocol';
import { NotifyMatcher } from './notify-matcher';
import { handleRequest } from './requests';
import { LineStepper, STEP_DONE } from './stepper';
import { logger } from '../log';

const log = logger('session');

/** One slice of guest work between looks at the control block: short enough for < 50 ms pauses. */
const SLICE_MS = 8;
/** Instructions per machine.run() call inside a slice. */
const BUDGET = 100_000;
/** Longest single sleep while the guest idles, so host messages are never left waiting long. */
const MAX_IDLE_SLEEP_MS = 10;

export class Session {
  private paused: boolean;
  private exited = false;
  private scheduled = false;
  private readonly out = new Uint8Array(64 * 1024);
  private outLen = 0;
  private readonly notify: NotifyMatcher;
  /** A source-line step in progress (stepper.ts): turn() advances it instead of run(). */
  private stepper: LineStepper | null = null;

  constructor(
    readonly machine: Machine,
    private readonly control: Int32Array,
    private readonly post: (m: FromWorker) => void,
    stopOnEntry: boolean,
  ) {
    this.paused = stopOnEntry;
    this.notify = new NotifyMatcher(machine);
    machine.notifyHook = (t, q) => this.notify.shouldStop(t, q);
  }

  start(): void {
    const virtio: VirtioInfo[] = this.machine.virtio.map((t) => ({
      name: t.device.name,
      deviceId: t.device.deviceId,
      base: t.base,
      irq: t.irq,
      queueNames: [...t.device.queueNames],
      queueMaxSize: t.device.queueMaxSize,
      state: t.state,
      deviceState: t.device.sharedState,
    }));
    this.post({ t: 'ready', virtio, harts: this.machine.harts.length });
    if (this.paused) {
      Atomics.store(this.control, ctl.CTL_STATE, ctl.ST_PAUSED);
      this.post({ t: 'stopped', reason: 'entry', hart: 0, pc: this.machine.harts[0].pc >>> 0 });
    } else {
      this.resume();
    }
  }

  consoleOut(bytes: Uint8Array, length: number): void {
    let off = 0;
    while (off < length) {
      const n = Math.min(length - off, this.out.length - this.outLen);
      this.out.set(bytes.subarray(off, off + n), this.outLen);
      this.outLen += n;
      off += n;
      if (this.outLen === this.out.length) this.flushConsole();
    }
  }

  private flushConsole(): void {
    if (this.outLen === 0) return;
    // Copied, not transferred: a transfer detaches a buffer, and after the first detach in this
    // thread V8 checks for detachment at every typed-array access of the engine (see warmup.ts).
    const data = this.out.slice(0, this.outLen);
    this.outLen = 0;
    this.post({ t: 'console', data });
  }

  onMessage(m: ToWorker): void {
    if (this.exited) {
      if (m.t === 'request') this.post({ t: 'response', id: m.id, ok: false, error: 'the machine has exited' });
      return;
    }
    switch (m.t) {
      case 'console':
        this.machine.consoleIn(m.data);
        break;
      case 'consoleClose':
        this.machine.consoleInClosed();
        break;
      case 'continue':
        if (this.paused) this.resume();
        break;
      case 'step':
        if (this.paused) this.step(m.hart, m.count);
        break;
      case 'stepRange':
        if (this.paused && this.machine.harts[m.step.hart]) {
          this.stepper = new LineStepper(this.machine, m.step);
          this.resume();
        }
        break;
      case 'breakpoints':
        this.machine.breakpoints.clear();
        for (const pc of m.pcs) this.machine.breakpoints.add(pc >>> 0);
        break;
      case 'notifyFilters':
        this.notify.setFilters(m.filters);
        break;
      case 'watchpoints':
        try {
          this.machine.setWatchpoints(m.list);
        } catch (e) {
          log.warn(`data breakpoints not set: ${(e as Error).message}`);
        }
        break;
      case 'request':
        try {
          const result = handleRequest(this.machine, m.method, m.args);
          this.post({ t: 'response', id: m.id, ok: true, result });
        } catch (e) {
          this.post({ t: 'response', id: m.id, ok: false, error: (e as Error).message });
        }
        break;
    }
  }

  private resume(): void {
    this.paused = false;
    Atomics.store(this.control, ctl.CTL_STATE, ctl.ST_RUNNING);
    // A pause asked for while this continue was on its way stands (MachineHost clears stale
    // ones when it sees a stop, and asks for a pause only while the machine runs).
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.exited) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.turn();
    });
  }

  private pauseWith(reason: StopReasonName, hart: number, notify?: NotifyStop): void {
    this.paused = true;
    this.flushConsole();
    this.publishInstret();
    Atomics.store(this.control, ctl.CTL_STATE, ctl.ST_PAUSED);
    // A pause that came with another stop is consumed here, and passed on: if the host resumes
    // that stop (a false breakpoint condition), the pause still has to happen.
    const pauseAsked = Atomics.compareExchange(this.control, ctl.CTL_REQUEST, ctl.REQ_PAUSE, ctl.REQ_NONE) === ctl.REQ_PAUSE && reason !== 'pause';
    const watch = reason === 'watch' ? (this.machine.watch.hit ?? undefined) : undefined;
    this.post({ t: 'stopped', reason, hart, pc: this.machine.harts[hart].pc >>> 0, notify, watch, pauseAsked });
  }

  private step(hart: number, count: number): void {
    const m = this.machine;
    for (let i = 0; i < count; i++) {
      const r = m.step(hart);
      if (r === StopReason.Halted || r === StopReason.Crashed) return this.finish(r);
      if (r === StopReason.Watch) return this.pauseWith('watch', hart);
    }
    this.pauseWith('step', hart);
  }

  /** One turn of the event loop's worth of guest work. */
  private turn(): void {
    if (this.paused || this.exited) return;
    const c = this.control;
    Atomics.add(c, ctl.CTL_HEARTBEAT, 1);
    const m = this.machine;
    const end = performance.now() + SLICE_MS;
    let idleMs = 0;
    for (;;) {
      const req = Atomics.load(c, ctl.CTL_REQUEST);
      if (req === ctl.REQ_QUIT) return this.finish(null);
      if (req === ctl.REQ_PAUSE) {
        this.stepper = null;
        return this.pauseWith('pause', 0);
      }
      const stepper = this.stepper;
      const r = stepper ? stepper.run(BUDGET) : m.run(BUDGET);
      if (stepper && r !== StopReason.Budget && r !== StopReason.Idle) this.stepper = null;
      if (r === STEP_DONE) return this.pauseWith('step', stepper!.hart);
      if (r === StopReason.Budget) {
        if (performance.now() < end) continue;
        break;
      }
      if (r === StopReason.Idle) {
        idleMs = m.idleMilliseconds();
        break;
      }
      if (r === StopReason.Breakpoint) return this.pauseWith('breakpoint', m.stopHart);
      if (r === StopReason.Notify) return this.pauseWith('notify', m.stopHart, this.notify.lastStop ?? undefined);
      if (r === StopReason.Watch) return this.pauseWith('watch', m.stopHart);
      return this.finish(r);
    }
    this.flushConsole();
    this.publishInstret();
    if (idleMs > 0) {
      // The guest waits for a timer or an interrupt: sleep, but wake at once for any host request.
      const seen = Atomics.load(c, ctl.CTL_WAKE);
      Atomics.wait(c, ctl.CTL_WAKE, seen, Math.min(idleMs, MAX_IDLE_SLEEP_MS));
    }
    this.schedule();
  }

  private publishInstret(): void {
    const n = this.machine.instret();
    Atomics.store(this.control, ctl.CTL_INSTRET_LO, n % 4294967296 | 0);
    Atomics.store(this.control, ctl.CTL_INSTRET_HI, Math.floor(n / 4294967296) | 0);
    Atomics.store(this.control, ctl.CTL_CONSOLE_FED, this.machine.consoleInputFed() | 0);
  }

  private finish(r: StopReason | null): void {
    if (this.exited) return;
    this.exited = true;
    this.flushConsole();
    this.publishInstret();
    const m = this.machine;
    try {
      m.shutdown();
    } catch (e) {
      log.warn(`shutdown: ${(e as Error).message}`);
    }
    Atomics.store(this.control, ctl.CTL_STATE, ctl.ST_EXITED);
    if (r === null) {
      this.post({ t: 'exited', code: 0, reason: 'quit' });
    } else if (r === StopReason.Crashed && m.crash) {
      this.post({ t: 'exited', code: 1, reason: 'crash', message: m.crash.description, crash: m.crash });
    } else {
      this.post({ t: 'exited', code: m.exitCode ?? 0, reason: m.haltReason === 'reboot' ? 'reboot' : 'poweroff' });
    }
  }
}
