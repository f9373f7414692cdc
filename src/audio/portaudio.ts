// The PortAudio backend, parent side: runs in the emulator worker and is serviced by poll()
// between run slices, by a short timer, and by its own IPC / pipe event handlers.
//
// Each open stream gets its own audio-host child process (audio-host.ts) that owns the
// PortAudio stream: the backend's spare, already running, or a new one. Output: guest frames
// leave the ring only as fast as the child hands them to PortAudio (its progress reports) plus a
// small prefill, so the guest's period clock follows the real sound card. Input: captured bytes
// go into the ring, dropping the oldest when the device model falls behind.
//
// Any trouble — the child cannot start, the device is missing, PortAudio errors, the child dies,
// or the device stops moving audio — turns the stream into a null stream (paced by guest time)
// with `failure` set and one warning; the guest runs on. Children never outlive us: close()
// asks, then kills after a timeout; process exit kills; a child whose parent vanished kills itself.

import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { AudioBackend, AudioStream, AudioStreamStats, PcmParams } from './backend';
import { frameBytes } from './backend';
import { logger } from '../log';
import { distFile, extensionRoot } from '../paths';
import type { HostDevice, HostReply, HostRequest, OpenRequest } from './host-protocol';
import { PCM_FD, SPARE_ARG } from './host-protocol';
import { nodeExec } from './node-exec';
import { nullStream } from './null';
import type { PacedStream } from './paced';
import type { PcmRing } from './ring';
import { checkParams, createStreamRing } from './stream-ring';

const log = logger('audio');

export interface PortAudioOptions {
  /** The audio host script (default: dist/audio-host.js of the extension). */
  hostScript?: string;
  /** naudiodon's native addon (default: node_modules/naudiodon/build/Release/naudiodon.node). */
  addonPath?: string;
  /** Environment of the audio host (default: ours; ALSA_CONFIG_PATH, PULSE_SERVER... pass through). */
  env?: NodeJS.ProcessEnv;
  /** Frames per PortAudio buffer (default: 10 ms of the stream's rate). */
  framesPerBuffer?: number;
  /** naudiodon's queue depth in buffers (default 8; 2, its own default, underruns in real time). */
  maxQueue?: number;
  /** Output: guest audio sent ahead of what PortAudio has taken, in ms (default 40). */
  prefillMs?: number;
  /** The device moved no audio for this long → fall back to null (default 3000). */
  watchdogMs?: number;
  /** The audio host did not open the device within this long → fall back (default 10000). */
  openTimeoutMs?: number;
  /** After close(), the audio host is killed if still alive after this long (default 1500). */
  closeTimeoutMs?: number;
  /**
   * While started, the device moving nothing for longer than this (ms) makes the stream keep the
   * guest's period clock itself (default: what the stream's buffer allows, see bridgeSlackMs()).
   */
  clockSlackMs?: number;
}

/**
 * Output: the most of the guest's audio held for a device that has not started yet (ms); it stays
 * as latency while the stream runs. A PortAudio playback start through PulseAudio takes 210-310 ms
 * on a quiet 2-core machine and 300-400 ms at load ~7 (docs/sound-tests.md): at 250 ms, the
 * frames due beyond were dropped (an xrun) in three CI runs of six.
 */
export const HOLD_MS = 400;
/**
 * A longer gap between two looks at the device (service() runs at least every 20 ms) means this
 * thread was not running: the device's reports for that time may still wait in our event queue.
 */
const SELF_STALL_MS = 30;

const live = new Set<ChildProcess>();
let exitHooked = false;

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => {
      for (const c of live) kill(c);
    });
  }
}

