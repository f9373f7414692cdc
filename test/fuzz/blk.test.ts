// Fuzz virtio-blk through the harness: 10 000+ requests on a read-write image and on a read-only
// one — reads, writes, flushes, GET_ID and unknown types, at sectors inside, across and far
// beyond the end, in whole and broken sector sizes, split over buffers, plus the harness's
// hostile chains. A shadow copy of the disk checks every request that came back: a successful
// read returns exactly the shadow's bytes, a successful write lands in it, a failed one changes
// nothing; the read-only image is byte-identical afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as B from '../../src/devices/virtio-blk/blk';
import { DiskImage } from '../../src/devices/virtio-blk/disk-image';
import { type DescSpec, type FuzzDriver, type GenContext, type Placed, Rng, runFuzz } from './harness';

const SECTORS = 256; // 128 KiB
const dir = mkdtempSync(join(tmpdir(), 'semu-fuzz-blk-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function image(name: string, rng: Rng): { path: string; bytes: Uint8Array } {
  const bytes = rng.bytes(SECTORS * 512);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

const TYPES = [B.VIRTIO_BLK_T_IN, B.VIRTIO_BLK_T_IN, B.VIRTIO_BLK_T_OUT, B.VIRTIO_BLK_T_OUT, B.VIRTIO_BLK_T_FLUSH, B.VIRTIO_BLK_T_GET_ID];

/** Splits `len` bytes into 1-3 buffers (the data may share a descriptor with the header). */
function split(ctx: GenContext, len: number, write: boolean, fill: () => Uint8Array | null): DescSpec[] {
  const out: DescSpec[] = [];
  const parts = 1 + ctx.rng.int(3);
  let left = len;
  for (let i = 0; i < parts && left > 0; i++) {
    const n = i === parts - 1 ? left : 1 + ctx.rng.int(left);
    const bytes = fill();
    out.push({ addr: bytes ? ctx.buffer(bytes.subarray(0, n)) : ctx.alloc(n), len: n, write });
    left -= n;
  }
  return out;
}

/** One request: mostly what Linux sends, sometimes malformed at the request level. */
function request(ctx: GenContext): DescSpec[] {
  const { rng } = ctx;
  const type = rng.chance(0.95) ? rng.pick(TYPES) : rng.next();
  const sector = rng.chance(0.8) ? rng.int(SECTORS) : rng.pick([SECTORS - 1, SECTORS, SECTORS + rng.int(1000), 0xffffffff, rng.next()]);
  const sectors = rng.chance(0.9) ? 1 + rng.int(8) : 0;
  const len = rng.chance(0.9) ? sectors * 512 : rng.int(5000);
  const header = new Uint8Array(16);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, type >>> 0, true);
  dv.setUint32(8, sector >>> 0, true);
  dv.setUint32(12, rng.chance(0.02) ? rng.next() : 0, true);
  const descs: DescSpec[] = [];
  if (type === B.VIRTIO_BLK_T_OUT && len > 0 && rng.chance(0.3)) {
    // Header and data in one readable buffer.
    const both = new Uint8Array(16 + len);
    both.set(header);
    both.set(rng.bytes(len), 16);
    descs.push({ addr: ctx.buffer(both), len: both.length, write: false });
  } else {
    descs.push({ addr: ctx.buffer(header), len: rng.chance(0.98) ? 16 : rng.int(16), write: false });
    if (type === B.VIRTIO_BLK_T_OUT) descs.push(...split(ctx, len, false, () => rng.bytes(len)));
    else if (type === B.VIRTIO_BLK_T_IN) descs.push(...split(ctx, len, true, () => null));
    else if (type === B.VIRTIO_BLK_T_GET_ID) descs.push({ addr: ctx.alloc(20), len: rng.pick([20, 20, 8, 64]), write: true });
  }
  if (rng.chance(0.99)) descs.push({ addr: ctx.alloc(1), len: 1, write: true }); // the status byte
  return descs;
}

/** Bytes of the chain's readable (or writable) part, in order, from guest RAM. */
function gather(drv: FuzzDriver, p: Placed, write: boolean): Uint8Array {
  const parts = p.specs.filter((s) => s.write === write).map((s) => drv.ram.u8.slice(s.addr, s.addr + s.len));
  return Buffer.concat(parts);
}

/**
 * A shadow of the disk, kept by what came back OK; every completed request is checked against it.
 * A chain a hostile edit touched may still be a valid write (a buffer aimed at the rings is
 * legal): the shadow is then read again from the image.
 */
function shadowChecker(shadow: Uint8Array, path: string, readOnly: boolean) {
  const stats = { readsOk: 0, writesOk: 0, errors: 0, resyncs: 0 };
  const used = (_q: number, _len: number, p: Placed, drv: FuzzDriver, trusted: boolean): string[] => {
    if (!trusted) {
      stats.resyncs++;
      shadow.set(readFileSync(path));
      return [];
    }
    const readable = gather(drv, p, false);
    const writable = gather(drv, p, true);
    if (readable.length < 16 || writable.length < 1) return [];
    const dv = new DataView(readable.buffer, readable.byteOffset, 16);
    const type = dv.getUint32(0, true);
    const sector = dv.getUint32(12, true) * 4294967296 + dv.getUint32(8, true);
    const status = writable[writable.length - 1];
    if (status !== B.VIRTIO_BLK_S_OK) {
      stats.errors++;
      return status === B.VIRTIO_BLK_S_IOERR || status === B.VIRTIO_BLK_S_UNSUPP ? [] : [`status ${status}`];
    }
    const at = sector * 512;
    if (type === B.VIRTIO_BLK_T_IN) {
      stats.readsOk++;
      const data = writable.subarray(0, writable.length - 1);
      const want = shadow.subarray(at, at + data.length);
      if (want.length !== data.length || !want.every((b, i) => b === data[i])) return [`read of sector ${sector} (${data.length} bytes) differs from the disk`];
    } else if (type === B.VIRTIO_BLK_T_OUT) {
      if (readOnly) return [`a write to the read-only disk answered OK`];
      stats.writesOk++;
      const data = readable.subarray(16);
      if (at + data.length > shadow.length) return [`a write past the end (sector ${sector}, ${data.length} bytes) answered OK`];
      shadow.set(data, at);
    }
    return [];
  };
  return { used, stats };
}

function fuzzBlk(readOnly: boolean, seed: number) {
  const img = image(readOnly ? 'ro.img' : 'rw.img', new Rng(seed));
  const shadow = img.bytes.slice();
  const checker = shadowChecker(shadow, img.path, readOnly);
  let blk: B.VirtioBlk | null = null;
  const r = runFuzz({
    name: `virtio-blk ${readOnly ? 'read-only' : 'read-write'}`,
    seed,
    chain: request,
    target: () => {
      blk = new B.VirtioBlk(DiskImage.open(img.path, { readOnly }), { queueSize: 64 });
      return { device: blk, used: checker.used };
    },
  });
  blk!.close();
  return { r, img, shadow, stats: checker.stats, blk: blk! };
}

test('fuzz: virtio-blk read-write, 10 000+ requests: no throw, no hang, nothing lost, every completed read and write true to the disk', { timeout: 180_000 }, (t) => {
  const { r, img, shadow, stats, blk } = fuzzBlk(false, 0xb1c);
  t.diagnostic(JSON.stringify({ ...r, ...stats, device: blk.stats }));
  assert.ok(stats.readsOk > 1500 && stats.writesOk > 1500, `exercised: ${stats.readsOk} reads and ${stats.writesOk} writes OK`);
  assert.ok(stats.errors > 500, `${stats.errors} requests failed with IOERR/UNSUPP`);
  assert.deepEqual(new Uint8Array(readFileSync(img.path)), shadow, 'the image holds exactly what the completed writes put there');
});

test('fuzz: virtio-blk read-only, 10 000+ requests: writes fail, reads are true, the image is byte-identical after', { timeout: 180_000 }, (t) => {
  const { r, img, stats, blk } = fuzzBlk(true, 0xb1d);
  t.diagnostic(JSON.stringify({ ...r, ...stats, device: blk.stats }));
  assert.ok(stats.readsOk > 1500, `${stats.readsOk} reads OK`);
  assert.equal(blk.stats.writes, 0);
  assert.deepEqual(new Uint8Array(readFileSync(img.path)), img.bytes, 'the read-only image is byte-identical');
});
