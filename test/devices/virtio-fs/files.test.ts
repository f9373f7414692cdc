// virtio-fs device: every file and directory operation against a real host folder, checked on
// the host side byte for byte.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as A from '../../../src/devices/virtio-fs/abi';
import { FuseDriver, cstr, tempDir, u64s, readIn, parseEntry } from './driver';

const dir = tempDir();
let d: FuseDriver;
before(async () => {
  d = new FuseDriver({ root: dir });
  await d.init();
});
after(() => {
  d.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

function mkdirIn(): Buffer {
  const a = Buffer.alloc(8);
  a.writeUInt32LE(0o755, 0);
  a.writeUInt32LE(0o022, 4);
  return a;
}

test('CREATE + WRITE + READ are byte-exact at 0, 1, 4095, 4096 and 1 MiB + 1 bytes (in max_write pieces)', async () => {
  for (const size of [0, 1, 4095, 4096, (1 << 20) + 1]) {
    const data = randomBytes(size);
    const { entry, fh } = await d.create(1, `f${size}`);
    for (let o = 0; o < size; o += 131072) assert.equal(await d.write(entry.nodeid, fh, o, data.subarray(o, o + 131072)), Math.min(131072, size - o));
    assert.deepEqual(fs.readFileSync(`${dir}/f${size}`), data, `host sees ${size} bytes`);
    const back: Buffer[] = [];
    for (let o = 0; ; o += 131072) {
      const b = await d.read(entry.nodeid, fh, o, 131072);
      back.push(b);
      if (b.length < 131072) break;
    }
    assert.deepEqual(Buffer.concat(back), data, `guest reads ${size} bytes`);
    assert.equal((await d.getattr(entry.nodeid)).size, size);
    await d.release(entry.nodeid, fh);
  }
  assert.equal(d.dev.server.handles.count, 0);
});

test('LOOKUP / GETATTR see host changes; OPEN with O_TRUNC truncates; O_APPEND appends', async () => {
  fs.writeFileSync(`${dir}/h`, 'hello');
  const e = await d.lookup(1, 'h');
  assert.equal(e.attr.size, 5);
  assert.equal(e.attr.mode & A.S_IFMT, A.S_IFREG);
  assert.equal(e.entryValid, 1, 'names are cached for one second');
  fs.appendFileSync(`${dir}/h`, ' world');
  assert.equal((await d.getattr(e.nodeid)).size, 11, 'a host change shows in the next GETATTR');
  const fh = await d.open(e.nodeid, A.G_O_WRONLY | A.G_O_APPEND);
  await d.write(e.nodeid, fh, 0, Buffer.from('!'));
  await d.release(e.nodeid, fh);
  assert.equal(fs.readFileSync(`${dir}/h`, 'utf8'), 'hello world!');
  const raw = await d.ok({ op: A.FUSE_OPEN, nodeid: e.nodeid, args: [u64s(A.G_O_RDONLY)] });
  assert.equal(raw.readUInt32LE(8), A.FOPEN_NOFLUSH, 'open_flags: no FLUSH per close, no KEEP_CACHE');
  await d.release(e.nodeid, Number(raw.readBigUInt64LE(0)));
  const t = await d.open(e.nodeid, A.G_O_RDWR | A.G_O_TRUNC);
  await d.release(e.nodeid, t);
  assert.equal(fs.statSync(`${dir}/h`).size, 0);
  assert.equal((await d.lookup(1, 'h')).nodeid, e.nodeid, 'same host file, same nodeid');
});

test('MKDIR, RMDIR, UNLINK; RMDIR of a non-empty directory is ENOTEMPTY', async () => {
  const sub = parseEntry(await d.ok({ op: A.FUSE_MKDIR, args: [mkdirIn(), cstr('sub')], reply: 128 }));
  assert.equal(sub.attr.mode & A.S_IFMT, A.S_IFDIR);
  assert.equal(sub.attr.mode & 0o777, 0o755);
  assert.ok(fs.statSync(`${dir}/sub`).isDirectory());
  const { entry, fh } = await d.create(sub.nodeid, 'inner');
  await d.release(entry.nodeid, fh);
  assert.equal(await d.errno({ op: A.FUSE_RMDIR, args: [cstr('sub')] }), 39 /* ENOTEMPTY */);
  assert.equal(await d.errno({ op: A.FUSE_UNLINK, nodeid: sub.nodeid, args: [cstr('inner')] }), 0);
  assert.equal(await d.errno({ op: A.FUSE_RMDIR, args: [cstr('sub')] }), 0);
  assert.equal(fs.existsSync(`${dir}/sub`), false);
  assert.equal(await d.errno({ op: A.FUSE_GETATTR, nodeid: sub.nodeid, args: [Buffer.alloc(16)] }), A.ESTALE, 'a removed directory is stale');
});

test('RENAME, RENAME2 with NOREPLACE; EXCHANGE is refused with EINVAL', async () => {
  fs.writeFileSync(`${dir}/r1`, 'one');
  fs.writeFileSync(`${dir}/r2`, 'two');
  const e1 = await d.lookup(1, 'r1');
  const nr = Buffer.alloc(16);
  nr.writeBigUInt64LE(1n, 0);
  nr.writeUInt32LE(A.RENAME_NOREPLACE, 8);
  assert.equal(await d.errno({ op: A.FUSE_RENAME2, args: [nr, cstr('r1'), cstr('r2')] }), A.EEXIST);
  assert.equal(await d.errno({ op: A.FUSE_RENAME2, args: [nr, cstr('r1'), cstr('r3')] }), 0);
  assert.equal(fs.readFileSync(`${dir}/r3`, 'utf8'), 'one');
  assert.equal(fs.existsSync(`${dir}/r1`), false);
  assert.equal((await d.getattr(e1.nodeid)).size, 3, 'the renamed inode is still reachable');
  assert.equal(await d.errno({ op: A.FUSE_RENAME, args: [u64s(1), cstr('r3'), cstr('r2')] }), 0, 'plain RENAME replaces');
  assert.equal(fs.readFileSync(`${dir}/r2`, 'utf8'), 'one');
  const ex = Buffer.from(nr);
  ex.writeUInt32LE(A.RENAME_EXCHANGE, 8);
  assert.equal(await d.errno({ op: A.FUSE_RENAME2, args: [ex, cstr('r2'), cstr('h')] }), A.EINVAL);
  const sub = parseEntry(await d.ok({ op: A.FUSE_MKDIR, args: [mkdirIn(), cstr('into')], reply: 128 }));
  assert.equal(await d.errno({ op: A.FUSE_RENAME, args: [u64s(sub.nodeid), cstr('r2'), cstr('moved')] }), 0);
  assert.equal(fs.readFileSync(`${dir}/into/moved`, 'utf8'), 'one');
  assert.equal((await d.getattr(e1.nodeid)).size, 3, 'still reachable after moving directories');
});

test('LINK and SYMLINK/READLINK; the link target is stored as text, never followed', async () => {
  fs.writeFileSync(`${dir}/l1`, 'linked');
  const e = await d.lookup(1, 'l1');
  const l = parseEntry(await d.ok({ op: A.FUSE_LINK, args: [u64s(e.nodeid), cstr('l2')], reply: 128 }));
  assert.equal(l.nodeid, e.nodeid, 'a hard link is the same inode');
  assert.equal(l.attr.nlink, 2);
  assert.equal(fs.statSync(`${dir}/l2`).ino, fs.statSync(`${dir}/l1`).ino);
  const s = parseEntry(await d.ok({ op: A.FUSE_SYMLINK, args: [cstr('sl'), cstr('/etc/hostname')], reply: 128 }));
  assert.equal(s.attr.mode & A.S_IFMT, A.S_IFLNK);
  assert.equal(fs.readlinkSync(`${dir}/sl`), '/etc/hostname');
  const t = await d.ok({ op: A.FUSE_READLINK, nodeid: s.nodeid, reply: 4095 });
  assert.equal(t.toString(), '/etc/hostname');
  assert.equal(await d.errno({ op: A.FUSE_OPEN, nodeid: s.nodeid, args: [Buffer.alloc(8)] }), A.ENXIO, 'a symlink is never opened on the host');
  assert.equal(await d.errno({ op: A.FUSE_LINK, args: [u64s(1), cstr('rootlink')] }), A.EPERM, 'no hard links to directories');
});

test('MKNOD makes regular files and FIFOs, refuses devices', async () => {
  const a = Buffer.alloc(16);
  a.writeUInt32LE(A.S_IFREG | 0o640, 0);
  const f = parseEntry(await d.ok({ op: A.FUSE_MKNOD, args: [a, cstr('node')], reply: 128 }));
  assert.equal(f.attr.mode, A.S_IFREG | 0o640);
  assert.equal(fs.statSync(`${dir}/node`).mode & 0o777, 0o640);
  a.writeUInt32LE(A.S_IFIFO | 0o600, 0);
  const p = parseEntry(await d.ok({ op: A.FUSE_MKNOD, args: [a, cstr('fifo')], reply: 128 }));
  assert.equal(p.attr.mode & A.S_IFMT, A.S_IFIFO);
  assert.ok(fs.lstatSync(`${dir}/fifo`).isFIFO());
  assert.equal(await d.errno({ op: A.FUSE_OPEN, nodeid: p.nodeid, args: [Buffer.alloc(8)] }), A.ENXIO, 'a FIFO is never opened on the host (it would block a thread)');
  a.writeUInt32LE(A.S_IFCHR | 0o600, 0);
  a.writeUInt32LE((1 << 8) | 3, 4);
  assert.equal(await d.errno({ op: A.FUSE_MKNOD, args: [a, cstr('null')] }), A.EPERM);
  assert.equal(fs.existsSync(`${dir}/null`), false);
});

test('SETATTR: mode, size (by path and by fh), times, and the answer carries the new attributes', async () => {
  const { entry, fh } = await d.create(1, 'sa');
  const s = Buffer.alloc(88);
  s.writeUInt32LE(A.FATTR_MODE | A.FATTR_SIZE | A.FATTR_MTIME | A.FATTR_ATIME, 0);
  s.writeBigUInt64LE(1000n, 16); // size
  s.writeBigInt64LE(1234567890n, 32); // atime
  s.writeBigInt64LE(1000000000n, 40); // mtime
  s.writeUInt32LE(0, 56);
  s.writeUInt32LE(500000000, 60); // mtimensec
  s.writeUInt32LE(0o600, 68);
  const r = await d.ok({ op: A.FUSE_SETATTR, nodeid: entry.nodeid, args: [s], reply: 104 });
  const st = fs.statSync(`${dir}/sa`);
  assert.equal(st.size, 1000);
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(Math.round(st.mtimeMs), 1000000000500);
  assert.equal(Number(r.readBigUInt64LE(16 + 8)), 1000, 'reply size');
  assert.equal(r.readUInt32LE(16 + 60) & 0o777, 0o600, 'reply mode');
  const byFh = Buffer.alloc(88);
  byFh.writeUInt32LE(A.FATTR_SIZE | A.FATTR_FH, 0);
  byFh.writeBigUInt64LE(BigInt(fh), 8);
  byFh.writeBigUInt64LE(7n, 16);
  await d.ok({ op: A.FUSE_SETATTR, nodeid: entry.nodeid, args: [byFh], reply: 104 });
  assert.equal(fs.statSync(`${dir}/sa`).size, 7);
  await d.release(entry.nodeid, fh);
  const dirSize = Buffer.alloc(88);
  dirSize.writeUInt32LE(A.FATTR_SIZE, 0);
  assert.equal(await d.errno({ op: A.FUSE_SETATTR, nodeid: 1, args: [dirSize] }), A.EISDIR);
});

test('SETATTR uid/gid as the host allows: root may give a file away; anyone else gets EPERM for a foreign owner', async () => {
  const { entry, fh } = await d.create(1, 'own');
  await d.release(entry.nodeid, fh);
  const owner = (uid: number, gid: number): Buffer => {
    const s = Buffer.alloc(88);
    s.writeUInt32LE(A.FATTR_UID | A.FATTR_GID, 0);
    s.writeUInt32LE(uid, 76);
    s.writeUInt32LE(gid, 80);
    return s;
  };
  const me = { uid: process.getuid!(), gid: process.getgid!() };
  if (me.uid === 0) {
    const r = await d.ok({ op: A.FUSE_SETATTR, nodeid: entry.nodeid, args: [owner(1234, 5678)], reply: 104 });
    const st = fs.statSync(`${dir}/own`);
    assert.deepEqual([st.uid, st.gid], [1234, 5678]);
    assert.deepEqual([r.readUInt32LE(16 + 68), r.readUInt32LE(16 + 72)], [1234, 5678], 'reply uid, gid');
  } else {
    assert.equal(await d.errno({ op: A.FUSE_SETATTR, nodeid: entry.nodeid, args: [owner(0, 0)] }), A.EPERM);
    await d.ok({ op: A.FUSE_SETATTR, nodeid: entry.nodeid, args: [owner(me.uid, me.gid)], reply: 104 });
  }
  assert.equal(fs.lstatSync(`${dir}/own`).isFile(), true);
});

test('READDIR and READDIRPLUS list every name once, with . and .., resuming at offsets across small buffers', async () => {
  const sub = parseEntry(await d.ok({ op: A.FUSE_MKDIR, args: [mkdirIn(), cstr('many')], reply: 128 }));
  const names = Array.from({ length: 150 }, (_, i) => `file-${i}-${'x'.repeat(i % 40)}`);
  for (const n of names) fs.writeFileSync(`${dir}/many/${n}`, n);
  fs.mkdirSync(`${dir}/many/dir`);
  const plain = await d.list(sub.nodeid, false, 512);
  assert.deepEqual(plain.map((e) => e.name).sort(), ['.', '..', 'dir', ...names].sort());
  assert.equal(plain[0].name, '.');
  assert.equal(plain[1].name, '..');
  assert.equal(plain[1].ino, fs.statSync(dir).ino, '".." is the parent inside the share');
  const st = fs.statSync(`${dir}/many/${names[7]}`);
  assert.equal(plain.find((e) => e.name === names[7])!.ino, st.ino);
  assert.equal(plain.find((e) => e.name === 'dir')!.type, 4, 'DT_DIR');
  assert.equal(plain.find((e) => e.name === names[0])!.type, 8, 'DT_REG');
  const before = d.dev.server.inodes.count;
  const plus = await d.list(sub.nodeid, true, 1024);
  assert.deepEqual(plus.map((e) => e.name).sort(), plain.map((e) => e.name).sort());
  const e7 = plus.find((e) => e.name === names[7])!.entry!;
  assert.ok(e7.nodeid > 1);
  assert.equal(e7.attr.size, names[7].length);
  assert.equal(plus.find((e) => e.name === '.')!.entry!.nodeid, 0, 'no lookup counted for .');
  assert.equal(d.dev.server.inodes.count, before + names.length + 1, 'READDIRPLUS counted one lookup per entry');
  for (const e of plus) if (e.entry && e.entry.nodeid) await d.forget(e.entry.nodeid, 1);
  assert.equal(d.dev.server.inodes.count, before, 'FORGET on hiprio frees them');
  const root = await d.list(1);
  assert.equal(root[1].ino, root[0].ino, '".." at the share root is the root itself');
});

test('READDIR seeks: an earlier offset reopens the stream and gives the same entries again', async () => {
  const sub = await d.lookup(1, 'many');
  const fh = await d.opendir(sub.nodeid);
  const first = await d.ok({ op: A.FUSE_READDIR, nodeid: sub.nodeid, args: [readIn(fh, 0, 4096)], reply: 4096 });
  await d.ok({ op: A.FUSE_READDIR, nodeid: sub.nodeid, args: [readIn(fh, 40, 4096)], reply: 4096 });
  const again = await d.ok({ op: A.FUSE_READDIR, nodeid: sub.nodeid, args: [readIn(fh, 0, 4096)], reply: 4096 });
  assert.deepEqual(again, first);
  await d.release(sub.nodeid, fh, true);
});

test('STATFS, ACCESS, FLUSH, FSYNC, FSYNCDIR, FALLOCATE, LSEEK, SYNCFS, INTERRUPT', async () => {
  const sf = await d.ok({ op: A.FUSE_STATFS, reply: 80 });
  const host = fs.statfsSync(dir);
  assert.equal(Number(sf.readBigUInt64LE(0)), host.blocks);
  assert.equal(sf.readUInt32LE(44), 255, 'namelen');
  const acc = Buffer.alloc(8);
  acc.writeUInt32LE(4, 0);
  assert.equal(await d.errno({ op: A.FUSE_ACCESS, args: [acc] }), 0);
  const { entry, fh } = await d.create(1, 'io');
  await d.write(entry.nodeid, fh, 0, Buffer.from('0123456789'));
  assert.equal(await d.errno({ op: A.FUSE_FLUSH, nodeid: entry.nodeid, args: [u64s(fh, 0, 0)] }), 0);
  assert.equal(await d.errno({ op: A.FUSE_FSYNC, nodeid: entry.nodeid, args: [u64s(fh, 1)] }), 0);
  const fa = Buffer.alloc(32);
  fa.writeBigUInt64LE(BigInt(fh), 0);
  fa.writeBigUInt64LE(0n, 8);
  fa.writeBigUInt64LE(100n, 16);
  assert.equal(await d.errno({ op: A.FUSE_FALLOCATE, nodeid: entry.nodeid, args: [fa] }), 0);
  assert.equal(fs.statSync(`${dir}/io`).size, 100, 'FALLOCATE grows the file');
  fa.writeUInt32LE(0x02 | 0x01, 24); // PUNCH_HOLE | KEEP_SIZE
  assert.equal(await d.errno({ op: A.FUSE_FALLOCATE, nodeid: entry.nodeid, args: [fa] }), A.EOPNOTSUPP);
  const ls = Buffer.alloc(24);
  ls.writeBigUInt64LE(BigInt(fh), 0);
  ls.writeBigUInt64LE(5n, 8);
  ls.writeUInt32LE(A.SEEK_HOLE, 16);
  assert.equal(Number((await d.ok({ op: A.FUSE_LSEEK, nodeid: entry.nodeid, args: [ls], reply: 8 })).readBigUInt64LE(0)), 100);
  ls.writeUInt32LE(A.SEEK_DATA, 16);
  assert.equal(Number((await d.ok({ op: A.FUSE_LSEEK, nodeid: entry.nodeid, args: [ls], reply: 8 })).readBigUInt64LE(0)), 5);
  ls.writeBigUInt64LE(100n, 8);
  assert.equal(await d.errno({ op: A.FUSE_LSEEK, nodeid: entry.nodeid, args: [ls], reply: 8 }), A.ENXIO);
  await d.release(entry.nodeid, fh);
  const dfh = await d.opendir(1);
  assert.equal(await d.errno({ op: A.FUSE_FSYNCDIR, args: [u64s(dfh, 0)] }), 0);
  await d.release(1, dfh, true);
  assert.equal(await d.errno({ op: A.FUSE_SYNCFS, args: [u64s(0)] }), 0);
  const r = await d.call({ op: A.FUSE_INTERRUPT, args: [u64s(12345)] });
  assert.equal(r.used, 0, 'INTERRUPT has no reply');
});

test('an unlinked file stays usable through its open handle (GETATTR falls back to it)', async () => {
  const { entry, fh } = await d.create(1, 'gone');
  await d.write(entry.nodeid, fh, 0, Buffer.from('still here'));
  assert.equal(await d.errno({ op: A.FUSE_UNLINK, args: [cstr('gone')] }), 0);
  assert.equal((await d.getattr(entry.nodeid)).size, 10);
  assert.equal((await d.read(entry.nodeid, fh, 0, 100)).toString(), 'still here');
  await d.release(entry.nodeid, fh);
});
