// The default guest's build products, for any test that needs them: runs guest/build.sh (cached
// outside the repo, so after the first build this takes about a second) and returns the paths
// from the one JSON line it prints.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface GuestArtifacts {
  kernel: string;
  initrd: string;
  vmlinux: string;
  systemMap: string;
  /** The kernel source tree vmlinux's DWARF names (kept in the guest cache). */
  source?: string;
}

/** The console line /init prints once the guest is up. */
export const GUEST_READY_MARKER = 'semu-guest: ready';

/** A first build compiles a kernel: minutes on two cores. */
export const GUEST_BUILD_TIMEOUT_MS = 40 * 60 * 1000;

/** The repository root: the nearest folder above this file that holds guest/build.sh. */
export function repoRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'guest', 'build.sh'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

/** Runs a guest build script and parses its JSON line. `env` adds to the environment. */
export function runGuestBuild(script: string, env: Record<string, string> = {}, args: string[] = []): GuestArtifacts {
  const out = execFileSync('bash', [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: GUEST_BUILD_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  const lines = out.trim().split('\n');
  if (lines.length !== 1) throw new Error(`guest build printed ${lines.length} lines on stdout, want 1:\n${out}`);
  const parsed = JSON.parse(lines[0]) as Partial<GuestArtifacts>;
  for (const k of ['kernel', 'initrd', 'vmlinux', 'systemMap'] as const) {
    const p = parsed[k];
    if (typeof p !== 'string' || !p.startsWith('/')) throw new Error(`guest build: "${k}" is not an absolute path: ${lines[0]}`);
    if (!existsSync(p)) throw new Error(`guest build: ${k} ${p} does not exist`);
  }
  return parsed as GuestArtifacts;
}

/** The kernel tree the guest was built from (nolibc, gen_init_cpio): $SEMU_LINUX_SRC or the
 * tree guest/build.sh extracted into its cache. Call after guestArtifacts(). */
export function linuxTree(a: GuestArtifacts = guestArtifacts()): string {
  if (process.env.SEMU_LINUX_SRC) return process.env.SEMU_LINUX_SRC;
  const cache = dirname(dirname(a.kernel));
  const src = readdirSync(cache).filter((e) => e.startsWith('src-') && !e.includes('.tmp.'));
  if (src.length === 0) throw new Error(`no extracted kernel tree in ${cache}`);
  return join(cache, src.sort().pop()!);
}

let cached: GuestArtifacts | undefined;

/** The default guest, built on first use (memoized per process). */
export function guestArtifacts(): GuestArtifacts {
  if (!cached) cached = runGuestBuild(join(repoRoot(), 'guest', 'build.sh'));
  return cached;
}
