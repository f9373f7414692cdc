// virtio-fs device: malformed requests, bounds (inodes, handles, requests in flight), reset with
// requests on the host, and host descriptors back to their baseline afterwards.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as A from '../../../src/devices/virtio-fs/abi';
import { readFsSnapshot } from '../../../src/devices/virtio-fs/state';
import { R, STATUS } from '../helpers';
import { FuseDriver, cstr, readIn, settledFds, tempDir, u64s } from './driver';

const dir = tempDir();
for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(dir, `n${i}`), `file ${i}`);
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function withDriver(opts: Partial<import('../../../src/devices/virtio-fs/device').VirtioFsOptions>, f: (d: FuseDriver) => Promise<void>) {
  const d = new FuseDriver({ root: dir, ...opts });
  try {
    await d.init();
    await f(d);
  } finally {
    d.dispose();
  }
}

test('malformed requests get errno replies (or nothing, without room for one); the device never needs a reset', async () => {
  await withDriver({}, async (d) => {
    const short = await d.call({ op: 0, raw: Buffer.alloc(10) });
    assert.deepEqual([short.error, short.used, short.unique], [-A.EINVAL, 16, 0], 'no fuse_in_header');
    assert.equal(await d.errno({ op: A.FUSE_LOOKUP, args: [cstr('n1')], len: 4000 }), A.EINVAL, 'len beyond the chain');
    assert.equal(await d.errno({ op: A.FUSE_LOOKUP, args: [cstr('n1')], len: 12 }), A.EINVAL, 'len below the header');
    assert.equal((await d.call({ op: A.FUSE_LOOKUP, args: [cstr('n1')], writable: 0 })).used, 0, 'no writable part');
    assert.equal((await d.call({ op: A.FUSE_LOOKUP, args: [cstr('n1')], writable: 8 })).used, 0, 'no room for the header');
    assert.equal(await d.errno({ op: A.FUSE_LOOKUP, args: [cstr('n1')], reply: 10 }), A.EINVAL, 'no room for the entry');
    assert.equal(await d.errno({ op: A.FUSE_GETATTR, nodeid: 0xdeadbeef, args: [Buffer.alloc(16)] }), A.ESTALE, 'stale nodeid');
    const huge = Buffer.alloc(16);
    assert.equal(await d.errno({ op: A.FUSE_LOOKUP, nodeid: 2 ** 60, args: [cstr('x')] }), A.ESTALE, 'nodeid above 2^53');
    assert.equal(await d.errno({ op: A.FUSE_GETATTR, nodeid: 1, args: [huge.subarray(0, 3)] }), A.EINVAL, 'short arguments');
    assert.equal(await d.errno({ op: A.FUSE_READ, args: [readIn(77, 0, 10)] }), A.EBADF, 'unknown fh');
    const e = await d.lookup(1, 'n1');
    const fh = await d.open(e.nodeid);
    const big = await d.call({ op: A.FUSE_READ, nodeid: e.nodeid, args: [readIn(fh, 0, 0xffffffff)], reply: 64 });
    assert.equal(big.error, 0);
    assert.equal(big.body.toString(), 'file 1', 'a huge size is cut to the room given');
    assert.equal(await d.errno({ op: A.FUSE_READ, nodeid: e.nodeid, args: [readIn(fh, 2 ** 62, 10)] }), A.EINVAL, 'offset beyond 2^53');
    const w = Buffer.alloc(40);
    w.writeBigUInt64LE(BigInt(fh), 0);
    w.writeUInt32LE(1000, 16);
    assert.equal(await d.errno({ op: A.FUSE_WRITE, nodeid: e.nodeid, args: [w, Buffer.from('short')] }), A.EINVAL, 'size beyond the data');
    assert.equal(await d.errno({ op: A.FUSE_READDIR, nodeid: 1, args: [readIn(fh, 0, 100)] }), A.ENOTDIR, 'a file handle is not a directory handle');
    await d.release(e.nodeid, fh);
    assert.equal(await d.errno({ op: A.FUSE_RELEASE, args: [u64s(fh, 0, 0)] }), A.EBADF, 'double release');
    const bf = Buffer.alloc(8);
    bf.writeUInt32LE(0xffffffff, 0);
    assert.equal((await d.call({ op: A.FUSE_BATCH_FORGET, args: [bf, u64s(e.nodeid, 1)], writable: 0 })).used, 0, 'BATCH_FORGET claiming 4 G entries');
    assert.equal(await d.errno({ op: A.FUSE_GETATTR, nodeid: e.nodeid, args: [Buffer.alloc(16)] }), A.ESTALE, '...forgot the one it carried');
    const status = d.drv.r(R.STATUS);
    assert.equal(status & STATUS.NEEDS_RESET, 0);
    const snap = readFsSnapshot(d.dev.sharedState)!;
    assert.ok(snap.malformed >= 3, `malformed counted: ${snap.malformed}`);
    assert.ok(snap.errors >= 10);
  });
});

