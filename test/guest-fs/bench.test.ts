// The file system benchmark of `npm run bench fs` (bench/fs.ts), small: the guest's fsbench over
// virtio-fs (/mnt) and over ext4 on virtio-blk (/blk) on one machine booted through the worker.
// The numbers go to the test's diagnostics (bench/RESULTS.md records a larger run); the test
// checks that both ran and that the virtio-fs data really went through the host folder.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchFs, parseFsbench } from '../../bench/fs';

const MIB = Number(process.env.FSBENCH_MIB ?? 4);

test('fsbench lines parse; a line without the result is an error that shows the output', () => {
  assert.deepEqual(parseFsbench('x\nfsbench: dir=/mnt mib=4 write_kBps=12500 read_kBps=21000 files_per_s=80\n'), { writeMBps: 12.5, readMBps: 21, filesPerS: 80 });
  assert.throws(() => parseFsbench('fsbench: error create /mnt/fsbench.dat: read-only file system\n'), /no result line:\nfsbench: error create/);
});

test(`fsbench over virtio-fs and over ext4 on virtio-blk (${MIB} MiB, one round)`, { timeout: 600_000 }, async (t) => {
  const r = await benchFs(MIB, 1);
  for (const [name, x] of [['virtio-blk (ext4)', r.blk], ['virtio-fs', r.fs]] as const) {
    t.diagnostic(`${name}: write ${x.writeMBps.toFixed(1)} MB/s, read ${x.readMBps.toFixed(1)} MB/s, ${x.filesPerS} create+stat+unlink per s`);
    assert.ok(x.writeMBps > 0 && x.readMBps > 0 && x.filesPerS > 0);
  }
  assert.ok(r.hostBytesWritten >= MIB << 20, `the server wrote ${r.hostBytesWritten} bytes to the host`);
  assert.ok(r.hostBytesRead >= MIB << 20, `and read ${r.hostBytesRead} back: the guest's page cache was dropped`);
  assert.equal(r.leftInShare, 0, 'fsbench cleaned up on the host too');
});