function kill(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    child.kill('SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Process ids of audio hosts still running (for tests and diagnostics). */
export function liveAudioHosts(): number[] {
  return [...live].map((c) => c.pid ?? -1).filter((p) => p > 0);
}

function defaultAddon(): string {
  return join(extensionRoot(), 'node_modules', 'naudiodon', 'build', 'Release', 'naudiodon.node');
}

/** A running audio host, the last lines of its stderr (for messages) and PortAudio's status. */
export interface AudioHostProcess {
  child: ChildProcess;
  stderrTail: string[];
  /**
   * Called with each status PortAudio reported to the input callback ("input overflow", ...).
   * naudiodon printf()s those to stdout rather than losing the chunk (audio-host.ts
   * closeOnError): an input overflow is captured audio PortAudio dropped, an xrun.
   */
  onStatus: ((status: string) => void) | null;
}

/** naudiodon's line for PortAudio's callback status flags (PaContext::getErrStr). */
const STATUS_LINE = /^AudioIO: portAudio status - (.*)$/;

/**
 * coreutils' stdbuf library, which makes the C stdio of the process it is preloaded into line
 * buffered (`_STDBUF_O=L`). naudiodon reports PortAudio's status with printf(); into a pipe that
 * is block buffered, and an input overflow would reach us kilobytes late, or never if the host is
 * killed. Without the library (not Debian/Ubuntu coreutils) the lines come when the buffer fills.
 */
const STDBUF_LIB = ['/usr/libexec/coreutils/libstdbuf.so', '/usr/lib/coreutils/libstdbuf.so'].find((p) => existsSync(p));

function lineBufferedEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!STDBUF_LIB) return env;
  const preload = env.LD_PRELOAD ? `${STDBUF_LIB} ${env.LD_PRELOAD}` : STDBUF_LIB;
  return { ...env, LD_PRELOAD: preload, _STDBUF_O: 'L' };
}

/** Calls `each` with every complete line of `stream` (utf8). */
function eachLine(stream: NodeJS.ReadableStream | null, each: (line: string) => void): void {
  let partial = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (s: string) => {
    const lines = (partial + s).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l) each(l);
  });
}

/**
 * Starts an audio host; stderr lines go to the debug log and the last few are kept for messages.
 * A spare has SPARE_ARG in its command line until it opens a stream (it then renames itself), so
 * `ps` and the tests tell idle spares from hosts that own a device.
 */
function spawnHost(opts: PortAudioOptions, spare = false): AudioHostProcess {
  const script = opts.hostScript ?? distFile('audio-host.js');
  if (!existsSync(script)) throw new Error(`${script} is missing (build the extension: npm run build)`);
  const ex = nodeExec(opts.env ?? process.env);
  const args = [opts.addonPath ?? defaultAddon()];
  if (spare) args.push(SPARE_ARG);
  const stderrTail: string[] = [];
  const child = fork(script, args, {
    execPath: ex.execPath,
    execArgv: [], // never inherit --inspect or the test runner's flags
    env: lineBufferedEnv(ex.env),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
    serialization: 'json',
  });
  track(child);
  const h: AudioHostProcess = { child, stderrTail, onStatus: null };
  eachLine(child.stderr, (l) => {
    log.debug(`audio-host ${child.pid}: ${l}`);
    stderrTail.push(l);
    if (stderrTail.length > 4) stderrTail.shift();
  });
  // naudiodon's own prints: the versions and device it opened, and the callback's status flags.
  eachLine(child.stdout, (l) => {
    log.debug(`audio-host ${child.pid} (naudiodon): ${l}`);
    const m = STATUS_LINE.exec(l);
    if (m) h.onStatus?.(m[1]);
  });
  return h;
}

function sendTo(child: ChildProcess, msg: HostRequest): void {
  if (!child.connected) return;
  child.send(msg, (err) => {
    if (err) log.debug(`audio-host ${child.pid}: ${msg.t} not delivered: ${err.message}`);
  });
}

/** Where a stream gets its audio host, and whom it tells when it stops and is gone (its backend). */
export interface HostSource {
  /** A running audio host for one stream (throws when none can be started). */
  take(): AudioHostProcess;
  /** The stream stopped or closed: a good time to start a spare. */
  idle(): void;
  gone(s: PortAudioStream): void;
}

export type PortAudioStreamState = 'opening' | 'open' | 'failed' | 'closed';
type State = PortAudioStreamState;

