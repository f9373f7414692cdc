// The audio host: a child process (dist/audio-host.js) that owns ONE PortAudio stream through
// naudiodon's native addon, so that naudiodon's blocking callbacks and its known hangs (quit after
// an ALSA error, exit with a started input stream) can only ever cost a process the parent kills.
// Protocol: host-protocol.ts. Started by portaudio.ts with the addon's path as argv[2].
//
// Output: the PortAudio stream runs from open to close (so START is instant, and writes never
// precede start()). naudiodon's callback blocks when its queue is empty, so the queue is kept
// fed: guest data as soon as the parent sends it (the device's backpressure paces it), silence
// while idle or when the queue would otherwise run dry. Its depth is estimated from the wall clock, re-anchored
// whenever a write blocks (the queue is then known to be exactly full), so real-time devices do
// not starve and file-backed ALSA devices, which run as fast as the CPU allows, do not turn an
// idle guest into gigabytes of silence.
// Input: reads are issued as the device delivers (the callback blocks too when nobody reads),
// held to the same wall-clock estimate so a file device is captured in real time; chunks go to
// the parent while started and are discarded otherwise.

import { Worker } from 'node:worker_threads';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { HostDevice, HostReply, HostRequest, OpenRequest } from './host-protocol';
import { PCM_FD } from './host-protocol';
import { DRIFT_MAX } from './backend';

interface NativeIO {
  start(): void;
  write(chunk: Buffer): Promise<string | undefined>;
  read(bytes: number): Promise<{ buf?: Buffer; finished?: boolean; err?: string }>;
  quit(mode: 'WAIT' | 'ABORT'): Promise<void>;
}

interface NativeDevice {
  id: number;
  name: string;
  maxInputChannels: number;
  maxOutputChannels: number;
  defaultSampleRate: number;
  hostAPIName: string;
}

interface NativeAddon {
  getDevices(): NativeDevice[];
  getHostAPIs(): { defaultHostAPI: number; HostAPIs: { defaultInput: number; defaultOutput: number }[] };
  create(options: object): NativeIO;
}

const SAMPLE_FORMAT = { S16: 16, S32: 32, FLOAT: 1 } as const;
const PROGRESS_MS = 100;
/** Output priming gives up waiting for a blocking write after this much silence beyond the queue. */
const PRIME_MAX_MS = 250;
const CLOSE_GRACE_MS = 2000;

/**
 * Frames a device has moved by `now` (ms): `anchorFrames` at the last wait for it (anchorT) plus
 * the nominal rate since, never more than DRIFT_MAX ahead of the wall clock since `baseT`, when
 * `baseFrames` had moved. The cap is needed: on a loaded machine any write or read can come back
 * late and look like a wait for the device, and each such false anchor would let a clockless
 * device gain a queue's worth (measured: playback 9 % fast through the file-backed device).
 */
function deviceFrames(rate: number, now: number, anchorT: number, anchorFrames: number, baseT: number, baseFrames: number): number {
  const byAnchor = anchorFrames + ((now - anchorT) * rate) / 1000;
  const byWall = baseFrames + (((now - baseT) * rate) / 1000) * (1 + DRIFT_MAX);
  return Math.min(byAnchor, byWall);
}

function send(msg: HostReply, then?: () => void): void {
  if (!process.connected) return then?.();
  process.send!(msg, undefined, undefined, () => then?.());
}

