// Samples the sound card's shared stream state (readStreams on the device-state SharedArrayBuffer
// MachineHost publishes) from the test's thread while the guest runs, without messaging the
// worker: what the debugger's Devices view and the levels panel see.
import { readStreams } from '../../../src/devices/virtio-snd/snd-layout';
import type { StreamSnapshot } from '../../../src/shared/protocol';
import type { MachineHost } from '../../../src/host/machine-host';

export function soundState(host: MachineHost): SharedArrayBuffer {
  const snd = host.virtio.find((v) => v.name === 'virtio-snd');
  if (!snd?.deviceState) throw new Error(`no virtio-snd device state among ${host.virtio.map((v) => v.name).join(', ')}`);
  return snd.deviceState;
}

export interface StreamSamples {
  /** Every sample taken: [host ms since start, snapshots]. */
  samples: { ms: number; streams: StreamSnapshot[] }[];
  /** Each stream's last snapshot taken while it was running. */
  lastRunning: Map<number, StreamSnapshot>;
  /** Backend failures seen (stream id → message). */
  failures: Map<number, string>;
}

/** Samples every `everyMs` until stop(); keeps all samples (a minute at 5 ms is ~12k, fine). */
export function watchStreams(host: MachineHost, everyMs = 5): { stop(): StreamSamples } {
  const sab = soundState(host);
  const out: StreamSamples = { samples: [], lastRunning: new Map(), failures: new Map() };
  const t0 = performance.now();
  const take = () => {
    const streams = readStreams(sab);
    out.samples.push({ ms: performance.now() - t0, streams });
    for (const s of streams) {
      if (s.state === 'running') out.lastRunning.set(s.id, s);
      if (s.backendFailure) out.failures.set(s.id, s.backendFailure);
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return out;
    },
  };
}
