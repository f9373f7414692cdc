// One booted default guest for tests and benches: boots it through MachineHost (the same worker
// the CLI and the debugger use), waits for `semu-guest: ready` and the shell prompt, then types
// commands one at a time and hands back what each printed, with the guest tools' machine-readable
// `pcm: verb k=v ...` line parsed. Booting costs several seconds here, so a test groups many
// commands per boot. dispose() always leaves nothing running: no worker, no audio host.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MachineHost, type ExitedEvent } from '../../src/host/machine-host';
import type { MachineOptions } from '../../src/host/options';
import { bootargsFor } from '../../src/worker/load';
import { distFile } from '../../src/paths';
import { guestArtifacts, GUEST_READY_MARKER } from '../guest-artifacts/artifacts';

/** Linux to the shell takes ~10-20 s on one busy core of a loaded 2-core machine. */
export const BOOT_TIMEOUT_MS = 120_000;
const PROMPT = '\n# ';

export interface BootOptions extends Partial<MachineOptions> {
  /** Run by /init before the shell (kernel argument guest_cmd="..."); no `"` inside. */
  guestCmd?: string;
  /** Added to the worker's environment (and so to the audio hosts it starts). */
  env?: Record<string, string>;
  bootTimeoutMs?: number;
  /** `dmesg -n 1` once the shell is up, so kernel messages do not land in command output. */
  quietKernel?: boolean;
  /** Wait for the prompt (interactive use); false returns once the ready marker is seen. */
  waitPrompt?: boolean;
}

/** The summary line of the guest's pcm tool: `pcm: play frames=96000 rate=48000 ...`. */
export class PcmSummary {
  constructor(
    readonly verb: string,
    readonly values: Readonly<Record<string, string>>,
    readonly raw: string,
    /** For `pcm: error <what>: <why>`: the text after "error ". */
    readonly error: string | null,
  ) {}

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.values, key);
  }

  str(key: string): string {
    if (!this.has(key)) throw new Error(`pcm line has no ${key}=: ${this.raw}`);
    return this.values[key];
  }

  num(key: string): number {
    const v = this.str(key);
    const n = Number(v);
    if (v === '' || !Number.isFinite(n)) throw new Error(`pcm line: ${key}=${v} is not a number: ${this.raw}`);
    return n;
  }
}

/** Parses one `pcm: ...` line (without its newline); null if the line is not one. */
export function parsePcmLine(line: string): PcmSummary | null {
  const m = /^pcm: (\S+)(.*)$/.exec(line.trim());
  if (!m) return null;
  const [, verb, rest] = m;
  if (verb === 'error') return new PcmSummary(verb, {}, line.trim(), rest.trim());
  const values: Record<string, string> = {};
  for (const tok of rest.trim().split(/\s+/)) {
    if (!tok) continue;
    const eq = tok.indexOf('=');
    if (eq <= 0) return null; // not the summary format
    values[tok.slice(0, eq)] = tok.slice(eq + 1);
  }
  return new PcmSummary(verb, values, line.trim(), null);
}

/** The last `pcm: ` line of some console text, parsed. */
export function lastPcmSummary(text: string): PcmSummary | null {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const p = parsePcmLine(lines[i]);
    if (p) return p;
  }
  return null;
}

export interface RunOptions {
  timeoutMs?: number;
  /** 'prompt' (default): up to the next shell prompt; 'pcm': up to the end of the `pcm: ` line. */
  until?: 'prompt' | 'pcm';
}

export interface RunResult {
  command: string;
  /** What the command printed (its echo and the prompt left out), `\n` line ends. */
  output: string;
  pcm: PcmSummary | null;
  /** The shell's report of a failing program (`sh: pcm: exit status 1`), if any. */
  shellStatus: string | null;
  ms: number;
}

/** Ids of this process's live child processes (from /proc), e.g. audio hosts. */
export function childPids(parent = process.pid): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(join('/proc', name, 'stat'), 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parens, so split after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === parent && fields[0] !== 'Z') out.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Escapes nothing: the kernel command line cannot carry a `"` inside a quoted value. */
function bootargsWith(base: string, guestCmd: string | undefined): string {
  if (guestCmd === undefined) return base;
  if (guestCmd.includes('"')) throw new Error(`guest_cmd cannot contain '"': ${guestCmd}`);
  return `${base} guest_cmd="${guestCmd}"`;
}

