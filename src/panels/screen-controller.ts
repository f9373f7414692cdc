// The Screen panel's controller in the extension host: feeds the webview the guest's scanout as
// dirty rectangles (ScreenFeed: at most 60 a second, only while the panel keeps up), freezes it on
// the exact frame when the machine pauses, and turns the panel's keys and pointer into
// virtio-input events (then wakes the worker, so an idle guest gets them at once).
//
// Everything comes from shared memory: the GPU's screen and the input devices' event rings are
// the devices' sharedState buffers, reached through the MachineHost the inline debug adapter
// runs. No VS Code import here: the webview is a ScreenPort (a WebviewPanel in the extension,
// a Chromium page in tests), the machine a ScreenSource.

import { ScreenFeed, type FrameMessage } from '../devices/virtio-gpu/feed';
import { ScreenReader } from '../devices/virtio-gpu/screen';
import { parseFromScreenPanel, type ScreenSessionState, type ToScreenPanel } from '../devices/virtio-gpu/screen-messages';
import { InputSink } from '../devices/virtio-input/events';
import { applyPanelInput } from '../devices/virtio-input/panel-input';
import { virtioGpu } from '../devices/virtio-gpu';
import { virtioKeyboard, virtioTablet } from '../devices/virtio-input';
import { wake as wakeWorker } from '../host/control';
import type { MachineHost } from '../host/machine-host';
import { logger } from '../log';

const log = logger('screen');

/** How often the controller looks for new frames while the panel is visible (~60 Hz). */
export const FRAME_POLL_MS = 16;
/** Flush-to-screen latencies kept for the statistics. */
const LATENCY_SAMPLES = 1024;

export interface Disposable {
  dispose(): void;
}

/** The webview as the controller sees it. */
export interface ScreenPort {
  /** False while the panel's tab is in the background (its webview is gone then). */
  readonly visible: boolean;
  post(msg: ToScreenPanel): void;
  onMessage(handler: (data: unknown) => void): Disposable;
  onDidChangeVisibility(handler: (visible: boolean) => void): Disposable;
  onDidDispose(handler: () => void): Disposable;
}

export type MachineState = 'loading' | 'running' | 'paused' | 'exited';

/** A machine as the screen needs it: the devices' shared state, its run state, its wake word. */
export interface ScreenSource {
  /** The debug session's name, shown in the panel. */
  readonly name: string;
  /** virtio-gpu's screen; null: the machine has no GPU. */
  readonly screen: SharedArrayBuffer | null;
  readonly keyboard: SharedArrayBuffer | null;
  readonly tablet: SharedArrayBuffer | null;
  state(): MachineState;
  /** Wakes the worker if the guest idles, so queued input is delivered now. */
  wake(): void;
}

/** A MachineHost's screen devices, found by their descriptors' names. */
export function screenSourceOf(host: MachineHost, name: string): ScreenSource {
  const shared = (device: string) => {
    const s = host.virtio.find((v) => v.name === device)?.deviceState;
    return s instanceof SharedArrayBuffer ? s : null;
  };
  const screen = shared(virtioGpu.name);
  return {
    name,
    screen: screen !== null && ScreenReader.isScreen(screen) ? screen : null,
    keyboard: shared(virtioKeyboard.name),
    tablet: shared(virtioTablet.name),
    state: () => host.state,
    wake: () => wakeWorker(host.control),
  };
}

export interface ScreenStats {
  frames: number;
  bytes: number;
  /** Main-thread milliseconds spent building and posting frames. */
  busyMs: number;
  /** Flush (published by the worker) to the panel's acknowledgement of the frame, ms. */
  latencies: number[];
  inputEvents: number;
  droppedInput: number;
}

export class ScreenController implements Disposable {
  private source: ScreenSource | null = null;
  private feed: ScreenFeed | null = null;
  private reader: ScreenReader | null = null;
  private keyboard: InputSink | null = null;
  private tablet: InputSink | null = null;
  private ready = false;
  private shown: ScreenSessionState | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Frames in flight: frame number → when its newest flush was published. */
  private readonly flushed = new Map<number, number>();
  private readonly subs: Disposable[];
  private disposed = false;
  readonly stats: ScreenStats = { frames: 0, bytes: 0, busyMs: 0, latencies: [], inputEvents: 0, droppedInput: 0 };

  constructor(private readonly port: ScreenPort) {
    this.subs = [
      port.onMessage((data) => this.fromPanel(data)),
      port.onDidChangeVisibility((visible) => {
        // A panel shown again gets a new webview, which says 'ready'; until then nothing to send.
        if (!visible) this.ready = false;
        this.schedule();
      }),
      port.onDidDispose(() => this.dispose()),
    ];
  }

