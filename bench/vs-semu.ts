// `npm run bench -- vs-semu`: the same guest workloads on this project's CLI and on a C semu
// binary (named by SEMU_C; its device tree by SEMU_C_DTB, default minimal.dtb next to it),
// alternating one run of each, with medians and ratios (this project / C semu).
//
// A run boots the default guest (Image + initramfs, the same files for both), times the boot to
// the ready marker on the wall clock, then types each workload into the guest shell and reads
// the time the guest program measured itself (its own monotonic clock: both emulators keep
// guest time on the host clock once user space runs). At the end it reads the process's peak
// RSS (VmHWM) and CPU time from /proc. Build the C semu outside the repository
// (docs/benchmarks.md); it is never committed.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { distFile } from '../src/paths';
import { guestArtifacts, GUEST_READY_MARKER } from '../test/guest-artifacts/artifacts';
import { median } from './util';

/** Guest workloads in the order a run types them: command and its result line's name. */
export const WORKLOADS: readonly { cmd: string; name: string }[] = [
  { cmd: 'cpubench', name: 'cpubench' },
  { cmd: 'forkbench', name: 'forkbench' },
  { cmd: 'pfbench', name: 'pfbench' },
  { cmd: 'pipebench', name: 'pipebench' },
  { cmd: 'sysbench', name: 'sysbench' },
];

export interface RunResult {
  /** Wall seconds from spawn to the ready marker. */
  boot_s: number;
  /** Guest-measured seconds per workload name. */
  work_s: Record<string, number>;
  /** Peak resident set (VmHWM), MiB, at the end of the run. */
  peak_rss_mib: number;
  /** User + system CPU seconds of the process over the whole run. */
  cpu_s: number;
}

export interface Emulator {
  label: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

const STEP_TIMEOUT_MS = 180_000;
const TICKS_PER_S = 100; // USER_HZ: /proc/PID/stat's unit on Linux

/** This project's CLI on the default guest, null audio. */
export function ours(kernel: string, initrd: string): Emulator {
  return { label: 'vscode-semu', command: process.execPath, args: [distFile('cli.js'), '-k', kernel, '-i', initrd, '--audio-out', 'null', '--audio-in', 'null'] };
}

/** The C semu named by SEMU_C, with ALSA's default PCM a null device (no sound card here). */
export function cSemu(kernel: string, initrd: string): Emulator {
  const bin = process.env.SEMU_C;
  if (!bin || !existsSync(bin)) throw new Error('vs-semu: set SEMU_C to a C semu binary (build it outside the repository: docs/benchmarks.md)');
  const dtb = process.env.SEMU_C_DTB ?? join(dirname(bin), 'minimal.dtb');
  if (!existsSync(dtb)) throw new Error(`vs-semu: no device tree at ${dtb}: build semu's minimal.dtb or set SEMU_C_DTB`);
  const dir = mkdtempSync(join(tmpdir(), 'vs-semu-'));
  const alsa = join(dir, 'asound.conf');
  writeFileSync(alsa, 'pcm.!default { type null }\nctl.!default { type hw card 0 }\n');
  return { label: 'C semu', command: bin, args: ['-k', kernel, '-i', initrd, '-b', dtb], env: { ...process.env, ALSA_CONFIG_PATH: alsa } };
}

/** Peak RSS in MiB and CPU seconds of a live process, from /proc. */
function procStats(pid: number): { peak_rss_mib: number; cpu_s: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
  return { peak_rss_mib: hwm ? Number(hwm[1]) / 1024 : NaN, cpu_s: ticks / TICKS_PER_S };
}

/** Collects a child's console and waits for patterns in what arrives after a given point. */
class Console {
  private text = '';
  private waiter: (() => void) | null = null;
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => {
      this.text += d.toString('latin1');
      this.waiter?.();
    });
    child.on('exit', () => this.waiter?.());
  }
  get length(): number {
    return this.text.length;
  }
  async waitFor(re: RegExp, from: number, what: string): Promise<RegExpExecArray> {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    for (;;) {
      const m = re.exec(this.text.slice(from));
      if (m) return m;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`${what}: the emulator exited (${this.child.exitCode ?? this.child.signalCode}); console tail:\n${this.text.slice(-2000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: nothing after ${STEP_TIMEOUT_MS / 1000} s; console tail:\n${this.text.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = null;
    }
  }
}

/** One run: boot, every workload in turn, peak RSS. */
export async function runOnce(e: Emulator, workloads = WORKLOADS): Promise<RunResult> {
  const t0 = performance.now();
  const child = spawn(e.command, e.args, { env: e.env ?? process.env, stdio: ['pipe', 'pipe', 'ignore'] });
  const con = new Console(child);
  try {
    await con.waitFor(new RegExp(GUEST_READY_MARKER), 0, `${e.label} boot`);
    const boot_s = (performance.now() - t0) / 1000;
    const work_s: Record<string, number> = {};
    for (const w of workloads) {
      const from = con.length;
      child.stdin!.write(`${w.cmd}\n`);
      const m = await con.waitFor(new RegExp(`(?:^|\\n)${w.name}: ns=(\\d+)`), from, `${e.label} ${w.cmd}`);
      work_s[w.name] = Number(m[1]) / 1e9;
    }
    return { boot_s, work_s, ...procStats(child.pid!) };
  } finally {
    child.kill('SIGKILL');
  }
}

export interface VsSemu {
  runs: number;
  rows: { workload: string; ours_s: number; c_s: number; ratio: number; ours_all: number[]; c_all: number[] }[];
  ours_rss_mib: number;
  c_rss_mib: number;
  ours_cpu_s: number;
  c_cpu_s: number;
}

/** `runs` alternating pairs (ours first, then C semu); medians per workload. */
export async function benchVsSemu(runs = Number(process.env.VS_SEMU_RUNS ?? 5), log: (line: string) => void = () => {}): Promise<VsSemu> {
  const g = guestArtifacts();
  const a = ours(g.kernel, g.initrd);
  const b = cSemu(g.kernel, g.initrd);
  const oursRuns: RunResult[] = [];
  const cRuns: RunResult[] = [];
  const show = (r: RunResult) => `boot ${r.boot_s.toFixed(2)} s, ` + Object.entries(r.work_s).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ') + `, peak ${r.peak_rss_mib.toFixed(1)} MiB, cpu ${r.cpu_s.toFixed(2)} s`;
  for (let i = 0; i < runs; i++) {
    const first = i % 2 === 0 ? [a, b] : [b, a]; // alternate who goes first, too
    for (const e of first) {
      const r = await runOnce(e);
      (e === a ? oursRuns : cRuns).push(r);
      log(`run ${i + 1} ${e.label}: ${show(r)}`);
    }
  }
  const row = (workload: string, pick: (r: RunResult) => number) => {
    const o = oursRuns.map(pick);
    const c = cRuns.map(pick);
    return { workload, ours_s: median(o), c_s: median(c), ratio: median(o) / median(c), ours_all: o, c_all: c };
  };
  return {
    runs,
    rows: [row('boot', (r) => r.boot_s), ...WORKLOADS.map((w) => row(w.name, (r) => r.work_s[w.name]))],
    ours_rss_mib: median(oursRuns.map((r) => r.peak_rss_mib)),
    c_rss_mib: median(cRuns.map((r) => r.peak_rss_mib)),
    ours_cpu_s: median(oursRuns.map((r) => r.cpu_s)),
    c_cpu_s: median(cRuns.map((r) => r.cpu_s)),
  };
}
