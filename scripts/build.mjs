// Builds every bundle of the extension with esbuild.
// dist/: what ships (extension, worker, CLI, standalone adapter, audio host, webviews).
// out/test/: each test file bundled on its own, run by node's test runner.
// An entry whose source does not exist yet is skipped, so the tree builds at every step.
import * as esbuild from 'esbuild';
import { existsSync, readdirSync, statSync, rmSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const nodeEntries = [
  ['src/extension.ts', 'dist/extension.js'],
  ['src/worker/main.ts', 'dist/worker.js'],
  ['src/cli.ts', 'dist/cli.js'], // the entry: starts the worker, then requires dist/cli-main.js
  ['src/cli-main.ts', 'dist/cli-main.js'],
  ['src/audio/audio-host.ts', 'dist/audio-host.js'],
  ['src/devices/virtio-net/io-thread.ts', 'dist/net-io.js'],
  ['debug-adapter/standalone.ts', 'dist/debug-adapter.js'],
  ['bench/main.ts', 'dist/bench.js'],
];
const webEntries = [
  ['webview/levels/main.ts', 'dist/webview/levels.js'],
  ['webview/inspector/main.ts', 'dist/webview/inspector.js'],
  ['webview/screen/main.ts', 'dist/webview/screen.js'],
  ['webview/audio/main.ts', 'dist/webview/audio.js'],
];

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
};

const builds = [];
for (const [src, out] of nodeEntries) {
  if (!existsSync(join(root, src))) continue;
  builds.push({
    ...common,
    entryPoints: [src],
    outfile: out,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // The bench drives Chromium (playwright-core) and bundles the panels (esbuild): dev tools, not shipped.
    external: src === 'bench/main.ts' ? ['vscode', 'playwright-core', 'esbuild'] : src === 'src/cli.ts' ? ['vscode', './cli-main.js'] : ['vscode'],
    banner: src === 'src/cli.ts' ? { js: '#!/usr/bin/env node' } : undefined,
  });
}
// The audio panel's AudioWorklet is bundled first and inlined into the page as a string
// (SEMU_WORKLET_SOURCE): the page loads it from a blob: URL.
export async function workletSource(minify = production) {
  const src = 'webview/audio/worklet.ts';
  if (!existsSync(join(root, src))) return '';
  const r = await esbuild.build({ ...common, sourcemap: false, minify, entryPoints: [src], write: false, platform: 'browser', target: 'chrome120', format: 'iife' });
  return r.outputFiles[0].text;
}
const define = { SEMU_WORKLET_SOURCE: JSON.stringify(await workletSource()) };
for (const [src, out] of webEntries) {
  if (!existsSync(join(root, src))) continue;
  builds.push({ ...common, entryPoints: [src], outfile: out, platform: 'browser', target: 'chrome120', format: 'iife', define });
}
const tests = walk(join(root, 'test')).map((p) => relative(root, p));
if (tests.length && !production) {
  rmSync(join(root, 'out/test'), { recursive: true, force: true });
  builds.push({
    ...common,
    entryPoints: tests,
    outdir: 'out/test',
    outbase: 'test',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
  });
}

if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
