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

/** A per-stream counter summed across the resets PREPARE makes (a drop to a lower value). */
function summed(snaps: StreamSnapshot[][], id: number, key: 'framesMoved' | 'xrunsHost'): number {
  let total = 0;
  let last = 0;
  for (const s of snaps) {
    const v = s.find((x) => x.id === id)?.[key] ?? 0;
    if (v < last) total += last;
    last = v;
  }
  return total + last;
}

async function soak(label: string, seconds: number, boot: () => Promise<GuestSession>): Promise<SoakResult> {
  const g = await boot();
  try {
    const sab = soundState(g.host);
    const snaps: StreamSnapshot[][] = [];
    const rss: { t: number; mb: number }[] = [];
    const t0 = performance.now();
    const sample = () => snaps.push(readStreams(sab));
    const timers = [
      setInterval(sample, 20),
      setInterval(() => rss.push({ t: (performance.now() - t0) / 1000, mb: process.memoryUsage().rss / 1048576 }), 5000),
    ];
    rss.push({ t: 0, mb: process.memoryUsage().rss / 1048576 });
    const r = await g.run(`pcm loop ${seconds} -r ${RATE} -c 2 -F S16 -p ${PERIOD} -b ${PERIOD * PERIODS}`, { timeoutMs: seconds * 1000 + 120_000 });
    for (const t of timers) clearInterval(t);
    sample();
    rss.push({ t: (performance.now() - t0) / 1000, mb: process.memoryUsage().rss / 1048576 });
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
    const out = summed(snaps, 0, 'framesMoved');
    const inn = summed(snaps, 1, 'framesMoved');
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
      xruns_host: summed(snaps, 0, 'xrunsHost') + summed(snaps, 1, 'xrunsHost'),
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
