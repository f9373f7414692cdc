// The default guest for the package: built (or reused) by the project's own guest/build.sh from
// Debian packages, copied into <dest>/guest/shipped/ with a manifest that records every file's
// SHA-256 and size, the build inputs' hashes and the Debian packages (version and .deb SHA-256)
// the build used. src/host/default-guest.ts checks the files against it before booting them.
//   node scripts/guest-bundle.mjs <dest> [--vmlinux]     (scripts/package.mjs calls bundleGuest())
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SHIPPED_DIR = join('guest', 'shipped');

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** guest/build.sh's JSON line (builds on first use; the cache makes it seconds afterwards). */
export function buildDefaultGuest(log = (s) => process.stderr.write(s)) {
  const out = execFileSync('bash', [join(root, 'guest', 'build.sh')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  const line = out.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    log(out);
    throw new Error(`guest/build.sh printed no JSON line: ${line}`);
  }
}

/** The Debian packages the guest build uses: guest/lib/common.sh's list plus every riscv64 cross package. */
function debianPackages() {
  const listed = execFileSync('bash', ['-c', `. '${join(root, 'guest/lib/common.sh')}'; echo "\${REQUIRED_PKGS[@]}"`], { encoding: 'utf8' }).trim().split(/\s+/);
  const query = (args) => execFileSync('dpkg-query', ['-W', '-f=${Package}\t${Version}\t${Architecture}\t${Status}\n', ...args], { encoding: 'utf8' });
  const rows = new Map();
  for (const l of (query(listed) + query(['*riscv64-linux-gnu*'])).split('\n')) {
    const [name, version, arch, status] = l.split('\t');
    if (name && status?.endsWith('installed') && !status.includes('not-installed')) rows.set(name, { name, version, arch });
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name)).map((p) => ({ ...p, sha256: debSha256(p) }));
}

/** The .deb's SHA-256 as the apt archive lists it (null when apt's lists do not have that version). */
function debSha256(p) {
  try {
    const show = execFileSync('apt-cache', ['show', `${p.name}:${p.arch}=${p.version}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /^SHA256: ([0-9a-f]{64})$/m.exec(show)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** The guest/ sources the build reads, with their hashes. */
function inputs() {
  const files = [];
  const walk = (d) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) {
        if (n !== 'shipped') walk(p);
      } else if (/\.(sh|config|c|h|txt)$/.test(n)) files.push(p);
    }
  };
  walk(join(root, 'guest'));
  return Object.fromEntries(files.map((f) => [relative(root, f), sha256(f)]));
}

/**
 * Writes <dest>/guest/shipped/{Image,initramfs.cpio,System.map[,vmlinux],manifest.json}.
 * Returns the manifest.
 */
export function bundleGuest(dest, { vmlinux = false, guest = buildDefaultGuest() } = {}) {
  const dir = join(dest, SHIPPED_DIR);
  mkdirSync(dir, { recursive: true });
  const pick = { kernel: ['Image', guest.kernel], initrd: ['initramfs.cpio', guest.initrd], systemMap: ['System.map', guest.systemMap] };
  if (vmlinux) pick.vmlinux = ['vmlinux', guest.vmlinux];
  const manifest = { files: {} };
  for (const [key, [name, from]] of Object.entries(pick)) {
    copyFileSync(from, join(dir, name));
    manifest[key] = name;
    manifest.files[name] = { sha256: sha256(from), size: statSync(from).size };
  }
  manifest.builtBy = 'guest/build.sh';
  manifest.cacheEntries = { kernel: guest.kernel.split('/').at(-2), userland: guest.initrd.split('/').at(-2) };
  manifest.inputs = inputs();
  manifest.debian = debianPackages();
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dest = process.argv[2];
  if (!dest) {
    process.stderr.write('usage: node scripts/guest-bundle.mjs <dest> [--vmlinux]\n');
    process.exit(2);
  }
  const m = bundleGuest(resolve(dest), { vmlinux: process.argv.includes('--vmlinux') });
  process.stdout.write(JSON.stringify(m.files) + '\n');
}
