// What the levels panel knows, independent of the DOM: one entry per PCM stream with its meters
// (ballistics), history and the last stream facts. Messages are applied here as they arrive; the
// view reads the model once per frame. Paused or no session: level messages are ignored, so the
// meters stay exactly as they were when the machine stopped.
import type { LevelsEventBody, SessionState, StreamSnapshot, StreamState, StreamsResponseBody } from '../../src/shared/protocol';
import { PeakMeter } from './ballistics';
import { DB_FLOOR, clampDb, linearToDb } from './dbfs';
import { count } from './format';
import { LevelHistory } from './history';

/** Level messages come at ~20 Hz: 120 entries are the last 6 seconds. */
export const HISTORY_LENGTH = 120;
/** A gap longer than this between two messages (a stall, a resume) counts as this much time. */
const MAX_STEP_SECONDS = 0.25;
/** How long an xrun counter stays highlighted after it moved. */
export const XRUN_FLASH_SECONDS = 2;

const STATES: readonly StreamState[] = ['set-up', 'prepared', 'running', 'stopped', 'released'];
const FORMATS = ['S16', 'S32', 'FLOAT'] as const;

export interface StreamView {
  id: number;
  direction: 'output' | 'input';
  state: StreamState;
  format: StreamSnapshot['format'];
  rate: number;
  channels: number;
  backend: string;
  backendFailure: string | null;
  ringFill: number;
  ringCapacity: number;
  xrunsGuest: number;
  xrunsHost: number;
  /** From the slower `streams` answer; undefined until one arrives. */
  periodBytes?: number;
  bufferBytes?: number;
  framesMoved?: number;
  buffersInFlight?: number;
  /** Last window's values as reported, dB (DB_FLOOR for silence). */
  peakDb: number;
  rmsDb: number;
  peak: PeakMeter;
  history: LevelHistory;
  /** Model clock (s) when an xrun counter last went up; −Infinity if never. */
  xrunAt: number;
}

export interface SavedLevels {
  v: 1;
  session: SessionState;
  sessionName: string;
  guestTime: number;
  clock: number;
  streams: (Omit<StreamView, 'peak' | 'history'> & { level: number; held: number; heldAge: number; history: unknown })[];
}

type RawStream = Partial<StreamSnapshot> & Record<string, unknown>;

export class LevelsModel {
  session: SessionState = 'none';
  sessionName = '';
  /** Guest seconds of the last applied level message. */
  guestTime = 0;
  /** Seconds of running time seen by this panel: drives ballistics and highlights. */
  clock = 0;
  streams: StreamView[] = [];
  /** Bumped on every change, so the view can skip frames with nothing new. */
  version = 0;
  private lastMs: number | undefined;

  applySession(state: SessionState, name?: string): void {
    if (state === this.session && (name ?? this.sessionName) === this.sessionName) return;
    this.session = state;
    if (name !== undefined) this.sessionName = name;
    this.lastMs = undefined; // the time spent paused or away does not count
    if (state === 'none') {
      this.streams = [];
      this.sessionName = name ?? '';
      this.guestTime = 0;
    }
    this.version++;
  }

  /** Applies one `levels` message received at `nowMs` (host ms). False when ignored (not running). */
  applyLevels(body: LevelsEventBody, nowMs: number): boolean {
    if (this.session !== 'running') return false;
    const dt = this.lastMs === undefined ? 0 : Math.min(MAX_STEP_SECONDS, Math.max(0, (nowMs - this.lastMs) / 1000));
    this.lastMs = nowMs;
    this.clock += dt;
    if (Number.isFinite(body.time)) this.guestTime = body.time;

    const next: StreamView[] = [];
    for (const raw of body.streams as RawStream[]) {
      if (typeof raw !== 'object' || raw === null) continue;
      const id = count(raw.id);
      const s = this.byId(id) ?? newStream(id);
      applyFacts(s, raw);
      s.peakDb = clampDb(linearToDb(Number(raw.peak)));
      s.rmsDb = clampDb(linearToDb(Number(raw.rms)));
      const xruns = s.xrunsGuest + s.xrunsHost;
      s.xrunsGuest = count(raw.xrunsGuest);
      s.xrunsHost = count(raw.xrunsHost);
      if (s.xrunsGuest + s.xrunsHost > xruns && s.history.length > 0) s.xrunAt = this.clock;
      s.peak.update(s.peakDb, dt);
      s.history.push(s.peakDb, s.rmsDb);
      if (!next.includes(s)) next.push(s);
    }
    next.sort((a, b) => a.id - b.id);
    this.streams = next;
    this.version++;
    return true;
  }