function die(): never {
  // process.exit() can hang inside naudiodon's teardown; SIGKILL cannot.
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

function loadAddon(): NativeAddon {
  const path = process.argv[2] || join(__dirname, '..', 'node_modules', 'naudiodon', 'build', 'Release', 'naudiodon.node');
  // A computed require, so the bundler leaves the native addon alone. NOT naudiodon's index.js:
  // it loads segfault-handler, which is neither N-API nor Electron-safe.
  const req: NodeJS.Require = require;
  return req(path) as NativeAddon;
}

function listDevices(pa: NativeAddon): HostDevice[] {
  const devs = pa.getDevices();
  const apis = pa.getHostAPIs();
  const api = apis.HostAPIs[apis.defaultHostAPI];
  return devs.map((d) => ({
    id: d.id,
    name: d.name,
    hostAPIName: d.hostAPIName,
    maxInputChannels: d.maxInputChannels,
    maxOutputChannels: d.maxOutputChannels,
    defaultSampleRate: d.defaultSampleRate,
    defaultInput: !!api && d.id === api.defaultInput,
    defaultOutput: !!api && d.id === api.defaultOutput,
  }));
}

/** The device for the request, or an Error whose message says what exists and what to do. */
function pickDevice(devs: HostDevice[], req: OpenRequest): HostDevice {
  const out = req.dir === 'output';
  const what = out ? 'output' : 'input';
  const cap = (d: HostDevice) => (out ? d.maxOutputChannels : d.maxInputChannels);
  const usable = devs.filter((d) => cap(d) > 0);
  const names = usable.length ? usable.map((d) => `"${d.name}"`).join(', ') : 'none';
  let dev: HostDevice | undefined;
  if (req.device === null) {
    dev = usable.find((d) => (out ? d.defaultOutput : d.defaultInput)) ?? usable[0];
    if (!dev) throw new Error(`PortAudio has no ${what} device (is ALSA configured? ${what} devices: none)`);
  } else {
    const want = req.device.toLowerCase();
    dev = usable.find((d) => d.name === req.device) ?? usable.find((d) => d.name.toLowerCase().includes(want));
    if (!dev) {
      throw new Error(
        `no PortAudio ${what} device matches "${req.device}" (${what} devices: ${names}); ` +
          `use "portaudio" for the default device or a part of one of these names`,
      );
    }
  }
  if (cap(dev) < req.channels) {
    throw new Error(`PortAudio device "${dev.name}" has ${cap(dev)} ${what} channels; the stream needs ${req.channels}`);
  }
  return dev;
}

/** What both stream kinds share: open the native stream, report progress, close gracefully. */
abstract class HostStream {
  protected readonly io: NativeIO;
  protected readonly fb: number;
  protected readonly chunkBytes: number;
  protected running = false;
  protected closing = false;
  protected frames = 0;
  protected silence = 0;
  protected xruns = 0;
  protected dropped = 0;
  protected moving = 0; // frames the device moved, started or not
  private lastReport = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    pa: NativeAddon,
    protected readonly req: OpenRequest,
    readonly device: HostDevice,
    protected readonly pcm: Socket,
  ) {
    this.fb = (req.format === 'S16' ? 2 : 4) * req.channels;
    this.chunkBytes = req.framesPerBuffer * this.fb;
    const options = {
      deviceId: device.id,
      sampleRate: req.rate,
      channelCount: req.channels,
      sampleFormat: SAMPLE_FORMAT[req.format],
      framesPerBuffer: req.framesPerBuffer,
      maxQueue: req.maxQueue,
      // naudiodon's "close on error" lives in its index.js, which we do not use: the native flag
      // only decides whether PortAudio's status flags come back to us (true) or are printf()ed
      // (false). Output wants them (device underruns are xruns; the chunk is queued either way);
      // input must not: a read with a status loses its data.
      closeOnError: req.dir === 'output',
    };
    this.io = pa.create(req.dir === 'output' ? { outOptions: options } : { inOptions: options });
    const tick = Math.max(1, Math.floor((req.framesPerBuffer * 1000) / req.rate / 2));
    this.timer = setInterval(() => this.onTick(), tick);
  }

  begin(): void {
    this.io.start();
  }

  setRunning(on: boolean): void {
    this.running = on;
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    setTimeout(die, CLOSE_GRACE_MS);
    this.finish()
      .then(() => this.io.quit('WAIT'))
      .then(
        () => {
          clearInterval(this.timer);
          this.report(true);
          send({ t: 'closed' }, () => process.exit(0));
        },
        () => die(),
      );
  }

  protected onTick(): void {
    this.report(false);
  }

  protected report(force: boolean): void {
    const now = performance.now();
    if (!force && now - this.lastReport < PROGRESS_MS) return;
    this.lastReport = now;
    const { frames, silence, xruns, dropped, moving: device } = this;
    send({ t: 'progress', frames, silence, xruns, dropped, device });
  }

  /** Whatever must happen before the native quit (output: hand over the guest's last frames). */
  protected abstract finish(): Promise<void>;
}

/**
 * At open, PortAudio's device buffer and naudiodon's queue take whatever is written at once, as
 * fast as it comes. Guest frames written then would leave the guest's ring in a burst, and the
 * guest's period clock (TX buffers return as the ring drains) would jump by that much: a guest
 * that plays what it captures underruns. So the stream first primes: silence only, regardless of
 * the wall-clock estimate, until a write has to wait (the buffers are full) or, for a device
 * that never waits, PRIME_MAX_MS of silence beyond the queue. From then on every guest frame goes
 * in as the device takes one out.
 */
