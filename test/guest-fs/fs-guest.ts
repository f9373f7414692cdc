// The default guest booted in-process with a virtio-fs device sharing a host folder (plugged in
// through MachineConfig.extraVirtio at semu's address, 0xF480_0000 IRQ 6). Unlike the synchronous
// GuestRun, this runner yields to the event loop between run slices, as the emulator worker does:
// the device's host I/O completes there.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Machine, StopReason } from '../../src/emulator/machine';
import { VirtioFs, type VirtioFsOptions } from '../../src/devices/virtio-fs/device';
import { DEFAULT_BOOTARGS } from '../../src/host/options';
import { guestPaths, READY } from '../boot/guest';
import { guestArtifacts, linuxTree, repoRoot } from '../guest-artifacts/artifacts';

export const FS_BASE = 0xf4800000;
export const FS_IRQ = 6;
const PROMPT = '\n# ';

const turn = () => new Promise<void>((r) => setImmediate(r));
const sleeper = new Int32Array(new SharedArrayBuffer(4));

export interface FsGuestOptions {
  share?: VirtioFsOptions;
  /** A virtio-blk disk as well (for the side-by-side benchmark). */
  disk?: import('../../src/emulator/virtio/disk-image').DiskImage;
  time?: 'host' | 'icount';
}

export class FsGuest {
  readonly m: Machine;
  readonly fs: VirtioFs | null;
  private chunks: Buffer[] = [];
  private text = '';

  constructor(opts: FsGuestOptions) {
    const p = guestPaths();
    this.fs = opts.share ? new VirtioFs(opts.share) : null;
    this.m = new Machine(
      {
        kernel: readFileSync(p.kernel),
        initrd: readFileSync(p.initrd),
        bootargs: DEFAULT_BOOTARGS,
        disk: opts.disk,
        time: opts.time,
        extraVirtio: this.fs ? [{ base: FS_BASE, irq: FS_IRQ, device: this.fs }] : [],
      },
      { consoleOut: (b, n) => this.chunks.push(Buffer.from(b.subarray(0, n))) },
    );
    this.fs?.setClock(this.m.clock);
  }

  get output(): string {
    if (this.chunks.length > 0) {
      this.text += Buffer.concat(this.chunks).toString('latin1').replace(/\r/g, '');
      this.chunks = [];
    }
    return this.text;
  }

  /** Runs until `marker` appears after `from`; returns the index after it. Throws on timeout or halt. */
  async runUntil(marker: string, timeoutMs: number, from = 0): Promise<number> {
    const m = this.m;
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = m.run(1 << 19);
      const at = this.output.indexOf(marker, from);
      if (at >= 0) return at + marker.length;
      if (r === StopReason.Halted || r === StopReason.Crashed) throw new Error(`guest stopped (${r}) before "${marker}":\n${this.output.slice(-2000)}`);
      if (Date.now() > end) throw new Error(`no "${marker}" within ${timeoutMs} ms:\n${this.output.slice(-2000)}`);
      // As the worker does (src/host/session.ts): sleep while the guest idles, at most until its
      // next deadline (the device asks for 50 µs while a request is on the host), then let the
      // event loop run the host I/O callbacks.
      if (r === StopReason.Idle) Atomics.wait(sleeper, 0, 0, Math.min(m.idleMilliseconds(), 10));
      await turn();
    }
  }

  /** Boots to the shell's first prompt (nothing is typed before it) and quiets the kernel. */
  async boot(timeoutMs = 120_000): Promise<void> {
    const at = await this.runUntil(READY, timeoutMs);
    await this.runUntil('# ', timeoutMs, at);
    await this.command('dmesg -n 1');
  }

  /** Types a command line; returns what it printed (without the echo and the next prompt). */
  async command(line: string, timeoutMs = 60_000): Promise<string> {
    const from = this.output.length;
    this.m.consoleIn(Buffer.from(line + '\n'));
    const at = await this.runUntil(PROMPT, timeoutMs, from);
    const out = this.output.slice(from, at - PROMPT.length + 1);
    const nl = out.indexOf('\n');
    return nl < 0 ? '' : out.slice(nl + 1);
  }

  dispose(): void {
    this.m.shutdown();
    this.fs?.dispose();
  }
}

/**
 * Cross-compiles a nolibc C program for the guest with the guest's own flags (guest/lib/userland.sh
 * USER_CFLAGS, rt_div.c for 64-bit division), as a person building for /mnt would.
 */
export function crossCompile(source: string, out: string): void {
  const root = repoRoot();
  const flags = execFileSync('bash', ['-c', `source "${join(root, 'guest/lib/userland.sh')}"; printf '%s\\n' "\${USER_CFLAGS[@]}"`], { encoding: 'utf8' }).trim().split('\n');
  const a = guestArtifacts();
  const cache = dirname(dirname(a.kernel));
  const headers = readdirSync(cache).filter((e) => e.startsWith('headers-') && !e.includes('.tmp.'));
  if (headers.length === 0) throw new Error(`no UAPI headers in ${cache}: run guest/build.sh`);
  execFileSync('riscv64-linux-gnu-gcc', [
    ...flags,
    '-I', join(cache, headers.sort().pop()!, 'include'),
    '-I', join(linuxTree(a), 'tools/include/nolibc'),
    '-I', join(root, 'guest/src'),
    source, join(root, 'guest/src/rt_div.c'),
    '-o', out,
  ]);
}
