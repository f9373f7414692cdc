// The audio host runs under the runtime we run in, never a `node` found on PATH (issue 16: an old
// distribution node failed on the bundle's syntax and sound silently fell back to null).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { nodeExec } from '../../src/audio/node-exec';
import { listPortAudioDevices } from '../../src/audio/portaudio';
import { alsaConfig } from './helpers/alsa';
import { audioHostScript } from './helpers/host';

test('plain Node: our own process.execPath, environment untouched', () => {
  const env = { PATH: '/usr/bin', X: '1' };
  const ex = nodeExec(env, { execPath: '/opt/node/bin/node' });
  assert.equal(ex.execPath, '/opt/node/bin/node');
  assert.deepEqual(ex.env, env);
});

test("VS Code's Electron: its own binary as Node (ELECTRON_RUN_AS_NODE=1), whatever node PATH has", () => {
  const env = { PATH: `/usr/bin${delimiter}/usr/local/bin`, SEMU_NODE: '/usr/bin/node' };
  const ex = nodeExec(env, { execPath: '/usr/share/code/code', electron: '34.2.0' });
  assert.equal(ex.execPath, '/usr/share/code/code');
  assert.equal(ex.env.ELECTRON_RUN_AS_NODE, '1');
  assert.equal(ex.env.PATH, env.PATH);
  assert.equal((env as Record<string, string>).ELECTRON_RUN_AS_NODE, undefined, 'the caller’s env is not modified');
});

test('a broken `node` first on PATH does not matter: the audio host still starts and lists devices', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'semu-bad-node-'));
  const alsa = alsaConfig('file-pcms.conf');
  try {
    const bad = join(dir, 'node');
    writeFileSync(bad, '#!/bin/sh\necho "SyntaxError: an old node" >&2\nexit 1\n');
    chmodSync(bad, 0o755);
    const env = { ...process.env, PATH: `${dir}${delimiter}${process.env.PATH ?? ''}`, ALSA_CONFIG_PATH: alsa.config };
    const devices = await listPortAudioDevices({ hostScript: audioHostScript(), env });
    assert.ok(devices.some((d) => d.name.includes('semutest_out')), `devices: ${devices.map((d) => d.name).join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    alsa.remove();
  }
});
