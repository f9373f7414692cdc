// virtio-blk (VirtIO 1.2 §5.2), device ID 2, one request queue, backed by a raw image file.
//
// A request is `header (type, reserved, sector) | data | status byte`: the header and OUT data
// are device-readable, IN data and the status byte device-writable (the status is the last
// writable byte). Requests complete synchronously inside the kick: disk reads go straight into
// guest RAM (a SharedArrayBuffer view), writes straight from it, FLUSH is an fsync.
//
// Features offered: SEG_MAX (so Linux never builds a chain longer than the ring), BLK_SIZE 512,
// FLUSH (Linux then issues cache flushes, which we make durable), RO for a read-only image.

import type { DescChain, VirtioDevice, VirtioTransport } from '../../emulator/virtio/types';
import { VIRTIO_ID_BLOCK, VIRTQ_DESC_F_WRITE } from '../../emulator/virtio/types';
import { DiskImage, SECTOR_SIZE } from './disk-image';
import { logger } from '../../log';

const log = logger('virtio-blk');

export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;

export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;

export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;

const HEADER_SIZE = 16;
const ID_BYTES = 20;
const TWO32 = 4294967296;

// Config space offsets (struct virtio_blk_config).
const CFG_CAPACITY = 0;
const CFG_SEG_MAX = 12;
const CFG_BLK_SIZE = 20;
const CFG_NUM_QUEUES = 34;
const CONFIG_SIZE = 64;

export interface VirtioBlkOptions {
  /** QueueNumMax, a power of two (default 128). */
  queueSize?: number;
  /** GET_ID answer (≤ 20 bytes, default "semu-disk"). */
  serial?: string;
}

export interface VirtioBlkStats {
  reads: number;
  writes: number;
  flushes: number;
  errors: number;
  bytesRead: number;
  bytesWritten: number;
}

