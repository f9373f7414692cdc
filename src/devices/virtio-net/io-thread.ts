// The network I/O thread (a worker_threads entry, bundled as dist/net-io.js): it owns the backend
// child — passt, or the tap helper — and the stream socket to it, and moves frames between that
// socket and the device's shared rings (io.ts). The emulator thread never waits on it, and it
// never waits on the emulator: a full rx ring pauses the socket (the peer holds the rest; with a
// 32 KiB ring and hundreds of stalls per 8 MiB download, no frame was lost or resent), and a
// frame it appends wakes a sleeping machine through the wake word.
//
// The socket is one end of the socketpair Node creates for the child's extra stdio slot, handed
// to the child as fd 3 (passt `--fd 3`): no path in the file system, nothing another process
// could connect to, and when this process dies the child reads EOF and exits by itself.

import { parentPort, workerData } from 'node:worker_threads';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { openNetIo, signal, IO_CLOSED, IO_LINK, IO_PCAP_CLOSING, IO_QUIT, IO_RX_BLOCKED, IO_RX_SPACE, IO_TX_SIGNAL, type NetIo } from './io';
import { StreamDecoder, putStreamLength } from './stream';
import { PcapAppender } from './pcap-appender';
import type { WakeWord } from '../../emulator/machine';
import {
  add64,
  BackendState,
  N_BACKEND_STATE,
  N_B_RX_BYTES,
  N_B_RX_DROP_LENGTH,
  N_B_RX_FRAMES,
  N_B_RX_STALLS,
  N_B_TX_BYTES,
  N_B_TX_FRAMES,
  N_CHILD_PID,
  SLOTS,
  writeNetString,
} from './state';

export interface IoThreadInit {
  io: SharedArrayBuffer;
  state: SharedArrayBuffer;
  /** The child speaking the stream protocol on fd 3, and what to call it in messages. */
  command: string;
  args: string[];
  label: string;
  /** A pcap file already opened (and its header written) by the owner: append records. */
  pcapFd?: number;
  /** Bumped and notified after frames arrive or the link changes (the machine's idle sleep). */
  wake?: WakeWord;
}

export type IoThreadMessage = { t: 'log'; level: 'info' | 'warn'; message: string };

/** Most bytes written to the socket in one go (frames with their length words). */
const TX_BATCH = 256 << 10;
const STDERR_TAIL = 2048;
/** After the socket closes, how long the child's exit has to give the reason (ms). */
const SOCKET_GRACE_MS = 1000;
/** On quit, how long the child has after SIGTERM before SIGKILL (ms). */
const CHILD_TERM_MS = 1000;

