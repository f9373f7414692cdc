// The packages a person installs: every target packaged once here (scripts/package.mjs --all,
// ~2 min), then checked for what must ship (bundles, the prebuilt default guest and its manifest,
// the guest's sources, listing files, each target's own native files and no other's) and what
// must not (sources, tests, maps, build outputs, other modules); the linux-x64 addon's symbol
// versions (glibc 2.28) and its $ORIGIN; and the CLI run from an unpacked package with an empty
// HOME and no guest build tools, booting the shipped guest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extensionRoot } from '../../src/paths';

const root = extensionRoot();
const work = mkdtempSync(join(tmpdir(), 'semu-vsix-'));
const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'universal'];
const MAX_BYTES = 25 * 1024 * 1024;
const RELEASE = 'extension/node_modules/naudiodon/build/Release';
test.after(() => rmSync(work, { recursive: true, force: true }));

const vsixOf = (t: string) => join(work, `vscode-semu-${t}-${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}.vsix`);
const entries = new Map<string, string[]>();
test.before(() => {
  execFileSync(process.execPath, [join(root, 'scripts', 'package.mjs'), '--all', '--out', work], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  for (const t of TARGETS) entries.set(t, execFileSync('unzip', ['-Z1', vsixOf(t)], { encoding: 'utf8' }).split('\n').filter(Boolean));
});

const listing = (t = 'linux-x64') => entries.get(t)!;
const inExt = (p: string, t = 'linux-x64') => listing(t).includes(`extension/${p}`);
const unzipTo = (dir: string, t: string, ...names: string[]) => execFileSync('unzip', ['-o', '-q', vsixOf(t), ...names, '-d', dir]);

/** The bundles scripts/build.mjs writes (its entry tables), except the benchmark. */
function builtBundles(): string[] {
  const text = readFileSync(join(root, 'scripts', 'build.mjs'), 'utf8');
  return [...text.matchAll(/'(dist\/[\w/.-]+\.js)'/g)].map((m) => m[1]!).filter((p) => p !== 'dist/bench.js');
}

test('vsix: the manifest, README, listing files and every bundle the build makes are in it', () => {
  for (const f of ['package.json', 'LICENSE.txt', 'ThirdPartyNotices.md', 'media/icon.png', 'media/walkthrough/boot.md']) assert.ok(inExt(f), `${f} missing`);
  // vsce lower-cases these two names
  for (const f of ['readme.md', 'changelog.md']) assert.ok(listing().some((e) => e.toLowerCase() === `extension/${f}`), f);
  const bundles = builtBundles();
  assert.ok(bundles.length >= 7, `bundles found in build.mjs: ${bundles.join(', ')}`);
  for (const b of bundles) assert.ok(inExt(b), `${b} missing`);
  const manifest = JSON.parse(execFileSync('unzip', ['-p', vsixOf('linux-x64'), 'extension/package.json'], { encoding: 'utf8' }));
  assert.ok(inExt(manifest.main.replace(/^\.\//, '')), `main ${manifest.main} missing`);
  for (const css of ['dist/webview/levels.css', 'dist/webview/inspector.css', 'dist/webview/audio.css']) assert.ok(inExt(css), `${css} missing`);
  assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.equal(manifest.capabilities.virtualWorkspaces.supported, false);
});

test('vsix: the default guest ships prebuilt, its manifest matching the files; its sources ship too', () => {
  const dir = mkdtempSync(join(work, 'guest-'));
  unzipTo(dir, 'universal', 'extension/guest/shipped/*');
  const shipped = join(dir, 'extension', 'guest', 'shipped');
  const m = JSON.parse(readFileSync(join(shipped, 'manifest.json'), 'utf8'));
  assert.deepEqual(Object.keys(m.files).sort(), ['Image', 'System.map', 'initramfs.cpio']);
  for (const [name, want] of Object.entries(m.files as Record<string, { sha256: string; size: number }>)) {
    const got = execFileSync('sha256sum', [join(shipped, name)], { encoding: 'utf8' }).split(' ')[0];
    assert.equal(got, want.sha256, name);
    assert.equal(statSync(join(shipped, name)).size, want.size, name);
  }
  assert.ok(m.debian.some((p: { name: string; version: string }) => p.name === 'linux-source-6.12' && p.version), 'the kernel source package and its version');
  assert.ok(m.debian.every((p: { sha256: string | null }) => p.sha256 === null || /^[0-9a-f]{64}$/.test(p.sha256)));
  assert.match(m.inputs['guest/kernel.config'], /^[0-9a-f]{64}$/);
  for (const f of ['guest/build.sh', 'guest/kernel.config', 'guest/lib/common.sh', 'guest/src/init.c']) assert.ok(inExt(f, 'universal'), `${f} missing`);
});

test('vsix: no sources, tests, maps, build outputs, vmlinux or development modules', () => {
  for (const t of TARGETS) {
    const bad = listing(t).filter(
      (e) =>
        /^extension\/(src|test|debug-adapter|webview|bench|scripts|out|test-results|docs\/(?!images\/)|\.vscode|\.ci|\.git)\//.test(e) ||
        (/\.(ts|map|o|vsix|cpio)$/.test(e) && !/^extension\/guest\/shipped\/(System\.map|initramfs\.cpio)$/.test(e)) ||
        /(^|\/)(vmlinux|tsconfig\.json|package-lock\.json|\.vscodeignore)$/.test(e) ||
        (/(^|\/)Image$/.test(e) && e !== 'extension/guest/shipped/Image') ||
        e === 'extension/dist/bench.js',
    );
    assert.deepEqual(bad, [], t);
    const modules = listing(t).filter((e) => e.startsWith('extension/node_modules/') && !e.startsWith(`${RELEASE}/`));
    assert.deepEqual(modules.sort(), ['extension/node_modules/naudiodon/LICENSE', 'extension/node_modules/naudiodon/package.json'], t);
  }
});

test('vsix: each target carries exactly its own native files, is marked for its platform, and is under 25 MB', () => {
  for (const t of TARGETS) {
    const native = listing(t).filter((e) => e.startsWith(`${RELEASE}/`) || /\.(node|so(\.\d+)*|dylib|dll)$/.test(e));
    const want = t === 'linux-x64' ? [`${RELEASE}/libportaudio.so.2`, `${RELEASE}/naudiodon.node`] : [];
    assert.deepEqual(native.sort(), want, t);
    const xml = execFileSync('unzip', ['-p', vsixOf(t), 'extension.vsixmanifest'], { encoding: 'utf8' });
    if (t === 'universal') assert.doesNotMatch(xml, /TargetPlatform=/);
    else assert.match(xml, new RegExp(`TargetPlatform="${t}"`));
    const bytes = statSync(vsixOf(t)).size;
    assert.ok(bytes < MAX_BYTES, `${t}: ${bytes} bytes`);
  }
  const sizes = JSON.parse(readFileSync(join(root, 'out', 'package-sizes.json'), 'utf8'));
  assert.deepEqual(Object.keys(sizes).sort(), [...TARGETS].sort(), 'out/package-sizes.json records every package');
});

test('vsix: the linux-x64 addon needs nothing newer than glibc 2.28 / GLIBCXX 3.4.25 (objdump -T) and loads from wherever it is installed', () => {
  const dir = mkdtempSync(join(work, 'installed-'));
  unzipTo(dir, 'linux-x64', `${RELEASE}/naudiodon.node`, `${RELEASE}/libportaudio.so.2`);
  const release = join(dir, RELEASE);
  for (const f of ['naudiodon.node', 'libportaudio.so.2']) {
    const versions = [...execFileSync('objdump', ['-T', join(release, f)], { encoding: 'utf8' }).matchAll(/\b(GLIBC|GLIBCXX)_([0-9.]+)/g)].map((m) => [m[1], m[2]] as const);
    assert.ok(versions.some(([lib]) => lib === 'GLIBC'), `${f}: objdump -T shows versioned glibc symbols`);
    const newer = (v: string, max: string) => {
      const a = v.split('.').map(Number);
      const b = max.split('.').map(Number);
      for (let i = 0; i < 4; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
      return false;
    };
    const bad = versions.filter(([lib, v]) => (lib === 'GLIBC' ? newer(v, '2.28') : newer(v, '3.4.25')));
    assert.deepEqual(bad, [], `${f} needs newer symbol versions`);
  }
  const addon = join(release, 'naudiodon.node');
  const dyn = execFileSync('readelf', ['-d', addon], { encoding: 'utf8' });
  assert.match(dyn, /\((RUNPATH|RPATH)\)\s+Library r(un)?path: \[\$ORIGIN\]/);
  assert.doesNotMatch(dyn, new RegExp(root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no path of this checkout left in the addon');
  const ldd = execFileSync('ldd', [addon], { encoding: 'utf8' });
  assert.match(ldd, new RegExp(`libportaudio\\.so\\.2 => ${release.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/libportaudio\\.so\\.2`));
  const out = execFileSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addon)}); console.log(typeof a.getDevices, typeof a.create)`], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(out.trim(), 'function function');
});

/** A PATH holding only node, bash and coreutils-like basics: no compiler, make, dpkg or apt. */
function bareBin(): string {
  const bin = join(work, 'bare-bin');
  mkdirSync(bin, { recursive: true });
  for (const tool of ['bash', 'sh', 'env', 'cat', 'ls', 'uname']) {
    const p = ['/usr/bin', '/bin'].map((d) => join(d, tool)).find((x) => existsSync(x));
    if (p && !existsSync(join(bin, tool))) symlinkSync(p, join(bin, tool));
  }
  return bin;
}

test('the CLI from an unpacked package, with an empty HOME and no build tools, boots the shipped guest', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(work, 'cli-'));
  execFileSync('unzip', ['-q', vsixOf('universal'), '-d', dir]);
  const home = mkdtempSync(join(work, 'home-'));
  const env: NodeJS.ProcessEnv = { HOME: home, PATH: bareBin(), LANG: 'C' };
  const started = Date.now();
  const child = spawn(process.execPath, [join(dir, 'extension', 'dist', 'cli.js'), '--audio-out', 'null', '--audio-in', 'null', '--timeout', '90'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('semu-guest: ready') && !child.stdin.writableEnded) child.stdin.end('poweroff\n');
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.match(out, /Linux version 6\.12/, err.slice(-2000));
  assert.match(out, /semu-guest: ready/);
  assert.equal(code, 0, `exit ${code}; stderr: ${err.slice(-500)}`);
  assert.ok(Date.now() - started < 90_000);
  assert.equal(existsSync(join(home, '.cache', 'vscode-semu', 'guest')), false, 'nothing was built or cached');
  assert.deepEqual(readdirSync(home), [], 'HOME stays empty');
});