export class PortAudioStream implements AudioStream {
  readonly ring: PcmRing;
  readonly deviceClock = true;
  failure: string | null = null;
  private label: string;
  private state: State = 'opening';
  private running = false;
  private child: ChildProcess | null = null;
  private pcm: Socket | null = null;
  private fallback: PacedStream | null = null;
  private readonly fb: number;
  private readonly out: boolean;
  private readonly prefillFrames: number;
  private readonly chunkFrames: number; // frames per PortAudio buffer
  private readonly timer: NodeJS.Timeout;
  private stderrTail: string[] = [];
  private readonly openedAt = performance.now();
  private lastAlive = 0;
  private aliveValue = -1;
  private moved = 0;
  private sent = 0; // output: frames sent to the child
  private childTaken = 0; // output: frames the child handed to PortAudio or dropped
  private childXruns = 0;
  private overruns = 0; // input: runs of drop-oldest in our ring
  private inputOverflows = 0; // input: PortAudio dropped captured frames (onDeviceStatus)
  private overrunning = false;
  private readonly carry: Uint8Array; // input: a frame split across pipe reads
  private carryLen = 0;
  // The clock bridge (bridge()): when the device last moved audio, what the current stall has
  // been bridged with, how many stalls were (counted as xruns).
  private readonly slackMs: number;
  private deviceAt = 0;
  private stallSlackMs = -1; // the slack of the current stall, chosen at its first look (-1: not yet)
  private bridgedFrames = 0;
  private bridging = false;
  private bridgedStalls = 0;
  private lostToFailure = 0; // the device failed while the stream ran: what it held is gone (an xrun)
  private bridgeBuf: Uint8Array | null = null;
  private watchedAt = 0; // when bridge() last looked
  // Input: bridged silence a stalled device's backlog has not yet paid back (payBack()).
  private silenceOwed = 0;
  // Since start(): whether the device has moved any of the guest's audio yet (output: the child
  // took data; input: a captured chunk arrived). Before that, a bridge is start-up latency, not a
  // loss (see bridge()).
  private flowing = false;
  // Output: guest frames the bridge sent ahead to a device that had not started yet (kept, not
  // dropped: the child plays them once it runs), at most holdLimit. They stay as latency until
  // the stream is released.
  private held = 0;
  private readonly holdLimit: number;
  private readonly maxPending: number;

  constructor(
    readonly params: PcmParams,
    private readonly device: string | null,
    private readonly opts: PortAudioOptions,
    private readonly host: HostSource,
  ) {
    this.ring = createStreamRing(params);
    this.fb = frameBytes(params);
    this.out = params.direction === 'output';
    this.carry = new Uint8Array(this.fb);
    this.label = device === null ? 'portaudio' : `portaudio:${device}`;
    this.prefillFrames = Math.max(1, Math.round((params.rate * (opts.prefillMs ?? 40)) / 1000));
    this.chunkFrames = opts.framesPerBuffer ?? Math.max(64, Math.round(params.rate / 100));
    this.slackMs = opts.clockSlackMs ?? bridgeSlackMs(params);
    this.maxPending = Math.max(4 * this.prefillFrames, Math.round(params.rate / 2));
    // A cold audio host opens in 130-300 ms, PulseAudio starts its stream in up to ~400 ms more on
    // a loaded machine; a device that takes longer than HOLD_MS to start is a loss.
    this.holdLimit = Math.min(this.maxPending - 2 * this.prefillFrames, Math.round((params.rate * HOLD_MS) / 1000));
    this.timer = setInterval(() => this.service(), 20);
    this.timer.unref();
    this.launch();
  }

  get description(): string {
    return this.fallback ? 'null' : this.label;
  }

  start(): void {
    if (this.state === 'closed') return;
    this.running = true;
    this.deviceMoved();
    this.silenceOwed = 0;
    this.flowing = false;
    if (this.fallback) return this.fallback.start();
    if (this.child) sendTo(this.child, { t: 'start' });
    this.service();
  }

