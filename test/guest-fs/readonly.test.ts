// The real guest with the host folder shared read-only: every way the shell can write fails with
// "read-only file system", reads work, and the host folder is exactly as it was.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GuestSession } from '../helpers/guest-session';
import { bootShared, sh } from './shared-guest';

const share = fs.mkdtempSync(path.join(os.tmpdir(), 'semu-share-ro-'));
let g: GuestSession;

/** Every entry with its type, size, mode and mtime: what must not change. */
function snapshot(dir: string): string {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((n) => {
      const s = fs.lstatSync(path.join(dir, n));
      return `${n} ${s.mode.toString(8)} ${s.size} ${s.mtimeMs} ${s.isSymbolicLink() ? fs.readlinkSync(path.join(dir, n)) : ''}`;
    })
    .join('\n');
}

before(async () => {
  fs.writeFileSync(path.join(share, 'keep.txt'), 'keep me\n');
  fs.mkdirSync(path.join(share, 'dir'));
  fs.writeFileSync(path.join(share, 'dir', 'inner'), 'inner\n');
  g = await bootShared(share, { sharedDirReadOnly: true });
}, { timeout: 180_000 });

after(async () => {
  await g?.dispose();
  fs.rmSync(share, { recursive: true, force: true });
});

test('read-only share: reads work, every write is refused with EROFS, the host folder is unchanged', { timeout: 120_000 }, async () => {
  const before = snapshot(share);
  assert.equal(await sh(g, 'cat /mnt/keep.txt /mnt/dir/inner'), 'keep me\ninner\n');
  const writes = [
    'echo x > /mnt/new',
    'echo x >> /mnt/keep.txt',
    'echo x > /mnt/keep.txt',
    'cp /mnt/keep.txt /mnt/copy',
    'mv /mnt/keep.txt /mnt/moved',
    'rm /mnt/keep.txt',
    'rm -r /mnt/dir',
    'mkdir /mnt/newdir',
    'rmdir /mnt/dir',
    'touch /mnt/keep.txt',
    'chmod 777 /mnt/keep.txt',
    'ln -s keep.txt /mnt/link',
    'ln /mnt/keep.txt /mnt/hard',
  ];
  for (const w of writes) {
    const out = await sh(g, w);
    assert.match(out, /read-only file system/, `${w}: ${out}`);
  }
  await sh(g, 'sync');
  assert.equal(snapshot(share), before);
});
