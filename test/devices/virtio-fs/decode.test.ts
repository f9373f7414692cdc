// virtio-fs: what the debugger shows — the chain decoder, the notify condition fields, and the
// shared-state reader — from real request bytes and a live device.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as A from '../../../src/devices/virtio-fs/abi';
import { describeFuseChain, FS_CONDITION_FIELDS, FS_NOTIFY_FILTERS } from '../../../src/devices/virtio-fs/decode';
import { readFsState, readFsSnapshot } from '../../../src/devices/virtio-fs/state';
import { FuseDriver, cstr, readIn, tempDir } from './driver';

function request(op: number, nodeid: number, unique: number, ...args: Buffer[]): Buffer {
  const body = Buffer.concat(args);
  const h = Buffer.alloc(40);
  h.writeUInt32LE(40 + body.length, 0);
  h.writeUInt32LE(op, 4);
  h.writeBigUInt64LE(BigInt(unique), 8);
  h.writeBigUInt64LE(BigInt(nodeid), 16);
  return Buffer.concat([h, body]);
}

/** What the inspector hands a decoder: the first 64 readable bytes. */
function describe(b: Buffer, writable = 128): string {
  return describeFuseChain(1, b.subarray(0, 64), b.length, writable);
}

test('describeFuseChain names the opcode, unique, nodeid and the name or offset/size', () => {
  assert.equal(describe(request(A.FUSE_LOOKUP, 1, 12, cstr('hello.c'))), "LOOKUP #12 node 1 'hello.c'");
  assert.equal(describe(request(A.FUSE_READ, 7, 40, readIn(3, 8192, 4096))), 'READ #40 node 7 fh 3 offset 8192 size 4096');
  const w = readIn(5, 0, 100);
  assert.equal(describe(request(A.FUSE_WRITE, 9, 41, w, Buffer.alloc(100))), 'WRITE #41 node 9 fh 5 offset 0 size 100');
  const fo = Buffer.alloc(8);
  fo.writeBigUInt64LE(2n);
  assert.equal(describe(request(A.FUSE_FORGET, 12, 9, fo), 0), 'FORGET #9 node 12 nlookup 2');
  const mk = Buffer.alloc(8);
  mk.writeUInt32LE(0o755);
  assert.equal(describe(request(A.FUSE_MKDIR, 1, 3, mk, cstr('src'))), "MKDIR #3 node 1 'src' mode 755");
  const long = describe(request(A.FUSE_LOOKUP, 1, 1, cstr('a-name-longer-than-the-64-bytes-the-inspector-reads')));
  assert.equal(long, "LOOKUP #1 node 1 'a-name-longer-than-the-6…'", 'cut at 64 bytes, ending in …');
  assert.equal(describe(request(A.FUSE_LOOKUP, 1, 1, cstr("a'b\n"))), "LOOKUP #1 node 1 'a\\x27b\\x0a'", 'quotes and control bytes escaped');
  assert.equal(describe(request(999, 1, 2)), 'opcode 999 #2 node 1 (128 bytes for the reply)');
  assert.match(describeFuseChain(1, Buffer.alloc(10), 10, 0), /short request \(10 readable bytes/);
  const lying = request(A.FUSE_GETATTR, 1, 4, Buffer.alloc(16));
  lying.writeUInt32LE(9999, 0);
  assert.equal(describe(lying), 'GETATTR #4 node 1 (len 9999 ≠ 56 readable)');
});

test('notify filter and condition fields: virtio-fs, opcode/nodeid/unique from the first pending chain', () => {
  assert.equal(FS_NOTIFY_FILTERS[0].id, 'virtio-fs');
  assert.equal(FS_NOTIFY_FILTERS[0].queue, null);
  const f = Object.fromEntries(FS_CONDITION_FIELDS.map((c) => [c.name, c]));
  const r = request(A.FUSE_READ, 7, 40, readIn(3, 0, 10));
  assert.equal(f.opcode.read(r), A.FUSE_READ);
  assert.equal(f.nodeid.read(r), 7);
  assert.equal(f.unique.read(r), 40);
  assert.equal(f.opcode.read(r.subarray(0, 20)), -1, 'too short: -1');
  assert.ok(FS_CONDITION_FIELDS.every((c) => c.bytes === 40 && c.queues.includes(0) && c.queues.includes(1)));
});

test('the state reader shows the live counters of a device, as plain JSON', async () => {
  const dir = tempDir();
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(`${dir}/f`, 'x'.repeat(1000));
  const d = new FuseDriver({ root: dir, tag: 'work' });
  try {
    assert.equal(readFsSnapshot(d.dev.sharedState)!.initialized, false);
    await d.init();
    const e = await d.lookup(1, 'f');
    const fh = await d.open(e.nodeid);
    await d.read(e.nodeid, fh, 0, 4096);
    await d.call({ op: A.FUSE_LOOKUP, args: [cstr('missing')] });
    const s = readFsSnapshot(d.dev.sharedState)!;
    assert.equal(s.tag, 'work');
    assert.equal(s.root, dir);
    assert.equal(s.initialized, true);
    assert.equal(s.minor, 41);
    assert.equal(s.bytesRead, 1000);
    assert.equal(s.handles, 1);
    assert.equal(s.inodes, 2);
    assert.deepEqual(s.ops, { INIT: 1, LOOKUP: 2, OPEN: 1, READ: 1 });
    assert.equal(s.lastError, 'LOOKUP ENOENT');
    const nodes = readFsState(d.dev.sharedState);
    assert.equal(nodes.find((n) => n.name === 'session')!.value, 'FUSE 7.41');
    assert.equal(nodes.find((n) => n.name === 'requests by opcode')!.children!.length, 4);
    assert.doesNotThrow(() => JSON.stringify(nodes));
    assert.deepEqual(readFsState(new SharedArrayBuffer(16)), [{ name: 'state', value: 'unavailable' }]);
  } finally {
    d.dispose();
  }
});
