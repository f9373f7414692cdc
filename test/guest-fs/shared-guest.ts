// Cross-compiling a program into the shared folder, as a person building for /mnt would, and
// booting the default guest with a folder shared (through the worker, as the CLI and the debugger).

import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GuestSession } from '../helpers/guest-session';
import { guestArtifacts, linuxTree, repoRoot } from '../guest-artifacts/artifacts';

/** The default guest with `sharedDir` shared (read-only when asked), null audio, kernel quiet. */
export function bootShared(sharedDir: string, more: Parameters<typeof GuestSession.boot>[0] = {}): Promise<GuestSession> {
  return GuestSession.boot({ sharedDir, audioOut: 'null', audioIn: 'null', ...more });
}

/** What a command printed (GuestSession.run's output). */
export async function sh(g: GuestSession, line: string, timeoutMs = 60_000): Promise<string> {
  return (await g.run(line, { timeoutMs })).output;
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
