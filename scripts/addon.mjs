// The PortAudio addon each package target carries (naudiodon's N-API sources, compiled here rather
// than by node-gyp so the result loads wherever VS Code runs):
//   node scripts/addon.mjs [target...]      → out/addon/<target>/{naudiodon.node, libportaudio.*}
//
// linux-x64: g++ with the C++ runtime symbols pinned to their GLIBCXX_3.4.25-era versions
// (addon/glibc228.h) and local copies of the two newer ones GCC 12's headers reference
// (addon/compat.cc); RUNPATH $ORIGIN so the PortAudio library beside it is found wherever the
// extension is installed. Then checkAbi() reads `objdump -T`: no symbol newer than GLIBC_2.28 or
// GLIBCXX_3.4.25 (glibc 2.28: Debian 10, Ubuntu 20.04's GCC 9/10 runtime is newer, RHEL 8's GCC 8).
// Other targets need a toolchain this machine does not have (macOS SDK, MSVC, an arm64 PortAudio):
// addonFor() answers why, and those packages play through the webview backend.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const naudiodon = join(root, 'node_modules', 'naudiodon');
const SOURCES = ['naudiodonUtil', 'naudiodon', 'GetDevices', 'GetHostAPIs', 'AudioIO', 'PaContext'];
export const MAX_GLIBC = '2.28';
export const MAX_GLIBCXX = '3.4.25';
export const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'];

/** N-API headers: the ones beside the node that runs us (…/bin/node → …/include/node). */
function nodeHeaders() {
  const dir = join(dirname(process.execPath), '..', 'include', 'node');
  if (!existsSync(join(dir, 'node_api.h'))) throw new Error(`no node_api.h in ${dir} (the Node.js headers)`);
  return dir;
}

function buildLinuxX64(outDir) {
  const obj = join(outDir, 'obj');
  mkdirSync(obj, { recursive: true });
  const flags = ['-c', '-O2', '-fPIC', '-std=c++11', '-fexceptions', '-fvisibility=hidden', `-I${nodeHeaders()}`, `-I${join(naudiodon, 'portaudio', 'include')}`];
  const objects = [];
  for (const s of SOURCES) {
    const o = join(obj, `${s}.o`);
    execFileSync('g++', [...flags, '-include', join(root, 'scripts', 'addon', 'glibc228.h'), join(naudiodon, 'src', `${s}.cc`), '-o', o], { stdio: 'inherit' });
    objects.push(o);
  }
  const compat = join(obj, 'compat.o');
  execFileSync('g++', [...flags, join(root, 'scripts', 'addon', 'compat.cc'), '-o', compat], { stdio: 'inherit' });
  const pa = join(outDir, 'libportaudio.so.2');
  copyFileSync(join(naudiodon, 'portaudio', 'bin', 'libportaudio.so.2'), pa);
  const addon = join(outDir, 'naudiodon.node');
  execFileSync('g++', ['-shared', '-o', addon, ...objects, compat, pa, '-Wl,-rpath,$ORIGIN', '-Wl,--enable-new-dtags', '-Wl,-O1', '-s'], { stdio: 'inherit' });
  rmSync(obj, { recursive: true, force: true });
  for (const f of [addon, pa]) checkAbi(f);
  return [addon, pa];
}

const newer = (v, max) => {
  const a = v.split('.').map(Number);
  const b = max.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return false;
};

/** Versioned symbols `objdump -T` lists for a file: [{ name, lib: 'GLIBC'|'GLIBCXX'|…, version }]. */
export function versionedSymbols(file) {
  const text = execFileSync('objdump', ['-T', file], { encoding: 'utf8' });
  const out = [];
  for (const m of text.matchAll(/\(?(GLIBC|GLIBCXX|CXXABI|GCC)_([0-9.]+)\)?\s+(\S+)\s*$/gm)) out.push({ lib: m[1], version: m[2], name: m[3] });
  return out;
}

/** Throws, naming them, if the file needs a symbol newer than glibc 2.28 / GLIBCXX 3.4.25. */
export function checkAbi(file) {
  const bad = versionedSymbols(file).filter((s) => (s.lib === 'GLIBC' && newer(s.version, MAX_GLIBC)) || (s.lib === 'GLIBCXX' && newer(s.version, MAX_GLIBCXX)));
  if (bad.length) throw new Error(`${file} needs symbols newer than GLIBC_${MAX_GLIBC} / GLIBCXX_${MAX_GLIBCXX}: ${bad.map((s) => `${s.name}@${s.lib}_${s.version}`).join(', ')}`);
}

/**
 * Builds the addon for a package target into out/addon/<target>/. Returns { files } (absolute
 * paths, to ship in node_modules/naudiodon/build/Release/) or { files: [], why } when it cannot be
 * had here.
 */
export function addonFor(target) {
  const host = `${process.platform}-${process.arch}`;
  if (target === 'linux-x64' && host === 'linux-x64') {
    const outDir = join(root, 'out', 'addon', target);
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    return { files: buildLinuxX64(outDir) };
  }
  const why = {
    'linux-arm64': 'no arm64 PortAudio library to link against here (naudiodon ships x64 and armhf ones only)',
    'darwin-x64': 'no macOS SDK or toolchain here',
    'darwin-arm64': 'no macOS SDK or toolchain here',
    'win32-x64': 'no MSVC toolchain or node.lib here',
  }[target];
  return { files: [], why: why ?? `no toolchain for ${target} on ${host}` };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const t of process.argv.slice(2).length ? process.argv.slice(2) : ['linux-x64']) {
    const r = addonFor(t);
    process.stdout.write(r.files.length ? `${t}: ${r.files.join(' ')}\n` : `${t}: none (${r.why})\n`);
  }
}
