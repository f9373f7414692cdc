// Packages the extension: `npm run package` → vscode-semu-<version>.vsix in the repository root.
//   node scripts/package.mjs [--out <file.vsix>] [--keep-stage]
//
// Works in a staging copy (out/vsix-stage-<pid>, removed afterwards) so that it never disturbs the working tree, whose
// dist/ other people's tests and debug sessions use: the sources are copied there, built with
// `scripts/build.mjs --production`, given the run-time node_modules, and packed by @vscode/vsce
// with .vscodeignore (which whitelists what ships).
//
// naudiodon's addon finds libportaudio.so.2 through a RUNPATH that node-gyp set to the absolute
// build folder of THIS checkout; an installed extension lives elsewhere, so the staged copy's
// RUNPATH is rewritten to $ORIGIN (the addon's own folder, where libportaudio.so.2 ships).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, writeSync, closeSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stage = join(root, 'out', `vsix-stage-${process.pid}`);
const VSCE = '@vscode/vsce@3';
const TARGET = 'linux-x64'; // the vsix carries a linux-x64 native addon
const ADDON = 'node_modules/naudiodon/build/Release/naudiodon.node';
// Never copied into the stage: VCS data, build and test outputs, earlier packages.
const SKIP_TOP = new Set(['.git', 'node_modules', 'out', 'dist', 'test-results', '.cache', '.vscode-test']);

function fail(msg) {
  process.stderr.write(`package: ${msg}\n`);
  process.exit(1);
}

function args() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const i = process.argv.indexOf('--out');
  const out = i > 0 ? resolve(process.argv[i + 1] ?? fail('--out needs a file name')) : join(root, `${pkg.name}-${pkg.version}.vsix`);
  return { pkg, out };
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

// ELF64 little-endian constants (System V gABI).
const PT_LOAD = 1, PT_DYNAMIC = 2, DT_NULL = 0n, DT_STRTAB = 5n, DT_RPATH = 15n, DT_RUNPATH = 29n;

/** Rewrites DT_RUNPATH/DT_RPATH in place to a string no longer than the old one. */
export function setRunpath(file, value) {
  const elf = readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error(`${file}: not a 64-bit little-endian ELF file`);
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  const segs = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    segs.push({ type: elf.readUInt32LE(o), offset: Number(elf.readBigUInt64LE(o + 8)), vaddr: Number(elf.readBigUInt64LE(o + 16)), filesz: Number(elf.readBigUInt64LE(o + 32)) });
  }
  const dyn = segs.find((s) => s.type === PT_DYNAMIC) ?? fail(`${file}: no dynamic segment`);
  let strtab = -1;
  const paths = [];
  for (let o = dyn.offset; o + 16 <= dyn.offset + dyn.filesz; o += 16) {
    const tag = elf.readBigInt64LE(o);
    if (tag === DT_NULL) break;
    const val = Number(elf.readBigUInt64LE(o + 8));
    if (tag === DT_STRTAB) strtab = val;
    if (tag === DT_RUNPATH || tag === DT_RPATH) paths.push(val);
  }
  const load = segs.find((s) => s.type === PT_LOAD && strtab >= s.vaddr && strtab < s.vaddr + s.filesz);
  if (!load) throw new Error(`${file}: string table not in a loaded segment`);
  const strOff = strtab - load.vaddr + load.offset;
  const fd = openSync(file, 'r+');
  try {
    for (const p of paths) {
      const at = strOff + p;
      const old = elf.subarray(at, elf.indexOf(0, at)).toString();
      if (Buffer.byteLength(value) > old.length) throw new Error(`${file}: new RUNPATH longer than '${old}'`);
      const bytes = Buffer.alloc(old.length, 0);
      bytes.write(value);
      writeSync(fd, bytes, 0, bytes.length, at);
    }
  } finally {
    closeSync(fd);
  }
  return paths.length;
}

function vsce(out, pkg) {
  const flags = ['package', '--no-yarn', '--target', TARGET, '--out', out];
  // Without a repository URL vsce cannot make README links absolute; leave them relative
  // (VS Code resolves them against the installed extension, where docs/images ships).
  if (!pkg.repository) flags.push('--allow-missing-repository', '--no-rewrite-relative-links');
  if (!readdirSync(stage).some((f) => /^licen[cs]e/i.test(f))) flags.push('--skip-license');
  execFileSync('npx', ['--yes', VSCE, ...flags], { cwd: stage, stdio: ['ignore', 'inherit', 'inherit'] });
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
  const { pkg, out } = args();
  // A failed run leaves its stage for inspection; the next run clears those of dead processes.
  const outDir = join(root, 'out');
  const stages = existsSync(outDir) ? readdirSync(outDir).filter((n) => /^vsix-stage-\d+$/.test(n)) : [];
  for (const name of stages) {
    if (!alive(Number(name.slice('vsix-stage-'.length)))) rmSync(join(outDir, name), { recursive: true, force: true });
  }
  if (!existsSync(join(root, ADDON))) fail(`${ADDON} is missing: run npm install (naudiodon builds with node-gyp)`);
  copySources();
  copyRuntimeModules();
  build();
  if (setRunpath(join(stage, ADDON), '$ORIGIN') === 0) fail(`${ADDON} has no RUNPATH to rewrite`);
  rmSync(out, { force: true });
  vsce(out, pkg);
  if (!process.argv.includes('--keep-stage')) rmSync(stage, { recursive: true, force: true });
  const shown = relative(process.cwd(), out).startsWith('..') ? out : relative(process.cwd(), out);
  process.stdout.write(`${shown} (${(statSync(out).size / 1048576).toFixed(1)} MiB)\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