  stop(): void {
    if (this.state === 'closed') return;
    this.running = false;
    this.overrunning = false;
    this.host.idle();
    if (this.fallback) return this.fallback.stop();
    if (this.child) sendTo(this.child, { t: 'stop' });
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.running = false;
    clearInterval(this.timer);
    this.fallback?.close();
    const child = this.child;
    if (child) {
      // Output: end the pipe after the bytes already written, so the child plays the last frames.
      if (this.out) this.pcm?.end();
      else this.pcm?.destroy();
      sendTo(child, { t: 'close' });
      const t = setTimeout(() => kill(child), this.opts.closeTimeoutMs ?? 1500);
      t.unref();
      child.once('exit', () => clearTimeout(t));
    }
    this.host.gone(this);
    this.host.idle();
  }

  poll(guestSeconds: number): void {
    if (this.fallback) this.fallback.poll(guestSeconds);
    else this.service();
  }

  stats(): AudioStreamStats {
    const f = this.fallback?.counters();
    return {
      frames: this.moved + (f ? f.frames : 0),
      xruns: this.childXruns + this.overruns + this.inputOverflows + this.bridgedStalls + this.lostToFailure + (f ? f.xruns : 0),
      fill: this.ring.fill(),
      capacity: this.ring.capacity,
    };
  }

  /** 'opening' until the audio host has the device open; 'failed' after a fallback. */
  get hostState(): State {
    return this.state;
  }

  /** The audio host's process id while it runs (tests check that none is left behind). */
  get hostPid(): number | null {
    return this.child?.pid ?? null;
  }

  private launch(): void {
    let h: AudioHostProcess;
    try {
      h = this.host.take();
    } catch (e) {
      this.fail(`cannot start the audio host: ${(e as Error).message}`);
      return;
    }
    const child = h.child;
    this.stderrTail = h.stderrTail;
    h.onStatus = (status) => this.onDeviceStatus(status);
    this.child = child;
    this.pcm = child.stdio[PCM_FD] as Socket;
    this.pcm.on('error', () => {
      /* the child died; its 'exit' says why */
    });
    if (!this.out) this.pcm.on('data', (b: Buffer) => this.onCapture(b));
    child.on('message', (m: HostReply) => this.onReply(m));
    child.on('error', (e) => this.fail(`audio host: ${e.message}`));
    child.on('exit', (code, signal) => {
      if (this.state !== 'opening' && this.state !== 'open') return;
      const tail = this.stderrTail.length ? ` (last output: ${this.stderrTail.join(' | ')})` : '';
      this.fail(`the audio host exited unexpectedly (${signal ?? `code ${code}`})${tail}`);
    });
    const p = this.params;
    const fpb = this.chunkFrames;
    const open: OpenRequest = {
      t: 'open',
      dir: p.direction,
      device: this.device,
      rate: p.rate,
      channels: p.channels,
      format: p.format,
      framesPerBuffer: fpb,
      maxQueue: this.opts.maxQueue ?? 8,
      maxPendingFrames: this.maxPending,
    };
    sendTo(child, open);
  }

  /**
   * PortAudio's status for a callback. Input overflow: the device's buffer overran while the
   * callback was held up and PortAudio dropped captured frames — audio lost, an xrun.
   * (Output underflows come back with the audio host's writes and are counted there.)
   */
  private onDeviceStatus(status: string): void {
    if (!this.out && this.running && status.includes('input overflow')) this.inputOverflows++;
  }

  private onReply(m: HostReply): void {
    if (this.state !== 'opening' && this.state !== 'open') return;
    switch (m.t) {
      case 'opened':
        this.state = 'open';
        this.label = `portaudio:${m.device}`;
        this.lastAlive = performance.now();
        log.info(`${this.params.direction} stream on PortAudio device "${m.device}"`);
        break;
      case 'progress':
        if (m.device !== this.aliveValue) {
          this.aliveValue = m.device;
          this.lastAlive = performance.now();
        }
        this.childXruns = m.xruns;
        if (this.out && m.frames + m.dropped !== this.childTaken) {
          this.childTaken = m.frames + m.dropped;
          this.deviceMoved();
          if (this.running) this.flowing = true;
        }
        this.service();
        break;
      case 'error':
        this.fail(m.message);
        break;
      default:
        break;
    }
  }

