// File system speed in the real guest: the guest's /bin/fsbench over virtio-fs (a host folder on
// /mnt, -s) and over ext4 on virtio-blk (a raw image, -d, mounted on /blk), on one machine booted
// through the worker as the CLI boots it. Sequential write (fsync'd) and read (page cache dropped)
// in MB/s, and create+stat+unlink of 1000 empty files per second. Rounds alternate the two
// devices so a change in the machine's load hits both alike; the median of each is reported.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestSession } from '../test/helpers/guest-session';
import { readFsSnapshot } from '../src/devices/virtio-fs/state';

export interface FsRun {
  writeMBps: number;
  readMBps: number;
  filesPerS: number;
}

export interface FsBench {
  mib: number;
  rounds: number;
  fs: FsRun;
  blk: FsRun;
  /** Bytes the virtio-fs server wrote to and read from the host folder (all rounds). */
  hostBytesWritten: number;
  hostBytesRead: number;
  /** Entries left in the host folder after the runs (fsbench removes its own). */
  leftInShare: number;
}

/** One `fsbench: dir=... write_kBps=... read_kBps=... files_per_s=...` line, parsed. */
export function parseFsbench(out: string): FsRun {
  const m = /^fsbench: dir=\S+ mib=\d+ write_kBps=(\d+) read_kBps=(\d+) files_per_s=(\d+)$/m.exec(out);
  if (!m) throw new Error(`fsbench printed no result line:\n${out}`);
  return { writeMBps: Number(m[1]) / 1000, readMBps: Number(m[2]) / 1000, filesPerS: Number(m[3]) };
}

function medianRun(runs: FsRun[]): FsRun {
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return { writeMBps: med(runs.map((r) => r.writeMBps)), readMBps: med(runs.map((r) => r.readMBps)), filesPerS: med(runs.map((r) => r.filesPerS)) };
}

export async function benchFs(mib = 16, rounds = 3): Promise<FsBench> {
  const work = mkdtempSync(join(tmpdir(), 'semu-bench-fs-'));
  const share = join(work, 'share');
  const image = join(work, 'ext4.img');
  mkdirSync(share);
  writeFileSync(image, Buffer.alloc(0));
  truncateSync(image, (mib + 48) << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  let s: GuestSession | null = null;
  try {
    s = await GuestSession.boot({ sharedDir: share, disk: image, audioOut: 'null', audioIn: 'null' });
    const mounted = (await s.run('mkdir /blk; mount -t ext4 /dev/vda /blk; mount')).output;
    if (!/^\/dev\/vda \/blk ext4 /m.test(mounted)) throw new Error(`the ext4 image did not mount on /blk:\n${mounted}`);
    const fsRuns: FsRun[] = [];
    const blkRuns: FsRun[] = [];
    for (let i = 0; i < rounds; i++) {
      blkRuns.push(parseFsbench((await s.run(`fsbench /blk ${mib}`, { timeoutMs: 600_000 })).output));
      fsRuns.push(parseFsbench((await s.run(`fsbench /mnt ${mib}`, { timeoutMs: 600_000 })).output));
    }
    const dev = s.host.virtio.find((d) => d.name === 'virtio-fs');
    const snap = dev?.deviceState ? readFsSnapshot(dev.deviceState) : null;
    if (snap === null) throw new Error('the machine has no virtio-fs device state');
    return {
      mib,
      rounds,
      fs: medianRun(fsRuns),
      blk: medianRun(blkRuns),
      hostBytesWritten: snap.bytesWritten,
      hostBytesRead: snap.bytesRead,
      leftInShare: readdirSync(share).length,
    };
  } finally {
    await s?.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}
