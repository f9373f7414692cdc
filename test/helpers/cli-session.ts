// The CLI (dist/cli.js) driven like a person at a terminal: its output as it comes, lines typed
// into the guest's shell, poweroff and its exit code.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { distFile } from '../../src/paths';

export class Cli {
  out = '';
  private readonly p: ChildProcessWithoutNullStreams;
  private readonly exit: Promise<number | null>;
  private wake: () => void = () => {};

  /** `nodeArgs` go to node before the script (V8 flags such as --trace-deopt). */
  constructor(args: string[], env?: NodeJS.ProcessEnv, nodeArgs: string[] = []) {
    this.p = spawn(process.execPath, [...nodeArgs, distFile('cli.js'), ...args], { stdio: 'pipe', env });
    const take = (d: Buffer) => {
      this.out += d.toString('latin1').replace(/\r/g, '');
      this.wake();
    };
    this.p.stdout.on('data', take);
    this.p.stderr.on('data', take);
    this.exit = new Promise((resolve) => this.p.on('exit', (code) => resolve(code)));
  }

  async waitFor(text: string, from: number, ms: number): Promise<number> {
    const deadline = Date.now() + ms;
    for (;;) {
      const at = this.out.indexOf(text, from);
      if (at >= 0) return at + text.length;
      if (this.p.exitCode !== null || Date.now() > deadline) throw new Error(`no "${text}" (exit ${this.p.exitCode}); output:\n${this.out.slice(-3000)}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 200);
      });
    }
  }

  /** Types a line and returns what it printed up to the next prompt. */
  async run(line: string, ms = 60_000): Promise<string> {
    const from = this.out.length;
    this.p.stdin.write(line + '\n');
    const end = await this.waitFor('\n# ', from + line.length, ms);
    return this.out.slice(from, end);
  }

  async poweroff(): Promise<number | null> {
    this.p.stdin.write('poweroff\n');
    const t = setTimeout(() => this.p.kill('SIGKILL'), 30_000);
    const code = await this.exit;
    clearTimeout(t);
    return code;
  }

  /** Ctrl-A x, as a person quits the console. */
  async quit(): Promise<number | null> {
    this.p.stdin.write('\x01x');
    const t = setTimeout(() => this.p.kill('SIGKILL'), 30_000);
    const code = await this.exit;
    clearTimeout(t);
    return code;
  }

  get pid(): number {
    return this.p.pid ?? 0;
  }

  /** Types a line without waiting for anything. */
  type(line: string): void {
    this.p.stdin.write(line + '\n');
  }

  kill(): void {
    if (this.p.exitCode === null) this.p.kill('SIGKILL');
  }

  /** How the process ended and the tail of what it printed: the message for an exit-code check. */
  ended(): string {
    const how = this.p.signalCode !== null ? `killed by ${this.p.signalCode}` : `exit code ${this.p.exitCode}`;
    return `the CLI ended: ${how}; its output ends:\n${this.out.slice(-2000)}`;
  }
}