  /** Open timeout and watchdog, then output feeding, then the clock bridge. */
  private service(): void {
    if (this.state === 'opening') {
      if (performance.now() - this.openedAt > (this.opts.openTimeoutMs ?? 10000)) {
        this.fail('the audio host did not open the device in time');
      } else {
        this.bridge();
      }
      return;
    }
    if (this.state !== 'open') return;
    const quiet = performance.now() - this.lastAlive;
    if (quiet > (this.opts.watchdogMs ?? 3000)) {
      this.fail(`the PortAudio device moved no audio for ${(quiet / 1000).toFixed(1)} s`);
      return;
    }
    this.feed();
    this.bridge();
  }

  /**
   * Output: frames that left the ring but that the device has not taken yet: the prefill in the
   * pipe and the audio host (not what a late start left held, which the guest's clock already
   * counted). The device model does not count them as played, so the guest's period clock follows
   * the device, not the prefill: at start() the first 40 ms of the guest's buffer leave the ring
   * at once, and a guest that Linux starts with a full buffer would otherwise begin two periods
   * short (in a capture → playback loop that margin never comes back).
   */
  pendingFrames(): number {
    if (!this.out || this.fallback) return 0;
    const n = this.sent - this.childTaken - this.held;
    // Whole device chunks only: the audio host writes chunks, so the guest's last frames, short of
    // one, wait for more data or for its queue to run low, which a drain must not wait for (a
    // file-backed device's queue never runs low in real time). It is less than 10 ms early.
    return n > 0 ? n - (n % this.chunkFrames) : 0;
  }

  /** Output: keep the child's backlog at the prefill (plus what a late start left held). */
  private feed(): void {
    if (!this.out || !this.running) return;
    this.send(this.prefillFrames + this.held - (this.sent - this.childTaken));
  }

  /** Output: sends up to `n` frames from the ring to the child; returns how many. */
  private send(n: number): number {
    if (!this.pcm) return 0;
    n = Math.min(n, Math.floor(this.ring.fill() / this.fb));
    if (n <= 0) return 0;
    const buf = Buffer.allocUnsafe(n * this.fb);
    const got = this.ring.read(buf, buf.length, this.fb);
    if (got <= 0) return 0;
    this.pcm.write(got === buf.length ? buf : buf.subarray(0, got));
    this.sent += got / this.fb;
    this.moved += got / this.fb;
    return got / this.fb;
  }

  private deviceMoved(): void {
    this.deviceAt = performance.now();
    this.stallSlackMs = -1;
    this.bridgedFrames = 0;
    this.bridging = false;
  }