export class GuestSession {
  /** Everything the console printed, `\r` removed. */
  output = '';
  exited: ExitedEvent | null = null;
  private waiters: (() => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(readonly host: MachineHost) {
    host.on('console', (d) => {
      this.output += Buffer.from(d).toString('latin1').replace(/\r/g, '');
      this.wake();
    });
    host.on('exited', (e) => {
      this.exited = e;
      this.wake();
    });
  }

  /** Boots the default guest (or `opts.kernel`) and waits for its shell. */
  static async boot(opts: BootOptions = {}): Promise<GuestSession> {
    if (!existsSync(distFile('worker.js'))) throw new Error('dist/worker.js is missing: run `node scripts/build.mjs` first');
    const { guestCmd, env, bootTimeoutMs = BOOT_TIMEOUT_MS, quietKernel = true, waitPrompt = true, ...machine } = opts;
    const g = machine.kernel ? null : guestArtifacts();
    const base: MachineOptions = { ...machine, kernel: machine.kernel ?? g!.kernel, initrd: machine.initrd ?? g?.initrd };
    // The command line the machine would get (with the devices' words, e.g. a screen's tty0).
    const options: MachineOptions = { ...base, bootargs: bootargsWith(bootargsFor(base), guestCmd) };
    const host = new MachineHost(options);
    const s = new GuestSession(host);
    // A worker copies process.env when it is created (inside start(), synchronously): lend it
    // the extra variables for that moment only.
    const saved = new Map<string, string | undefined>();
    for (const [k, v] of Object.entries(env ?? {})) {
      saved.set(k, process.env[k]);
      process.env[k] = v;
    }
    let started: Promise<void>;
    try {
      started = host.start();
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    try {
      await started;
      await s.waitFor(() => s.output.includes(GUEST_READY_MARKER), bootTimeoutMs, 'the guest to boot');
      if (waitPrompt) {
        const at = s.output.indexOf(GUEST_READY_MARKER);
        await s.waitFor(() => s.output.indexOf(PROMPT, at) >= 0, bootTimeoutMs, 'the first shell prompt');
        if (quietKernel) await s.run('dmesg -n 1', { timeoutMs: 20_000 });
      }
    } catch (e) {
      await s.dispose();
      throw e;
    }
    return s;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `cond()` holds; rejects on timeout or when the machine exits first. */
  waitFor(cond: () => boolean, timeoutMs: number, what: string, exitOk = false): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; console tail:\n${this.tail()}`));
      }, timeoutMs);
      const finish = (err: Error | null) => {
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const check = () => {
        if (settled) return;
        if (cond()) return finish(null);
        if (this.exited && !exitOk) {
          const e = this.exited;
          return finish(new Error(`the machine exited (${e.reason}${e.message ? `: ${e.message}` : ''}) while waiting for ${what}; console tail:\n${this.tail()}`));
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  /** The last `chars` characters of the console. */
  tail(chars = 3000): string {
    return this.output.slice(-chars);
  }

  /**
   * Types `command` and resolves with what it printed up to the next prompt (or its `pcm: ` line).
   * Commands run one at a time, in call order.
   */
  run(command: string, opts: RunOptions = {}): Promise<RunResult> {
    const next = this.queue.then(() => this.runNow(command, opts));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(command: string, opts: RunOptions): Promise<RunResult> {
    if (command.includes('\n')) throw new Error('one command line at a time');
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const from = this.output.length;
    const t0 = Date.now();
    this.host.consoleIn(command + '\n');
    // The shell echoes the line; what follows its newline is the command's output.
    const echoEnd = () => {
      const i = this.output.indexOf(command + '\n', from);
      return i < 0 ? -1 : i + command.length + 1;
    };
    let end = -1;
    const done = (): boolean => {
      const start = echoEnd();
      if (start < 0) return false;
      if (opts.until === 'pcm') {
        const m = /^pcm: .*\n/m.exec(this.output.slice(start));
        if (m) end = start + m.index + m[0].length;
      } else {
        const p = this.output.indexOf(PROMPT, start - 1);
        if (p >= 0) end = p + 1;
      }
      return end >= 0;
    };
    await this.waitFor(done, timeoutMs, `\`${command}\` to finish`);
    const output = this.output.slice(echoEnd(), end);
    const status = /^sh: .*(exit status \d+|killed by .*)$/m.exec(output);
    return { command, output, pcm: lastPcmSummary(output), shellStatus: status ? status[0] : null, ms: Date.now() - t0 };
  }

  /** Waits for the machine to stop by itself (e.g. after guest_cmd="...; poweroff"). */
  async waitExit(timeoutMs: number): Promise<ExitedEvent> {
    await this.waitFor(() => this.exited !== null, timeoutMs, 'the machine to exit', true);
    return this.exited!;
  }

  /** `poweroff` in the guest, then frees everything; resolves with how the machine ended. */
  async poweroff(timeoutMs = 30_000): Promise<ExitedEvent> {
    try {
      if (!this.exited) {
        await this.queue;
        this.host.consoleIn('poweroff\n');
      }
      return await this.waitExit(timeoutMs);
    } finally {
      await this.dispose();
    }
  }

  /** Stops the machine if it still runs and frees the worker (and so its audio hosts). Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.host.dispose();
    this.wake();
  }
}
