// The network I/O thread (a worker_threads entry, bundled as dist/net-io.js): it owns the backend
// child — passt, or the tap helper — and the stream socket to it, and moves frames between that
// socket and the device's shared rings (io.ts). The emulator thread never waits on it, and it
// never waits on the emulator: frames a full ring cannot take wait in a bounded backlog here,
// and a frame it appends wakes a sleeping machine through the wake word.
//
// The socket is one end of the socketpair Node creates for the child's extra stdio slot, handed
// to the child as fd 3 (passt `--fd 3`): no path in the file system, nothing another process
// could connect to, and when this process dies the child reads EOF and exits by itself.

import { parentPort, workerData } from 'node:worker_threads';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { openNetIo, signal, IO_LINK, IO_QUIT, IO_RX_BLOCKED, IO_RX_SPACE, IO_TX_SIGNAL } from './io';
import { StreamDecoder, putStreamLength } from './stream';
import { putPcapRecordHeader, PCAP_RECORD_HEADER_BYTES } from './pcap';
import {
  add64,
  BackendState,
  N_BACKEND_STATE,
  N_B_RX_BYTES,
  N_B_RX_DROP_LENGTH,
  N_B_RX_FRAMES,
  N_B_RX_STALLS,
  N_B_RX_DROP_BACKLOG,
  N_B_TX_BYTES,
  N_B_TX_FRAMES,
  N_CHILD_PID,
  N_PCAP_FAILED,
  N_PCAP_FRAMES,
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
  wake?: { sab: SharedArrayBuffer; index: number };
}

/** 'pcap-closing' is posted before the thread closes the pcap file, so the owner never closes it twice. */
export type IoThreadMessage = { t: 'log'; level: 'info' | 'warn'; message: string } | { t: 'pcap-closing' } | { t: 'closed' };

/** Most bytes written to the socket in one go (frames with their length words). */
const TX_BATCH = 256 << 10;
const STDERR_TAIL = 2048;
/** Most frame bytes held for a guest that is not taking them (beyond the rx ring). */
const BACKLOG_MAX = 32 << 20;
/** After the socket closes, how long the child's exit has to give the reason (ms). */
const SOCKET_GRACE_MS = 1000;

type WaitAsync = (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

function start(init: IoThreadInit): void {
  const port = parentPort!;
  const post = (m: IoThreadMessage) => port.postMessage(m);
  const io = openNetIo(init.io);
  const ctl = io.ctl;
  const st = new Int32Array(init.state, 0, SLOTS);
  const wakeWord = init.wake ? new Int32Array(init.wake.sab) : null;
  const wake = () => {
    if (wakeWord !== null) signal(wakeWord, init.wake!.index);
  };
  const pcap = init.pcapFd !== undefined ? new PcapAppender(init.pcapFd, st, (m) => post({ t: 'log', level: 'warn', message: m })) : null;

  let quitting = false;
  let down = false;
  let stderrTail = '';
  const goDown = (why: string) => {
    if (down || quitting) return;
    down = true;
    // The reason first: whoever sees the link drop can read why.
    writeNetString(init.state, 'error', why);
    st[N_BACKEND_STATE] = BackendState.Down;
    Atomics.store(ctl, IO_LINK, 0);
    post({ t: 'log', level: 'warn', message: `${why}; the link is down, the guest keeps running` });
    wake();
  };

  st[N_BACKEND_STATE] = BackendState.Starting;
  const child: ChildProcess = spawn(init.command, init.args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  const sock = child.stdio[3] as Socket;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderrTail = (stderrTail + d).slice(-STDERR_TAIL);
  });
  child.on('error', (e) => goDown(`cannot start ${init.label} (${init.command}): ${e.message}`));
  child.on('spawn', () => {
    if (down || quitting) return;
    st[N_CHILD_PID] = child.pid ?? 0;
    st[N_BACKEND_STATE] = BackendState.Up;
    Atomics.store(ctl, IO_LINK, 1);
    wake();
  });
  // 'close' comes after the child's exit and its stderr's end, so the message is complete.
  child.on('close', (code, sig) => {
    st[N_CHILD_PID] = 0;
    const said = childMessage(stderrTail);
    goDown(`${init.label} exited (${code !== null ? `code ${code}` : sig})${said ? `: ${said}` : ''}`);
  });

  // ---- backend → guest ----
  // The socket is never paused: passt treats a full socket as a lossy link — it drops what it
  // cannot write and retransmits later (measured: a paused socket doubled the frames of an 8 MiB
  // download). Frames the rx ring cannot take wait here instead; TCP keeps this bounded by the
  // guest's receive windows, and BACKLOG_MAX bounds the rest (a UDP flood): beyond it, dropped.
  const backlog: Uint8Array[] = [];
  let backlogHead = 0;
  let backlogBytes = 0;
  let flushing = false;
  const decoder = new StreamDecoder({
    frame: (bytes, off, len) => {
      const f = bytes.subarray(off, off + len);
      st[N_B_RX_FRAMES]++;
      add64(st, N_B_RX_BYTES, len);
      pcap?.record(f);
      if (backlogBytes === 0 && io.rx.push(f, len)) return;
      if (backlogBytes + len > BACKLOG_MAX) {
        st[N_B_RX_DROP_BACKLOG]++;
        return;
      }
      backlog.push(f.slice());
      backlogBytes += len;
    },
    dropped: () => {
      st[N_B_RX_DROP_LENGTH]++;
    },
  });
  /** Moves backlog frames into the ring while they fit; true when the backlog is empty. */
  const flushBacklog = (): boolean => {
    while (backlogHead < backlog.length) {
      const f = backlog[backlogHead];
      if (!io.rx.push(f, f.length)) return false;
      backlogBytes -= f.length;
      backlogHead++;
    }
    backlog.length = 0;
    backlogHead = 0;
    return true;
  };
  const flushWhenSpace = async () => {
    flushing = true;
    st[N_B_RX_STALLS]++;
    for (;;) {
      const seen = Atomics.load(ctl, IO_RX_SPACE);
      Atomics.store(ctl, IO_RX_BLOCKED, 1);
      if (flushBacklog() || quitting) break;
      wake();
      const w = waitAsync(ctl, IO_RX_SPACE, seen);
      if (w.async) await w.value;
    }
    Atomics.store(ctl, IO_RX_BLOCKED, 0);
    flushing = false;
    wake();
  };
  sock.on('data', (chunk: Buffer) => {
    decoder.feed(chunk);
    if (decoder.error !== null) {
      goDown(`${init.label}: ${decoder.error}`);
      child.kill('SIGTERM');
      sock.destroy();
      return;
    }
    if (backlogBytes > 0 && !flushing) void flushWhenSpace();
    wake();
  });
  sock.on('error', (e) => goDown(`${init.label} socket: ${e.message}`));
  // The socket usually closes because the child died: give its exit a moment to say why.
  sock.on('close', () => {
    setTimeout(() => {
      if (down || quitting) return;
      goDown(`${init.label} closed its socket`);
      child.kill('SIGTERM');
    }, SOCKET_GRACE_MS).unref();
  });

  // ---- guest → backend ----
  const txLoop = async () => {
    while (!quitting) {
      const seen = Atomics.load(ctl, IO_TX_SIGNAL);
      if (io.tx.peekLength() < 0) {
        const w = waitAsync(ctl, IO_TX_SIGNAL, seen);
        if (w.async) await w.value;
        continue;
      }
      const batch = takeBatch(io.tx, pcap, st);
      if (down || sock.destroyed) continue; // nowhere to send: the frames are gone
      if (!sock.write(batch)) await new Promise<void>((r) => (sock.once('drain', r), sock.once('close', r)));
    }
  };
  void txLoop();

  // ---- the end: the owner sets IO_QUIT (this thread may be waiting anywhere) ----
  const quit = async () => {
    quitting = true;
    Atomics.store(ctl, IO_LINK, 0);
    st[N_BACKEND_STATE] = BackendState.Closed;
    signal(ctl, IO_TX_SIGNAL);
    signal(ctl, IO_RX_SPACE);
    child.kill('SIGTERM');
    sock.destroy();
    if (pcap !== null) {
      await pcap.flush();
      post({ t: 'pcap-closing' });
      await pcap.close();
    }
    post({ t: 'closed' });
    process.exit(0);
  };
  const w = waitAsync(ctl, IO_QUIT, 0);
  if (w.async) void (w.value as Promise<string>).then(quit);
  else void quit();
}

