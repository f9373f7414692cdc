// fsbench in the real guest, over virtio-fs (/mnt) and over ext4 on virtio-blk (/blk), on the same
// machine: sequential write and read throughput and 1000 create+stat+unlink. The numbers go to
// the test's diagnostics (bench/RESULTS.md records a larger run); the test checks that both ran
// and that the virtio-fs data really reached the host folder's file system.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DiskImage } from '../../src/emulator/virtio/disk-image';
import { FsGuest } from './fs-guest';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'semu-fsbench-'));
const share = path.join(work, 'share');
const image = path.join(work, 'ext4.img');
const MIB = Number(process.env.FSBENCH_MIB ?? 8);
let g: FsGuest;

before(async () => {
  fs.mkdirSync(share);
  fs.writeFileSync(image, Buffer.alloc(0));
  fs.truncateSync(image, (MIB + 48) << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  g = new FsGuest({ share: { root: share }, disk: DiskImage.open(image, { readOnly: false }) });
  await g.boot();
}, { timeout: 180_000 });

after(() => {
  g?.dispose();
  fs.rmSync(work, { recursive: true, force: true });
});

function parse(out: string): Record<string, number> {
  const m = /^fsbench: dir=\S+ mib=(\d+) write_kBps=(\d+) read_kBps=(\d+) files_per_s=(\d+)$/m.exec(out);
  assert.ok(m, out);
  return { mib: Number(m[1]), write: Number(m[2]) / 1000, read: Number(m[3]) / 1000, files: Number(m[4]) };
}

test(`fsbench over virtio-fs and over ext4 on virtio-blk (${MIB} MiB)`, { timeout: 600_000 }, async (t) => {
  const mounted = await g.command('mkdir /blk; mount -t ext4 /dev/vda /blk; mount');
  assert.match(mounted, /^\/dev\/vda \/blk ext4 /m);
  const blk = parse(await g.command(`fsbench /blk ${MIB}`, 300_000));
  const vfs = parse(await g.command(`fsbench /mnt ${MIB}`, 300_000));
  for (const [name, r] of [['virtio-blk (ext4)', blk], ['virtio-fs', vfs]] as const) {
    t.diagnostic(`${name}: write ${r.write.toFixed(1)} MB/s, read ${r.read.toFixed(1)} MB/s, ${r.files} create+stat+unlink per s`);
    assert.ok(r.write > 0 && r.read > 0 && r.files > 0);
  }
  const st = g.fs!.sharedState;
  const { readFsSnapshot } = await import('../../src/devices/virtio-fs/state');
  const s = readFsSnapshot(st)!;
  assert.ok(s.bytesWritten >= MIB << 20, `the server wrote ${s.bytesWritten} bytes to the host`);
  assert.ok(s.bytesRead >= MIB << 20, `and read ${s.bytesRead} back: the guest's page cache was dropped`);
  assert.deepEqual(fs.readdirSync(share), [], 'fsbench cleaned up on the host too');
});
