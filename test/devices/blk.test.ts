import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtioMmio } from '../../src/emulator/virtio/mmio';
import { DiskImage } from '../../src/devices/virtio-blk/disk-image';
import * as B from '../../src/devices/virtio-blk/blk';
import * as L from '../../src/emulator/virtio/layout';
import { FakeIrq, MmioDriver, R, STATUS, makeBus } from './helpers';

const BASE = 0xf4200000;
const SECTORS = 64;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semu-blk-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Sector s is filled with the byte (s * 7 + 1) & 0xff, its first 4 bytes the sector number. */
function makeImage(name: string, sectors = SECTORS): string {
  const p = path.join(dir, name);
  const b = Buffer.alloc(sectors * 512);
  for (let s = 0; s < sectors; s++) {
    b.fill((s * 7 + 1) & 0xff, s * 512, (s + 1) * 512);
    b.writeUInt32LE(s, s * 512);
  }
  fs.writeFileSync(p, b);
  return p;
}

function setup(readOnly = false) {
  const file = makeImage(`disk-${Math.random().toString(36).slice(2)}.img`);
  const disk = DiskImage.open(file, { readOnly });
  const bus = makeBus();
  const blk = new B.VirtioBlk(disk);
  const t = new VirtioMmio('virtio-blk', BASE, new FakeIrq(), 3, blk, bus.ram);
  bus.add(t);
  const drv = new MmioDriver(bus, BASE);
  const [q] = drv.init(1);
  return { file, disk, bus, blk, t, drv, q, ram: bus.ram };
}

const HDR = 0x200000;
const DATA = 0x210000;
const STATUS_AT = 0x220000;

function header(ram: import('../../src/emulator/ram').Ram, type: number, sector: number, at = HDR) {
  ram.write32(at, type);
  ram.write32(at + 4, 0);
  ram.write32(at + 8, sector % 4294967296);
  ram.write32(at + 12, Math.floor(sector / 4294967296));
}

test('features and config space: capacity, seg_max, blk_size; RO only for a read-only image', () => {
  const s = setup();
  const cfg = (off: number) => s.bus.read(BASE + R.CONFIG + off, 4);
  assert.equal(cfg(0), SECTORS);
  assert.equal(cfg(4), 0);
  assert.equal(cfg(12), 126, 'seg_max = ring size - 2');
  assert.equal(cfg(20), 512);
  s.drv.w(R.DEVICE_FEATURES_SEL, 0);
  const f = s.drv.r(R.DEVICE_FEATURES);
  for (const bit of [B.VIRTIO_BLK_F_SEG_MAX, B.VIRTIO_BLK_F_BLK_SIZE, B.VIRTIO_BLK_F_FLUSH]) assert.ok(f & (1 << bit), `bit ${bit}`);
  assert.equal(f & (1 << B.VIRTIO_BLK_F_RO), 0);
  const ro = setup(true);
  ro.drv.w(R.DEVICE_FEATURES_SEL, 0);
  assert.ok(ro.drv.r(R.DEVICE_FEATURES) & (1 << B.VIRTIO_BLK_F_RO));
});

test('IN: two sectors into two data descriptors, status OK, used length data + status', () => {
  const s = setup();
  header(s.ram, B.VIRTIO_BLK_T_IN, 5);
  s.ram.write8(STATUS_AT, 0xff);
  const head = s.q.add([
    { addr: HDR, len: 16 },
    { addr: DATA, len: 512, write: true },
    { addr: DATA + 0x1000, len: 512, write: true },
    { addr: STATUS_AT, len: 1, write: true },
  ]);
  s.drv.kick(0);
  assert.deepEqual(s.q.takeUsed(), [{ id: head, len: 1025 }]);
  assert.equal(s.ram.read8(STATUS_AT), B.VIRTIO_BLK_S_OK);
  assert.equal(s.ram.read32(DATA), 5);
  assert.equal(s.ram.read8(DATA + 511), (5 * 7 + 1) & 0xff);
  assert.equal(s.ram.read32(DATA + 0x1000), 6);
  assert.equal(s.ram.read8(DATA + 0x1000 + 100), (6 * 7 + 1) & 0xff);
  assert.equal(s.blk.stats.reads, 1);
});

test('OUT: header and data sharing a descriptor reach the file at the right sector', () => {
  const s = setup();
  header(s.ram, B.VIRTIO_BLK_T_OUT, 9);
  s.ram.u8.fill(0xee, HDR + 16, HDR + 16 + 1024);
  s.q.add([
    { addr: HDR, len: 16 + 1024 },
    { addr: STATUS_AT, len: 1, write: true },
  ]);
  s.drv.kick(0);
  assert.equal(s.ram.read8(STATUS_AT), B.VIRTIO_BLK_S_OK);
  assert.deepEqual(s.q.takeUsed()[0].len, 1);
  const f = fs.readFileSync(s.file);
  assert.equal(f[9 * 512], 0xee);
  assert.equal(f[11 * 512 - 1], 0xee);
  assert.equal(f.readUInt32LE(11 * 512), 11, 'sector 11 untouched');
  assert.equal(f.readUInt32LE(8 * 512), 8, 'sector 8 untouched');
});