test('the inode table is bounded: LOOKUP past it is ENFILE until FORGET frees some; READDIRPLUS then gives nodeid 0', async () => {
  await withDriver({ maxInodes: 8 }, async (d) => {
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) ids.push((await d.lookup(1, `n${i}`)).nodeid);
    assert.equal(await d.errno({ op: A.FUSE_LOOKUP, args: [cstr('n7')] }), A.ENFILE);
    assert.equal((await d.lookup(1, 'n0')).nodeid, ids[0], 'a known inode is still found');
    const plus = await d.list(1, true);
    const unnamed = plus.filter((e) => e.name.startsWith('n') && e.entry!.nodeid === 0);
    assert.equal(unnamed.length, 13, 'entries past the bound come without attributes');
    for (const e of plus) if (e.entry!.nodeid) await d.forget(e.entry!.nodeid, 1);
    await d.forget(ids[0], 2);
    assert.ok((await d.lookup(1, 'n7')).nodeid > 0, 'room again after FORGET');
    assert.ok(d.dev.server.inodes.count <= 8);
  });
});

test('open handles are bounded: OPEN past the bound is ENFILE until RELEASE', async () => {
  await withDriver({ maxHandles: 3 }, async (d) => {
    const e = await d.lookup(1, 'n2');
    const fhs = [await d.open(e.nodeid), await d.open(e.nodeid), await d.opendir(1)];
    assert.equal(await d.errno({ op: A.FUSE_OPEN, nodeid: e.nodeid, args: [Buffer.alloc(8)] }), A.ENFILE);
    assert.equal(await d.errno({ op: A.FUSE_OPENDIR, args: [Buffer.alloc(8)] }), A.ENFILE);
    await d.release(e.nodeid, fhs[0]);
    const again = await d.open(e.nodeid);
    assert.ok(again > fhs[2], 'fh numbers are never reused');
  });
});

test('requests in flight are bounded: 16 requests through 2 slots all complete, the rest waited in the ring', async () => {
  await withDriver({ maxInFlight: 2 }, async (d) => {
    const waits = [];
    for (let i = 0; i < 8; i++) waits.push(d.submit({ op: A.FUSE_LOOKUP, args: [cstr(`n${i}`)], reply: 128 }));
    for (let i = 0; i < 8; i++) waits.push(d.submit({ op: A.FUSE_LOOKUP, args: [cstr(`n${i}`)], reply: 128, queue: 0 }));
    const replies = await Promise.all(waits.map((w) => w()));
    assert.ok(replies.every((r) => r.error === 0 && r.len === 16 + 128));
    const snap = readFsSnapshot(d.dev.sharedState)!;
    assert.ok(snap.waiting > 0, 'some chains waited for a slot');
    assert.equal(snap.maxInFlight, 2);
    assert.equal(snap.inFlight, 0);
  });
});

test('parallel WRITEs to one file land at their offsets', async () => {
  await withDriver({}, async (d) => {
    const { entry, fh } = await d.create(1, 'par');
    const waits = [];
    for (let i = 0; i < 16; i++) {
      const a = Buffer.alloc(40);
      a.writeBigUInt64LE(BigInt(fh), 0);
      a.writeBigUInt64LE(BigInt(i * 4096), 8);
      a.writeUInt32LE(4096, 16);
      waits.push(d.submit({ op: A.FUSE_WRITE, nodeid: entry.nodeid, args: [a, Buffer.alloc(4096, i)], reply: 8 }));
    }
    await Promise.all(waits.map((w) => w()));
    const data = fs.readFileSync(path.join(dir, 'par'));
    for (let i = 0; i < 16; i++) assert.ok(data.subarray(i * 4096, (i + 1) * 4096).every((b) => b === i));
    await d.release(entry.nodeid, fh);
  });
});

test('a device reset with requests on the host returns nothing stale, forgets everything, and the next session works', async () => {
  await withDriver({}, async (d) => {
    const e = await d.lookup(1, 'n3');
    const fh = await d.open(e.nodeid);
    const q = d.queues[1];
    const usedBefore = q.usedIdx();
    for (let i = 0; i < 8; i++) d.submit({ op: A.FUSE_READ, nodeid: e.nodeid, args: [readIn(fh, 0, 4096)] });
    d.drv.w(R.STATUS, 0); // reset while the reads are in the thread pool
    await d.settle();
    assert.equal(q.usedIdx(), usedBefore, 'no used entry after the reset');
    assert.equal(d.dev.server.handles.count, 0);
    assert.equal(d.dev.server.inodes.count, 1);
  });
});

