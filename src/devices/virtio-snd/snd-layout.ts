// The virtio-snd streams as the debugger and the levels panel see them: one SharedArrayBuffer
// (`VirtioSnd.state`) written by the emulator worker with plain stores, read from the extension
// host without messaging. Counters and levels are single 32-bit slots (no tearing); the
// parameters and the backend strings change together, so they sit under a sequence counter
// (odd while the worker writes them) and readers retry on a change.
//
//   header:  [MAGIC, VERSION, STREAM_COUNT, RECORD_BYTES]
//   records: STREAM_COUNT × RECORD_BYTES, each = F_COUNT int32/float32 slots, then the backend
//            description and failure as UTF-8 (STR_BYTES each, NUL-padded).

import type { StreamSnapshot, StreamState } from '../../shared/protocol';
import { formatName } from './snd-proto';

export const SND_STATE_MAGIC = 0x534e4431; // 'SND1'
export const SND_STATE_VERSION = 1;
const HEADER_INTS = 4;
const H_MAGIC = 0;
const H_VERSION = 1;
const H_COUNT = 2;
const H_RECORD_BYTES = 3;

// Slots of one stream record (int32 unless marked float32).
export const F_SEQ = 0; // params/strings sequence: odd while being written
export const F_DIRECTION = 1; // 0 output, 1 input
export const F_STATE = 2; // StreamState index (STATE_NAMES)
export const F_FORMAT = 3; // virtio format code, -1 before PCM_SET_PARAMS
export const F_RATE = 4; // Hz
export const F_CHANNELS = 5;
export const F_PERIOD_BYTES = 6;
export const F_BUFFER_BYTES = 7;
export const F_FRAMES = 8; // frames moved since PREPARE (uint32, wraps)
export const F_IN_FLIGHT = 9; // guest buffers held by the device
export const F_RING_FILL = 10; // bytes
export const F_RING_CAPACITY = 11; // bytes, 0 when no host stream is open
export const F_XRUNS_GUEST = 12; // XRUN events delivered to the guest
export const F_XRUNS_HOST = 13; // host under/overruns since PREPARE
export const F_PEAK = 14; // float32
export const F_RMS = 15; // float32
export const F_XRUNS_DROPPED = 16; // XRUN events lost: no event buffer, or rate-limited
export const F_COUNT = 20;

export const STR_BYTES = 96;
const STR_DESCRIPTION = F_COUNT * 4;
const STR_FAILURE = STR_DESCRIPTION + STR_BYTES;
export const RECORD_BYTES = STR_FAILURE + STR_BYTES;

export const STATE_NAMES: readonly StreamState[] = ['set-up', 'prepared', 'running', 'stopped', 'released'];

export function allocateSndState(streams: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(HEADER_INTS * 4 + streams * RECORD_BYTES);
  const h = new Int32Array(sab, 0, HEADER_INTS);
  h[H_MAGIC] = SND_STATE_MAGIC;
  h[H_VERSION] = SND_STATE_VERSION;
  h[H_COUNT] = streams;
  h[H_RECORD_BYTES] = RECORD_BYTES;
  return sab;
}

/** The worker's handle on one stream's record. */
export class StreamRecord {
  readonly i32: Int32Array;
  readonly f32: Float32Array;
  private readonly bytes: Uint8Array;
  private static readonly encoder = new TextEncoder();

  constructor(state: SharedArrayBuffer, id: number) {
    const off = HEADER_INTS * 4 + id * RECORD_BYTES;
    this.i32 = new Int32Array(state, off, F_COUNT);
    this.f32 = new Float32Array(state, off, F_COUNT);
    this.bytes = new Uint8Array(state, off, RECORD_BYTES);
  }

  /** Brackets a change of parameters/state/strings so readers never see half of it. */
  beginUpdate(): void {
    Atomics.add(this.i32, F_SEQ, 1);
  }
  endUpdate(): void {
    Atomics.add(this.i32, F_SEQ, 1);
  }

  setStrings(description: string, failure: string | null): void {
    this.writeString(STR_DESCRIPTION, description);
    this.writeString(STR_FAILURE, failure ?? '');
  }

  private writeString(at: number, s: string): void {
    const dst = this.bytes.subarray(at, at + STR_BYTES - 1);
    dst.fill(0);
    // encodeInto stops before a character that does not fit: the result stays valid UTF-8.
    StreamRecord.encoder.encodeInto(s, dst);
  }
}

function readString(bytes: Uint8Array, at: number): string {
  let end = at;
  while (end < at + STR_BYTES && bytes[end] !== 0) end++;
  // slice() copies into a non-shared buffer, which TextDecoder accepts everywhere.
  return new TextDecoder().decode(bytes.slice(at, end));
}

function frameBytesOf(format: number, channels: number): number {
  const name = formatName(format);
  if (name === null || channels <= 0) return 0;
  return (name === 'S16' ? 2 : 4) * channels;
}

function readRecord(state: SharedArrayBuffer, id: number): StreamSnapshot {
  const off = HEADER_INTS * 4 + id * RECORD_BYTES;
  const i32 = new Int32Array(state, off, F_COUNT);
  const f32 = new Float32Array(state, off, F_COUNT);
  const bytes = new Uint8Array(state, off, RECORD_BYTES);
  for (let attempt = 0; ; attempt++) {
    const seq = Atomics.load(i32, F_SEQ);
    const format = i32[F_FORMAT];
    const channels = i32[F_CHANNELS];
    const fb = frameBytesOf(format, channels);
    const snap: StreamSnapshot = {
      id,
      direction: i32[F_DIRECTION] === 1 ? 'input' : 'output',
      state: STATE_NAMES[i32[F_STATE]] ?? 'set-up',
      format: formatName(format),
      rate: i32[F_RATE],
      channels,
      periodBytes: i32[F_PERIOD_BYTES],
      bufferBytes: i32[F_BUFFER_BYTES],
      backend: readString(bytes, STR_DESCRIPTION),
      backendFailure: readString(bytes, STR_FAILURE) || null,
      ringFill: fb > 0 ? Math.floor(i32[F_RING_FILL] / fb) : 0,
      ringCapacity: fb > 0 ? Math.floor(i32[F_RING_CAPACITY] / fb) : 0,
      framesMoved: i32[F_FRAMES] >>> 0,
      buffersInFlight: i32[F_IN_FLIGHT],
      xrunsGuest: i32[F_XRUNS_GUEST],
      xrunsHost: i32[F_XRUNS_HOST],
      peak: f32[F_PEAK],
      rms: f32[F_RMS],
    };
    // A writer mid-update (odd) or a change during the read: read again (bounded; the worker
    // never holds an update open across anything slow, so the second try nearly always wins).
    if (((seq & 1) === 0 && Atomics.load(i32, F_SEQ) === seq) || attempt >= 100) return snap;
  }
}

/** Plain-object snapshots of every stream, for the debugger's Devices scope and the panels. */
export function readStreams(state: SharedArrayBuffer): StreamSnapshot[] {
  if (state.byteLength < HEADER_INTS * 4) return [];
  const h = new Int32Array(state, 0, HEADER_INTS);
  if (h[H_MAGIC] !== SND_STATE_MAGIC || h[H_RECORD_BYTES] !== RECORD_BYTES) return [];
  const count = Math.min(h[H_COUNT], Math.floor((state.byteLength - HEADER_INTS * 4) / RECORD_BYTES));
  const out: StreamSnapshot[] = [];
  for (let id = 0; id < count; id++) out.push(readRecord(state, id));
  return out;
}