/** Takes frames from the tx ring into one buffer of length-prefixed frames (≤ TX_BATCH). */
function takeBatch(ring: ReturnType<typeof openNetIo>['tx'], pcap: PcapAppender | null, st: Int32Array): Buffer {
  const first = ring.peekLength();
  const out = Buffer.allocUnsafe(Math.max(TX_BATCH, first + 4));
  let at = 0;
  for (let len = first; len >= 0 && at + 4 + len <= out.length; len = ring.peekLength()) {
    ring.pop(out.subarray(at + 4, at + 4 + len));
    putStreamLength(out, at, len);
    pcap?.record(out.subarray(at + 4, at + 4 + len));
    st[N_B_TX_FRAMES]++;
    add64(st, N_B_TX_BYTES, len);
    at += 4 + len;
  }
  return out.subarray(0, at);
}

/** The child's last meaningful stderr line (passt also complains that it has no syslog). */
function childMessage(tail: string): string {
  const lines = tail
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/to syslog$/.test(l) && !/^Don't run as root/.test(l));
  return lines.length > 0 ? lines[lines.length - 1] : '';
}

/** Appends pcap records to an open file, asynchronously and in order; one failure stops it. */
class PcapAppender {
  private chain: Promise<void> = Promise.resolve();
  private failed = false;

  constructor(
    private readonly fd: number,
    private readonly st: Int32Array,
    private readonly warn: (m: string) => void,
  ) {}

  record(frame: Uint8Array): void {
    if (this.failed) return;
    const rec = Buffer.allocUnsafe(PCAP_RECORD_HEADER_BYTES + frame.length);
    putPcapRecordHeader(rec, 0, (performance.timeOrigin + performance.now()) * 1000, frame.length);
    rec.set(frame, PCAP_RECORD_HEADER_BYTES);
    this.st[N_PCAP_FRAMES]++;
    this.chain = this.chain.then(() => this.write(rec));
  }

  private write(rec: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.failed) return resolve();
      fs.write(this.fd, rec, 0, rec.length, null, (err) => {
        if (err && !this.failed) {
          this.failed = true;
          this.st[N_PCAP_FAILED] = 1;
          this.warn(`pcap: writing failed (${err.message}); no more frames are recorded`);
        }
        resolve();
      });
    });
  }

  flush(): Promise<void> {
    return this.chain;
  }

  close(): Promise<void> {
    return new Promise<void>((r) => fs.close(this.fd, () => r()));
  }
}

if (parentPort && (workerData as { netIo?: IoThreadInit } | null)?.netIo) start((workerData as { netIo: IoThreadInit }).netIo);