  /** The `streams` answer: exact facts (also while paused); levels stay as they are. */
  applyStreams(body: StreamsResponseBody): void {
    if (this.session === 'none') return;
    for (const raw of body.streams as RawStream[]) {
      if (typeof raw !== 'object' || raw === null) continue;
      const id = count(raw.id);
      let s = this.byId(id);
      if (!s) {
        s = newStream(id);
        this.streams.push(s);
        this.streams.sort((a, b) => a.id - b.id);
      }
      applyFacts(s, raw);
      s.xrunsGuest = count(raw.xrunsGuest);
      s.xrunsHost = count(raw.xrunsHost);
      if (raw.periodBytes !== undefined) s.periodBytes = count(raw.periodBytes);
      if (raw.bufferBytes !== undefined) s.bufferBytes = count(raw.bufferBytes);
      if (raw.framesMoved !== undefined) s.framesMoved = count(raw.framesMoved);
      if (raw.buffersInFlight !== undefined) s.buffersInFlight = count(raw.buffersInFlight);
    }
    this.version++;
  }

  byId(id: number): StreamView | undefined {
    return this.streams.find((s) => s.id === id);
  }

  save(): SavedLevels {
    return {
      v: 1,
      session: this.session,
      sessionName: this.sessionName,
      guestTime: this.guestTime,
      clock: this.clock,
      streams: this.streams.map(({ peak, history, ...rest }) => ({
        ...rest,
        xrunAt: Number.isFinite(rest.xrunAt) ? rest.xrunAt : -1e9,
        level: peak.level,
        held: peak.held,
        heldAge: peak.heldAge,
        history: history.toJSON(),
      })),
    };
  }

  /** Rebuilds a model from saved state; anything unrecognisable gives an empty model. */
  static restore(saved: unknown): LevelsModel {
    const m = new LevelsModel();
    const s = saved as Partial<SavedLevels> | undefined;
    if (!s || s.v !== 1 || !Array.isArray(s.streams)) return m;
    m.session = ['none', 'running', 'paused'].includes(s.session as string) ? (s.session as SessionState) : 'none';
    m.sessionName = typeof s.sessionName === 'string' ? s.sessionName : '';
    m.guestTime = Number(s.guestTime) || 0;
    m.clock = Number(s.clock) || 0;
    for (const raw of s.streams) {
      const v = newStream(count(raw.id));
      applyFacts(v, raw as unknown as RawStream);
      v.xrunsGuest = count(raw.xrunsGuest);
      v.xrunsHost = count(raw.xrunsHost);
      v.peakDb = clampDb(Number(raw.peakDb));
      v.rmsDb = clampDb(Number(raw.rmsDb));
      v.peak.level = clampDb(Number(raw.level));
      v.peak.held = Math.max(v.peak.level, clampDb(Number(raw.held)));
      v.peak.heldAge = Number(raw.heldAge) || 0;
      v.history = LevelHistory.fromJSON(HISTORY_LENGTH, raw.history);
      v.xrunAt = Number(raw.xrunAt);
      for (const k of ['periodBytes', 'bufferBytes', 'framesMoved', 'buffersInFlight'] as const) {
        if (raw[k] !== undefined) v[k] = count(raw[k]);
      }
      m.streams.push(v);
    }
    m.streams.sort((a, b) => a.id - b.id);
    return m;
  }
}

function newStream(id: number): StreamView {
  return {
    id,
    direction: 'output',
    state: 'set-up',
    format: null,
    rate: 0,
    channels: 0,
    backend: '',
    backendFailure: null,
    ringFill: 0,
    ringCapacity: 0,
    xrunsGuest: 0,
    xrunsHost: 0,
    peakDb: DB_FLOOR,
    rmsDb: DB_FLOOR,
    peak: new PeakMeter(),
    history: new LevelHistory(HISTORY_LENGTH),
    xrunAt: -Infinity,
  };
}

/** Copies the slowly-changing facts, each checked, from a levels or streams entry. */
function applyFacts(s: StreamView, raw: RawStream): void {
  s.direction = raw.direction === 'input' ? 'input' : 'output';
  if (STATES.includes(raw.state as StreamState)) s.state = raw.state as StreamState;
  s.format = FORMATS.includes(raw.format as (typeof FORMATS)[number]) ? (raw.format as StreamView['format']) : null;
  s.rate = count(raw.rate);
  s.channels = count(raw.channels);
  if (typeof raw.backend === 'string') s.backend = raw.backend;
  if (raw.backendFailure !== undefined) s.backendFailure = typeof raw.backendFailure === 'string' && raw.backendFailure ? raw.backendFailure : null;
  s.ringCapacity = count(raw.ringCapacity);
  s.ringFill = Math.min(count(raw.ringFill), s.ringCapacity || Infinity);
}