  get machine(): ScreenSource | null {
    return this.source;
  }

  /** Follows this machine (null: none runs). */
  setSource(source: ScreenSource | null): void {
    this.source = source;
    this.feed = source?.screen ? new ScreenFeed(source.screen) : null;
    this.reader = source?.screen ? new ScreenReader(source.screen) : null;
    this.keyboard = source?.keyboard ? new InputSink(source.keyboard) : null;
    this.tablet = source?.tablet ? new InputSink(source.tablet) : null;
    this.flushed.clear();
    this.shown = null;
    this.pump();
    this.schedule();
  }

  /** The machine stopped (a breakpoint, a pause): freeze on its exact frame now, not at the next tick. */
  machineStopped(): void {
    this.pump();
  }

  /** One look at the machine: its state to the panel, then a frame if one is due. */
  pump(): void {
    if (this.disposed || !this.ready || !this.port.visible) return;
    const src = this.source;
    if (src === null) return this.showSession('none');
    const state = src.state();
    if (state === 'exited') return this.showSession('none');
    const feed = this.feed;
    if (state === 'paused') {
      if (this.shown === 'paused') return;
      // The exact frame first, while the panel still draws; then the paused banner.
      if (feed !== null) this.send(feed.freeze(performance.now()));
      return this.showSession('paused');
    }
    this.showSession('running');
    if (feed !== null) {
      const f = feed.poll(performance.now());
      if (f !== null) this.send(f);
    }
  }

  private send(f: FrameMessage): void {
    const t0 = performance.now();
    const { flushedAt, ...msg } = f;
    this.port.post(msg);
    if (flushedAt !== undefined && flushedAt > 0) {
      this.flushed.set(f.frame, flushedAt);
      if (this.flushed.size > 8) this.flushed.delete(this.flushed.keys().next().value!);
    }
    const s = this.stats;
    s.frames++;
    s.bytes += f.pixels?.length ?? 0;
    // The frame was read (readAt) just before: count reading, converting and posting.
    s.busyMs += performance.now() - (f.readAt ?? t0);
  }

  private showSession(state: ScreenSessionState): void {
    if (this.shown === state) return;
    this.shown = state;
    const src = this.source;
    const msg: ToScreenPanel = { type: 'session', state, name: state === 'none' ? undefined : src?.name };
    if (state !== 'none' && src !== null && src.screen === null) msg.noScreen = true;
    this.port.post(msg);
    this.schedule();
  }

  private fromPanel(data: unknown): void {
    const msg = parseFromScreenPanel(data);
    if (msg === null) {
      log.debug('ignored a malformed message from the Screen panel');
      return;
    }
    switch (msg.type) {
      case 'ready':
        // A new webview: its canvas is empty and nothing of ours is in flight any more.
        this.ready = true;
        this.shown = null;
        this.flushed.clear();
        this.feed?.restart();
        this.pump();
        this.schedule();
        return;
      case 'frameDone': {
        const at = this.flushed.get(msg.frame);
        if (at !== undefined) {
          this.flushed.delete(msg.frame);
          const l = this.stats.latencies;
          if (l.length >= LATENCY_SAMPLES) l.shift();
          l.push(performance.timeOrigin + performance.now() - at);
        }
        this.feed?.ack(msg.frame);
        this.pump();
        return;
      }
      default:
        this.input(msg);
    }
  }

  /** Keys and pointer go to the guest only while it runs (a paused panel sends none anyway). */
  private input(msg: Exclude<ReturnType<typeof parseFromScreenPanel>, null>): void {
    const src = this.source;
    if (src === null || this.reader === null || src.state() !== 'running') return;
    const queued = applyPanelInput(msg, this.reader.geometry(), this.keyboard, this.tablet);
    if (queued) {
      this.stats.inputEvents++;
      src.wake();
    } else {
      this.stats.droppedInput++;
    }
  }

  /** Ticks while there is something to watch: a visible, ready panel and a machine that runs. */
  private schedule(): void {
    const want = !this.disposed && this.ready && this.port.visible && this.source !== null && this.shown !== 'none';
    if (want && this.timer === null) {
      this.timer = setInterval(() => this.pump(), FRAME_POLL_MS);
      this.timer.unref?.(); // never what keeps a process alive
    }
    if (!want && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.schedule();
    for (const s of this.subs) s.dispose();
  }
}
