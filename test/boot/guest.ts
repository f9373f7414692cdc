// Boots the default guest in-process for tests: finds (or builds) it with guest/build.sh and
// drives a Machine until console markers appear.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extensionRoot } from '../../src/paths';
import { Machine, StopReason, type MachineConfig } from '../../src/emulator/machine';

export interface GuestPaths {
  kernel: string;
  initrd: string;
  vmlinux: string;
  systemMap: string;
}

let cached: GuestPaths | null = null;

export function guestPaths(): GuestPaths {
  if (cached) return cached;
  const out = execFileSync('bash', [join(extensionRoot(), 'guest', 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30 * 60 * 1000 });
  const line = out.trim().split('\n').pop()!;
  cached = JSON.parse(line) as GuestPaths;
  return cached;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class GuestRun {
  readonly m: Machine;
  private chunks: Buffer[] = [];

  constructor(cfg: Partial<MachineConfig> = {}) {
    const p = guestPaths();
    this.m = new Machine(
      { kernel: readFileSync(p.kernel), initrd: readFileSync(p.initrd), ...cfg },
      { consoleOut: (b, n) => this.chunks.push(Buffer.from(b.subarray(0, n))) },
    );
  }

  get output(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  /**
   * Runs until `marker` appears in the output after position `from` (returns the output index
   * after it), the machine halts, or `maxInsns` more instructions retire.
   */
  runUntil(marker: string | null, maxInsns = 2e9, from = 0): { reason: StopReason; at: number } {
    const m = this.m;
    const limit = m.instret() + maxInsns;
    for (;;) {
      const r = m.run(1 << 20);
      if (marker !== null) {
        const at = this.output.indexOf(marker, from);
        if (at >= 0) return { reason: r, at: at + marker.length };
      }
      if (r === StopReason.Halted || r === StopReason.Crashed) return { reason: r, at: -1 };
      if (r === StopReason.Idle) {
        const ms = m.idleMilliseconds();
        if (ms === Infinity && m.clock.mode === 'icount') return { reason: r, at: -1 };
        Atomics.wait(sleeper, 0, 0, Math.min(ms, 20));
      }
      if (m.instret() > limit) return { reason: StopReason.Budget, at: -1 };
    }
  }

  /** Types a command line and waits for the next shell prompt; returns what the command printed. */
  command(line: string, prompt = '# '): string {
    const from = this.output.length;
    this.m.consoleIn(Buffer.from(line + '\n'));
    const r = this.runUntil('\n' + prompt, 5e8, from);
    if (r.at < 0) throw new Error(`no prompt after "${line}" (stop reason ${r.reason}); output:\n${this.output.slice(from)}`);
    return this.output.slice(from, r.at);
  }
}

export const READY = 'semu-guest: ready';