type WaitAsync = (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Waits until ctl[at] is no longer `seen` (returns at once if it already moved). */
async function changed(ctl: Int32Array, at: number, seen: number): Promise<void> {
  const w = waitAsync(ctl, at, seen);
  if (w.async) await w.value;
}

class IoThread {
  private readonly io: NetIo;
  private readonly ctl: Int32Array;
  private readonly st: Int32Array;
  private readonly wakeWord: Int32Array | null;
  private readonly pcap: PcapAppender | null;
  private readonly child: ChildProcess;
  /** Resolves once the child has exited (or never started). */
  private readonly childGone: Promise<void>;
  private readonly sock: Socket;
  private readonly decoder: StreamDecoder;
  private quitting = false;
  private down = false;
  private stderrTail = '';
  // Frames of the last socket read the rx ring had no room for, oldest first (the socket is
  // paused meanwhile, so never more than one read's worth).
  private pending: Uint8Array[] = [];
  private flushing = false;

  constructor(
    private readonly init: IoThreadInit,
    private readonly post: (m: IoThreadMessage) => void,
  ) {
    this.io = openNetIo(init.io);
    this.ctl = this.io.ctl;
    this.st = new Int32Array(init.state, 0, SLOTS);
    this.wakeWord = init.wake ? new Int32Array(init.wake.buffer) : null;
    this.pcap = init.pcapFd !== undefined ? new PcapAppender(init.pcapFd, this.st, (m) => post({ t: 'log', level: 'warn', message: m })) : null;
    this.decoder = new StreamDecoder({ frame: (b, off, len) => this.fromBackend(b.subarray(off, off + len)), dropped: () => this.st[N_B_RX_DROP_LENGTH]++ });
    this.st[N_BACKEND_STATE] = BackendState.Starting;
    this.child = spawn(init.command, init.args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    this.sock = this.child.stdio[3] as Socket;
    this.childGone = new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.once('error', () => this.child.pid === undefined && resolve());
    });
    this.watchChild();
    this.sock.on('data', (chunk: Buffer) => this.onData(chunk));
    this.sock.on('error', (e) => this.goDown(`${init.label} socket: ${e.message}`));
    this.sock.on('close', () => this.onSocketClose());
    void this.txLoop();
    void changed(this.ctl, IO_QUIT, 0).then(() => this.quit());
  }

  /** The link word, notified: the owner may be waiting for the backend to come up (waitReady). */
  private setLink(up: 0 | 1): void {
    Atomics.store(this.ctl, IO_LINK, up);
    Atomics.notify(this.ctl, IO_LINK);
  }

  private wake(): void {
    if (this.wakeWord !== null) signal(this.wakeWord, this.init.wake!.index);
  }

  /** The link goes down once, with the reason first (whoever sees it drop can read why). */
  private goDown(why: string): void {
    if (this.down || this.quitting) return;
    this.down = true;
    writeNetString(this.init.state, 'error', why);
    this.st[N_BACKEND_STATE] = BackendState.Down;
    this.setLink(0);
    this.post({ t: 'log', level: 'warn', message: `${why}; the link is down, the guest keeps running` });
    this.wake();
  }

  private watchChild(): void {
    const { child, init } = this;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (this.stderrTail = (this.stderrTail + d).slice(-STDERR_TAIL)));
    child.on('error', (e) => this.goDown(`cannot start ${init.label} (${init.command}): ${e.message}`));
    child.on('spawn', () => {
      if (this.down || this.quitting) return;
      this.st[N_CHILD_PID] = child.pid ?? 0;
      this.st[N_BACKEND_STATE] = BackendState.Up;
      this.setLink(1);
      this.wake();
    });
    // 'close' comes after the child's exit and its stderr's end, so the message is complete.
    child.on('close', (code, sig) => {
      this.st[N_CHILD_PID] = 0;
      const said = childMessage(this.stderrTail);
      this.goDown(`${init.label} exited (${code !== null ? `code ${code}` : sig})${said ? `: ${said}` : ''}`);
    });
  }

  /** The socket usually closes because the child died: give its exit a moment to say why. */
  private onSocketClose(): void {
    setTimeout(() => {
      if (this.down || this.quitting) return;
      this.goDown(`${this.init.label} closed its socket`);
      this.child.kill('SIGTERM');
    }, SOCKET_GRACE_MS).unref();
  }

  // ---------------- backend → guest ----------------

  private onData(chunk: Buffer): void {
    this.decoder.feed(chunk);
    if (this.decoder.error !== null) {
      this.goDown(`${this.init.label}: ${this.decoder.error}`);
      this.child.kill('SIGTERM');
      this.sock.destroy();
      return;
    }
    if (this.pending.length > 0 && !this.flushing) void this.flushWhenSpace();
    this.wake();
  }

  private fromBackend(f: Uint8Array): void {
    this.st[N_B_RX_FRAMES]++;
    add64(this.st, N_B_RX_BYTES, f.length);
    this.pcap?.record(f);
    if (this.pending.length === 0 && this.io.rx.push(f, f.length)) return;
    this.pending.push(f.slice()); // the decoder reuses its bytes
  }

  /** Moves pending frames into the ring while they fit; true when none is left. */
  private flushPending(): boolean {
    let i = 0;
    while (i < this.pending.length && this.io.rx.push(this.pending[i], this.pending[i].length)) i++;
    this.pending = i === this.pending.length ? [] : this.pending.slice(i);
    return this.pending.length === 0;
  }

  /**
   * The ring is full: stop reading the socket until the device takes frames (it signals
   * IO_RX_SPACE while IO_RX_BLOCKED is set).
   */
  private async flushWhenSpace(): Promise<void> {
    this.flushing = true;
    this.st[N_B_RX_STALLS]++;
    this.sock.pause();
    for (;;) {
      const seen = Atomics.load(this.ctl, IO_RX_SPACE);
      Atomics.store(this.ctl, IO_RX_BLOCKED, 1);
      if (this.flushPending() || this.quitting) break;
      this.wake();
      await changed(this.ctl, IO_RX_SPACE, seen);
    }
    Atomics.store(this.ctl, IO_RX_BLOCKED, 0);
    this.flushing = false;
    this.wake();
    if (!this.quitting) this.sock.resume();
  }

  // ---------------- guest → backend ----------------

  private async txLoop(): Promise<void> {
    const { ctl, io, sock } = this;
    while (!this.quitting) {
      const seen = Atomics.load(ctl, IO_TX_SIGNAL);
      if (io.tx.peekLength() < 0) {
        await changed(ctl, IO_TX_SIGNAL, seen);
        continue;
      }
      if (this.down || sock.destroyed) {
        while (io.tx.skip() >= 0); // nowhere to send them: they never cross the wire
        continue;
      }
      if (!sock.write(this.takeBatch())) await drainedOrClosed(sock);
    }
  }

  /** Frames from the tx ring as one buffer of length-prefixed frames (≤ TX_BATCH). */
  private takeBatch(): Buffer {
    const ring = this.io.tx;
    const first = ring.peekLength();
    const out = Buffer.allocUnsafe(Math.max(TX_BATCH, first + 4));
    let at = 0;
    for (let len = first; len >= 0 && at + 4 + len <= out.length; len = ring.peekLength()) {
      const frame = out.subarray(at + 4, at + 4 + len);
      ring.pop(frame);
      putStreamLength(out, at, len);
      this.pcap?.record(frame);
      this.st[N_B_TX_FRAMES]++;
      add64(this.st, N_B_TX_BYTES, len);
      at += 4 + len;
    }
    return out.subarray(0, at);
  }

  // ---------------- the end: the owner sets IO_QUIT ----------------

  private async quit(): Promise<void> {
    this.quitting = true;
    this.setLink(0);
    this.st[N_BACKEND_STATE] = BackendState.Closed;
    signal(this.ctl, IO_TX_SIGNAL);
    signal(this.ctl, IO_RX_SPACE);
    this.sock.destroy();
    await this.stopChild();
    if (this.pcap !== null) {
      await this.pcap.flush();
      Atomics.store(this.ctl, IO_PCAP_CLOSING, 1); // the owner never closes it twice
      await this.pcap.close();
    }
    signal(this.ctl, IO_CLOSED);
    process.exit(0); // in a worker: ends this thread only
  }

  /** SIGTERM, then SIGKILL if the child is still there after CHILD_TERM_MS. */
  private async stopChild(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    if (await within(this.childGone, CHILD_TERM_MS)) return;
    this.child.kill('SIGKILL');
    await within(this.childGone, CHILD_TERM_MS);
  }
}

/** Resolves after `ms` with false, or earlier with true when `p` settles. */
function within(p: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void p.then(() => (clearTimeout(timer), resolve(true)));
  });
}

/** The child's last meaningful stderr line (passt also complains that it has no syslog). */
function childMessage(tail: string): string {
  const lines = tail
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/to syslog$/.test(l) && !/^Don't run as root/.test(l));
  return lines.length > 0 ? lines[lines.length - 1] : '';
}

/**
 * Resolves when `sock` drains or closes, whichever comes first, and removes the other listener:
 * leaving the 'close' one behind after each drain grew one listener per backpressure wait for
 * the life of the socket (Node warned at the eleventh).
 */
export function drainedOrClosed(sock: NodeJS.EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      sock.off('drain', done);
      sock.off('close', done);
      resolve();
    };
    sock.on('drain', done);
    sock.on('close', done);
  });
}

const data = workerData as { netIo?: IoThreadInit } | null;
if (parentPort && data?.netIo) {
  const port = parentPort;
  new IoThread(data.netIo, (m) => port.postMessage(m));
}
