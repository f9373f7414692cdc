// The real Linux guest (in the emulator worker, as the CLI and the debugger run it) with a host
// folder shared over virtio-fs (launch option sharedDir): /init mounts it on /mnt, and the
// guest's own shell reads, writes, renames, links and runs programs there; the host checks every
// change byte for byte, and the guest sees the host's changes once its caches expire (1 s).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import type { GuestSession } from '../helpers/guest-session';
import { bootShared, crossCompile, sh } from './shared-guest';

const share = fs.mkdtempSync(path.join(os.tmpdir(), 'semu-share-'));
const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'semu-outside-'));
const SIZES = [0, 1, 4095, 4096, (1 << 20) + 1];
let g: GuestSession;

before(async () => {
  for (const n of SIZES) fs.writeFileSync(path.join(share, `s${n}`), randomBytes(n));
  fs.writeFileSync(path.join(outside, 'secret'), 'HOST-SECRET-TEXT\n');
  fs.symlinkSync(path.join(outside, 'secret'), path.join(share, 'evil'));
  g = await bootShared(share);
}, { timeout: 180_000 });

after(async () => {
  await g?.dispose();
  fs.rmSync(share, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

const hash = (p: string) => createHash('sha256').update(fs.readFileSync(p)).digest('hex');

test('/init mounts the share on /mnt; the guest lists it', { timeout: 60_000 }, async () => {
  assert.match(await sh(g, 'mount'), /^myfs \/mnt virtiofs /m);
  const ls = (await sh(g, 'ls /mnt')).split('\n').filter(Boolean).sort();
  assert.deepEqual(ls, ['evil', ...SIZES.map((n) => `s${n}`)].sort());
});

test('files cross byte-exactly both ways at 0, 1, 4095, 4096 and 1 MiB + 1 bytes', { timeout: 300_000 }, async () => {
  for (const n of SIZES) {
    // host → guest (read into tmpfs), guest → host (written back from tmpfs)
    assert.equal(await sh(g, `cp /mnt/s${n} /tmp/s${n}; cp /tmp/s${n} /mnt/c${n}; stat /tmp/s${n}`).then((o) => /size=(\d+)/.exec(o)?.[1]), String(n));
    assert.equal(hash(path.join(share, `c${n}`)), hash(path.join(share, `s${n}`)), `${n} bytes`);
  }
});

test('create, append, rename, mkdir/rmdir, symlink and hard link: the host sees each change', { timeout: 120_000 }, async () => {
  await sh(g, 'echo hello > /mnt/new.txt; echo more >> /mnt/new.txt');
  assert.equal(fs.readFileSync(path.join(share, 'new.txt'), 'utf8'), 'hello\nmore\n');
  await sh(g, 'mkdir -p /mnt/d1/d2; mv /mnt/new.txt /mnt/d1/renamed.txt; ln -s renamed.txt /mnt/d1/sym; ln /mnt/d1/renamed.txt /mnt/d1/hard');
  assert.equal(fs.existsSync(path.join(share, 'new.txt')), false);
  assert.equal(fs.readFileSync(path.join(share, 'd1/renamed.txt'), 'utf8'), 'hello\nmore\n');
  assert.equal(fs.readlinkSync(path.join(share, 'd1/sym')), 'renamed.txt');
  assert.equal(fs.statSync(path.join(share, 'd1/hard')).ino, fs.statSync(path.join(share, 'd1/renamed.txt')).ino);
  assert.equal(await sh(g, 'cat /mnt/d1/sym'), 'hello\nmore\n', 'the guest follows its own link');
  assert.match(await sh(g, 'stat /mnt/d1/hard'), /type=regular size=11 mode=0644 links=2 /);
  await sh(g, 'rmdir /mnt/d1/d2; touch /mnt/d1/t; chmod 600 /mnt/d1/t; rm /mnt/d1/hard');
  assert.equal(fs.existsSync(path.join(share, 'd1/d2')), false);
  assert.equal(fs.statSync(path.join(share, 'd1/t')).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.join(share, 'd1/renamed.txt')).nlink, 1);
  await sh(g, 'rm -r /mnt/d1; sync');
  assert.equal(fs.existsSync(path.join(share, 'd1')), false);
});

test('the guest sees host changes after its cache expires: new, rewritten, removed files', { timeout: 120_000 }, async () => {
  fs.writeFileSync(path.join(share, 'host.txt'), 'v1\n');
  assert.equal(await sh(g, 'cat /mnt/host.txt'), 'v1\n');
  fs.writeFileSync(path.join(share, 'host.txt'), 'version two\n');
  fs.writeFileSync(path.join(share, 'added.txt'), 'added\n');
  await sh(g, 'sleep 1.2');
  assert.equal(await sh(g, 'cat /mnt/host.txt'), 'version two\n');
  assert.match(await sh(g, 'ls /mnt'), /^added\.txt$/m);
  fs.rmSync(path.join(share, 'added.txt'));
  await sh(g, 'sleep 1.2');
  assert.match(await sh(g, 'cat /mnt/added.txt'), /no such file or directory/);
});

test('a program cross-compiled into the folder runs from /mnt by path', { timeout: 120_000 }, async () => {
  const src = path.join(outside, 'hello.c');
  fs.writeFileSync(src, '#include "nolibc.h"\nint main(int argc, char **argv)\n{\n\tprintf("hello from the host folder: argc=%d %s\\n", argc, argv[1]);\n\treturn 3;\n}\n');
  crossCompile(src, path.join(share, 'hello'));
  const out = await sh(g, '/mnt/hello world; cd /mnt; ./hello again');
  assert.match(out, /^hello from the host folder: argc=2 world$/m);
  assert.match(out, /^sh: \/mnt\/hello: exit status 3$/m);
  assert.match(out, /^hello from the host folder: argc=2 again$/m);
  await sh(g, 'cd /');
});

test('escapes: a host symlink to a host file, .. at the root, a guest symlink pointing outside', { timeout: 120_000 }, async () => {
  const evil = await sh(g, 'stat /mnt/evil; cat /mnt/evil');
  assert.match(evil, new RegExp(`type=symlink .* target=${outside}/secret`));
  assert.match(evil, /cat \/mnt\/evil: no such file or directory/, 'resolved in the guest, where that path does not exist');
  assert.doesNotMatch(evil, /HOST-SECRET/);
  const up = await sh(g, `ls /mnt/..; cat /mnt/../${path.basename(outside)}/secret; cd /mnt/..; pwd; cd /`);
  assert.match(up, /^proc$/m, '/mnt/.. is the guest root');
  assert.doesNotMatch(up, /HOST-SECRET/);
  assert.match(up, /^\/$/m);
  const passwd = hash('/etc/passwd');
  await sh(g, 'ln -s /etc/passwd /mnt/gl; echo pwned > /mnt/gl; echo pwned >> /mnt/gl');
  assert.equal(fs.readlinkSync(path.join(share, 'gl')), '/etc/passwd', 'only a link on the host');
  assert.equal(hash('/etc/passwd'), passwd, 'the host file it names is untouched');
});
