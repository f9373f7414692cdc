// The tap backend's helper binary: compiled from tap-helper.ts's C source with the host's C
// compiler (`cc`, from build-essential — the default guest's build needs it too) on first use,
// cached by a hash of the source under ~/.cache/vscode-semu/tools (SEMU_TOOLS_CACHE), and built
// into a temporary name then renamed, so concurrent first uses never see half a binary.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TAP_HELPER_C } from './tap-helper';
import { NetBackendError } from './errors';

export function toolsCache(): string {
  return process.env.SEMU_TOOLS_CACHE ?? join(homedir(), '.cache', 'vscode-semu', 'tools');
}

/** The helper's path, built now if needed. Throws NetBackendError saying what is missing. */
export function tapHelperBinary(cache = toolsCache()): string {
  const key = createHash('sha256').update(TAP_HELPER_C).digest('hex').slice(0, 12);
  const bin = join(cache, `semu-tap-${key}`);
  if (existsSync(bin)) return bin;
  mkdirSync(cache, { recursive: true });
  const tmp = `${bin}.tmp.${process.pid}`;
  const src = `${tmp}.c`;
  writeFileSync(src, TAP_HELPER_C);
  try {
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', tmp, src], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    renameSync(tmp, bin);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    const why = err.code === 'ENOENT' ? 'no C compiler (`cc`) on PATH: install build-essential' : (err.stderr?.toString().trim() || err.message);
    throw new NetBackendError(`cannot build the tap helper: ${why}`);
  } finally {
    rmSync(src, { force: true });
    rmSync(tmp, { force: true });
  }
  return bin;
}

export function tapHelperCommand(ifname: string): { command: string; args: string[] } {
  return { command: tapHelperBinary(), args: [ifname] };
}
