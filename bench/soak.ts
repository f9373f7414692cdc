// Soak benchmark: the real Linux guest loops capture → playback (`pcm loop`, 48 kHz stereo S16,
// 20 ms × 4) for a long time in real time (--time host), and we watch what a long session does
// to the emulator: its resident memory (sampled every 5 s; after the first minute it must stay
// within ±5 MB), the xruns on both sides, and the frame counts (the guest's, exactly
// seconds × rate both ways; the device's, within a buffer of them: what the last period pads
// and what RELEASE returns half filled).
//
//   npm run bench -- soak            30 min with null audio, then 5 min through the PulseAudio loopback
//   SOAK_NULL_S=60 SOAK_PULSE_S=30 npm run bench -- soak     (shorter, for a try)
//   SOAK_NULL_TIME=icount ...        the null run on the icount clock (30 min of guest time: on a
//                                    host loaded past its cores, host time starves the guest)

import { GuestSession } from '../test/helpers/guest-session';
import { GUEST_IN, GUEST_OUT, startRealtimeRig } from '../test/sound-guest/helpers/realtime';
import { soundState } from '../test/sound-guest/helpers/streams';
import { readStreams } from '../src/devices/virtio-snd/snd-layout';
import type { StreamSnapshot } from '../src/shared/protocol';

const RATE = 48000;
const PERIOD = 960;
const PERIODS = 4;

export interface SoakResult {
  backend: string;
  seconds: number;
  /** Resident memory of the emulator process (the worker is a thread of it), MB. */
  rss_first_mb: number;
  rss_min_after_1min_mb: number;
  rss_max_after_1min_mb: number;
  rss_last_mb: number;
  /** max − min after the first minute: the flatness the soak asserts (≤ 5 MB). */
  rss_spread_mb: number;
  /** The same over the lowest sample of each 30 s (the troughs after garbage collection). */
  rss_floor_spread_mb: number;
  /** max − min of the V8 heap in use after the first minute (what of the RSS is JavaScript's). */
  heap_spread_mb: number;
  xruns_guest: number;
  xruns_host: number;
  guest_rec_frames: number;
  guest_play_frames: number;
  /** Frames the device moved, summed across the PREPAREs a guest xrun makes. */
  device_out_frames: number;
  device_in_frames: number;
  frames_exact: boolean;
  guest_line: string;
  wall_s: number;
}

/**
 * A per-stream counter summed across the resets PREPARE makes (a drop to a lower value), kept as
 * it goes: the soak once kept every 20 ms snapshot (90 000 in 30 min) and measured its own
 * memory growing with them (+30 MB), in the process it measures.
 */
class Summed {
  private total = 0;
  private last = 0;
  see(v: number): void {
    if (v < this.last) this.total += this.last;
    this.last = v;
  }
  get value(): number {
    return this.total + this.last;
  }
}

async function soak(label: string, seconds: number, boot: () => Promise<GuestSession>): Promise<SoakResult> {
  const g = await boot();
  try {
    const sab = soundState(g.host);
    const counters = { out: new Summed(), in: new Summed(), outXruns: new Summed(), inXruns: new Summed() };
    const rss: { t: number; mb: number; heapMb: number }[] = [];
    const t0 = performance.now();
    const sample = () => {
      const snap: StreamSnapshot[] = readStreams(sab);
      const at = (id: number) => snap.find((x) => x.id === id);
      counters.out.see(at(0)?.framesMoved ?? 0);
      counters.in.see(at(1)?.framesMoved ?? 0);
      counters.outXruns.see(at(0)?.xrunsHost ?? 0);
      counters.inXruns.see(at(1)?.xrunsHost ?? 0);
    };
    const mem = () => {
      const m = process.memoryUsage();
      rss.push({ t: (performance.now() - t0) / 1000, mb: m.rss / 1048576, heapMb: m.heapUsed / 1048576 });
    };
    const timers = [setInterval(sample, 20), setInterval(mem, 5000)];
    mem();
    const r = await g.run(`pcm loop ${seconds} -r ${RATE} -c 2 -F S16 -p ${PERIOD} -b ${PERIOD * PERIODS}`, { timeoutMs: seconds * 1000 + 120_000 });
    for (const t of timers) clearInterval(t);
    sample();
    mem();
    const p = r.pcm;
    const ok = p !== null && p.verb === 'loop';
    const num = (k: string) => (ok ? p.num(k) : NaN);
    const late = rss.filter((x) => x.t >= 60).map((x) => x.mb);
    const floors: number[] = [];
    for (const x of rss.filter((r) => r.t >= 60)) {
      const w = Math.floor(x.t / 30);
      floors[w] = Math.min(floors[w] ?? Infinity, x.mb);
    }
    const floorVals = floors.filter((v) => v !== undefined);
    const lateMin = late.length ? Math.min(...late) : NaN;
    const lateMax = late.length ? Math.max(...late) : NaN;
    const want = seconds * RATE;
    const out = counters.out.value;
    const inn = counters.in.value;
    const lateHeap = rss.filter((x) => x.t >= 60).map((x) => x.heapMb);
    const buffer = PERIOD * PERIODS;
    const result: SoakResult = {
      backend: label,
      seconds,
      rss_first_mb: rss[0].mb,
      rss_min_after_1min_mb: lateMin,
      rss_max_after_1min_mb: lateMax,
      rss_last_mb: rss[rss.length - 1].mb,
      rss_spread_mb: lateMax - lateMin,
      rss_floor_spread_mb: floorVals.length ? Math.max(...floorVals) - Math.min(...floorVals) : NaN,
      xruns_guest: num('rec_xruns') + num('play_xruns'),
      xruns_host: counters.outXruns.value + counters.inXruns.value,
      heap_spread_mb: lateHeap.length ? Math.max(...lateHeap) - Math.min(...lateHeap) : NaN,
      guest_rec_frames: num('rec_frames'),
      guest_play_frames: num('play_frames'),
      device_out_frames: out,
      device_in_frames: inn,
      frames_exact: num('rec_frames') === want && num('play_frames') === want && out >= want && out - want < buffer && inn >= want && inn - want <= buffer,
      // A loop that failed (EIO on a starved machine) is reported, not thrown: the memory numbers still stand.
      guest_line: ok ? p.raw : `FAILED: ${r.output.trim().split('\n').slice(-2).join(' | ')}`,
      wall_s: (performance.now() - t0) / 1000,
    };
    await g.poweroff();
    return result;
  } finally {
    await g.dispose();
  }
}

/** `pcm loop` with null audio for `seconds` (default 30 min). */
export function soakNull(seconds = Number(process.env.SOAK_NULL_S) || 1800): Promise<SoakResult> {
  const time = process.env.SOAK_NULL_TIME === 'icount' ? 'icount' : 'host';
  return soak(`null, --time ${time}`, seconds, () => GuestSession.boot({ audioOut: 'null', audioIn: 'null', time }));
}

/** `pcm loop` through PortAudio and the private PulseAudio loopback for `seconds` (default 5 min). */
export async function soakPulse(seconds = Number(process.env.SOAK_PULSE_S) || 300): Promise<SoakResult> {
  const rig = await startRealtimeRig(440);
  try {
    return await soak('portaudio → PulseAudio loopback', seconds, () => GuestSession.boot({ audioOut: GUEST_OUT, audioIn: GUEST_IN, time: 'host', env: rig.env }));
  } finally {
    await rig.stop();
  }
}
