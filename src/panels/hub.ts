// The one place the debug session hands panel data to, and the one place that knows which panels
// are open. The session feeds it (`levels` at ~20 Hz from semu/levels events, `virtqueues` and
// `streams` from the custom requests, `session` on start/stop/continue/terminate); the hub
// forwards each to the visible panels that show it, keeps the latest of each so a panel that is
// (re)shown gets it at once, and tells the session what is worth fetching:
//
//   hub.wantsVirtqueues  – a visible inspector: poll semu/virtqueues at 5 Hz while running
//   hub.wantsStreams     – a visible levels panel: semu/streams is worth asking now and then
//   hub.onDidChangeWants – fires when either changes (start/stop the poll timer)
//   hub.onRequest        – "fetch this now": a panel became ready or asked for a refresh, or the
//                          machine just paused (a paused snapshot is exact)
//
// No VS Code import here: the panels are reached through the HubPanel interface, so the hub is
// tested with stand-ins and the session code can use it from anywhere.
import type { FromPanel, LevelsEventBody, SessionState, StreamsResponseBody, ToPanel, VirtqueuesResponseBody } from '../shared/protocol';

export interface Disposable {
  dispose(): void;
}

export type PanelKind = 'levels' | 'inspector';
export type DataRequest = 'virtqueues' | 'streams';

export interface HubPanel {
  readonly kind: PanelKind;
  /** False while the panel's tab is in the background (its webview is gone then). */
  readonly visible: boolean;
  post(msg: ToPanel): void;
  onMessage(handler: (msg: FromPanel) => void): Disposable;
  onDidChangeVisibility(handler: (visible: boolean) => void): Disposable;
  onDidDispose(handler: () => void): Disposable;
}

type Listener<T> = (value: T) => void;

class Emitter<T> {
  private listeners: Listener<T>[] = [];
  on(l: Listener<T>): Disposable {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  }
  fire(v: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(v);
      } catch {
        // A failing listener must not stop the others, nor the message flow that fired it.
      }
    }
  }
  clear(): void {
    this.listeners = [];
  }
}

export class PanelHub implements Disposable {
  private readonly panels = new Map<HubPanel, Disposable[]>();
  private state: SessionState = 'none';
  private name: string | undefined;
  private lastLevels: LevelsEventBody | undefined;
  private lastStreams: StreamsResponseBody | undefined;
  private lastVirtqueues: VirtqueuesResponseBody | undefined;
  private selection: ToPanel | undefined;
  private readonly wantsEmitter = new Emitter<void>();
  private readonly requestEmitter = new Emitter<DataRequest>();
  private wantsKey = '';

  get sessionState(): SessionState {
    return this.state;
  }

  /** A visible inspector wants semu/virtqueues snapshots (5 Hz while running, once when paused). */
  get wantsVirtqueues(): boolean {
    return this.anyVisible('inspector');
  }

  /** A visible levels panel shows semu/levels events and semu/streams facts. */
  get wantsLevels(): boolean {
    return this.anyVisible('levels');
  }

  get wantsStreams(): boolean {
    return this.anyVisible('levels');
  }

  onDidChangeWants(listener: () => void): Disposable {
    return this.wantsEmitter.on(listener);
  }

  onRequest(listener: (what: DataRequest) => void): Disposable {
    return this.requestEmitter.on(listener);
  }

  /** Starts forwarding to a panel (attaching twice is harmless). */
  attach(panel: HubPanel): void {
    if (this.panels.has(panel)) return;
    const subs = [
      panel.onMessage((m) => this.fromPanel(panel, m)),
      panel.onDidChangeVisibility(() => this.checkWants()),
      panel.onDidDispose(() => this.detach(panel)),
    ];
    this.panels.set(panel, subs);
    this.checkWants();
  }

  detach(panel: HubPanel): void {
    const subs = this.panels.get(panel);
    if (!subs) return;
    this.panels.delete(panel);
    for (const s of subs) s.dispose();
    this.checkWants();
  }

  session(state: SessionState, name?: string): void {
    const changed = state !== this.state;
    this.state = state;
    if (name !== undefined || state === 'none') this.name = name;
    if (state === 'none') {
      this.lastLevels = undefined;
      this.lastStreams = undefined;
      this.lastVirtqueues = undefined;
    }
    this.broadcast(['levels', 'inspector'], this.sessionMessage());
    if (changed && state === 'paused') {
      if (this.wantsVirtqueues) this.requestEmitter.fire('virtqueues');
      if (this.wantsStreams) this.requestEmitter.fire('streams');
    }
  }

  levels(body: LevelsEventBody): void {
    if (this.state === 'none') return; // a late event after the session ended
    this.lastLevels = body;
    this.broadcast(['levels'], { type: 'levels', body });
  }

  streams(body: StreamsResponseBody): void {
    if (this.state === 'none') return;
    this.lastStreams = body;
    this.broadcast(['levels'], { type: 'streams', body });
  }

  /** Selects a queue in the inspector ("Show in Virtqueue Inspector"), now and when one opens. */
  selectQueue(device: string, queue: number): void {
    this.selection = { type: 'select', device, queue };
    this.broadcast(['inspector'], this.selection);
  }

  virtqueues(body: VirtqueuesResponseBody): void {
    if (this.state === 'none') return;
    this.lastVirtqueues = body;
    this.broadcast(['inspector'], { type: 'virtqueues', body });
  }

  dispose(): void {
    for (const p of [...this.panels.keys()]) this.detach(p);
    this.wantsEmitter.clear();
    this.requestEmitter.clear();
  }

  private sessionMessage(): ToPanel {
    return this.name === undefined ? { type: 'session', state: this.state } : { type: 'session', state: this.state, name: this.name };
  }

  private fromPanel(panel: HubPanel, msg: FromPanel): void {
    if (msg.type === 'ready') {
      // A fresh webview (first show, or shown again after being hidden): give it everything known.
      this.safePost(panel, this.sessionMessage());
      if (this.state === 'none') return;
      if (panel.kind === 'levels') {
        if (this.lastStreams) this.safePost(panel, { type: 'streams', body: this.lastStreams });
        if (this.lastLevels) this.safePost(panel, { type: 'levels', body: this.lastLevels });
        this.requestEmitter.fire('streams');
      } else {
        if (this.lastVirtqueues) this.safePost(panel, { type: 'virtqueues', body: this.lastVirtqueues });
        if (this.selection) this.safePost(panel, this.selection);
        this.requestEmitter.fire('virtqueues');
      }
    } else if (msg.type === 'refresh') {
      if (this.state !== 'none') this.requestEmitter.fire(panel.kind === 'levels' ? 'streams' : 'virtqueues');
    }
    // openMemory is the inspector controller's own business (it needs VS Code).
  }

  private broadcast(kinds: PanelKind[], msg: ToPanel): void {
    for (const p of this.panels.keys()) {
      if (p.visible && kinds.includes(p.kind)) this.safePost(p, msg);
    }
  }

  private safePost(p: HubPanel, msg: ToPanel): void {
    try {
      p.post(msg);
    } catch {
      // A panel being torn down may throw; it is detached by its dispose event.
    }
  }

  private anyVisible(kind: PanelKind): boolean {
    for (const p of this.panels.keys()) if (p.kind === kind && p.visible) return true;
    return false;
  }

  private checkWants(): void {
    const key = `${this.wantsVirtqueues}/${this.wantsLevels}`;
    if (key === this.wantsKey) return;
    this.wantsKey = key;
    this.wantsEmitter.fire();
  }
}