class OutputStream extends HostStream {
  private readonly pending: Buffer[] = [];
  private pendingHead = 0; // bytes of pending[0] already used
  private pendingBytes = 0;
  private readonly scratch: Buffer;
  private inFlight = false;
  private handed = 0; // frames given to naudiodon, data and silence
  private anchorT = 0;
  private anchorFrames = 0;
  private hadData = false;
  private inUnderrun = false;
  private ended = false;
  private drained: (() => void) | null = null;
  private readonly blockMs: number;
  private readonly queueFrames: number;
  private readonly lowWater: number;
  // The device's buffers are full of silence (see the class comment); until then no
  // guest frame is written.
  private primed = false;
  private readonly primeLimit: number;
  // The estimate at priming: from then on it never runs more than DRIFT_MAX ahead of the wall clock.
  private primedT = 0;
  private primedFrames = 0;

  constructor(pa: NativeAddon, req: OpenRequest, device: HostDevice, pcm: Socket) {
    super(pa, req, device, pcm);
    this.scratch = Buffer.alloc(this.chunkBytes);
    this.queueFrames = req.maxQueue * req.framesPerBuffer;
    this.primeLimit = this.queueFrames + Math.round((req.rate * PRIME_MAX_MS) / 1000);
    // Silence goes in only when the queue is nearly dry: guest data that is merely late must find
    // the queue still playing its earlier frames, not padded with silence.
    this.lowWater = Math.max(2, Math.ceil((req.maxQueue * 3) / 8)) * req.framesPerBuffer;
    this.blockMs = Math.max(2, (req.framesPerBuffer * 1000) / req.rate / 4);
    pcm.on('data', (b: Buffer) => this.onData(b));
    pcm.on('end', () => {
      this.ended = true;
      this.pump();
    });
  }

  override begin(): void {
    super.begin();
    this.anchorT = performance.now();
    this.pump();
  }

  override setRunning(on: boolean): void {
    if (on && !this.running) {
      this.hadData = false;
      this.inUnderrun = false;
    }
    super.setRunning(on);
    this.pump();
  }

  protected override onTick(): void {
    this.pump();
    super.onTick();
  }

  protected finish(): Promise<void> {
    // Play the guest's last frames: wait for the parent's end of data (briefly), then drain.
    return new Promise((resolve) => {
      this.drained = resolve;
      setTimeout(() => {
        this.ended = true;
        this.pump();
      }, 300);
      this.pump();
    });
  }

  private onData(b: Buffer): void {
    this.pending.push(b);
    this.pendingBytes += b.length;
    const max = this.req.maxPendingFrames * this.fb;
    if (this.pendingBytes > max) {
      // The parent paces itself on our progress reports, so this means a stall; keep the newest.
      let drop = this.pendingBytes - max;
      drop -= drop % this.fb;
      this.dropped += drop / this.fb;
      this.take(null, drop);
    }
    this.pump();
  }

  /** Moves n pending bytes into dst (or drops them when dst is null). */
  private take(dst: Buffer | null, n: number): void {
    let off = 0;
    while (off < n) {
      const head = this.pending[0];
      const k = Math.min(n - off, head.length - this.pendingHead);
      if (dst) head.copy(dst, off, this.pendingHead, this.pendingHead + k);
      off += k;
      this.pendingHead += k;
      if (this.pendingHead === head.length) {
        this.pending.shift();
        this.pendingHead = 0;
      }
    }
    this.pendingBytes -= n;
  }

