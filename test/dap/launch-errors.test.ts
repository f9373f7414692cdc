// A launch that cannot work fails at once, in one line naming the launch.json attribute, before
// any machine starts: the same preflight checks as the CLI (src/host/preflight.ts), through the
// real standalone adapter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SemuClient, guestArtifacts } from './client';

test('bad audio paths, a bad log level, a missing disk: launch errors naming the attribute', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'semu-launch-'));
  const notWav = join(dir, 'notes.txt');
  writeFileSync(notWav, 'not a wav');
  const dc = new SemuClient();
  await dc.start();
  try {
    await dc.initializeRequest();
    const kernel = guestArtifacts().kernel;
    const launch = (extra: object) => dc.launchRequest({ kernel, ...extra } as never);
    await assert.rejects(launch({ audioOut: 'wav:/nonexistent-dir/tx.wav' }), /launch\.json "audioOut": the folder \/nonexistent-dir does not exist/);
    await assert.rejects(launch({ audioIn: `wav:${join(dir, 'missing.wav')}` }), /launch\.json "audioIn": .*missing\.wav does not exist/);
    await assert.rejects(launch({ audioIn: `wav:${notWav}` }), /is not a RIFF\/WAVE file/);
    await assert.rejects(launch({ logLevel: 'chatty' }), /launch\.json "logLevel" must be "debug" or .*, got "chatty"/);
    await assert.rejects(launch({ disk: join(dir, 'disk.img') }), /launch\.json "disk": the disk image .*disk\.img does not exist: create one with .*mkfs\.ext4/);
    assert.equal(dc.console, '', 'no machine ever started');
    assert.equal(await dc.disconnectAndWaitExit(), 0);
  } finally {
    await dc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
