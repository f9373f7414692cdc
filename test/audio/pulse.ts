// A private PulseAudio for the real-time loopback test: its own runtime dir, home and socket under
// a temp dir, a null sink (whose .monitor source is the capture side), no autospawn, no system or
// per-user daemon touched. Started by the test itself and stopped at the end (even as root, where
// pulseaudio warns but runs).
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

export interface Pulse {
  /** Environment for clients (the audio host): PULSE_SERVER and a client config without autospawn. */
  env: NodeJS.ProcessEnv;
  sink: string;
  stop(): Promise<void>;
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startPulse(dir: string, sink = 'semutest_sink', timeoutMs = 8000): Promise<Pulse> {
  const rt = join(dir, 'pulse-rt');
  const home = join(dir, 'pulse-home');
  mkdirSync(rt, { recursive: true, mode: 0o700 });
  mkdirSync(home, { recursive: true });
  const socket = join(dir, 'pulse-native');
  const clientConf = join(dir, 'pulse-client.conf');
  writeFileSync(clientConf, 'autospawn = no\n');
  const log = join(dir, 'pulse.log');
  const child: ChildProcess = spawn(
    'pulseaudio',
    [
      '-n', // no default.pa: only the modules below
      '--daemonize=no',
      '--exit-idle-time=-1',
      '--disallow-exit',
      '--disable-shm=yes',
      '--use-pid-file=no',
      `--log-target=file:${log}`,
      '-L',
      `module-native-protocol-unix socket=${socket} auth-anonymous=1`,
      '-L',
      `module-null-sink sink_name=${sink} rate=48000 channels=2 sink_properties=device.description=${sink}`,
    ],
    { env: { ...process.env, XDG_RUNTIME_DIR: rt, HOME: home, PULSE_CLIENTCONFIG: clientConf }, stdio: 'ignore' },
  );
  let exitedEarly = false;
  // If the test process dies before stop() (an uncaught error, a closed stdout), take pulse along.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => {
    exitedEarly = true;
    process.removeListener('exit', reap);
  });
  const end = Date.now() + timeoutMs;
  while (!(await canConnect(socket))) {
    if (exitedEarly) throw new Error(`pulseaudio exited at start; see ${log}`);
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`pulseaudio did not open ${socket}; see ${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    sink,
    env: { PULSE_SERVER: `unix:${socket}`, PULSE_CLIENTCONFIG: clientConf },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 2000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