  /**
   * The guest's period clock is this ring: how fast it drains (output) or fills (input). Linux
   * fails a blocked read/write with EIO when no period elapses for max(100 ms, 1.1 × buffer)
   * (sound/core/pcm_lib.c wait_for_avail), while a PortAudio device takes 100-300 ms to open in
   * the audio host, PulseAudio stalls 0.5-2 s when a stream starts, and a loaded machine stalls it
   * now and then. So, as a sound card's clock never stops, once the device has moved nothing for
   * the slack while started, the stream moves frames at the nominal rate itself (output: drops
   * the oldest, input: adds silence) until the device moves again. Each bridged stall is an xrun.
   * Input owes the silence back (payBack()), so a bridged stall does not stay in the latency.
   *
   * Before the device has moved any audio since start() (the audio host still opening, or the
   * device not yet started), nothing is lost and nothing is counted: output sends the due frames
   * on to the audio host, which plays them once the device runs (the start's lateness becomes
   * latency, up to holdLimit; beyond it, frames are dropped and that is an xrun), and input's
   * silence comes before the first captured frame (start-up latency, as a real card's first
   * period; it is not owed back, so no captured frame is ever dropped for it).
   */
  private bridge(): void {
    if (!this.running) return;
    const now = performance.now();
    const unwatched = now - this.watchedAt;
    this.watchedAt = now;
    if (!this.bridging && this.state === 'open' && unwatched > SELF_STALL_MS) {
      // This thread (the emulator worker) was held up, not necessarily the device: its progress
      // may be queued behind us. The device's silence counts only from when we look again.
      // (Not while the audio host is still opening: nothing can be queued, and the guest's clock
      // must follow real time — a loaded machine held the worker up every 40-80 ms, and a clock
      // that lost each hold-up ran at a fraction of the rate: write() failed with EIO.)
      this.deviceAt = Math.min(now, this.deviceAt + unwatched);
    }
    if (this.out && this.ring.fill() < this.fb) {
      // Nothing to play: the guest is behind, not the device. Time starts when data comes.
      this.deviceMoved();
      return;
    }
    // Until the device has taken anything since START (playback), or while the audio host is still
    // opening it (capture), the card's clock starts at START, as a real card's does, whose first
    // period completes one period later. With a slack first, capture's first period came ~60 ms
    // after START plus the machine's own delays (a loaded machine went past Linux's 100 ms: EIO),
    // and playback's first period came after the slack and the audio host's priming, 45–100 ms
    // late (a 0.5 s play measured 9 % slow). Playback's frames due meanwhile go on to the audio
    // host as held latency (up to holdLimit), not dropped (docs/audio.md). A spare audio host
    // (PortAudioBackend) keeps the opening short: capture's start-up silence is 10-20 ms, not 80.
    if (this.stallSlackMs < 0) {
      const starting = this.out ? !this.flowing : this.state === 'opening';
      this.stallSlackMs = starting && this.slackMs !== Infinity ? 0 : this.slackMs;
    }
    const late = now - this.deviceAt - this.stallSlackMs;
    if (late <= 0) return;
    const fb = this.fb;
    let due = Math.floor((late * this.params.rate) / 1000) - this.bridgedFrames;
    if (due <= 0) return;
    this.bridgedFrames += due;
    if (this.out && !this.flowing && this.held < this.holdLimit) {
      const n = this.send(Math.min(due, this.holdLimit - this.held));
      this.held += n;
      due -= n;
      if (due <= 0) return;
    }
    // Never more than a ring's worth at once (e.g. after the worker itself was held up).
    due = Math.min(due, Math.floor(this.ring.capacity / fb));
    // Output reads the dropped frames into it; input writes it, all zeros (silence in every format).
    const buf = (this.bridgeBuf ??= new Uint8Array(Math.min(this.ring.capacity, 16384 - (16384 % fb)) || fb));
    let n = 0;
    while (n < due) {
      const k = Math.min(due - n, Math.floor(buf.length / fb)) * fb;
      const got = this.out ? this.ring.read(buf, k, fb) : this.ring.write(buf, k, true, fb);
      if (got <= 0) break;
      n += got / fb;
    }
    if (n === 0) return;
    if (!this.out) {
      this.moved += n;
      if (!this.flowing) return; // before the first captured frame: start-up latency
      this.silenceOwed += n;
    }
    if (!this.bridging) {
      this.bridging = true;
      this.bridgedStalls++;
    }
  }

  private onCapture(b: Buffer): void {
    if (this.state !== 'open' || !this.running) return;
    this.deviceMoved();
    this.flowing = true;
    const fb = this.fb;
    let off = 0;
    if (this.carryLen > 0) {
      const k = Math.min(fb - this.carryLen, b.length);
      this.carry.set(b.subarray(0, k), this.carryLen);
      this.carryLen += k;
      off = k;
      if (this.carryLen < fb) return;
      this.put(this.carry, fb);
      this.carryLen = 0;
    }
    const whole = b.length - off - ((b.length - off) % fb);
    if (whole > 0) this.put(b.subarray(off, off + whole), whole);
    const rest = b.length - off - whole;
    if (rest > 0) {
      this.carry.set(b.subarray(off + whole), 0);
      this.carryLen = rest;
    }
  }

