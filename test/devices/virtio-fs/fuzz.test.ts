// virtio-fs device: 10 000 FUSE requests built from a seeded PRNG — known and unknown opcodes,
// valid, stale and huge nodeids and handles, arguments cut short or padded with garbage, names
// with '/', '..', no NUL, huge sizes and offsets, replies with too little room. The rings are well
// formed (the reliability harness fuzzes those); what is fuzzed is the FUSE server. Every chain
// must come back with a well-formed reply or none, the device never needs a reset, nothing outside
// the share changes, and the host's descriptors are back to baseline after dispose.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as A from '../../../src/devices/virtio-fs/abi';
import { Xoshiro128 } from '../../../src/devices/virtio-rng/rng';
import { readFsSnapshot } from '../../../src/devices/virtio-fs/state';
import { R, STATUS } from '../helpers';
import { FuseDriver, cstr, settledFds, tempDir, type Call } from './driver';

const base = tempDir('semu-fs-fuzz-');
const share = path.join(base, 'share');
const outside = path.join(base, 'outside');
after(() => fs.rmSync(base, { recursive: true, force: true }));

// INIT and DESTROY (26, 38) are rare: each ends the session, and the loop starts a new one.
const OPS = [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 25, 27, 28, 29, 30, 34, 35, 36, 42, 43, 44, 45, 46, 50, 21, 22, 39, 52, 0, 99, 4096, 0xffffffff];
const OPEN_HEAVY = [14, 27, 35, 15, 16, 28, 44];
const ARG_SIZE: Record<number, number> = {
  2: 8, 3: 16, 4: 88, 8: 16, 9: 8, 12: 8, 13: 8, 14: 8, 15: 40, 16: 40, 18: 24, 20: 16, 25: 24, 27: 8, 28: 40, 29: 24,
  30: 16, 34: 8, 35: 16, 36: 8, 42: 8, 43: 32, 44: 40, 45: 16, 46: 24, 50: 8,
};
const NAME_COUNT: Record<number, number> = { 1: 1, 6: 2, 8: 1, 9: 1, 10: 1, 11: 1, 12: 2, 13: 1, 35: 1, 45: 2 };
const NAMES = ['a', 'b', 'c', 'dir', 'sub', 'evil', 'f\x01\xff'];
const BAD_NAMES = ['x/y', '..', '.', '', 'n'.repeat(300), '/etc'];
const ENTRY_OPS = new Set([1, 6, 8, 9, 13]);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** JS heap and array buffers after a full collection. */
function liveBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function snapshot(dir: string): string {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((n) => `${n}:${fs.lstatSync(path.join(dir, n)).size}`)
    .join(',');
}

