// Writes the launch.json schema into package.json from the option declarations (the machine's
// in src/host/options.ts, each device's in its descriptor, the debugger's in
// debug-adapter/launch.ts). `--check` only compares and exits 1 when package.json is stale.
// test/extension/manifest.test.ts checks the same in the suite.
import * as esbuild from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(tmpdir(), `semu-manifest-${process.pid}.cjs`);
await esbuild.build({
  entryPoints: [join(root, 'debug-adapter/launch.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  outfile: out,
  external: ['vscode'],
  logLevel: 'warning',
});
const { launchProperties } = createRequire(import.meta.url)(out);
rmSync(out, { force: true });

const file = join(root, 'package.json');
const text = readFileSync(file, 'utf8');
const pkg = JSON.parse(text);
const launch = pkg.contributes.debuggers[0].configurationAttributes.launch;
const wanted = launchProperties();
const same = JSON.stringify(launch.properties) === JSON.stringify(wanted);
if (process.argv.includes('--check')) {
  if (!same) {
    console.error('package.json: the launch schema is stale; run `npm run manifest`');
    process.exit(1);
  }
} else if (!same) {
  launch.properties = wanted;
  writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
  console.log('package.json: launch schema updated');
}
