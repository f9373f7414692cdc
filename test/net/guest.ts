// The default guest booted in this process with virtio-net plugged in at semu's slot
// (0xF410_0000, IRQ 2) through MachineConfig.extraVirtio, and a real backend behind it.
//
// The machine runs in short slices on this thread's event loop, so the backend's I/O thread,
// the test's child processes and timers all get their turn; when every hart idles it sleeps on
// the backend's wake word (Atomics.waitAsync), so an arriving frame wakes it at once.

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Machine, StopReason } from '../../src/emulator/machine';
import { DEFAULT_BOOTARGS } from '../../src/host/options';
import { VirtioNet, type VirtioNetOptions } from '../../src/devices/virtio-net/device';
import { openNetBackend, type NetBackend, type NetBackendOptions } from '../../src/devices/virtio-net/backend';
import { defaultMtu, type NetdevSpec } from '../../src/devices/virtio-net/netdev';
import { readNetState, type NetStateJson } from '../../src/devices/virtio-net/state';
import { guestArtifacts, GUEST_READY_MARKER } from '../guest-artifacts/artifacts';

export const NET_BASE = 0xf4100000;
export const NET_IRQ = 2;
const PROMPT = '\n# ';
/** Guest work between looks at the event loop (ms). */
const SLICE_MS = 8;

type WaitAsync = (a: Int32Array, i: number, v: number, t?: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export interface NetGuestOptions {
  netdev?: NetdevSpec;
  backend?: NetBackendOptions;
  device?: VirtioNetOptions;
  bootargs?: string;
  bootTimeoutMs?: number;
}

export class NetGuest {
  output = '';
  private disposed = false;

  private constructor(
    readonly m: Machine,
    readonly net: VirtioNet,
    readonly backend: NetBackend,
    /** Bumped by the backend's I/O thread when frames arrive. */
    private readonly wake: Int32Array,
  ) {}

  static async boot(o: NetGuestOptions = {}): Promise<NetGuest> {
    const g = guestArtifacts();
    const netdev = o.netdev ?? { kind: 'user' };
    const net = new VirtioNet({ mtu: defaultMtu(netdev), ...o.device });
    const wake = new Int32Array(new SharedArrayBuffer(4));
    const backend = openNetBackend(netdev, net.channel, { ...o.backend, wake: { buffer: wake.buffer as SharedArrayBuffer, index: 0 } });
    let guest: NetGuest | null = null;
    let m: Machine;
    try {
      m = new Machine(
        {
          kernel: readFileSync(g.kernel),
          initrd: readFileSync(g.initrd),
          bootargs: o.bootargs ?? DEFAULT_BOOTARGS,
          extraVirtio: [{ base: NET_BASE, irq: NET_IRQ, device: net }],
        },
        { consoleOut: (b, n) => (guest!.output += Buffer.from(b.subarray(0, n)).toString('latin1').replace(/\r/g, '')) },
      );
    } catch (e) {
      await backend.close();
      throw e;
    }
    guest = new NetGuest(m, net, backend, wake);
    try {
      const timeout = o.bootTimeoutMs ?? 180_000;
      await guest.runUntil(() => guest!.output.includes(GUEST_READY_MARKER), timeout, 'the guest to boot');
      const at = guest.output.indexOf(GUEST_READY_MARKER);
      await guest.runUntil(() => guest!.output.indexOf(PROMPT, at) >= 0, timeout, 'the first prompt');
      await guest.command('dmesg -n 1');
    } catch (e) {
      await guest.dispose();
      throw e;
    }
    return guest;
  }

  state(): NetStateJson {
    return readNetState(this.net.state)!;
  }

  tail(chars = 3000): string {
    return this.output.slice(-chars);
  }

  /** Runs the machine until cond() holds. */
  async runUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const end = Date.now() + timeoutMs;
    const m = this.m;
    while (!cond()) {
      if (this.disposed) throw new Error(`disposed while waiting for ${what}`);
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; console tail:\n${this.tail()}`);
      const t0 = performance.now();
      let r: StopReason;
      do r = m.run(100_000);
      while (r === StopReason.Budget && performance.now() - t0 < SLICE_MS && !cond());
      if (r === StopReason.Halted || r === StopReason.Crashed) throw new Error(`the machine stopped (${m.crash?.description ?? m.haltReason}) waiting for ${what}; console tail:\n${this.tail()}`);
      if (r === StopReason.Idle) {
        // waitAsync alone does not keep the event loop alive: a timer does.
        const ms = Math.min(m.idleMilliseconds(), 10);
        const w = waitAsync(this.wake, 0, Atomics.load(this.wake, 0), ms);
        if (w.async) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, ms + 1);
            void (w.value as Promise<string>).then(() => (clearTimeout(timer), resolve()));
          });
        }
      } else {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Types a command and returns what it printed before the next prompt. */
  async command(line: string, timeoutMs = 120_000): Promise<string> {
    const from = this.output.length;
    this.m.consoleIn(Buffer.from(line + '\n'));
    let start = -1;
    let end = -1;
    await this.runUntil(
      () => {
        if (start < 0) {
          const i = this.output.indexOf(line + '\n', from);
          if (i < 0) return false;
          start = i + line.length + 1;
        }
        const p = this.output.indexOf(PROMPT, start - 1);
        if (p >= 0) end = p + 1;
        return end >= 0;
      },
      timeoutMs,
      `\`${line}\``,
    );
    return this.output.slice(start, end);
  }

  /** Keeps the machine running while `work` (host-side I/O) completes. */
  async runWhile<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
    let done = false;
    let value: T;
    let error: unknown = null;
    work.then(
      (v) => ((value = v), (done = true)),
      (e) => ((error = e), (done = true)),
    );
    await this.runUntil(() => done, timeoutMs, what);
    if (error !== null) throw error;
    return value!;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.m.shutdown();
    await this.backend.close();
  }
}

/** Parses `http: get status=200 bytes=1 crc32=… ms=…` (or serve) into its fields. */
export function httpLine(text: string, verb: 'get' | 'serve'): Record<string, string> {
  const m = new RegExp(`^http: ${verb} (.*)$`, 'm').exec(text);
  if (!m) throw new Error(`no "http: ${verb}" line in:\n${text}`);
  const out: Record<string, string> = {};
  for (const tok of m[1].split(/\s+/)) {
    const eq = tok.indexOf('=');
    if (eq > 0) out[tok.slice(0, eq)] = tok.slice(eq + 1);
  }
  return out;
}
