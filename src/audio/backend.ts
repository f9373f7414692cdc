// The one interface between the sound device model and host audio (DESIGN.md §5).
// The device model only ever touches `stream.ring`; everything else here is the host side.
//
//   output (TX, playback): device model produces into ring → backend consumes (PortAudio / WAV / discard)
//   input  (RX, capture):  backend produces into ring (drop-oldest on overrun) → device model consumes
//
// Backend specs, as typed on the CLI (--audio-out / --audio-in) and in launch.json (audioOut / audioIn):
//   'portaudio'            PortAudio's default device for the direction
//   'portaudio:NAME'       the first PortAudio device whose name contains NAME
//   'wav:PATH'             output: write a WAV file; input: read a WAV file (looped? no: silence after its end)
//   'null'                 output: discard; input: silence
// A backend that fails (device missing, audio process died) turns its stream into 'null' with
// one warning; the guest keeps running.

import type { PcmRing } from './ring';

export type SampleFormat = 'S16' | 'S32' | 'FLOAT';
export type Direction = 'output' | 'input';

export interface PcmParams {
  direction: Direction;
  rate: number; // frames per second
  channels: number; // 1..2
  format: SampleFormat;
  /** The driver's period and buffer sizes in bytes (virtio-snd PCM_SET_PARAMS). */
  periodBytes: number;
  bufferBytes: number;
}

/**
 * How much faster than nominal a device's clock may run (real cards: < 0.1 %). Nothing that
 * estimates a device's position (the audio host, the sound card's return pacer) lets it run
 * further ahead of the clock: a clockless device (file-backed ALSA) takes whatever it is given.
 */
export const DRIFT_MAX = 0.005;

export function sampleBytes(format: SampleFormat): number {
  return format === 'S16' ? 2 : 4;
}

export function frameBytes(p: Pick<PcmParams, 'format' | 'channels'>): number {
  return sampleBytes(p.format) * p.channels;
}

export interface AudioStreamStats {
  /** Frames the host side moved (played or captured). */
  frames: number;
  /** Host-side xruns: output underruns (host wanted data, ring empty), input overruns (ring full, oldest dropped). */
  xruns: number;
  /** Bytes in the ring now, and its capacity. */
  fill: number;
  capacity: number;
}

export interface AudioStream {
  readonly params: PcmParams;
  readonly ring: PcmRing;
  /** What the user sees: 'portaudio:pulse', 'wav:/tmp/tx.wav', 'null' (after a fallback too). */
  readonly description: string;
  /** Non-null once the backend failed and fell back to null: the one warning, for the UI. */
  readonly failure: string | null;
  /**
   * The host side moves audio on a real device's clock (or none: a file-backed ALSA device), in
   * chunks and possibly ahead of the nominal rate: the sound card then holds its returns to real
   * time since START (snd-pace.ts, rule 3). Absent: paced by guest time, never ahead.
   */
  readonly deviceClock?: boolean;
  /** PCM_START / PCM_STOP: the host side starts or stops moving data. Never blocks. */
  start(): void;
  stop(): void;
  /** PCM_RELEASE: free everything (files closed and flushed, audio process stream closed). */
  close(): void;
  /**
   * Called by the machine between run slices with the guest clock in seconds. Backends paced by
   * guest time (wav, null) move `rate × elapsed` frames here, so a run with --time icount is
   * deterministic; real-time backends use it only to service their pipes.
   */
  poll(guestSeconds: number): void;
  stats(): AudioStreamStats;
  /**
   * Output only, optional: frames the backend has taken from the ring but its device has not
   * taken yet (a prefill ahead of the device). The device model counts them as not yet played.
   */
  pendingFrames?(): number;
}

export interface AudioBackend {
  readonly spec: string;
  /**
   * How long a released stream may stay open for a PREPARE with the same parameters (ms; none
   * when absent). For backends whose open is slow: PortAudio starts a process per stream, and
   * Linux recovers from every xrun with RELEASE + PREPARE.
   */
  readonly keepWarmMs?: number;
  /**
   * The shortest guest period and buffer (seconds) this backend's streams keep in real time; the
   * sound card refuses SET_PARAMS for shorter ones (NOT_SUPP, and a warning saying what to ask
   * for). Absent: any (streams paced by guest time).
   */
  readonly minPeriodSeconds?: number;
  readonly minBufferSeconds?: number;
  /** Opens a stream; never throws for device trouble (falls back to null and sets `failure`). */
  open(params: PcmParams): AudioStream;
  /** Frees the backend (the audio process, if any). */
  dispose(): void;
}
