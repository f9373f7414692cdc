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

/**
 * A workload's result line, matched only once it is whole, through its end of line: every
 * guest benchmark prints `NAME: ns=<n> iters=... [insns=<n>]`, and console output arrives in
 * pieces, so `ns=(\d+)` alone matched a line cut inside its number — 0.005 s for a 0.5 s
 * `pipebench`, once in a run or two, on either emulator (what earlier sessions took for a C
 * semu clock that stood still). Group 1: ns; group 2: the rest of the line.
 */
export function resultLine(name: string): RegExp {
  return new RegExp(`(?:^|\\n)${name}: ns=(\\d+) iters=([^\\r\\n]*)\\r?\\n`);
}

/** The instructions the guest retired over the workload (`insns=`, kbench.h), or NaN. */
export function insnsOf(rest: string): number {
  const m = / insns=(\d+)/.exec(rest);
  return m ? Number(m[1]) : NaN;
}

export interface RunResult {
  /** Wall seconds from spawn to the ready marker. */
  boot_s: number;
  /** CPU seconds (all threads) from spawn to the ready marker. */
  boot_cpu_s: number;
  /** Guest-measured seconds per workload name. */
  work_s: Record<string, number>;
  /** CPU seconds of the emulator process (all threads) from typing the command to its result line. */
  work_cpu_s: Record<string, number>;
  /** Instructions the guest retired per workload (its instret over the timed loop), NaN if not printed. */
  work_insns: Record<string, number>;
  /** Peak resident set (VmHWM) right after the boot, MiB. */
  boot_rss_mib: number;
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

/**
 * This project's CLI on the default guest, null audio, and no network card: the C semu reference
 * is built without virtio-net (the recipe's ENABLE_VIRTIONET=0), and with a card the guest's init
 * runs DHCP through passt before the ready marker (about 0.06-0.1 s of the boot). VS_SEMU_CLI
 * names another build's cli.js.
 */
export function ours(kernel: string, initrd: string): Emulator {
  const cli = process.env.VS_SEMU_CLI ?? distFile('cli.js');
  return { label: 'vscode-semu', command: process.execPath, args: [cli, '-k', kernel, '-i', initrd, '--audio-out', 'null', '--audio-in', 'null', '-n', 'none'] };
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
    const booted = procStats(child.pid!);
    const work_s: Record<string, number> = {};
    const work_cpu_s: Record<string, number> = {};
    const work_insns: Record<string, number> = {};
    for (const w of workloads) {
      const from = con.length;
      const c0 = procStats(child.pid!).cpu_s;
      child.stdin!.write(`${w.cmd}\n`);
      const m = await con.waitFor(resultLine(w.name), from, `${e.label} ${w.cmd}`);
      work_cpu_s[w.name] = procStats(child.pid!).cpu_s - c0;
      work_s[w.name] = Number(m[1]) / 1e9;
      work_insns[w.name] = insnsOf(m[2]);
    }
    return { boot_s, boot_cpu_s: booted.cpu_s, boot_rss_mib: booted.peak_rss_mib, work_s, work_cpu_s, work_insns, ...procStats(child.pid!) };
  } finally {
    child.kill('SIGKILL');
  }
}

export interface Row {
  workload: string;
  /** Medians: guest-measured (boot: wall) seconds, and CPU seconds of the process. */
  ours_s: number;
  c_s: number;
  ratio: number;
  ours_cpu_s: number;
  c_cpu_s: number;
  cpu_ratio: number;
  ours_all: number[];
  c_all: number[];
  /** Medians of the instructions the guest retired (NaN for the boot): the same work on both? */
  ours_insns: number;
  c_insns: number;
}

export interface VsSemu {
  runs: number;
  rows: Row[];
  /** Medians of the peak RSS after the boot and at the end of a run (after every workload). */
  ours_boot_rss_mib: number;
  c_boot_rss_mib: number;
  ours_rss_mib: number;
  c_rss_mib: number;
}

const show = (r: RunResult) =>
  `boot ${r.boot_s.toFixed(2)} s (cpu ${r.boot_cpu_s.toFixed(2)}), ` +
  Object.keys(r.work_s).map((k) => `${k} ${r.work_s[k].toFixed(3)} (cpu ${r.work_cpu_s[k].toFixed(2)}, ${(r.work_insns[k] / 1e6).toFixed(1)} M insns)`).join(', ') +
  `, peak ${r.boot_rss_mib.toFixed(1)} → ${r.peak_rss_mib.toFixed(1)} MiB`;

/** `runs` alternating pairs (who goes first alternates too); medians per workload. */
export async function benchVsSemu(runs = Number(process.env.VS_SEMU_RUNS ?? 5), log: (line: string) => void = () => {}): Promise<VsSemu> {
  const g = guestArtifacts();
  const a = ours(g.kernel, g.initrd);
  const b = cSemu(g.kernel, g.initrd);
  const oursRuns: RunResult[] = [];
  const cRuns: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    for (const e of i % 2 === 0 ? [a, b] : [b, a]) {
      const r = await runOnce(e);
      (e === a ? oursRuns : cRuns).push(r);
      log(`run ${i + 1} ${e.label}: ${show(r)}`);
    }
  }
  const row = (workload: string, wall: (r: RunResult) => number, cpu: (r: RunResult) => number, insns: (r: RunResult) => number): Row => {
    const o = oursRuns.map(wall);
    const c = cRuns.map(wall);
    const oc = median(oursRuns.map(cpu));
    const cc = median(cRuns.map(cpu));
    const oi = median(oursRuns.map(insns));
    const ci = median(cRuns.map(insns));
    return { workload, ours_s: median(o), c_s: median(c), ratio: median(o) / median(c), ours_cpu_s: oc, c_cpu_s: cc, cpu_ratio: oc / cc, ours_all: o, c_all: c, ours_insns: oi, c_insns: ci };
  };
  return {
    runs,
    rows: [
      row('boot', (r) => r.boot_s, (r) => r.boot_cpu_s, () => NaN),
      ...WORKLOADS.map((w) => row(w.name, (r) => r.work_s[w.name], (r) => r.work_cpu_s[w.name], (r) => r.work_insns[w.name])),
    ],
    ours_boot_rss_mib: median(oursRuns.map((r) => r.boot_rss_mib)),
    c_boot_rss_mib: median(cRuns.map((r) => r.boot_rss_mib)),
    ours_rss_mib: median(oursRuns.map((r) => r.peak_rss_mib)),
    c_rss_mib: median(cRuns.map((r) => r.peak_rss_mib)),
  };
}
