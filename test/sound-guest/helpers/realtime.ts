// The real-time rig for the guest's sound card through PortAudio, with no sound card: a private
// PulseAudio (test/audio/pulse.ts) with two null sinks, a sine playing into one of them
// (module-sine), an ALSA config that points the guest's capture at that sink's monitor and its
// playback at the other sink, and a recorder on the other sink's monitor. Used by the real-time
// loopback test and by bench/audio.ts.
//
// Not module-sine-source: it hands out its audio in 2-second blocks (parec sees a 2 s gap every
// 2 s), which no real-time capture survives; a null sink's monitor flows in small steady chunks.
// An idle null sink renders in 2-second blocks too, so a new stream on it (or its monitor) waits
// up to 2 s for its first data: two low-latency recorders ("keepers") stay attached to the
// monitors, as on a desktop where the sound server already runs, and a stream's start costs only
// the audio host's ~150 ms open.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../guest-artifacts/artifacts';
import { startPulse, type Pulse } from '../../audio/pulse';

/** What the guest's `--audio-out` / `--audio-in` name (test/sound-guest/fixtures/pulse-loop.conf). */
export const GUEST_OUT = 'portaudio:semutest_guest_out';
export const GUEST_IN = 'portaudio:semutest_guest_in';
const SINK = 'semutest_sink'; // the guest plays into it
const SOURCE_SINK = 'semutest_src'; // module-sine plays into it; the guest captures its monitor

/** The sink monitor's format as the recorder asks for it. */
export const MONITOR = { rate: 48000, channels: 2, format: 'S16' as const };

export interface Recording {
  /** Stops the recorder and returns the raw S16 stereo frames it wrote. */
  stop(): Promise<Uint8Array>;
  readonly pid: number;
}

export interface RealtimeRig {
  dir: string;
  /** For the emulator worker (and so its audio hosts): ALSA_CONFIG_PATH and the pulse client variables. */
  env: Record<string, string>;
  /** The sine's frequency (module-sine plays it at amplitude 0.5, checked by the loopback test). */
  freq: number;
  /** Starts recording the null sink's monitor (what the guest plays) with parecord. */
  recordMonitor(): Recording;
  stop(): Promise<void>;
}

function pactl(env: NodeJS.ProcessEnv, args: string[]): string {
  const r = spawnSync('pactl', args, { env, encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new Error(`pactl ${args.join(' ')}: ${r.error.message} (apt install pulseaudio-utils)`);
  if (r.status !== 0) throw new Error(`pactl ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

export async function startRealtimeRig(freq = 440): Promise<RealtimeRig> {
  const dir = mkdtempSync(join(tmpdir(), 'semu-rt-'));
  let pulse: Pulse | null = null;
  const recorders = new Set<ChildProcess>();
  let recordings = 0;
  try {
    pulse = await startPulse(dir, SINK);
    const pulseEnv = pulse.env as Record<string, string>;
    const clientEnv = { ...process.env, ...pulseEnv };
    pactl(clientEnv, ['load-module', 'module-null-sink', `sink_name=${SOURCE_SINK}`, 'rate=48000', 'channels=2']);
    pactl(clientEnv, ['load-module', 'module-sine', `sink=${SOURCE_SINK}`, `frequency=${freq}`]);
    for (const sink of [SINK, SOURCE_SINK]) {
      const keeper = spawn('parec', ['-d', `${sink}.monitor`, '--raw', '--latency-msec=10'], { env: clientEnv, stdio: 'ignore' });
      recorders.add(keeper);
    }
    const config = join(dir, 'asound.conf');
    writeFileSync(config, readFileSync(join(repoRoot(), 'test/sound-guest/fixtures/pulse-loop.conf')));
    const env = { ...pulseEnv, ALSA_CONFIG_PATH: config };
    const p = pulse;
    return {
      dir,
      env,
      freq,
      recordMonitor(): Recording {
        const file = join(dir, `monitor-${++recordings}.raw`);
        const child = spawn('parecord', ['-d', `${SINK}.monitor`, '--raw', '--format=s16le', `--rate=${MONITOR.rate}`, `--channels=${MONITOR.channels}`, '--latency-msec=20', file], { env: clientEnv, stdio: 'ignore' });
        recorders.add(child);
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        return {
          pid: child.pid ?? -1,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
            const t = setTimeout(() => child.kill('SIGKILL'), 2000);
            await gone;
            clearTimeout(t);
            recorders.delete(child);
            try {
              return new Uint8Array(readFileSync(file));
            } catch {
              return new Uint8Array(0);
            }
          },
        };
      },
      async stop() {
        for (const c of recorders) c.kill('SIGKILL');
        recorders.clear();
        await p.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    for (const c of recorders) c.kill('SIGKILL');
    if (pulse) await pulse.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