  private pump(): void {
    if (this.inFlight) return;
    const cb = this.chunkBytes;
    // After close, every guest frame still here is played, whether or not the stream was started.
    const flushing = this.closing;
    let data = 0;
    let padded = false;
    if (!this.primed && !flushing) {
      // Priming (see the class comment): silence until the device's buffers are full.
      data = 0;
    } else if (this.pendingBytes >= cb) {
      // Stopped or not, guest frames here are played: the guest's clock already counted them (the
      // latency a late start left held), and a STOP after a drain must not leave them to the close,
      // a second later, after the warm stream's silence.
      // Guest data too goes in at the estimate's pace: a device without a clock (file-backed ALSA)
      // would otherwise take it as fast as the parent sends it. Two chunks beyond a full queue, so
      // a real device still makes writes wait, and each wait re-anchors the estimate to it.
      if (!flushing && this.handed - this.consumed(performance.now()) >= this.queueFrames + 2 * this.req.framesPerBuffer) return;
      data = cb;
    } else if (flushing && this.ended) {
      data = this.pendingBytes - (this.pendingBytes % this.fb);
      if (data === 0) {
        this.drained?.();
        this.drained = null;
        return;
      }
    } else {
      // Nothing (or not enough) from the guest. Idle: keep the queue full of silence (every write
      // then blocks and re-anchors the estimate, and START finds a full queue of margin). Playing:
      // pad only when the queue is nearly dry, so data that is merely late is not cut by silence.
      // Both by the estimate of what the device consumed: a file device would otherwise eat
      // silence at CPU speed.
      const consumed = this.consumed(performance.now());
      const target = this.running && this.hadData ? this.lowWater : this.queueFrames;
      if (this.handed - consumed >= target) return;
      // Guest frames short of a chunk go in padded with silence mid-stream (late data: a dropout)
      // and after STOP (a drain's last frames, which the guest's clock counted as played), but
      // not before the first chunk since START: silence first is start-up latency, where the
      // first few frames padded would put a gap inside the guest's audio (a spare audio host
      // opens within the first period, while the parent still sends START's first frames).
      if (!this.running || this.hadData) {
        data = this.pendingBytes - (this.pendingBytes % this.fb);
        padded = this.running;
      }
    }
    if (data > 0) {
      this.take(this.scratch, data);
      this.hadData = true;
      // Guest frames after silence that filled a gap: the gap was mid-stream, an xrun. A gap
      // that lasts until STOP (the end of a drain) is not one: nothing was lost.
      if (this.inUnderrun && !padded) {
        this.inUnderrun = false;
        this.xruns++;
      }
    }
    if (padded) this.inUnderrun = true;
    this.scratch.fill(0, data);
    const dataFrames = data / this.fb;
    const t = performance.now();
    this.inFlight = true;
    // naudiodon copies the chunk before write() returns, so the scratch buffer is free again.
    this.io.write(this.scratch).then(
      (status) => this.written(t, dataFrames, status),
      () => this.written(t, dataFrames, undefined),
    );
  }

  private primeDone(now: number): void {
    this.primed = true;
    this.primedT = now;
    this.primedFrames = this.anchorFrames;
  }

  /** Frames the device has taken by `now`: the anchor's estimate, held to the wall clock once primed. */
  private consumed(now: number): number {
    if (!this.primed) return this.anchorFrames + ((now - this.anchorT) * this.req.rate) / 1000;
    return deviceFrames(this.req.rate, now, this.anchorT, this.anchorFrames, this.primedT, this.primedFrames);
  }

  private written(t: number, dataFrames: number, status: string | undefined): void {
    this.inFlight = false;
    // PortAudio saw the device starve (system load, a stalled sound server): an xrun while playing.
    if (status && status.includes('output underflow') && this.running && this.hadData) this.xruns++;
    const fpb = this.req.framesPerBuffer;
    this.handed += fpb;
    this.moving += fpb;
    this.frames += dataFrames;
    this.silence += fpb - dataFrames;
    const now = performance.now();
    if (now - t > this.blockMs) {
      // The write waited for the callback to take a chunk: the queue is full right now.
      this.anchorT = now;
      this.anchorFrames = this.handed - this.queueFrames;
      // Only a full queue makes a write wait; a loaded machine can delay any write.
      if (!this.primed && this.handed >= this.queueFrames) this.primeDone(now);
    } else if (!this.primed && this.handed >= this.primeLimit) {
      // A device that never makes a write wait (file-backed ALSA): as full as it will get.
      this.anchorT = now;
      this.anchorFrames = this.handed - this.queueFrames;
      this.primeDone(now);
    }
    this.report(dataFrames > 0);
    this.pump();
  }
}

class InputStream extends HostStream {
  private readonly maxBacklog: number;
  private readonly blockMs: number;
  private inFlight = false;
  private anchorT = 0;
  private anchorFrames = 0;
  private openedT = 0;
  private dropping = false;

  constructor(pa: NativeAddon, req: OpenRequest, device: HostDevice, pcm: Socket) {
    super(pa, req, device, pcm);
    // About half a second of audio may wait in the pipe for a busy parent; beyond that, drop.
    this.maxBacklog = Math.max(this.chunkBytes * 4, Math.floor(req.rate / 2) * this.fb);
    this.blockMs = Math.max(2, (req.framesPerBuffer * 1000) / req.rate / 4);
  }

  override begin(): void {
    super.begin();
    this.anchorT = this.openedT = performance.now();
    this.readNext();
  }