test('10 000 fuzzed FUSE requests: no exception, no hang, no needs-reset, nothing outside touched, descriptors and memory back to baseline', { timeout: 300_000 }, async (t) => {
  fs.mkdirSync(path.join(share, 'dir'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'victim'), 'do not touch');
  fs.writeFileSync(path.join(share, 'a'), 'aaaa');
  fs.symlinkSync(path.join(outside, 'victim'), path.join(share, 'evil'));
  const outsideBefore = snapshot(outside);
  const fds = await settledFds();

  const rng = new Xoshiro128(0x5eed);
  const pick = <T>(a: readonly T[]) => a[rng.next() % a.length];
  const num = (bits: number) => (bits >= 32 ? rng.next() : rng.next() & ((1 << bits) - 1));
  const d = new FuseDriver({ root: share, maxInodes: 64, maxHandles: 16, maxPathFds: 8, maxInFlight: 4 });
  const nodeids: number[] = [1];
  const fhs: number[] = [];
  let replies = 0;
  let none = 0;
  let sessions = 0;
  let baseline = 0;
  try {
    await d.init();
    for (let round = 0; round < 10000 / 16; round++) {
      if (round === 8) baseline = liveBytes(); // after a warm-up: code compiled, slots touched
      const waits = [];
      const calls: Call[] = [];
      for (let k = 0; k < 16; k++) {
        calls.push(fuzzCall());
        waits.push(d.submit(calls[k]));
      }
      for (let k = 0; k < waits.length; k++) {
        const r = await waits[k]();
        if (r.used === 0) {
          none++;
          continue;
        }
        replies++;
        assert.equal(r.len, r.used, 'fuse_out_header.len is the used length');
        assert.ok(r.error <= 0 && r.error > -512, `errno ${r.error}`);
        if (r.error !== 0) assert.equal(r.len, 16, 'an error reply is the bare header');
        if (r.error === 0) learn(calls[k].op, r.body);
      }
      assert.equal(d.drv.r(R.STATUS) & STATUS.NEEDS_RESET, 0, `needs reset after round ${round}`);
      if (!d.dev.server.initialized) {
        sessions++;
        nodeids.length = 1; // the old session's ids are stale now (some stale ones are still sent)
        fhs.length = 0;
        await d.init();
      }
    }
    const snap = readFsSnapshot(d.dev.sharedState)!;
    t.diagnostic(`${snap.requests} requests, ${snap.errors} errors, ${snap.malformed} malformed, ${sessions} sessions restarted, ${snap.bytesRead} bytes read, ${snap.bytesWritten} written; ${JSON.stringify(snap.ops)}`);
    assert.ok(snap.requests - snap.errors > 1000, 'many requests got past the checks');
    // The device still works after all that.
    await d.init();
    const { entry, fh } = await d.create(1, 'after-fuzz');
    assert.equal(await d.write(entry.nodeid, fh, 0, Buffer.from('still works')), 11);
    assert.equal((await d.read(entry.nodeid, fh, 0, 64)).toString(), 'still works');
    await d.release(entry.nodeid, fh);
  } finally {
    d.dispose();
  }
  await d.settle();
  const growth = liveBytes() - baseline;
  t.diagnostic(`live memory ${(growth / 1048576).toFixed(2)} MiB above the warm-up baseline`);
  assert.ok(growth < 8 << 20, `memory grew by ${growth} bytes`);
  assert.equal(replies + none, Math.floor(10000 / 16) * 16 + 0);
  assert.ok(replies > 5000, `${replies} replies`);
  assert.equal(snapshot(outside), outsideBefore, 'nothing outside the share changed');
  assert.equal(fs.readFileSync(path.join(outside, 'victim'), 'utf8'), 'do not touch');
  assert.equal(await settledFds(fds), fds, 'host descriptors back to baseline');

  /** Collects the nodeids and handles successful replies hand out, to use them again. */
  function learn(op: number, body: Buffer) {
    if ((ENTRY_OPS.has(op) || op === A.FUSE_CREATE) && body.length >= 128 && nodeids.length < 100) nodeids.push(Number(body.readBigUInt64LE(0)));
    if ((op === A.FUSE_OPEN || op === A.FUSE_OPENDIR) && body.length === 16 && fhs.length < 100) fhs.push(Number(body.readBigUInt64LE(0)));
    if (op === A.FUSE_CREATE && body.length === 144 && fhs.length < 100) fhs.push(Number(body.readBigUInt64LE(128)));
  }

  function fuzzCall(): Call {
    const op = rng.next() % 300 === 0 ? pick([A.FUSE_INIT, A.FUSE_DESTROY]) : rng.next() % 3 === 0 ? pick(OPEN_HEAVY) : pick(OPS);
    const nodeid = rng.next() % 8 === 0 ? pick([0, 2 ** 40, 0xdeadbeef, 2 ** 53 + 2]) : pick(nodeids);
    const args: Buffer[] = [];
    // Mostly the opcode's own argument size, sometimes any size.
    const fixed = Buffer.alloc(rng.next() % 5 === 0 ? pick([0, 4, 8, 16, 24, 40, 64, 88]) : ARG_SIZE[op] ?? 0);
    for (let i = 0; i + 4 <= fixed.length; i += 4) fixed.writeUInt32LE(rng.next() % 2 ? 0 : num(32), i);
    // plausible handles or nodeids, offsets, sizes and modes in the usual places
    const id = () => BigInt(rng.next() % 4 === 0 ? num(16) : pick([...fhs, ...nodeids]));
    if (fixed.length >= 8) fixed.writeBigUInt64LE(id(), 0);
    if (fixed.length >= 16 && rng.next() % 2) fixed.writeBigUInt64LE(BigInt(pick([0, 1, 4095, 2 ** 40, 2 ** 62])), 8);
    if (fixed.length >= 24 && rng.next() % 2) fixed.writeUInt32LE(pick([0, 1, 4096, 131072, 0xffffffff]), 16);
    if ((op === A.FUSE_MKNOD || op === A.FUSE_MKDIR) && fixed.length >= 4) fixed.writeUInt32LE(pick([0o644, 0o755, A.S_IFREG | 0o600, A.S_IFIFO | 0o600, A.S_IFCHR | 0o600, 0o4777]), 0);
    if ((op === A.FUSE_CREATE || op === A.FUSE_OPEN) && fixed.length >= 8) fixed.writeUInt32LE(pick([0, 1, 2, 0o1002, 0o102, 0o302, 0o2001]), 0);
    if (op === A.FUSE_CREATE && fixed.length >= 8) fixed.writeUInt32LE(pick([0o644, 0o4755, 0]), 4);
    args.push(fixed);
    if (op === A.FUSE_WRITE && fixed.length >= 24) {
      const data = Buffer.alloc(pick([0, 1, 100, 4096]), num(8));
      fixed.writeUInt32LE(rng.next() % 4 ? data.length : num(32), 16);
      args.push(data);
    }
    for (let n = NAME_COUNT[op] ?? rng.next() % 3; n > 0; n--) {
      const name = rng.next() % 5 === 0 ? pick(BAD_NAMES) : pick(NAMES);
      args.push(rng.next() % 8 === 0 ? Buffer.from(name, 'latin1') : cstr(name));
    }
    if (rng.next() % 5 === 0) args.push(Buffer.alloc(num(12), num(8)));
    const call: Call = { op, nodeid, args, reply: pick([0, 8, 16, 100, 128, 144, 4096, 65536]) };
    if (rng.next() % 20 === 0) call.len = num(16);
    if (rng.next() % 30 === 0) call.writable = num(4);
    if (rng.next() % 10 === 0) call.queue = 0;
    // Linux sends one descriptor per argument; any split must read the same (at most 4 + 3
    // descriptors, so 16 requests in flight fit a 128-entry ring).
    const readable = A.IN_HEADER_SIZE + args.reduce((n, a) => n + a.length, 0);
    const writable = call.writable ?? A.OUT_HEADER_SIZE + call.reply!;
    if (rng.next() % 4 === 0) call.splitReadable = Math.ceil(readable / (2 + (rng.next() % 3)));
    if (rng.next() % 4 === 0 && writable > 1) call.splitWritable = Math.ceil(writable / (2 + (rng.next() % 2)));
    return call;
  }
});
