// virtio-fs device: configuration, INIT negotiation, and the session rules (nothing before INIT,
// DESTROY forgets everything), driven through guest RAM as Linux's virtio_fs driver does.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as A from '../../../src/devices/virtio-fs/abi';
import { R } from '../helpers';
import { BASE, FuseDriver, cstr, tempDir } from './driver';

const dir = tempDir();
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('config space: device ID 26, tag "myfs" NUL-padded, num_request_queues; one hiprio + N request queues', () => {
  const d = new FuseDriver({ root: dir, numRequestQueues: 2, tag: 'myfs' });
  try {
    assert.equal(d.drv.r(R.DEVICE_ID), 26);
    const tag = Buffer.alloc(36);
    for (let i = 0; i < 36; i++) tag[i] = d.bus.read(BASE + R.CONFIG + i, 1);
    assert.equal(tag.toString('latin1'), 'myfs' + '\0'.repeat(32));
    assert.equal(d.bus.read(BASE + R.CONFIG + 36, 4), 2);
    assert.deepEqual(d.dev.queueNames, ['hiprio', 'requests.0', 'requests.1']);
    assert.equal(d.queues.length, 3);
  } finally {
    d.dispose();
  }
});

test('bad options say what to fix: missing folder, tag too long, queue count', () => {
  assert.throws(() => new FuseDriver({ root: dir + '/nope' }), /shared folder .*nope.*existing directory/);
  assert.throws(() => new FuseDriver({ root: dir, tag: 'x'.repeat(37) }), /tag .* 1\.\.36 bytes/);
  assert.throws(() => new FuseDriver({ root: dir, numRequestQueues: 0 }), /request queues must be 1\.\.8/);
});

test('INIT: 7.41, flags limited to what the kernel offered, max_write and max_pages from the options', async () => {
  const d = new FuseDriver({ root: dir, maxPages: 16 });
  try {
    const r = await d.init(41, A.FUSE_ASYNC_READ | A.FUSE_DO_READDIRPLUS | A.FUSE_WRITEBACK_CACHE | A.FUSE_POSIX_LOCKS);
    assert.equal(r.error, 0);
    assert.equal(r.len, 16 + 64);
    assert.equal(r.used, r.len, 'used length equals fuse_out_header.len (virtio_fs_verify_response)');
    assert.equal(r.body.readUInt32LE(0), 7);
    assert.equal(r.body.readUInt32LE(4), 41);
    const flags = r.body.readUInt32LE(12);
    assert.equal(flags, A.FUSE_ASYNC_READ | A.FUSE_DO_READDIRPLUS, 'no writeback cache, no POSIX locks, nothing not offered');
    assert.equal(r.body.readUInt32LE(20), 16 * 4096, 'max_write');
    assert.equal(r.body.readUInt16LE(28), 16, 'max_pages');
    assert.equal(r.body.readUInt32LE(24), 1, 'time_gran 1 ns');
    const older = await d.init(36, 0xffffffff);
    assert.equal(older.body.readUInt32LE(4), 36, 'the kernel’s older minor is echoed');
  } finally {
    d.dispose();
  }
});

test('INIT older than 7.31 gets EPROTO; any request before INIT gets EIO; DESTROY ends the session', async () => {
  const d = new FuseDriver({ root: dir });
  try {
    assert.equal(await d.errno({ op: A.FUSE_LOOKUP, args: [cstr('x')] }), A.EIO);
    assert.equal((await d.init(26)).error, -A.EPROTO);
    assert.equal((await d.init()).error, 0);
    fs.writeFileSync(`${dir}/f`, 'x');
    const e = await d.lookup(1, 'f');
    assert.ok(e.nodeid > 1);
    const r = await d.call({ op: A.FUSE_DESTROY });
    assert.equal(r.error, 0);
    assert.equal(r.len, 16);
    assert.equal(await d.errno({ op: A.FUSE_GETATTR, nodeid: e.nodeid, args: [Buffer.alloc(16)] }), A.EIO, 'no session after DESTROY');
    await d.init();
    assert.equal(await d.errno({ op: A.FUSE_GETATTR, nodeid: e.nodeid, args: [Buffer.alloc(16)] }), A.ESTALE, 'old nodeids are forgotten');
    assert.equal(d.dev.server.inodes.count, 1, 'only the root is left');
  } finally {
    d.dispose();
  }
});

test('error replies are exactly the 16-byte header with a negative errno and the request’s unique', async () => {
  const d = new FuseDriver({ root: dir });
  try {
    await d.init();
    const r = await d.call({ op: A.FUSE_LOOKUP, args: [cstr('does-not-exist')] });
    assert.equal(r.error, -A.ENOENT);
    assert.equal(r.len, 16);
    assert.equal(r.used, 16);
    assert.ok(r.unique > 0);
    const u = await d.call({ op: 999, args: [Buffer.alloc(8)] });
    assert.equal(u.error, -A.ENOSYS, 'unknown opcode');
    const x = await d.call({ op: A.FUSE_GETXATTR, args: [Buffer.alloc(8), cstr('user.a')] });
    assert.equal(x.error, -A.ENOSYS, 'xattrs are not served');
  } finally {
    d.dispose();
  }
});
