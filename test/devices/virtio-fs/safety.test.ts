// virtio-fs device: the guest reaches only the shared folder. Bad names, host symlinks, `..`,
// links pointing outside, other file systems and bind mounts met later, read-only mode.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as A from '../../../src/devices/virtio-fs/abi';
import { FuseDriver, cstr, tempDir, u64s, parseEntry } from './driver';

const outside = tempDir('semu-fs-outside-');
const dir = tempDir();
let d: FuseDriver;
before(async () => {
  fs.writeFileSync(path.join(outside, 'secret'), 'host secret');
  fs.symlinkSync('/etc/hostname', path.join(dir, 'evil'));
  fs.symlinkSync(outside, path.join(dir, 'evildir'));
  d = new FuseDriver({ root: dir });
  await d.init();
});
after(() => {
  d.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

test('names: empty, ".", "..", with "/", without NUL, longer than 255 bytes are refused', async () => {
  const lookup = (arg: Buffer) => d.errno({ op: A.FUSE_LOOKUP, args: [arg] });
  assert.equal(await lookup(cstr('')), A.EINVAL);
  assert.equal(await lookup(cstr('.')), A.EINVAL);
  assert.equal(await lookup(cstr('..')), A.EINVAL, '.. at the root never reaches the host parent');
  assert.equal(await lookup(cstr('a/b')), A.EINVAL);
  assert.equal(await lookup(cstr('../' + path.basename(outside))), A.EINVAL);
  assert.equal(await lookup(cstr('/etc')), A.EINVAL, 'absolute names');
  assert.equal(await lookup(Buffer.from('no-nul')), A.EINVAL, 'truncated name');
  assert.equal(await lookup(cstr('x'.repeat(256))), A.ENAMETOOLONG);
  const mk = Buffer.alloc(8);
  mk.writeUInt32LE(0o755, 0);
  assert.equal(await d.errno({ op: A.FUSE_MKDIR, args: [mk, cstr('..')] }), A.EINVAL);
  assert.equal(await d.errno({ op: A.FUSE_RENAME, args: [u64s(1), cstr('evil'), cstr('../stolen')] }), A.EINVAL);
  assert.equal(fs.existsSync(path.join(path.dirname(dir), 'stolen')), false);
  const sl = Buffer.concat([cstr('lnk'), Buffer.alloc(0)]);
  assert.equal(await d.errno({ op: A.FUSE_SYMLINK, args: [sl, cstr('')] }), A.EINVAL, 'empty link target');
});

test('a host symlink evil -> /etc/hostname is a symlink to the guest: READLINK text, never the host file', async () => {
  const e = await d.lookup(1, 'evil');
  assert.equal(e.attr.mode & A.S_IFMT, A.S_IFLNK, 'lstat, not stat');
  assert.equal(e.attr.size, '/etc/hostname'.length);
  assert.equal((await d.ok({ op: A.FUSE_READLINK, nodeid: e.nodeid, reply: 4095 })).toString(), '/etc/hostname');
  assert.equal(await d.errno({ op: A.FUSE_OPEN, nodeid: e.nodeid, args: [Buffer.alloc(8)] }), A.ENXIO);
  // CREATE over the link's name must not write through it
  const a = Buffer.alloc(16);
  a.writeUInt32LE(2 | A.G_O_CREAT, 0);
  a.writeUInt32LE(A.S_IFREG | 0o644, 4);
  assert.equal(await d.errno({ op: A.FUSE_CREATE, args: [a, cstr('evil')] }), A.ELOOP);
  const dl = await d.lookup(1, 'evildir');
  assert.equal(dl.attr.mode & A.S_IFMT, A.S_IFLNK);
  assert.equal(await d.errno({ op: A.FUSE_LOOKUP, nodeid: dl.nodeid, args: [cstr('secret')] }), A.ENOTDIR, 'a link to a directory is not a directory');
  assert.equal(await d.errno({ op: A.FUSE_OPENDIR, nodeid: dl.nodeid, args: [Buffer.alloc(8)] }), A.ENOTDIR);
  const s = Buffer.alloc(88);
  s.writeUInt32LE(A.FATTR_MODE, 0);
  s.writeUInt32LE(0o777, 68);
  assert.equal(await d.errno({ op: A.FUSE_SETATTR, nodeid: dl.nodeid, args: [s] }), A.EOPNOTSUPP, 'no chmod through a link');
  assert.notEqual(fs.statSync(outside).mode & 0o777, 0o777);
});

test('a symlink the guest makes pointing outside is only a link on the host', async () => {
  parseEntry(await d.ok({ op: A.FUSE_SYMLINK, args: [cstr('out'), cstr(path.join(outside, 'secret'))], reply: 128 }));
  const e = await d.lookup(1, 'out');
  assert.equal(e.attr.mode & A.S_IFMT, A.S_IFLNK);
  assert.equal(await d.errno({ op: A.FUSE_OPEN, nodeid: e.nodeid, args: [Buffer.alloc(8)] }), A.ENXIO);
  const tr = Buffer.alloc(88);
  tr.writeUInt32LE(A.FATTR_SIZE, 0);
  assert.equal(await d.errno({ op: A.FUSE_SETATTR, nodeid: e.nodeid, args: [tr] }), A.EINVAL, 'no truncate through a link');
  assert.equal(fs.readFileSync(path.join(outside, 'secret'), 'utf8'), 'host secret');
});

test('a name swapped for a symlink on the host after LOOKUP is ESTALE, not followed', async () => {
  fs.writeFileSync(path.join(dir, 'swap'), 'inside');
  const e = await d.lookup(1, 'swap');
  fs.rmSync(path.join(dir, 'swap'));
  fs.symlinkSync(path.join(outside, 'secret'), path.join(dir, 'swap'));
  assert.equal(await d.errno({ op: A.FUSE_OPEN, nodeid: e.nodeid, args: [Buffer.alloc(8)] }), A.ESTALE);
  assert.equal(await d.errno({ op: A.FUSE_GETATTR, nodeid: e.nodeid, args: [Buffer.alloc(16)] }), A.ESTALE);
  const again = await d.lookup(1, 'swap');
  assert.equal(again.attr.mode & A.S_IFMT, A.S_IFLNK, 'looked up again: the link itself');
  assert.notEqual(again.nodeid, e.nodeid);
});

test('hard links inside the tree are the same inode; a hard link is fine', async () => {
  fs.writeFileSync(path.join(dir, 'h1'), 'x');
  fs.linkSync(path.join(dir, 'h1'), path.join(dir, 'h2'));
  assert.equal((await d.lookup(1, 'h1')).nodeid, (await d.lookup(1, 'h2')).nodeid);
});

const root = process.getuid?.() === 0;

test('a mount point inside the share (another file system, or a bind mount of the same one) is EXDEV', { skip: root ? false : 'needs root to mount' }, async (t) => {
  fs.mkdirSync(path.join(dir, 'mnt-tmpfs'));
  fs.mkdirSync(path.join(dir, 'mnt-bind'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', 'none', path.join(dir, 'mnt-tmpfs')]);
  } catch (e) {
    t.skip(`mount is not permitted here: ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  fs.writeFileSync(path.join(dir, 'mnt-file'), 'inside');
  try {
    execFileSync('mount', ['--bind', outside, path.join(dir, 'mnt-bind')]);
    execFileSync('mount', ['--bind', path.join(outside, 'secret'), path.join(dir, 'mnt-file')]);
    const cr = Buffer.alloc(16);
    cr.writeUInt32LE(2 | A.G_O_CREAT | A.G_O_TRUNC, 0);
    cr.writeUInt32LE(0o644, 4);
    assert.equal(await d.errno({ op: A.FUSE_CREATE, args: [cr, cstr('mnt-file')], reply: 144 }), A.EXDEV, 'a file bind-mounted over a name is not opened');
    assert.equal(fs.readFileSync(path.join(outside, 'secret'), 'utf8'), 'host secret', '...nor truncated');
    const f = await d.lookup(1, 'mnt-file');
    assert.equal(await d.errno({ op: A.FUSE_OPEN, nodeid: f.nodeid, args: [u64s(A.G_O_RDWR | A.G_O_TRUNC)] }), A.EXDEV);
    assert.equal(fs.readFileSync(path.join(outside, 'secret'), 'utf8'), 'host secret');
    assert.equal(await d.errno({ op: A.FUSE_LOOKUP, args: [cstr('mnt-tmpfs')] }), A.EXDEV, 'another st_dev');
    assert.equal(await d.errno({ op: A.FUSE_LOOKUP, args: [cstr('mnt-bind')] }), A.EXDEV, 'same st_dev, another mount');
    const names = (await d.list(1, true)).filter((e) => e.name.startsWith('mnt-'));
    assert.equal(names.find((e) => e.name === 'mnt-tmpfs')!.entry!.nodeid, 0, 'READDIRPLUS gives no inode for a mount point');
  } finally {
    execFileSync('umount', [path.join(dir, 'mnt-tmpfs')]);
    for (const m of ['mnt-bind', 'mnt-file']) {
      try {
        execFileSync('umount', [path.join(dir, m)]);
      } catch {
        /* not mounted */
      }
    }
  }
});

test('read-only mode: every write is EROFS, reads work, the host folder is unchanged', async () => {
  const ro = new FuseDriver({ root: dir, readOnly: true });
  try {
    await ro.init();
    fs.writeFileSync(path.join(dir, 'ro'), 'keep');
    const e = await ro.lookup(1, 'ro');
    const before = fs.readdirSync(dir).sort();
    const mk = Buffer.alloc(16);
    mk.writeUInt32LE(A.S_IFREG | 0o644, 0);
    const cr = Buffer.alloc(16);
    cr.writeUInt32LE(2 | A.G_O_CREAT, 0);
    cr.writeUInt32LE(0o644, 4);
    const sa = Buffer.alloc(88);
    sa.writeUInt32LE(A.FATTR_SIZE, 0);
    const fa = Buffer.alloc(32);
    const wr = Buffer.alloc(40);
    wr.writeUInt32LE(1, 16);
    const md = Buffer.alloc(8);
    const rn2 = Buffer.alloc(16);
    rn2.writeBigUInt64LE(1n, 0);
    const acc = Buffer.alloc(8);
    acc.writeUInt32LE(2, 0);
    const writes = [
      { op: A.FUSE_CREATE, args: [cr, cstr('new')] },
      { op: A.FUSE_MKNOD, args: [mk, cstr('new')] },
      { op: A.FUSE_MKDIR, args: [md, cstr('new')] },
      { op: A.FUSE_SYMLINK, args: [cstr('new'), cstr('target')] },
      { op: A.FUSE_LINK, args: [u64s(e.nodeid), cstr('new')] },
      { op: A.FUSE_UNLINK, args: [cstr('ro')] },
      { op: A.FUSE_RMDIR, args: [cstr('ro')] },
      { op: A.FUSE_RENAME, args: [u64s(1), cstr('ro'), cstr('new')] },
      { op: A.FUSE_RENAME2, args: [rn2, cstr('ro'), cstr('new')] },
      { op: A.FUSE_SETATTR, nodeid: e.nodeid, args: [sa] },
      { op: A.FUSE_OPEN, nodeid: e.nodeid, args: [u64s(A.G_O_WRONLY)] },
      { op: A.FUSE_OPEN, nodeid: e.nodeid, args: [u64s(A.G_O_TRUNC)] },
      { op: A.FUSE_WRITE, nodeid: e.nodeid, args: [wr, Buffer.from('x')] },
      { op: A.FUSE_FALLOCATE, nodeid: e.nodeid, args: [fa] },
      { op: A.FUSE_ACCESS, nodeid: e.nodeid, args: [acc] },
    ];
    for (const w of writes) assert.equal(await ro.errno(w), A.EROFS, A.opcodeName(w.op));
    const fh = await ro.open(e.nodeid, A.G_O_RDONLY);
    assert.equal((await ro.read(e.nodeid, fh, 0, 10)).toString(), 'keep');
    await ro.release(e.nodeid, fh);
    assert.deepEqual(fs.readdirSync(dir).sort(), before);
    assert.equal(fs.readFileSync(path.join(dir, 'ro'), 'utf8'), 'keep');
  } finally {
    ro.dispose();
  }
});
