// Builds the audio host (src/audio/audio-host.ts) once per test process, as scripts/build.mjs
// would into dist/, but into a temp dir so tests never depend on (or clobber) a full build.
import { buildSync } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extensionRoot } from '../../../src/paths';

let built: string | null = null;

export function audioHostScript(): string {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'semu-audio-host-'));
  const out = join(dir, 'audio-host.js');
  buildSync({
    entryPoints: [join(extensionRoot(), 'src/audio/audio-host.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
  });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return (built = out);
}
