// A temp dir with a test-owned ALSA config made from test/fixtures/alsa/<name>.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extensionRoot } from '../../../src/paths';

export interface AlsaDir {
  dir: string;
  config: string;
  remove(): void;
}

export function alsaConfig(name: string): AlsaDir {
  const dir = mkdtempSync(join(tmpdir(), 'semu-alsa-'));
  const text = readFileSync(join(extensionRoot(), 'test/fixtures/alsa', name), 'utf8').replaceAll('@DIR@', dir);
  const config = join(dir, 'asound.conf');
  writeFileSync(config, text);
  return { dir, config, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
