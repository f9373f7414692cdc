// The default guest: the one shipped inside the package (guest/shipped/, written by
// scripts/package.mjs with a manifest of hashes), else built by guest/build.sh on first use,
// cached outside the repo, and described by the one JSON line the script prints.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { extensionRoot } from '../paths';
import { UsageError } from './options';

export interface GuestArtifacts {
  kernel: string;
  initrd: string;
  /** The kernel ELF with DWARF; '' when it is not at hand (the shipped guest leaves it out). */
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

/** Where the package carries the prebuilt default guest, relative to the extension root. */
export const SHIPPED_GUEST_DIR = join('guest', 'shipped');

/** guest/shipped/manifest.json (written by scripts/guest-bundle.mjs). */
export interface GuestManifest {
  files: Record<string, { sha256: string; size: number }>;
  kernel: string;
  initrd: string;
  systemMap: string;
  vmlinux?: string;
}

/** Exit status of guest/build.sh when Debian packages are missing and it may not install them. */
export const MISSING_PACKAGES_EXIT = 3;

/** The build needs Debian packages it may not install itself: the command that would. */
export class MissingPackagesError extends UsageError {
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
  }
}

const checked = new Map<string, GuestArtifacts | null>();

/**
 * The guest shipped in the package, or null when there is none (a development checkout). Its files
 * are checked against the manifest's sizes and SHA-256 once per process; a damaged package is an
 * error that says to reinstall, never a silent fallback to a 10-minute build.
 */
export function shippedGuest(root: string = extensionRoot()): GuestArtifacts | null {
  const dir = join(root, SHIPPED_GUEST_DIR);
  if (checked.has(dir)) return checked.get(dir)!;
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    checked.set(dir, null);
    return null;
  }
  let m: GuestManifest;
  try {
    m = JSON.parse(readFileSync(manifestPath, 'utf8')) as GuestManifest;
  } catch (e) {
    throw new UsageError(`the shipped guest's manifest (${manifestPath}) is unreadable: ${(e as Error).message}; reinstall the extension`);
  }
  for (const [name, want] of Object.entries(m.files ?? {})) {
    const file = join(dir, name);
    const size = existsSync(file) ? statSync(file).size : -1;
    const sha = size === want.size ? createHash('sha256').update(readFileSync(file)).digest('hex') : '';
    if (sha !== want.sha256) throw new UsageError(`the shipped guest's ${name} (${file}) is missing or damaged; reinstall the extension`);
  }
  const at = (name: string | undefined) => (name ? join(dir, name) : '');
  const g: GuestArtifacts = { kernel: at(m.kernel), initrd: at(m.initrd), systemMap: at(m.systemMap), vmlinux: at(m.vmlinux) };
  checked.set(dir, g);
  return g;
}

/** True when the package carries a prebuilt guest (its files are checked by shippedGuest()). */
export function hasShippedGuest(root: string = extensionRoot()): boolean {
  return existsSync(join(root, SHIPPED_GUEST_DIR, 'manifest.json'));
}

/** The default guest: the shipped one when the package has it, else built (or reused) from source. */
export function defaultGuest(opts: BuildGuestOptions = {}): Promise<GuestArtifacts> {
  try {
    const g = shippedGuest();
    if (g) return Promise.resolve(g);
  } catch (e) {
    return Promise.reject(e);
  }
  return buildGuest(opts);
}

/**
 * Builds (or reuses) the default guest with guest/build.sh. Never installs Debian packages: when
 * some are missing the promise rejects with a MissingPackagesError carrying the apt-get command.
 */
export function buildGuest(opts: BuildGuestOptions = {}): Promise<GuestArtifacts> {
  const script = join(extensionRoot(), 'guest', 'build.sh');
  if (!existsSync(script)) return Promise.reject(new UsageError(`the default guest's build script is missing (${script}); give a kernel with -k`));
  return new Promise((resolve, reject) => {
    const args = opts.rebuild ? [script, '--rebuild'] : [script];
    const env = { ...process.env, SEMU_GUEST_NO_INSTALL: '1' };
    const child = spawn('bash', args, { stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal, env });
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
      reject(buildFailure(code, err));
    });
  });
}

function buildFailure(code: number | null, stderr: string): UsageError {
  const command = /^ {2}((?:sudo )?apt-get install .*)$/m.exec(stderr)?.[1];
  if (code === MISSING_PACKAGES_EXIT && command) {
    return new MissingPackagesError(`building the default guest needs Debian packages that are not installed; install them with:\n  ${command}`, command);
  }
  const tail = stderr.trim().split('\n').slice(-15).join('\n');
  return new UsageError(`building the default guest failed (guest/build.sh exit ${code}):\n${tail}`);
}
