// The audio host's wire protocol (parent: portaudio.ts, child: audio-host.ts).
//
// One audio-host process per open stream (and one idle spare per backend, started ahead).
// Control travels as JSON over the IPC channel; PCM bytes travel over one extra pipe, the
// child's fd 4 (parent → child for output, child → parent for input). stdout is not usable for
// PCM: naudiodon's native code printf()s there.

import type { Direction, SampleFormat } from './backend';

/** The child's fd carrying PCM (stdio index in the parent's spawn options). */
export const PCM_FD = 4;

/** argv[3] of a spare audio host, one started ahead of need (portaudio.ts PortAudioBackend). */
export const SPARE_ARG = '--spare';

export interface OpenRequest {
  t: 'open';
  dir: Direction;
  /** Substring of a PortAudio device name; null for the default device of `dir`. */
  device: string | null;
  rate: number;
  channels: number;
  format: SampleFormat;
  /** Frames per PortAudio callback and per chunk written to or read from naudiodon. */
  framesPerBuffer: number;
  /** naudiodon's queue depth in chunks (its latency) */
  maxQueue: number;
  /** Output: largest backlog of guest frames the child holds before dropping the oldest. */
  maxPendingFrames: number;
}

export type HostRequest = OpenRequest | { t: 'start' } | { t: 'stop' } | { t: 'close' } | { t: 'list' };

export interface HostDevice {
  id: number;
  name: string;
  hostAPIName: string;
  maxInputChannels: number;
  maxOutputChannels: number;
  defaultSampleRate: number;
  defaultInput: boolean;
  defaultOutput: boolean;
}

/**
 * Progress, sent on every chunk with guest data and at least every 100 ms.
 * Output: `frames` = guest frames handed to PortAudio so far, `silence` = silent frames inserted.
 * Input: `frames` = frames captured while started (sent or dropped).
 * `device` = frames the device moved in total, started or not: the parent's watchdog.
 */
export interface Progress {
  t: 'progress';
  frames: number;
  silence: number;
  device: number;
  /** Output: dropouts while started (guest data ran out); input: chunks dropped (pipe backlog). */
  xruns: number;
  dropped: number;
}

export type HostReply =
  | { t: 'opened'; device: string }
  | Progress
  | { t: 'error'; message: string }
  | { t: 'devices'; devices: HostDevice[] }
  | { t: 'closed' };
