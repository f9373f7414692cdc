// Audio benchmark: the real Linux guest plays and captures at once for `seconds` (48 kHz stereo
// S16, `pcm loop`), in real time (--time host), through PortAudio and the private PulseAudio rig
// of the real-time loopback test (test/sound-guest/helpers/realtime.ts: a 440 Hz sine in, a null
// sink out). docs/sound-tests.md says what each number means and how it is measured.
//
//   npx esbuild bench/audio.ts --bundle --platform=node --packages=external --outfile=out/bench-audio.js
//   node out/bench-audio.js [SECONDS] [PERIOD_FRAMES] [PERIODS]     (needs dist/: node scripts/build.mjs)

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { childPids, GuestSession } from '../test/helpers/guest-session';
import { GUEST_IN, GUEST_OUT, startRealtimeRig } from '../test/sound-guest/helpers/realtime';
import { soundState } from '../test/sound-guest/helpers/streams';
import { readStreams } from '../src/devices/virtio-snd/snd-layout';
import type { StreamSnapshot } from '../src/shared/protocol';

export interface AudioBench {
  /** Guest-side xruns (ALSA -EPIPE, recovered by PREPARE): capture + playback, from the pcm line. */
  xruns_guest: number;
  /** Host-side xruns the device saw (output underruns, input overruns, bridged device stalls). */
  xruns_host: number;
  /** Mean time a captured frame waits between the host ring and the guest getting its buffer, in periods. */
  capture_latency_periods: number;
  /** Emulator CPU (all its threads) spent because audio runs, per second of audio: loop minus idle.
   *  A difference of two noisy numbers: on a shared machine it can even come out negative. */
  audio_cpu_ms_per_s: number;
  /** The two numbers behind it: emulator process CPU per wall second while looping audio, and idle. */
  emulator_cpu_ms_per_s_loop: number;
  emulator_cpu_ms_per_s_idle: number;
  /** The same for the two audio-host processes (PortAudio), which run beside the emulator. */
  audio_host_cpu_ms_per_s: number;
  /** Capture latency details: 95th percentile and maximum of the same backlog, in periods. */
  capture_latency_p95_periods: number;
  capture_latency_max_periods: number;
  /** Ring fill seen in the first sample after each returned capture buffer, mean, in periods. */
  capture_ring_at_return_periods: number;
  xruns_host_output: number;
  xruns_host_input: number;
  period_frames: number;
  periods: number;
  seconds: number;
  /** The guest's summary line. */
  guest_line: string;
}

/** CPU seconds (user + system) of process `pid` so far, or null once it is gone. */
function procCpuSeconds(pid: number, tick: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / tick; // utime, stime (fields 14 and 15)
  } catch {
    return null;
  }
}

/** Samples the sound card's shared state and the audio hosts' CPU while a command runs. */
class Sampler {
  readonly snaps: { t: number; streams: StreamSnapshot[] }[] = [];
  private readonly hostCpu = new Map<number, { first: number; last: number }>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    sab: SharedArrayBuffer,
    private readonly ignorePids: Set<number>,
    private readonly tick: number,
    everyMs: number,
  ) {
    this.timers.push(setInterval(() => this.snaps.push({ t: performance.now(), streams: readStreams(sab) }), everyMs));
    this.timers.push(setInterval(() => this.cpu(), 100));
  }

  private cpu(): void {
    for (const pid of childPids()) {
      if (this.ignorePids.has(pid)) continue;
      const s = procCpuSeconds(pid, this.tick);
      if (s === null) continue;
      const e = this.hostCpu.get(pid);
      if (e) e.last = s;
      else this.hostCpu.set(pid, { first: s, last: s });
    }
  }

  stop(): { hostCpuSeconds: number } {
    for (const t of this.timers) clearInterval(t);
    this.cpu();
    let sum = 0;
    // An audio host started during the run: its whole CPU counts (first reading ~0 s anyway).
    for (const e of this.hostCpu.values()) sum += e.last;
    return { hostCpuSeconds: sum };
  }
}

