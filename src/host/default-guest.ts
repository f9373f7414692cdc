// The default guest (guest/build.sh): built on first use, cached outside the repo, and described
// by the one JSON line the script prints.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { extensionRoot } from '../paths';
import { UsageError } from './options';

export interface GuestArtifacts {
  kernel: string;
  initrd: string;
  vmlinux: string;
  systemMap: string;
  /** The kernel source tree vmlinux's DWARF names (kept in the guest cache). */
  source?: string;
}

export interface BuildGuestOptions {
  /** Progress lines (the build's stderr). */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
  rebuild?: boolean;
}

export function buildGuest(opts: BuildGuestOptions = {}): Promise<GuestArtifacts> {
  const script = join(extensionRoot(), 'guest', 'build.sh');
  if (!existsSync(script)) return Promise.reject(new UsageError(`the default guest's build script is missing (${script}); give a kernel with -k`));
  return new Promise((resolve, reject) => {
    const args = opts.rebuild ? [script, '--rebuild'] : [script];
    const child = spawn('bash', args, { stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.length > 65536) err = err.slice(-32768);
      if (opts.onProgress) for (const line of d.toString().split('\n')) if (line.trim()) opts.onProgress(line);
    });
    child.on('error', (e) => reject(e.name === 'AbortError' ? new Error('the guest build was cancelled') : e));
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0) {
        try {
          return resolve(JSON.parse(line) as GuestArtifacts);
        } catch {
          /* fall through */
        }
      }
      const tail = err.trim().split('\n').slice(-15).join('\n');
      reject(new UsageError(`building the default guest failed (guest/build.sh exit ${code}):\n${tail}`));
    });
  });
}