test('host descriptors are back to their baseline after heavy use and dispose', async () => {
  const base = await settledFds();
  const d = new FuseDriver({ root: dir, maxPathFds: 4 });
  await d.init();
  for (let i = 0; i < 20; i++) {
    const e = await d.lookup(1, `n${i}`);
    const fh = await d.open(e.nodeid);
    await d.read(e.nodeid, fh, 0, 100);
    if (i % 2) await d.release(e.nodeid, fh); // half left open: dispose must close them
  }
  await d.list(1, true);
  assert.ok(d.dev.server.inodes.pathFds <= 5 + 1, `path descriptors bounded: ${d.dev.server.inodes.pathFds}`);
  d.dispose();
  assert.equal(await settledFds(base), base);
});

test('dispose with OPEN, OPENDIR and CREATE still on the host: what they open is closed, not leaked', async () => {
  const base = await settledFds();
  const d = new FuseDriver({ root: dir });
  await d.init();
  const e = await d.lookup(1, 'n4');
  d.submit({ op: A.FUSE_OPEN, nodeid: e.nodeid, args: [u64s(0)] });
  d.submit({ op: A.FUSE_OPENDIR, args: [u64s(0)] });
  const cr = Buffer.alloc(16);
  cr.writeUInt32LE(2 | A.G_O_CREAT, 0);
  cr.writeUInt32LE(0o644, 4);
  d.submit({ op: A.FUSE_CREATE, args: [cr, cstr('late')], reply: 144 });
  d.dispose(); // before the thread pool has answered any of them
  assert.equal(await settledFds(base), base);
  assert.equal(d.dev.server.handles.count, 0);
});

test('directories moved on the host so that one would be its own ancestor: ESTALE, not an endless walk', async () => {
  fs.mkdirSync(path.join(dir, 'cyc/A/B'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'cyc/C'));
  await withDriver({ maxPathFds: 1 }, async (d) => {
    const cyc = await d.lookup(1, 'cyc');
    const a = await d.lookup(cyc.nodeid, 'A');
    const b = await d.lookup(a.nodeid, 'B');
    fs.renameSync(path.join(dir, 'cyc/A/B'), path.join(dir, 'cyc/X'));
    fs.renameSync(path.join(dir, 'cyc/A'), path.join(dir, 'cyc/X/A')); // A now lives inside B
    assert.equal((await d.lookup(b.nodeid, 'A')).nodeid, a.nodeid, 'found again, under B');
    await d.lookup(cyc.nodeid, 'C'); // evicts B's descriptor
    assert.equal(await d.errno({ op: A.FUSE_GETATTR, nodeid: a.nodeid, args: [Buffer.alloc(16)] }), A.ESTALE);
    assert.equal((await d.lookup(cyc.nodeid, 'X')).nodeid, b.nodeid, 'looking B up again heals it');
  });
});

test('a directory deeper than the resolver walks (256 levels without a cached descriptor) is ENAMETOOLONG, not a stack overflow', async () => {
  // Built level by level through descriptors: the path is far longer than PATH_MAX.
  const C = fs.constants;
  let fd = fs.openSync(dir, 0o10000000 | C.O_DIRECTORY);
  for (let i = 0; i < 300; i++) {
    fs.mkdirSync(`/proc/self/fd/${fd}/d`);
    const next = fs.openSync(`/proc/self/fd/${fd}/d`, 0o10000000 | C.O_DIRECTORY);
    fs.closeSync(fd);
    fd = next;
  }
  fs.closeSync(fd);
  fs.mkdirSync(path.join(dir, 'ev1'));
  fs.mkdirSync(path.join(dir, 'ev2'));
  await withDriver({ maxPathFds: 2 }, async (d) => {
    const ids = [1];
    for (let i = 0; i < 300; i++) ids.push((await d.lookup(ids[i], 'd')).nodeid);
    await d.lookup(1, 'ev1'); // two other directories take the two cached descriptors
    await d.lookup(1, 'ev2');
    assert.equal(await d.errno({ op: A.FUSE_GETATTR, nodeid: ids[300], args: [Buffer.alloc(16)] }), A.ENAMETOOLONG);
    assert.equal(await d.errno({ op: A.FUSE_GETATTR, nodeid: ids[200], args: [Buffer.alloc(16)] }), 0, 'a walk of 200 is fine');
    assert.equal(await d.errno({ op: A.FUSE_GETATTR, nodeid: ids[300], args: [Buffer.alloc(16)] }), 0, 'and caches the way down');
  });
  execFileSync('rm', ['-rf', path.join(dir, 'd')]);
});