  private put(src: Uint8Array, len: number): void {
    const fb = this.fb;
    const dropping = len > this.ring.room();
    if (dropping && !this.overrunning) this.overruns++;
    this.overrunning = dropping;
    this.ring.write(src, len, true, fb);
    this.moved += len / fb;
    if (this.silenceOwed > 0) this.payBack();
  }

  /**
   * After bridged silence, a stalled device's backlog would stay in the ring as latency: drop
   * the oldest frames beyond the slack, up to the silence added. Only what the device model has
   * not taken is dropped, so a guest that keeps up never loses a frame to this.
   */
  private payBack(): void {
    const fb = this.fb;
    const keep = Math.ceil((this.slackMs * this.params.rate) / 1000);
    let drop = Math.min(this.silenceOwed, Math.floor(this.ring.fill() / fb) - keep);
    if (drop <= 0) return;
    this.silenceOwed -= drop;
    const buf = (this.bridgeBuf ??= new Uint8Array(Math.min(this.ring.capacity, 16384 - (16384 % fb)) || fb));
    while (drop > 0) {
      const got = this.ring.read(buf, Math.min(drop, Math.floor(buf.length / fb)) * fb, fb);
      if (got <= 0) break;
      drop -= got / fb;
    }
    buf.fill(0); // the bridge writes this buffer as silence
  }

  private fail(reason: string): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.state = 'failed';
    // Audio in flight to or from a device that died while the stream ran is lost: an xrun, so the
    // guest hears of it too (an XRUN event), not only the log.
    if (this.running) this.lostToFailure++;
    const what = this.device === null ? 'the default device' : `"${this.device}"`;
    this.failure = `PortAudio ${this.params.direction} (${what}): ${reason}; the stream continues as null audio`;
    log.warn(this.failure);
    if (this.child) kill(this.child);
    this.pcm?.destroy();
    this.fallback = nullStream(this.params, this.ring, this.failure);
    if (this.running) this.fallback.start();
  }
}

/**
 * How long a started stream lets its device move nothing before it keeps the guest's clock
 * itself. Linux waits max(100 ms, 1.1 × buffer time) for a period; the bridge then needs a
 * period's time to complete one, and the emulator worker needs time to run it (tens of ms on a
 * loaded machine): half of what is left after the period. 80 ms buffers of 20 ms periods give
 * 40 ms, 320 ms buffers of 80 ms periods 136 ms (at most 250, at least 20).
 */
export function bridgeSlackMs(p: PcmParams): number {
  const bytesPerMs = (p.rate * frameBytes(p)) / 1000;
  const bufferMs = p.bufferBytes / bytesPerMs;
  const periodMs = p.periodBytes / bytesPerMs;
  const slack = (Math.max(100, 1.1 * bufferMs) - periodMs) / 2;
  return slack > 250 ? 250 : slack < 20 || !(slack === slack) ? 20 : slack;
}

/**
 * The shortest guest buffer a PortAudio stream keeps in real time: one audio host chunk (10 ms).
 * The audio host moves audio in such chunks and the emulator worker services it between run
 * slices, so a shorter buffer runs dry or over between two of them. Measured on 2 cores: 48 kHz
 * with 40-frame periods × 2 (a 1.7 ms buffer) got EIO, or thousands of xruns at 1 % of real
 * time; 8 kHz 80 × 2 (20 ms) ran in real time with 0 xruns.
 */
export const PORTAUDIO_MIN_BUFFER_SECONDS = 0.01;
/**
 * The shortest period: 2 ms. A device on a real clock needs the guest to finish each period's
 * work within the period, and at 0.83 ms (48 kHz, 40 frames) this guest is busy all the time:
 * one direction kept up (40 × 16, 0 xruns), but a loop (both at once) had 1-2 xruns in 3 runs of
 * 4 on an idle machine. Paced by guest time (null, WAV) any period works.
 */