/** Host xruns of one stream over the samples; PREPARE (a guest xrun) resets the device's count. */
function hostXruns(snaps: { streams: StreamSnapshot[] }[], id: number): number {
  let total = 0;
  let last = 0;
  for (const s of snaps) {
    const v = s.streams[id]?.xrunsHost ?? 0;
    if (v < last) total += last;
    last = v;
  }
  return total + last;
}

function percentile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
}

export async function benchAudio(seconds = 60, periodFrames = 960, periods = 4): Promise<AudioBench> {
  const tick = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const rig = await startRealtimeRig(440);
  let g: GuestSession | null = null;
  try {
    const rigPids = new Set(childPids()); // pulseaudio and its keepers: not ours to count
    g = await GuestSession.boot({ audioOut: GUEST_OUT, audioIn: GUEST_IN, time: 'host', env: rig.env });
    const sab = soundState(g.host);
    const sampleMs = 5;

    // Baseline: the same machine and sampler with the guest idle (sleep), no stream open.
    const idleS = Math.min(10, seconds);
    let s = new Sampler(sab, rigPids, tick, sampleMs);
    let c0 = process.cpuUsage();
    let t0 = performance.now();
    await g.run(`sleep ${idleS}`, { timeoutMs: idleS * 1000 + 30_000 });
    const idleCpu = process.cpuUsage(c0);
    const idleWall = (performance.now() - t0) / 1000;
    s.stop();

    // Playback and capture at once, for `seconds`.
    s = new Sampler(sab, rigPids, tick, sampleMs);
    c0 = process.cpuUsage();
    t0 = performance.now();
    const r = await g.run(`pcm loop ${seconds} -r 48000 -c 2 -F S16 -p ${periodFrames} -b ${periodFrames * periods}`, { timeoutMs: seconds * 1000 + 60_000 });
    const loopCpu = process.cpuUsage(c0);
    const loopWall = (performance.now() - t0) / 1000;
    const { hostCpuSeconds } = s.stop();
    const p = r.pcm;
    if (!p || p.verb !== 'loop') throw new Error(`pcm loop failed: ${r.output.trim()}`);

    // Capture latency (docs/sound-tests.md): frames waiting between the host ring and the guest
    // getting the buffer they belong to = ring fill + the part of the current period already
    // copied into the guest's buffer. Sampled at regular times, its mean over the run is the
    // mean wait of a frame (Little's law: frames waiting = rate × mean wait).
    const waiting: number[] = [];
    const atReturn: number[] = [];
    let prevPeriod = -1;
    for (const snap of s.snaps) {
      const rx = snap.streams.find((x) => x.direction === 'input');
      if (!rx || rx.state !== 'running' || rx.periodBytes === 0) continue;
      const fb = (rx.format === 'S16' ? 2 : 4) * rx.channels;
      const per = rx.periodBytes / fb;
      waiting.push((rx.ringFill + (rx.framesMoved % per)) / per);
      const period = Math.floor(rx.framesMoved / per);
      if (prevPeriod >= 0 && period > prevPeriod) atReturn.push(rx.ringFill / per);
      prevPeriod = period;
    }
    const sorted = [...waiting].sort((a, b) => a - b);
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
    const outX = hostXruns(s.snaps, 0);
    const inX = hostXruns(s.snaps, 1);
    const result: AudioBench = {
      xruns_guest: p.num('rec_xruns') + p.num('play_xruns'),
      xruns_host: outX + inX,
      capture_latency_periods: mean(waiting),
      audio_cpu_ms_per_s: cpuMs(loopCpu) / loopWall - cpuMs(idleCpu) / idleWall,
      emulator_cpu_ms_per_s_loop: cpuMs(loopCpu) / loopWall,
      emulator_cpu_ms_per_s_idle: cpuMs(idleCpu) / idleWall,
      audio_host_cpu_ms_per_s: (hostCpuSeconds * 1000) / loopWall,
      capture_latency_p95_periods: percentile(sorted, 0.95),
      capture_latency_max_periods: sorted.length ? sorted[sorted.length - 1] : NaN,
      capture_ring_at_return_periods: mean(atReturn),
      xruns_host_output: outX,
      xruns_host_input: inX,
      period_frames: periodFrames,
      periods,
      seconds,
      guest_line: p.raw,
    };
    await g.poweroff();
    return result;
  } finally {
    await g?.dispose();
    await rig.stop();
  }
}
