// The real-time rig for the guest's sound card through PortAudio, with no sound card: a private
// PulseAudio (test/audio/pulse.ts) with a null sink and a sine source, an ALSA config that points
// the guest's two streams at them, and a recorder on the sink's monitor. Used by the real-time
// loopback test and by bench/audio.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../guest-artifacts/artifacts';
import { startPulse, type Pulse } from '../../audio/pulse';

/** What the guest's `--audio-out` / `--audio-in` name (test/sound-guest/fixtures/pulse-loop.conf). */
export const GUEST_OUT = 'portaudio:semutest_guest_out';
export const GUEST_IN = 'portaudio:semutest_guest_in';
const SINK = 'semutest_sink';
const SINE = 'semutest_sine';

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
  /** The sine source's frequency; its amplitude is PulseAudio's fixed 0.5. */
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
  try {
    pulse = await startPulse(dir, SINK);
    const pulseEnv = pulse.env as Record<string, string>;
    const clientEnv = { ...process.env, ...pulseEnv };
    pactl(clientEnv, ['load-module', 'module-sine-source', `source_name=${SINE}`, 'rate=48000', `frequency=${freq}`]);
    const config = join(dir, 'asound.conf');
    writeFileSync(config, readFileSync(join(repoRoot(), 'test/sound-guest/fixtures/pulse-loop.conf')));
    const env = { ...pulseEnv, ALSA_CONFIG_PATH: config };
    const p = pulse;
    return {
      dir,
      env,
      freq,
      recordMonitor(): Recording {
        const file = join(dir, `monitor-${recorders.size}.raw`);
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
