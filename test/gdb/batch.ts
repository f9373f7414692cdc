// Running the real gdb-multiarch in batch mode for the stub's tests: its output collected as it
// comes, and a poll for a line in any growing text (gdb's output, the guest console, stderr).

import { spawn, type ChildProcess } from 'node:child_process';

/** Resolves once `re` matches `get()`; rejects after `ms` with the text's tail. */
export function waitFor(get: () => string, re: RegExp, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (re.test(get())) return resolve();
      if (Date.now() - t0 > ms) return reject(new Error(`${what} never showed ${re}; last:\n${get().slice(-3000)}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

export interface GdbRun {
  proc: ChildProcess;
  /** stdout and stderr so far. */
  out: () => string;
  /** gdb's exit code (killed after `limitMs`). */
  exited: Promise<number | null>;
  /** Ends gdb if it still runs (a failed test must not leave it behind). */
  kill: () => void;
}

/** gdb-multiarch -batch -nx with one -ex per command, on `elf`. */
export function runGdb(commands: readonly string[], elf: string, limitMs = 300_000): GdbRun {
  const proc = spawn('gdb-multiarch', ['-batch', '-nx', ...commands.flatMap((c) => ['-ex', c]), elf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const kill = setTimeout(() => proc.kill('SIGKILL'), limitMs);
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    }),
  );
  return { proc, out: () => out, exited, kill: () => void (proc.exitCode === null && proc.kill('SIGKILL')) };
}