  protected override onTick(): void {
    this.readNext();
    super.onTick();
  }

  protected finish(): Promise<void> {
    return Promise.resolve();
  }

  private readNext(): void {
    if (this.inFlight || this.closing) return;
    // Mirror of the output side: a real device makes reads wait (and re-anchors the estimate);
    // a file device answers at once, so reads are held to the wall clock.
    // A read that waited re-anchors the estimate to the device (one whose clock runs a little
    // fast), but on a loaded machine any read can come back late, and a clockless device would
    // then gain a queue's worth each time: the estimate never runs more than DRIFT_MAX
    // ahead of the wall clock since the device opened.
    const produced = deviceFrames(this.req.rate, performance.now(), this.anchorT, this.anchorFrames, this.openedT, 0);
    // One chunk ahead of the estimate at most: a real device makes the read wait for its chunk;
    // a clockless one must not hand over a queue's worth at once (a burst longer than a small
    // buffer overran the guest at START).
    if (this.moving - produced >= this.req.framesPerBuffer) return;
    this.inFlight = true;
    const t = performance.now();
    this.io.read(this.chunkBytes).then(
      (r) => this.got(t, r),
      (e: unknown) => {
        if (!this.closing) send({ t: 'error', message: `PortAudio capture failed: ${(e as Error).message}` });
      },
    );
  }

  private got(t: number, r: { buf?: Buffer; finished?: boolean; err?: string }): void {
    this.inFlight = false;
    if (r.err) {
      send({ t: 'error', message: `PortAudio capture failed: ${r.err}` });
      return;
    }
    const buf = r.buf;
    const frames = buf ? Math.floor(buf.length / this.fb) : 0;
    this.moving += frames;
    const now = performance.now();
    if (now - t > this.blockMs) {
      // The read waited for the device: everything it captured so far has been read.
      this.anchorT = now;
      this.anchorFrames = this.moving;
    }
    if (buf && frames && this.running && !this.closing) {
      this.frames += frames;
      const drop = this.pcm.writableLength > this.maxBacklog;
      if (drop && !this.dropping) this.xruns++; // one xrun per run of drops
      this.dropping = drop;
      if (drop) this.dropped += frames;
      else this.pcm.write(buf);
    }
    if (!r.finished) this.readNext();
  }
}

/**
 * naudiodon can block this process's JavaScript thread inside PortAudio (a stalled sound server,
 * a device that stops taking data); then 'disconnect' never fires when the parent dies. A tiny
 * worker thread, which PortAudio cannot block, watches our parent and ends us when it is gone.
 */
function startOrphanWatchdog(): void {
  const code = `const { workerData } = require('node:worker_threads');
    setInterval(() => { if (process.ppid !== workerData) process.kill(process.pid, 'SIGKILL'); }, 250);`;
  new Worker(code, { eval: true, workerData: process.ppid }).unref();
}

function main(): void {
  startOrphanWatchdog();
  let pa: NativeAddon;
  try {
    pa = loadAddon();
  } catch (e) {
    send({ t: 'error', message: `cannot load naudiodon: ${(e as Error).message}` }, () => process.exit(1));
    return;
  }
  const pcm = new Socket({ fd: PCM_FD, readable: true, writable: true });
  pcm.on('error', () => {
    /* the parent went away: 'disconnect' ends us */
  });
  let stream: HostStream | null = null;
  process.on('disconnect', die);
  process.on('message', (m: HostRequest) => {
    try {
      switch (m.t) {
        case 'list':
          send({ t: 'devices', devices: listDevices(pa) });
          break;
        case 'open': {
          if (stream) throw new Error('a stream is already open');
          const dev = pickDevice(listDevices(pa), m);
          stream = m.dir === 'output' ? new OutputStream(pa, m, dev, pcm) : new InputStream(pa, m, dev, pcm);
          stream.begin();
          // A spare's command line says so until now (SPARE_ARG); from here `ps` shows the device.
          process.title = `audio-host.js ${m.dir} ${dev.name}`;
          send({ t: 'opened', device: dev.name });
          break;
        }
        case 'start':
          stream?.setRunning(true);
          break;
        case 'stop':
          stream?.setRunning(false);
          break;
        case 'close':
          if (stream) stream.close();
          else send({ t: 'closed' }, () => process.exit(0));
          break;
      }
    } catch (e) {
      send({ t: 'error', message: (e as Error).message });
    }
  });
}

main();
