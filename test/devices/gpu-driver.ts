// A minimal virtio-gpu driver for device tests: builds requests in guest RAM the way
// drivers/gpu/drm/virtio/virtgpu_vq.c does (command in one readable descriptor, the entries of
// ATTACH_BACKING in a second, the response in a writable one), kicks, and reads the response.

import { VirtioMmio } from '../../src/emulator/virtio/mmio';
import type { Ram } from '../../src/emulator/ram';
import * as P from '../../src/devices/virtio-gpu/protocol';
import { VirtioGpu, type VirtioGpuOptions } from '../../src/devices/virtio-gpu/gpu';
import { DriverQueue, FakeIrq, MmioDriver, makeBus, type BufSpec } from './helpers';

export const GPU_BASE = 0xf4b00000;
const CMD_AT = 0x200000;
const ENTRIES_AT = 0x201000;
const RESP_AT = 0x210000;

export interface Response {
  type: number;
  /** The whole response as the device wrote it. */
  bytes: Uint8Array;
  usedLen: number;
  flags: number;
  fence: number;
}

export class GpuDriver {
  readonly ram: Ram;
  readonly gpu: VirtioGpu;
  readonly t: VirtioMmio;
  readonly drv: MmioDriver;
  ctrl: DriverQueue;
  cursor: DriverQueue;

  constructor(opts: VirtioGpuOptions = {}, ramBytes = 32 << 20) {
    const bus = makeBus(ramBytes);
    this.ram = bus.ram;
    this.gpu = new VirtioGpu(opts);
    this.t = new VirtioMmio('virtio-gpu', GPU_BASE, new FakeIrq(), 9, this.gpu, bus.ram);
    bus.add(this.t);
    this.drv = new MmioDriver(bus, GPU_BASE);
    [this.ctrl, this.cursor] = this.drv.init(2);
  }

  /** Writes u32 words (and u64 as two words) of a request at CMD_AT; header first. */
  private writeCmd(type: number, words: number[], flags = 0, fence = 0): number {
    const r = this.ram;
    r.u8.fill(0, CMD_AT, CMD_AT + 256);
    r.write32(CMD_AT, type);
    r.write32(CMD_AT + 4, flags);
    r.write32(CMD_AT + 8, fence);
    words.forEach((w, i) => r.write32(CMD_AT + 24 + 4 * i, w >>> 0));
    return P.HDR_SIZE + 4 * words.length;
  }

  /** Sends one control command; returns the response. */
  send(type: number, words: number[], opts: { flags?: number; fence?: number; respLen?: number; entries?: [number, number][]; cmdLen?: number } = {}): Response {
    const len = this.writeCmd(type, words, opts.flags, opts.fence);
    const respLen = opts.respLen ?? P.EDID_RESP_SIZE;
    this.ram.u8.fill(0xee, RESP_AT, RESP_AT + respLen);
    const bufs: BufSpec[] = [{ addr: CMD_AT, len: opts.cmdLen ?? len }];
    if (opts.entries) {
      opts.entries.forEach(([addr, l], i) => {
        this.ram.write32(ENTRIES_AT + 16 * i, addr);
        this.ram.write32(ENTRIES_AT + 16 * i + 4, 0);
        this.ram.write32(ENTRIES_AT + 16 * i + 8, l);
        this.ram.write32(ENTRIES_AT + 16 * i + 12, 0);
      });
      bufs.push({ addr: ENTRIES_AT, len: 16 * opts.entries.length });
    }
    if (respLen > 0) bufs.push({ addr: RESP_AT, len: respLen, write: true });
    this.ctrl.add(bufs);
    this.drv.kick(P.CONTROLQ);
    const used = this.ctrl.takeUsed();
    if (used.length !== 1) throw new Error(`expected one used element, got ${used.length}`);
    const bytes = this.ram.u8.slice(RESP_AT, RESP_AT + used[0].len);
    return { type: used[0].len >= 4 ? this.ram.read32(RESP_AT) : -1, bytes, usedLen: used[0].len, flags: this.ram.read32(RESP_AT + 4), fence: this.ram.read32(RESP_AT + 8) };
  }

  /** A cursor-queue command (readable only, as Linux sends them). */
  sendCursor(type: number, words: number[]): number {
    const len = this.writeCmd(type, words);
    this.cursor.add([{ addr: CMD_AT, len }]);
    this.drv.kick(P.CURSORQ);
    const used = this.cursor.takeUsed();
    if (used.length !== 1) throw new Error(`expected one used cursor element, got ${used.length}`);
    return used[0].len;
  }

  create(id: number, w: number, h: number, format = P.FORMAT_B8G8R8X8): number {
    return this.send(P.CMD_RESOURCE_CREATE_2D, [id, format, w, h]).type;
  }
  attach(id: number, entries: [number, number][]): number {
    return this.send(P.CMD_RESOURCE_ATTACH_BACKING, [id, entries.length], { entries }).type;
  }
  scanout(id: number, x: number, y: number, w: number, h: number, scanout = 0): number {
    return this.send(P.CMD_SET_SCANOUT, [x, y, w, h, scanout, id]).type;
  }
  transfer(id: number, x: number, y: number, w: number, h: number, offset = 0, offsetHi = 0): number {
    return this.send(P.CMD_TRANSFER_TO_HOST_2D, [x, y, w, h, offset, offsetHi, id, 0]).type;
  }
  flush(id: number, x: number, y: number, w: number, h: number): number {
    return this.send(P.CMD_RESOURCE_FLUSH, [x, y, w, h, id, 0]).type;
  }
  unref(id: number): number {
    return this.send(P.CMD_RESOURCE_UNREF, [id, 0]).type;
  }
  detach(id: number): number {
    return this.send(P.CMD_RESOURCE_DETACH_BACKING, [id, 0]).type;
  }

  /** A framebuffer of w×h 32-bit pixels at `at` in RAM, filled by fn(x, y) → little-endian word. */
  fill(at: number, w: number, h: number, fn: (x: number, y: number) => number): void {
    const v = new DataView(this.ram.buffer);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) v.setUint32(at + 4 * (y * w + x), fn(x, y) >>> 0, true);
  }

  /** The full dumb-buffer path: create, attach one contiguous backing, set scanout. */
  framebuffer(id: number, at: number, w: number, h: number, format = P.FORMAT_B8G8R8X8): void {
    const codes = [this.create(id, w, h, format), this.attach(id, [[at, w * h * 4]]), this.scanout(id, 0, 0, w, h)];
    if (codes.some((c) => c !== P.RESP_OK_NODATA)) throw new Error(`framebuffer setup failed: ${codes.map((c) => c.toString(16))}`);
  }
}
