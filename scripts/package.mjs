// Packages the extension, one .vsix per VS Code target:
//   node scripts/package.mjs [--target T | --all] [--out <file.vsix | dir>] [--keep-stage] [--vmlinux]
// Default: the target of this machine (linux-x64), written to vscode-semu-<version>.vsix. --all
// writes vscode-semu-<target>-<version>.vsix for linux-x64, linux-arm64, darwin-x64, darwin-arm64,
// win32-x64 and a universal one (no native files: it plays through the webview audio backend),
// into --out (a folder) or the repository root, and out/package-sizes.json.
//
// Works in a staging copy (out/vsix-stage-<pid>, removed afterwards) so that it never disturbs the
// working tree, whose dist/ other people's tests and debug sessions use: the sources are copied
// there, built with `scripts/build.mjs --production`, given the run-time node_modules, the default
// guest (scripts/guest-bundle.mjs: prebuilt Image, initramfs, System.map, manifest of hashes) and
// each target's PortAudio addon (scripts/addon.mjs), and packed by the pinned @vscode/vsce with
// .vscodeignore (which whitelists what ships).
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addonFor, TARGETS } from './addon.mjs';
import { bundleGuest } from './guest-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stage = join(root, 'out', `vsix-stage-${process.pid}`);
const VSCE = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const RELEASE = join('node_modules', 'naudiodon', 'build', 'Release');
/** The Marketplace's limit is far above; ours keeps a download quick. */
export const MAX_PACKAGE_BYTES = 25 * 1024 * 1024;
// Never copied into the stage: VCS data, build and test outputs, earlier packages.
const SKIP_TOP = new Set(['.git', 'node_modules', 'out', 'dist', 'test-results', '.cache', '.vscode-test']);

function fail(msg) {
  process.stderr.write(`package: ${msg}\n`);
  process.exit(1);
}

function option(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? (process.argv[i + 1] ?? fail(`${name} needs a value`)) : undefined;
}

/** The targets to package and where each .vsix goes. */
function plan(pkg) {
  const host = `${process.platform}-${process.arch}`;
  const all = process.argv.includes('--all');
  const targets = all ? [...TARGETS, 'universal'] : [option('--target') ?? host];
  for (const t of targets) if (t !== 'universal' && !TARGETS.includes(t)) fail(`unknown target ${t} (one of ${TARGETS.join(', ')}, universal)`);
  const out = option('--out');
  if (!all) return targets.map((t) => ({ target: t, file: out ? resolve(out) : join(root, `${pkg.name}-${pkg.version}.vsix`) }));
  const dir = out ? resolve(out) : root;
  mkdirSync(dir, { recursive: true });
  return targets.map((t) => ({ target: t, file: join(dir, `${pkg.name}-${t}-${pkg.version}.vsix`) }));
}

function copySources() {
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  for (const name of readdirSync(root)) {
    if (SKIP_TOP.has(name) || name.endsWith('.vsix')) continue;
    cpSync(join(root, name), join(stage, name), { recursive: true });
  }
}

/** The production dependency closure, as npm resolved it in the working tree. */
function runtimePackages() {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' });
  return out.split('\n').filter((p) => p && resolve(p) !== resolve(root)).map((p) => relative(root, p));
}

function copyRuntimeModules() {
  // vsce asks npm for the production tree (`npm list --production`), which must be complete and
  // consistent; .vscodeignore then keeps only the files needed at run time.
  for (const rel of runtimePackages()) {
    cpSync(join(root, rel), join(stage, rel), { recursive: true, filter: (src) => !src.endsWith(`${rel}/node_modules`) });
  }
}

function build() {
  // build.mjs resolves esbuild next to itself: lend it the working tree's for the build only,
  // so the stage's node_modules stays the production tree that vsce checks.
  const links = ['esbuild', '@esbuild'].filter((m) => existsSync(join(root, 'node_modules', m)));
  for (const m of links) symlinkSync(join(root, 'node_modules', m), join(stage, 'node_modules', m));
  try {
    execFileSync(process.execPath, [join(stage, 'scripts', 'build.mjs'), '--production'], { cwd: stage, stdio: 'inherit' });
  } finally {
    for (const m of links) rmSync(join(stage, 'node_modules', m), { force: true });
  }
}

/** The stage's naudiodon build/Release holds exactly the target's native files (maybe none). */
function placeAddon(target) {
  const release = join(stage, RELEASE);
  rmSync(release, { recursive: true, force: true });
  mkdirSync(release, { recursive: true });
  if (target === 'universal') return { files: [], why: 'universal package' };
  const r = addonFor(target);
  for (const f of r.files) copyFileSync(f, join(release, basename(f)));
  return r;
}

function vsce(target, out) {
  const flags = ['package', '--no-yarn', '--out', out];
  if (target !== 'universal') flags.push('--target', target);
  execFileSync(process.execPath, [VSCE, ...flags], { cwd: stage, stdio: ['ignore', 'inherit', 'inherit'] });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

function main() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const jobs = plan(pkg);
  // A failed run leaves its stage for inspection; the next run clears those of dead processes.
  const outDir = join(root, 'out');
  const stages = existsSync(outDir) ? readdirSync(outDir).filter((n) => /^vsix-stage-\d+$/.test(n)) : [];
  for (const name of stages) {
    if (!alive(Number(name.slice('vsix-stage-'.length)))) rmSync(join(outDir, name), { recursive: true, force: true });
  }
  copySources();
  copyRuntimeModules();
  build();
  bundleGuest(stage, { vmlinux: process.argv.includes('--vmlinux') });
  const sizes = {};
  for (const { target, file } of jobs) {
    const addon = placeAddon(target);
    rmSync(file, { force: true });
    vsce(target, file);
    const bytes = statSync(file).size;
    sizes[target] = { file: basename(file), bytes, native: addon.files.map((f) => basename(f)), ...(addon.why ? { noAddon: addon.why } : {}) };
    const shown = relative(process.cwd(), file).startsWith('..') ? file : relative(process.cwd(), file);
    const native = addon.files.length ? addon.files.map((f) => basename(f)).join(', ') : `no PortAudio addon (${addon.why}): plays through the webview`;
    process.stdout.write(`${shown} (${(bytes / 1048576).toFixed(1)} MiB; ${native})\n`);
    if (bytes > MAX_PACKAGE_BYTES) fail(`${file} is ${(bytes / 1048576).toFixed(1)} MiB, over the ${MAX_PACKAGE_BYTES / 1048576} MiB limit`);
  }
  if (jobs.length > 1) writeFileSync(join(outDir, 'package-sizes.json'), JSON.stringify(sizes, null, 2) + '\n');
  if (!process.argv.includes('--keep-stage')) rmSync(stage, { recursive: true, force: true });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