export class VirtioBlk implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly name = 'virtio-blk';
  readonly queueNames = ['requestq'] as const;
  readonly queueMaxSize: number;
  readonly features: readonly [number, number];
  readonly configSize = CONFIG_SIZE;
  readonly stats: VirtioBlkStats = { reads: 0, writes: 0, flushes: 0, errors: 0, bytesRead: 0, bytesWritten: 0 };

  private transport: VirtioTransport | null = null;
  private readonly config = new Uint8Array(CONFIG_SIZE);
  private readonly header = new Uint8Array(HEADER_SIZE);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly status = new Uint8Array(1);
  private readonly id = new Uint8Array(ID_BYTES);

  constructor(
    readonly disk: DiskImage,
    opts: VirtioBlkOptions = {},
  ) {
    this.queueMaxSize = opts.queueSize ?? 128;
    let f = (1 << VIRTIO_BLK_F_SEG_MAX) | (1 << VIRTIO_BLK_F_BLK_SIZE) | (1 << VIRTIO_BLK_F_FLUSH);
    if (disk.readOnly) f |= 1 << VIRTIO_BLK_F_RO;
    this.features = [f >>> 0, 0];
    const cfg = new DataView(this.config.buffer);
    const sectors = disk.sectors;
    cfg.setUint32(CFG_CAPACITY, sectors % TWO32, true);
    cfg.setUint32(CFG_CAPACITY + 4, Math.floor(sectors / TWO32), true);
    // Header and status take two descriptors of the ring (no indirect table needed).
    cfg.setUint32(CFG_SEG_MAX, this.queueMaxSize - 2, true);
    cfg.setUint32(CFG_BLK_SIZE, SECTOR_SIZE, true);
    cfg.setUint16(CFG_NUM_QUEUES, 1, true);
    const serial = Buffer.from(opts.serial ?? 'semu-disk', 'utf8');
    this.id.set(serial.subarray(0, ID_BYTES));
  }

  attach(transport: VirtioTransport): void {
    this.transport = transport;
  }

  /** The machine is done: flush and close the image. */
  dispose(): void {
    this.disk.close();
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    const c = this.config;
    if (width === 1) return c[offset];
    if (width === 2) return c[offset] | (c[offset + 1] << 8);
    return (c[offset] | (c[offset + 1] << 8) | (c[offset + 2] << 16) | (c[offset + 3] << 24)) >>> 0;
  }

  writeConfig(): void {
    // Nothing writable: writeback (CONFIG_WCE) is not offered.
  }

  reset(): void {
    // Requests complete inside the kick: nothing is ever in flight.
  }

  onNotify(q: number): void {
    const t = this.transport;
    if (t === null || q !== 0) return;
    const queue = t.queue(0);
    for (let c = queue.pop(); c !== null; c = queue.pop()) {
      if (!this.handle(c, t)) return;
      queue.push(c.head, c.writableLength);
    }
  }

  /** Closes the image (fsync first when writable). */
  close(): void {
    this.disk.close();
  }

  // ---------------- requests ----------------

  /** Serves one request and writes its status byte; false when the chain is unusable. */
  private handle(c: DescChain, t: VirtioTransport): boolean {
    if (c.readableLength < HEADER_SIZE || c.writableLength < 1) {
      t.needsReset(`virtio-blk: request ${c.head} has ${c.readableLength} readable / ${c.writableLength} writable bytes (needs a 16-byte header and a status byte)`);
      return false;
    }
    c.read(0, this.header);
    const h = this.headerView;
    const type = h.getUint32(0, true);
    const sector = h.getUint32(12, true) * TWO32 + h.getUint32(8, true);
    let status: number;
    switch (type) {
      case VIRTIO_BLK_T_IN:
        status = this.doIn(c, sector, c.writableLength - 1);
        break;
      case VIRTIO_BLK_T_OUT:
        status = this.doOut(c, sector, c.readableLength - HEADER_SIZE);
        break;
      case VIRTIO_BLK_T_FLUSH:
        status = this.doFlush();
        break;
      case VIRTIO_BLK_T_GET_ID:
        c.write(0, this.id.subarray(0, Math.min(ID_BYTES, c.writableLength - 1)));
        status = VIRTIO_BLK_S_OK;
        break;
      default:
        status = VIRTIO_BLK_S_UNSUPP;
        break;
    }
    if (status === VIRTIO_BLK_S_IOERR) this.stats.errors++;
    this.status[0] = status;
    c.write(c.writableLength - 1, this.status);
    return true;
  }

  /** Bytes [sector*512, +len) lie on the disk and len is whole sectors. */
  private inRange(sector: number, len: number): boolean {
    return len % SECTOR_SIZE === 0 && sector + len / SECTOR_SIZE <= this.disk.sectors;
  }

  private doIn(c: DescChain, sector: number, len: number): number {
    if (!this.inRange(sector, len)) return this.rangeError('read', sector, len);
    const ram = this.transport!.ram;
    let pos = sector * SECTOR_SIZE;
    let left = len;
    try {
      for (let i = 0; i < c.count && left > 0; i++) {
        if (!(c.flags(i) & VIRTQ_DESC_F_WRITE)) continue;
        const n = Math.min(c.len(i), left);
        this.disk.readInto(ram.u8, c.addr(i) - ram.base, n, pos);
        ram.noteWrite(c.addr(i), n);
        pos += n;
        left -= n;
      }
    } catch (e) {
      log.error(`read of sector ${sector} failed: ${(e as Error).message}`);
      return VIRTIO_BLK_S_IOERR;
    }
    this.stats.reads++;
    this.stats.bytesRead += len;
    return VIRTIO_BLK_S_OK;
  }

  private doOut(c: DescChain, sector: number, len: number): number {
    if (this.disk.readOnly) return VIRTIO_BLK_S_IOERR;
    if (!this.inRange(sector, len)) return this.rangeError('write', sector, len);
    const ram = this.transport!.ram;
    let pos = sector * SECTOR_SIZE;
    let skip = HEADER_SIZE; // the header may share a descriptor with the data
    let left = len;
    try {
      for (let i = 0; i < c.count && left > 0; i++) {
        if (c.flags(i) & VIRTQ_DESC_F_WRITE) break;
        const dlen = c.len(i);
        if (skip >= dlen) {
          skip -= dlen;
          continue;
        }
        const n = Math.min(dlen - skip, left);
        this.disk.writeFrom(ram.u8, c.addr(i) + skip - ram.base, n, pos);
        skip = 0;
        pos += n;
        left -= n;
      }
    } catch (e) {
      log.error(`write of sector ${sector} failed: ${(e as Error).message}`);
      return VIRTIO_BLK_S_IOERR;
    }
    this.stats.writes++;
    this.stats.bytesWritten += len;
    return VIRTIO_BLK_S_OK;
  }

  private doFlush(): number {
    try {
      this.disk.flush();
    } catch (e) {
      log.error(`flush failed: ${(e as Error).message}`);
      return VIRTIO_BLK_S_IOERR;
    }
    this.stats.flushes++;
    return VIRTIO_BLK_S_OK;
  }

  private rangeError(what: string, sector: number, len: number): number {
    log.debug(`${what} of ${len} bytes at sector ${sector} is outside the ${this.disk.sectors}-sector disk or not whole sectors`);
    return VIRTIO_BLK_S_IOERR;
  }
}
