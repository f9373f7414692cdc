// The .vsix a person installs: packaged once here (scripts/package.mjs, ~10 s), then checked for
// what must ship (bundles, default-guest sources, naudiodon's native part found wherever the
// extension is installed) and what must not (sources, tests, maps, build outputs, other modules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extensionRoot } from '../../src/paths';

const root = extensionRoot();
const work = mkdtempSync(join(tmpdir(), 'semu-vsix-'));
const vsix = join(work, 'vscode-semu.vsix');
test.after(() => rmSync(work, { recursive: true, force: true }));

let entries: string[] = [];
test.before(() => {
  execFileSync(process.execPath, [join(root, 'scripts', 'package.mjs'), '--out', vsix], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  // `unzip -Z1`: one entry name per line.
  entries = execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).split('\n').filter(Boolean);
});

const inExt = (p: string) => entries.includes(`extension/${p}`);
const unzipTo = (dir: string, ...names: string[]) => execFileSync('unzip', ['-o', '-q', vsix, ...names, '-d', dir]);

/** The bundles scripts/build.mjs writes (its entry tables), except the benchmark. */
function builtBundles(): string[] {
  const text = readFileSync(join(root, 'scripts', 'build.mjs'), 'utf8');
  return [...text.matchAll(/'(dist\/[\w/.-]+\.js)'/g)].map((m) => m[1]!).filter((p) => p !== 'dist/bench.js');
}

test('vsix: the manifest, README and every bundle the build makes are in it', () => {
  assert.ok(inExt('package.json'));
  assert.ok(entries.some((e) => /^extension\/readme\.md$/i.test(e)), 'README');
  const bundles = builtBundles();
  assert.ok(bundles.length >= 6, `bundles found in build.mjs: ${bundles.join(', ')}`);
  for (const b of bundles) assert.ok(inExt(b), `${b} missing`);
  const manifest = JSON.parse(execFileSync('unzip', ['-p', vsix, 'extension/package.json'], { encoding: 'utf8' }));
  assert.ok(inExt(manifest.main.replace(/^\.\//, '')), `main ${manifest.main} missing`);
  // The panels load dist/webview/<panel>.css next to their scripts.
  for (const css of ['dist/webview/levels.css', 'dist/webview/inspector.css']) assert.ok(inExt(css), `${css} missing`);
});

test('vsix: the default guest builds from it (guest/build.sh and every source beside it)', () => {
  const want: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}${e.name}/`);
      else if (/\.(sh|c|h|config)$/.test(e.name)) want.push(`${rel}${e.name}`);
    }
  };
  walk(join(root, 'guest'), 'guest/');
  assert.ok(want.includes('guest/build.sh'));
  for (const f of want) assert.ok(inExt(f), `${f} missing`);
});

test('vsix: no sources, tests, maps, build outputs or development modules', () => {
  const bad = entries.filter((e) =>
    /^extension\/(src|test|debug-adapter|webview|bench|scripts|out|test-results|docs\/(?!images\/)|\.vscode|\.ci|\.git)\//.test(e) ||
    /\.(ts|map|o|cpio|vsix)$/.test(e) ||
    /(^|\/)(Image|vmlinux|System\.map|tsconfig\.json|package-lock\.json|\.vscodeignore)$/.test(e) ||
    e === 'extension/dist/bench.js',
  );
  assert.deepEqual(bad, []);
  // node_modules: only naudiodon's native addon, PortAudio beside it, and their manifest/licence.
  const modules = entries.filter((e) => e.startsWith('extension/node_modules/'));
  assert.deepEqual(modules.sort(), [
    'extension/node_modules/naudiodon/LICENSE',
    'extension/node_modules/naudiodon/build/Release/libportaudio.so.2',
    'extension/node_modules/naudiodon/build/Release/naudiodon.node',
    'extension/node_modules/naudiodon/package.json',
  ]);
});

test('vsix: declared for linux-x64, the platform of its native addon', () => {
  const xml = execFileSync('unzip', ['-p', vsix, 'extension.vsixmanifest'], { encoding: 'utf8' });
  assert.match(xml, /TargetPlatform="linux-x64"/);
});

test('vsix: naudiodon finds its PortAudio wherever the extension is installed ($ORIGIN)', () => {
  const dir = mkdtempSync(join(work, 'installed-'));
  const rel = 'extension/node_modules/naudiodon/build/Release';
  unzipTo(dir, `${rel}/naudiodon.node`, `${rel}/libportaudio.so.2`);
  const addon = join(dir, rel, 'naudiodon.node');
  const dyn = execFileSync('readelf', ['-d', addon], { encoding: 'utf8' });
  assert.match(dyn, /\((RUNPATH|RPATH)\)\s+Library r(un)?path: \[\$ORIGIN\]/);
  assert.doesNotMatch(dyn, new RegExp(root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no path of this checkout left in the addon');
  // The dynamic linker resolves libportaudio next to the addon, in the unpacked copy.
  const ldd = execFileSync('ldd', [addon], { encoding: 'utf8' });
  assert.match(ldd, new RegExp(`libportaudio\\.so\\.2 => ${join(dir, rel).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/libportaudio\\.so\\.2`));
  // And Node loads it from there (N-API: the addon exposes its functions without opening a device).
  const out = execFileSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addon)}); console.log(typeof a.getDevices, typeof a.create)`], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(out.trim(), 'function function');
});