test('FLUSH succeeds; GET_ID answers "semu-disk" NUL-padded to 20 bytes', () => {
  const s = setup();
  header(s.ram, B.VIRTIO_BLK_T_FLUSH, 0);
  s.q.add([
    { addr: HDR, len: 16 },
    { addr: STATUS_AT, len: 1, write: true },
  ]);
  s.drv.kick(0);
  assert.equal(s.ram.read8(STATUS_AT), B.VIRTIO_BLK_S_OK);
  assert.equal(s.blk.stats.flushes, 1);

  header(s.ram, B.VIRTIO_BLK_T_GET_ID, 0);
  s.ram.u8.fill(0x55, DATA, DATA + 20);
  s.ram.write8(STATUS_AT, 0xff);
  s.q.add([
    { addr: HDR, len: 16 },
    { addr: DATA, len: 20, write: true },
    { addr: STATUS_AT, len: 1, write: true },
  ]);
  s.drv.kick(0);
  assert.equal(s.ram.read8(STATUS_AT), B.VIRTIO_BLK_S_OK);
  assert.equal(Buffer.from(s.ram.u8.subarray(DATA, DATA + 20)).toString('latin1'), 'semu-disk' + '\0'.repeat(11));
});

test('bad sector ranges and partial sectors answer IOERR and touch nothing', () => {
  const s = setup();
  const before = fs.readFileSync(s.file);
  const cases: [number, number, number][] = [
    [B.VIRTIO_BLK_T_IN, SECTORS - 1, 1024], // runs off the end
    [B.VIRTIO_BLK_T_IN, 2 ** 40, 512], // far beyond (high word)
    [B.VIRTIO_BLK_T_IN, 0, 100], // not a whole sector
    [B.VIRTIO_BLK_T_OUT, SECTORS, 512],
  ];
  for (const [type, sector, len] of cases) {
    header(s.ram, type, sector);
    s.ram.write8(STATUS_AT, 0xff);
    s.ram.u8.fill(0x33, DATA, DATA + len);
    s.q.add(
      type === B.VIRTIO_BLK_T_IN
        ? [{ addr: HDR, len: 16 }, { addr: DATA, len, write: true }, { addr: STATUS_AT, len: 1, write: true }]
        : [{ addr: HDR, len: 16 }, { addr: DATA, len }, { addr: STATUS_AT, len: 1, write: true }],
    );
    s.drv.kick(0);
    assert.equal(s.ram.read8(STATUS_AT), B.VIRTIO_BLK_S_IOERR, `type ${type} sector ${sector} len ${len}`);
    if (type === B.VIRTIO_BLK_T_IN) assert.equal(s.ram.read8(DATA), 0x33, 'no data was read');
  }
  assert.deepEqual(fs.readFileSync(s.file), before);
  assert.equal(s.blk.stats.errors, 4);
  assert.equal(s.drv.r(R.STATUS) & STATUS.NEEDS_RESET, 0, 'I/O errors are not protocol errors');
});

test('a read-only image rejects writes with IOERR and keeps the file intact', () => {
  const s = setup(true);
  const before = fs.readFileSync(s.file);
  header(s.ram, B.VIRTIO_BLK_T_OUT, 0);
  s.q.add([
    { addr: HDR, len: 16 },
    { addr: DATA, len: 512 },
    { addr: STATUS_AT, len: 1, write: true },
  ]);
  s.drv.kick(0);
  assert.equal(s.ram.read8(STATUS_AT), B.VIRTIO_BLK_S_IOERR);
  assert.deepEqual(fs.readFileSync(s.file), before);
  header(s.ram, B.VIRTIO_BLK_T_IN, 1);
  s.q.add([
    { addr: HDR, len: 16 },
    { addr: DATA, len: 512, write: true },
    { addr: STATUS_AT, len: 1, write: true },
  ]);
  s.drv.kick(0);
  assert.equal(s.ram.read8(STATUS_AT), B.VIRTIO_BLK_S_OK, 'reads still work');
  assert.equal(s.ram.read32(DATA), 1);
});

test('an unknown request type answers UNSUPP; a request without header or status needs reset', () => {
  const s = setup();
  header(s.ram, 99, 0);
  s.q.add([
    { addr: HDR, len: 16 },
    { addr: STATUS_AT, len: 1, write: true },
  ]);
  s.drv.kick(0);
  assert.equal(s.ram.read8(STATUS_AT), B.VIRTIO_BLK_S_UNSUPP);
  s.q.add([{ addr: HDR, len: 16 }]);
  s.drv.kick(0);
  assert.ok(s.drv.r(R.STATUS) & STATUS.NEEDS_RESET);
  assert.equal(s.t.state[L.ST_NEEDS_RESET], L.NR_DEVICE);
});

test('DiskImage: clear errors for a missing file and a size that is not whole sectors; close() is idempotent', () => {
  assert.throws(() => DiskImage.open(path.join(dir, 'nope.img')), /does not exist: create one/);
  const odd = path.join(dir, 'odd.img');
  fs.writeFileSync(odd, Buffer.alloc(1000));
  assert.throws(() => DiskImage.open(odd), /not a multiple of 512: pad it with "truncate -s 1024/);
  const empty = path.join(dir, 'empty.img');
  fs.writeFileSync(empty, Buffer.alloc(0));
  assert.throws(() => DiskImage.open(empty), /is empty/);
  assert.throws(() => DiskImage.open(dir), /directory/);
  const d = DiskImage.open(makeImage('close.img', 2));
  assert.equal(d.sectors, 2);
  d.close();
  assert.equal(d.isOpen, false);
  d.close();
});