export const PORTAUDIO_MIN_PERIOD_SECONDS = 0.002;

/**
 * A backend keeps one spare audio host running: a cold one takes 70-85 ms to start Node and load
 * naudiodon before it can open a device (measured, 2 cores), which a fresh capture heard as that
 * much silence and a playback as that much latency; a spare opens the device and delivers in
 * 5-10 ms. It is started with the machine, and again when a stream that took one stops or closes:
 * not while that stream runs, where its start (70 ms of CPU) competes with the guest's first
 * periods (on 2 cores, a loop's rates went past ±2 %), and in time for the next command (taken
 * 1.5 s later, a spare started then was not ready yet: 30-45 ms of silence). The cost is one idle
 * process (about 15 MB of its own memory) per PortAudio backend while the machine runs.
 */
export class PortAudioBackend implements AudioBackend {
  readonly spec: string;
  readonly keepWarmMs = 1000;
  readonly minPeriodSeconds = PORTAUDIO_MIN_PERIOD_SECONDS;
  readonly minBufferSeconds = PORTAUDIO_MIN_BUFFER_SECONDS;
  private readonly streams = new Set<PortAudioStream>();
  private spare: AudioHostProcess | null = null;
  private disposed = false;
  private readonly source: HostSource = {
    take: () => this.take(),
    idle: () => this.refill(),
    gone: (s) => this.streams.delete(s),
  };

  constructor(
    readonly device: string | null,
    private readonly opts: PortAudioOptions = {},
  ) {
    this.spec = device === null ? 'portaudio' : `portaudio:${device}`;
    this.refill();
  }

  open(params: PcmParams): AudioStream {
    checkParams(params);
    const s = new PortAudioStream(params, this.device, this.opts, this.source);
    this.streams.add(s);
    return s;
  }

  dispose(): void {
    this.disposed = true;
    for (const s of [...this.streams]) s.close();
    const spare = this.spare;
    this.spare = null;
    if (spare) {
      kill(spare.child);
      live.delete(spare.child); // SIGKILL cannot be refused: gone for liveAudioHosts() already
    }
  }

  /** The spare if it still runs, else a cold start. */
  private take(): AudioHostProcess {
    const h = this.spare;
    this.spare = null;
    if (h && h.child.connected && h.child.exitCode === null && h.child.signalCode === null) return h;
    if (h) kill(h.child);
    return spawnHost(this.opts);
  }

  private refill(): void {
    if (this.disposed || this.spare) return;
    let h: AudioHostProcess;
    try {
      h = spawnHost(this.opts, true);
    } catch {
      return; // the stream's own start reports why
    }
    this.spare = h;
    h.child.on('error', () => {
      /* reported by the stream that takes it, or by its exit */
    });
    h.child.once('exit', () => {
      if (this.spare === h) this.spare = null;
    });
  }
}

/** The devices PortAudio sees (through a short-lived audio host). */
export function listPortAudioDevices(opts: PortAudioOptions = {}, timeoutMs = 10000): Promise<HostDevice[]> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      ({ child } = spawnHost(opts));
    } catch (e) {
      reject(new Error(`cannot start the audio host: ${(e as Error).message}`));
      return;
    }
    let finished = false;
    const done = (err: Error | null, devs?: HostDevice[]) => {
      if (finished) return;
      finished = true;
      clearTimeout(t); // (its listeners stay: `finished` mutes them, and track()'s must see the exit)
      sendTo(child, { t: 'close' });
      setTimeout(() => kill(child), 500).unref();
      if (err) reject(err);
      else resolve(devs!);
    };
    const t = setTimeout(() => done(new Error('the audio host did not list devices in time')), timeoutMs);
    child.on('message', (m: HostReply) => {
      if (m.t === 'devices') done(null, m.devices);
      else if (m.t === 'error') done(new Error(m.message));
    });
    child.on('error', (e) => done(e));
    child.on('exit', (code, signal) => done(new Error(`the audio host exited (${signal ?? `code ${code}`})`)));
    sendTo(child, { t: 'list' });
  });
}
