// Network backends, the emulator-thread side: from a netdev spec to a running I/O thread
// (io-thread.ts) serving a device's channel.
//
// - user: passt (Debian `passt`), started by the I/O thread as `passt -f -q --fd 3 -m MTU
//   [-t ADDR/HOST:GUEST]...`: user-mode networking without root. DHCP hands out the host's
//   address, the gateway address reaches the host's loopback.
// - tap:NAME: our tap helper (tap.ts) attached to an existing TAP interface — needs
//   CAP_NET_ADMIN or an interface owned by the user.
// - none: no backend: the link stays down.
//
// A missing passt is not an error that stops the machine: one clear line says what to install,
// and the device runs with its link down — as it does when the backend dies later.

import { Worker } from 'node:worker_threads';
import { accessSync, closeSync, constants, existsSync, openSync, writeSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { logger } from '../../log';
import { distFile } from '../../paths';
import type { NetChannel } from './device';
import { IO_CLOSED, IO_LINK, IO_PCAP_CLOSING, IO_QUIT, IO_RX_SPACE, IO_TX_SIGNAL, openNetIo, signal } from './io';
import type { IoThreadInit, IoThreadMessage } from './io-thread';
import { formatHostForward, NEW_TAP, type HostForward, type NetdevSpec } from './netdev';
import { pcapFileHeader } from './pcap';
import { BackendState, N_BACKEND_STATE, SLOTS, writeNetString } from './state';
import { tapHelperCommand } from './tap';
import { NetBackendError } from './errors';
import type { WakeWord } from '../../emulator/machine';

export { NetBackendError };

const log = logger('virtio-net');

export interface NetBackendOptions {
  hostForward?: readonly HostForward[];
  /** Write every frame, both directions, to this classic pcap file. */
  pcap?: string;
  /** A word to bump and notify when frames arrive (the machine's idle sleep waits on it). */
  wake?: WakeWord;
  /** Where what the person must know goes (passt missing, the link gone down): default the log. */
  warn?: (message: string) => void;
  /** The passt executable (default: `passt` on PATH). */
  passt?: string;
  /** PATH to search (default: this process's). */
  path?: string;
  /** The I/O thread script (default: dist/net-io.js). */
  ioScript?: string;
  /**
   * A command the backend's child runs under, e.g. ['sudo', '-n'] for a tap helper allowed by a
   * sudoers rule, or ['ip', 'netns', 'exec', 'lab'] for a TAP interface in another namespace.
   */
  childWrapper?: readonly string[];
  /** After close(), the I/O thread is terminated if it has not finished within this long (ms). */
  closeTimeoutMs?: number;
}

export interface NetBackend {
  readonly spec: NetdevSpec;
  /** One line for people: "passt, tcp 127.0.0.1:8080 → 80". */
  readonly description: string;
  /** Why the backend could not start (the link is down), or null. */
  readonly error: string | null;
  /**
   * Blocks up to `timeoutMs` until the backend is up or has failed (a thread that may block, before
   * the guest runs: so the guest's DHCP at boot finds the link up). True when up.
   */
  waitReady(timeoutMs: number): boolean;
  /** Stops the I/O thread and the child; resolves when both are gone. Idempotent. */
  close(): Promise<void>;
  /**
   * The same, for a thread that may block and is about to end (the emulator worker shutting
   * down): returns once the child is gone and the pcap file complete, or after `timeoutMs`.
   */
  closeSync(timeoutMs?: number): void;
}

/** The install hint for a missing passt, said once per backend. */
export const PASST_MISSING =
  'passt is not installed (no `passt` on PATH), so the guest network stays down. Install it — Debian/Ubuntu: sudo apt-get install passt; Fedora: sudo dnf install passt — or choose netdev none.';

/** Finds an executable by name on a PATH string; null when absent. */
export function findExecutable(name: string, path: string = process.env.PATH ?? ''): string | null {
  if (name.includes('/')) return isExecutable(name) ? name : null;
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** passt's arguments for a device: foreground, quiet, the socket on fd 3, our MTU, the forwards. */
export function passtArgs(mtu: number, forwards: readonly HostForward[]): string[] {
  const args = ['-f', '-q', '--fd', '3', '-m', String(mtu)];
  for (const f of forwards) args.push(f.proto === 'tcp' ? '-t' : '-u', `${f.hostAddr}/${f.hostPort}:${f.guestPort}`);
  return args;
}

/**
 * Starts the backend for `spec` on the device's channel. Throws NetBackendError only for what
 * the person must fix before booting (a pcap path that cannot be created, a tap helper that
 * cannot be built, host forwards with tap); a backend that cannot run leaves the link down and
 * says why in `error` (at start) or in the shared state (later), and in one warning.
 */
export function openNetBackend(spec: NetdevSpec, ch: NetChannel, opts: NetBackendOptions = {}): NetBackend {
  const forwards = opts.hostForward ?? [];
  const fwdText = forwards.map(formatHostForward).join(', ');
  if (spec.kind === 'none') return new IdleBackend(spec, 'none', null, ch);
  if (spec.kind === 'user') {
    const passt = findExecutable(opts.passt ?? 'passt', opts.path);
    if (passt === null) {
      (opts.warn ?? log.warn)(PASST_MISSING);
      return new IdleBackend(spec, 'passt (not installed)', PASST_MISSING, ch);
    }
    const init = { command: passt, args: passtArgs(ch.mtu, forwards), label: 'passt' };
    return new ThreadBackend(spec, `passt${fwdText ? `, ${fwdText}` : ''}`, init, ch, opts);
  }
  if (forwards.length > 0) throw new NetBackendError('host forwards work with netdev user only: a tap interface is reached at its own address');
  const helper = tapHelperCommand(spec.ifname);
  const name = spec.ifname === NEW_TAP ? 'a new TAP interface' : spec.ifname;
  return new ThreadBackend(spec, `tap ${name}`, { ...helper, label: `tap helper (${name})` }, ch, opts);
}

/** No I/O thread: the link stays down (netdev none, or a backend that cannot start). */
class IdleBackend implements NetBackend {
  constructor(
    readonly spec: NetdevSpec,
    readonly description: string,
    readonly error: string | null,
    ch: NetChannel,
  ) {
    const st = new Int32Array(ch.state, 0, SLOTS);
    st[N_BACKEND_STATE] = error === null ? BackendState.None : BackendState.Down;
    writeNetString(ch.state, 'desc', description);
    if (error !== null) writeNetString(ch.state, 'error', error);
  }

  async close(): Promise<void> {}
  closeSync(): void {}
  waitReady(): boolean {
    return false;
  }
}

class ThreadBackend implements NetBackend {
  readonly error = null;
  private readonly worker: Worker;
  private readonly ctl: Int32Array;
  private readonly st: Int32Array;
  private readonly exited: Promise<void>;
  private closing: Promise<void> | null = null;

  constructor(
    readonly spec: NetdevSpec,
    readonly description: string,
    child: { command: string; args: string[]; label: string },
    ch: NetChannel,
    private readonly opts: NetBackendOptions,
  ) {
    const script = opts.ioScript ?? distFile('net-io.js');
    if (!existsSync(script)) throw new NetBackendError(`the network I/O thread ${script} is missing: run \`npm run build\``);
    const pcapFd = opts.pcap !== undefined ? openPcap(opts.pcap) : undefined;
    writeNetString(ch.state, 'desc', `${description}${opts.pcap ? `, pcap ${opts.pcap}` : ''}`);
    this.ctl = openNetIo(ch.io).ctl;
    const st = (this.st = new Int32Array(ch.state, 0, SLOTS));
    st[N_BACKEND_STATE] = BackendState.Starting;
    const wrap = opts.childWrapper ?? [];
    const command = wrap.length > 0 ? wrap[0] : child.command;
    const args = wrap.length > 0 ? [...wrap.slice(1), child.command, ...child.args] : child.args;
    const init: IoThreadInit = { io: ch.io, state: ch.state, command, args, label: child.label, pcapFd, wake: opts.wake };
    // The pcap's fd is handed over (the thread closes it, or this side once the thread is gone):
    // not one Node should track as the thread's own, which warned on every close.
    this.worker = new Worker(script, { workerData: { netIo: init }, stdout: false, stderr: false, trackUnmanagedFds: false });
    this.worker.unref(); // never what keeps a process alive; close() is the orderly way out
    const warn = opts.warn ?? log.warn;
    this.worker.on('message', (m: IoThreadMessage) => (m.level === 'warn' ? warn(m.message) : log.info(m.message)));
    this.worker.on('error', (e) => warn(`the network I/O thread failed: ${e.message}; the link is down`));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        // The thread also ends by itself once its child is gone (the state then says why: down).
        Atomics.store(this.ctl, IO_LINK, 0);
        if (this.closing !== null) st[N_BACKEND_STATE] = BackendState.Closed;
        // A thread that ended without closing (terminated, or its child gone) leaves the pcap to us.
        if (pcapFd !== undefined && Atomics.load(this.ctl, IO_PCAP_CLOSING) === 0) closeQuietly(pcapFd);
        resolve();
      }),
    );
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    Atomics.store(this.ctl, IO_QUIT, 1);
    Atomics.notify(this.ctl, IO_QUIT);
    signal(this.ctl, IO_TX_SIGNAL);
    signal(this.ctl, IO_RX_SPACE);
    const timeout = this.opts.closeTimeoutMs ?? 5000;
    this.closing = new Promise<void>((resolve) => {
      const timer = setTimeout(() => void this.worker.terminate(), timeout);
      void this.exited.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.closing;
  }

  waitReady(timeoutMs: number): boolean {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (Atomics.load(this.ctl, IO_LINK) === 1) return true;
      const left = end - Date.now();
      if (this.st[N_BACKEND_STATE] !== BackendState.Starting || left <= 0) return false;
      Atomics.wait(this.ctl, IO_LINK, 0, Math.min(left, 50));
    }
  }

  closeSync(timeoutMs = this.opts.closeTimeoutMs ?? 5000): void {
    void this.close();
    // The thread needs no help from this one: it stops its child and closes the pcap on its own.
    Atomics.wait(this.ctl, IO_CLOSED, 0, timeoutMs);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* already closed */
  }
}

/** Creates the pcap file and writes its header now, so a bad path is reported before boot. */
function openPcap(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new NetBackendError(`cannot create the pcap file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Check that its folder exists and is writable.`);
  }
  try {
    writeSync(fd, pcapFileHeader());
  } catch (e) {
    closeSync(fd);
    throw new NetBackendError(`cannot write the pcap file ${path}: ${(e as Error).message}`);
  }
  return fd;
}

