// virtio-gpu, 2D only (VirtIO 1.2 §5.7), device ID 16: a control queue and a cursor queue, one
// scanout whose pixels go to a shared-memory screen (screen.ts) that the Screen panel and
// screendumps read. Requests complete synchronously inside the kick, so fences signal at once.
//
// Every guest-controlled value is checked before use: unknown resource ids, rectangles outside
// their resource, sizes that overflow or exceed the host budget, backing pages outside RAM and
// transfers reading past the backing all answer an error response; a control request without
// room for a response header puts the device in DEVICE_NEEDS_RESET. Nothing throws.

import type { DescChain, VirtioDevice, VirtioTransport } from '../../emulator/virtio/types';
import { logger } from '../../log';
import * as P from './protocol';
import { buildEdid, EDID_MAX_HEIGHT, EDID_MAX_WIDTH } from './edid';
import { Backing, BACKING_ENTRY_COST, HostBudget, Resource, RESOURCE_OVERHEAD } from './resources';
import * as S from './screen';

const log = logger('virtio-gpu');

export const DEFAULT_WIDTH = 1024;
export const DEFAULT_HEIGHT = 768;
/** Default host memory the guest may make the device hold: resources, pixels and backing lists. */
export const DEFAULT_HOST_MEMORY = 64 * 1024 * 1024;
export const DEFAULT_MAX_RESOURCES = 1024;
/** Backing entries per ATTACH_BACKING (QEMU's limit too): 64 MiB in 4 KiB pages. */
export const MAX_BACKING_ENTRIES = 16384;
const MIN_WIDTH = 16;
const MIN_HEIGHT = 16;
const TWO32 = 4294967296;
const ENTRY_BATCH = 256;

export interface VirtioGpuOptions {
  /** Scanout size reported in GET_DISPLAY_INFO and the EDID (default 1024 × 768). */
  width?: number;
  height?: number;
  /** Bytes of host memory the guest may make the device hold (default 64 MiB). */
  hostMemoryLimit?: number;
  maxResources?: number;
  /** QueueNumMax (default 256). */
  queueSize?: number;
  /** Told of each frame the screen is about to lose (scanout off, reset), and when the device goes. */
  frameKeeper?: FrameKeeper;
}

/** Keeps the last frame the screen showed (the --screendump file). */
export interface FrameKeeper {
  /** The scanout is about to go dark: `screen` still holds its last frame. */
  keep(screen: SharedArrayBuffer): void;
  /** The machine stops (after the final reset). */
  dispose(): void;
}

export interface GpuStats {
  commands: number;
  errors: number;
  transfers: number;
  flushes: number;
}

/** Checks the options; a message says what to change. */
export function checkGpuOptions(o: VirtioGpuOptions): string | null {
  const w = o.width ?? DEFAULT_WIDTH;
  const h = o.height ?? DEFAULT_HEIGHT;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < MIN_WIDTH * 20 || h < MIN_HEIGHT * 12 || w > EDID_MAX_WIDTH || h > EDID_MAX_HEIGHT) {
    return `the screen size ${w}x${h} is not supported: use 320x192 up to ${EDID_MAX_WIDTH}x${EDID_MAX_HEIGHT}`;
  }
  const lim = o.hostMemoryLimit ?? DEFAULT_HOST_MEMORY;
  if (!Number.isFinite(lim) || lim < w * h * 4 * 2) return `the GPU memory limit ${lim} must hold two screens (${w * h * 8} bytes)`;
  return null;
}

export class VirtioGpu implements VirtioDevice {
  readonly deviceId = P.VIRTIO_ID_GPU;
  readonly name = 'virtio-gpu';
  readonly queueNames = ['controlq', 'cursorq'] as const;
  readonly queueMaxSize: number;
  readonly features = [1 << P.VIRTIO_GPU_F_EDID, 0] as const;
  readonly configSize = P.CONFIG_SIZE;
  /** The scanout and counters, shared with readers in other threads. */
  readonly screen: SharedArrayBuffer;
  readonly width: number;
  readonly height: number;
  readonly budget: HostBudget;

  private transport: VirtioTransport | null = null;
  private readonly out: S.ScreenWriter;
  private readonly resources = new Map<number, Resource>();
  private readonly maxResources: number;
  private readonly edid: Uint8Array;
  private eventsRead = 0;
  // Scanout rectangle within its resource.
  private scanX = 0;
  private scanY = 0;
  private scanW = 0;
  private scanH = 0;
  private scanResource: Resource | null = null;
  private cursorResource = 0;
  private readonly frameKeeper: FrameKeeper | null;
  // Preallocated request and response buffers.
  private readonly req = new Uint8Array(P.MAX_FIXED_REQUEST);
  private readonly reqView = new DataView(this.req.buffer);
  private readonly resp = new Uint8Array(P.EDID_RESP_SIZE);
  private readonly respView = new DataView(this.resp.buffer);
  private readonly entryBuf = new Uint8Array(ENTRY_BATCH * P.MEM_ENTRY_SIZE);
  private readonly entryView = new DataView(this.entryBuf.buffer);

  constructor(opts: VirtioGpuOptions = {}) {
    const bad = checkGpuOptions(opts);
    if (bad !== null) throw new RangeError(bad);
    this.width = opts.width ?? DEFAULT_WIDTH;
    this.height = opts.height ?? DEFAULT_HEIGHT;
    this.queueMaxSize = opts.queueSize ?? 256;
    this.maxResources = opts.maxResources ?? DEFAULT_MAX_RESOURCES;
    this.budget = new HostBudget(opts.hostMemoryLimit ?? DEFAULT_HOST_MEMORY);
    this.screen = S.allocateScreen(this.width, this.height);
    this.out = new S.ScreenWriter(this.screen);
    this.out.set(S.C_HOST_LIMIT, Math.min(this.budget.limit, 0x7fffffff));
    this.edid = buildEdid(this.width, this.height);
    this.frameKeeper = opts.frameKeeper ?? null;
  }

  /** The scanout and counters (the Devices scope, the Screen panel, screendumps read them). */
  get sharedState(): SharedArrayBuffer {
    return this.screen;
  }

  get stats(): GpuStats {
    const h = this.out.h;
    return { commands: h[S.C_COMMANDS], errors: h[S.C_ERRORS], transfers: h[S.C_TRANSFERS], flushes: h[S.C_FLUSHES] };
  }

  get resourceCount(): number {
    return this.resources.size;
  }

  attach(transport: VirtioTransport): void {
    this.transport = transport;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    let word = 0;
    const base = offset & ~3;
    if (base === P.CFG_EVENTS_READ) word = this.eventsRead;
    else if (base === P.CFG_NUM_SCANOUTS) word = 1;
    const shift = (offset & 3) * 8;
    const mask = width === 4 ? 0xffffffff : width === 2 ? 0xffff : 0xff;
    return ((word >>> shift) & mask) >>> 0;
  }

  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    // events_clear is write-to-clear; everything else is read-only.
    if ((offset & ~3) === P.CFG_EVENTS_CLEAR) this.eventsRead &= ~(value << ((offset & 3) * 8));
  }

  reset(): void {
    if (this.scanResource !== null) this.frameKeeper?.keep(this.screen);
    for (const r of this.resources.values()) this.freeResource(r);
    this.resources.clear();
    this.scanResource = null;
    this.scanW = this.scanH = 0;
    this.cursorResource = 0;
    this.eventsRead = 0;
    this.out.reset();
    this.syncCounters();
  }

  dispose(): void {
    this.frameKeeper?.dispose();
  }

  onNotify(q: number): void {
    const t = this.transport;
    if (t === null || (q !== P.CONTROLQ && q !== P.CURSORQ)) return;
    const queue = t.queue(q);
    for (let c = queue.pop(); c !== null; c = queue.pop()) {
      const written = this.handle(q, c, t);
      if (written < 0) return;
      queue.push(c.head, written);
    }
  }

  // ---------------- requests ----------------

  /** Serves one chain; returns the bytes written into it, or -1 when the device needs a reset. */
  private handle(q: number, c: DescChain, t: VirtioTransport): number {
    if (q === P.CONTROLQ && c.writableLength < P.HDR_SIZE) {
      t.needsReset(`virtio-gpu: control request ${c.head} has ${c.writableLength} writable bytes (needs room for the ${P.HDR_SIZE}-byte response header)`);
      return -1;
    }
    this.req.fill(0);
    const got = c.read(0, this.req);
    const type = got >= 4 ? this.reqView.getUint32(0, true) : 0;
    this.out.count(q === P.CONTROLQ ? S.C_COMMANDS : S.C_CURSOR_COMMANDS);
    const need = P.REQUEST_SIZE[type];
    let code: number;
    if (got < P.HDR_SIZE || need === undefined) code = P.RESP_ERR_UNSPEC;
    else if (c.readableLength < need) code = P.RESP_ERR_UNSPEC;
    else if (q === P.CURSORQ) code = this.cursorCommand(type);
    else code = this.command(type, c);
    if (code >= P.RESP_ERR_UNSPEC) this.noteError(type, code);
    this.syncCounters();
    if (c.writableLength < P.HDR_SIZE) return 0; // the cursor queue carries no responses
    return this.respond(c, code);
  }

  private command(type: number, c: DescChain): number {
    const v = this.reqView;
    switch (type) {
      case P.CMD_GET_DISPLAY_INFO:
        return P.RESP_OK_DISPLAY_INFO;
      case P.CMD_GET_EDID:
        return v.getUint32(24, true) === 0 ? P.RESP_OK_EDID : P.RESP_ERR_INVALID_SCANOUT_ID;
      case P.CMD_RESOURCE_CREATE_2D:
        return this.create2d(v.getUint32(24, true), v.getUint32(28, true), v.getUint32(32, true), v.getUint32(36, true));
      case P.CMD_RESOURCE_UNREF:
        return this.unref(v.getUint32(24, true));
      case P.CMD_RESOURCE_ATTACH_BACKING:
        return this.attachBacking(c, v.getUint32(24, true), v.getUint32(28, true));
      case P.CMD_RESOURCE_DETACH_BACKING:
        return this.detachBacking(v.getUint32(24, true));
      case P.CMD_SET_SCANOUT:
        return this.setScanout(v.getUint32(40, true), v.getUint32(44, true), v.getUint32(24, true), v.getUint32(28, true), v.getUint32(32, true), v.getUint32(36, true));
      case P.CMD_TRANSFER_TO_HOST_2D:
        return this.transfer(v.getUint32(48, true), v.getUint32(24, true), v.getUint32(28, true), v.getUint32(32, true), v.getUint32(36, true), v.getUint32(44, true) * TWO32 + v.getUint32(40, true));
      case P.CMD_RESOURCE_FLUSH:
        return this.flush(v.getUint32(40, true), v.getUint32(24, true), v.getUint32(28, true), v.getUint32(32, true), v.getUint32(36, true));
      default:
        return P.RESP_ERR_UNSPEC; // cursor commands on the control queue, capsets (no virgl)
    }
  }

  /** Writes the response header (echoing the fence) and its payload; returns its length. */
  private respond(c: DescChain, code: number): number {
    const r = this.resp;
    const rv = this.respView;
    let len = P.HDR_SIZE;
    if (code === P.RESP_OK_DISPLAY_INFO) len = P.DISPLAY_INFO_SIZE;
    else if (code === P.RESP_OK_EDID) len = P.EDID_RESP_SIZE;
    if (c.writableLength < len) {
      code = P.RESP_ERR_UNSPEC; // no room for the payload: say so rather than cut it
      len = P.HDR_SIZE;
    }
    r.fill(0, 0, len);
    rv.setUint32(0, code, true);
    const flags = this.reqView.getUint32(4, true);
    if (flags & P.FLAG_FENCE) {
      rv.setUint32(4, flags & (P.FLAG_FENCE | P.FLAG_INFO_RING_IDX), true);
      r.set(this.req.subarray(8, 20), 8); // fence_id, ctx_id
      if (flags & P.FLAG_INFO_RING_IDX) r[20] = this.req[20];
    }
    if (code === P.RESP_OK_DISPLAY_INFO) {
      rv.setUint32(P.HDR_SIZE + 8, this.width, true);
      rv.setUint32(P.HDR_SIZE + 12, this.height, true);
      rv.setUint32(P.HDR_SIZE + 16, 1, true); // enabled
    } else if (code === P.RESP_OK_EDID) {
      rv.setUint32(P.HDR_SIZE, this.edid.length, true);
      r.set(this.edid, P.HDR_SIZE + 8);
    }
    return c.write(0, r.subarray(0, len));
  }

  private noteError(type: number, code: number): void {
    this.out.count(S.C_ERRORS);
    this.out.set(S.C_LAST_ERROR, code);
    this.out.set(S.C_LAST_ERROR_CMD, type);
    if (log.enabled('debug')) log.debug(`${P.commandName(type)} → ${P.responseName(code)}`);
  }

  private syncCounters(): void {
    this.out.set(S.C_RESOURCES, this.resources.size);
    this.out.set(S.C_HOST_BYTES, Math.min(this.budget.used, 0x7fffffff));
  }

  // ---------------- resources ----------------

  private create2d(id: number, format: number, width: number, height: number): number {
    if (id === 0 || this.resources.has(id)) return P.RESP_ERR_INVALID_RESOURCE_ID;
    if (!P.isSupportedFormat(format) || width === 0 || height === 0) return P.RESP_ERR_INVALID_PARAMETER;
    if (this.resources.size >= this.maxResources) return P.RESP_ERR_OUT_OF_MEMORY;
    const bytes = width * height * P.BYTES_PER_PIXEL; // exact in float64: both factors < 2^32
    let data: Uint8Array;
    if (!this.budget.charge(bytes + RESOURCE_OVERHEAD)) return P.RESP_ERR_OUT_OF_MEMORY;
    try {
      data = new Uint8Array(bytes);
    } catch {
      this.budget.release(bytes + RESOURCE_OVERHEAD);
      return P.RESP_ERR_OUT_OF_MEMORY;
    }
    this.resources.set(id, new Resource(id, format, width, height, data));
    return P.RESP_OK_NODATA;
  }

  private unref(id: number): number {
    const r = this.resources.get(id);
    if (r === undefined) return P.RESP_ERR_INVALID_RESOURCE_ID;
    if (this.scanResource === r) this.disableScanout();
    if (this.cursorResource === id) {
      this.cursorResource = 0;
      this.out.setCursor(false, 0, 0, 0, 0, 0);
    }
    this.freeResource(r);
    this.resources.delete(id);
    return P.RESP_OK_NODATA;
  }

  private freeResource(r: Resource): void {
    this.dropBacking(r);
    this.budget.release(r.cost);
  }

  private dropBacking(r: Resource): void {
    if (r.backing === null) return;
    this.budget.release(r.backing.entries * BACKING_ENTRY_COST);
    r.backing = null;
  }

  private attachBacking(c: DescChain, id: number, nr: number): number {
    const r = this.resources.get(id);
    if (r === undefined) return P.RESP_ERR_INVALID_RESOURCE_ID;
    if (r.backing !== null) return P.RESP_ERR_UNSPEC; // detach first (QEMU answers the same)
    if (nr === 0 || nr > MAX_BACKING_ENTRIES) return P.RESP_ERR_INVALID_PARAMETER;
    const first = P.HDR_SIZE + 8;
    if (c.readableLength < first + nr * P.MEM_ENTRY_SIZE) return P.RESP_ERR_UNSPEC;
    if (!this.budget.charge(nr * BACKING_ENTRY_COST)) return P.RESP_ERR_OUT_OF_MEMORY;
    const ram = this.transport!.ram;
    const offs = new Uint32Array(nr);
    const lens = new Uint32Array(nr);
    let kept = 0;
    for (let i = 0; i < nr; i += ENTRY_BATCH) {
      const n = Math.min(ENTRY_BATCH, nr - i);
      c.read(first + i * P.MEM_ENTRY_SIZE, this.entryBuf.subarray(0, n * P.MEM_ENTRY_SIZE));
      for (let k = 0; k < n; k++) {
        const lo = this.entryView.getUint32(k * 16, true);
        const hi = this.entryView.getUint32(k * 16 + 4, true);
        const len = this.entryView.getUint32(k * 16 + 8, true);
        if (hi !== 0 || !ram.contains(lo, len)) {
          this.budget.release(nr * BACKING_ENTRY_COST);
          log.debug(`ATTACH_BACKING ${id}: entry ${i + k} (0x${hi.toString(16)}_${lo.toString(16)}, ${len} bytes) is outside RAM`);
          return P.RESP_ERR_INVALID_PARAMETER;
        }
        if (len === 0) continue;
        offs[kept] = lo - ram.base;
        lens[kept] = len;
        kept++;
      }
    }
    this.budget.release((nr - kept) * BACKING_ENTRY_COST); // zero-length entries are not kept
    r.backing = new Backing(offs.subarray(0, kept), lens.subarray(0, kept));
    return P.RESP_OK_NODATA;
  }

  private detachBacking(id: number): number {
    const r = this.resources.get(id);
    if (r === undefined) return P.RESP_ERR_INVALID_RESOURCE_ID;
    if (r.backing === null) return P.RESP_ERR_UNSPEC;
    this.dropBacking(r);
    return P.RESP_OK_NODATA;
  }

  // ---------------- scanout ----------------

  private setScanout(scanout: number, id: number, x: number, y: number, w: number, h: number): number {
    if (scanout !== 0) return P.RESP_ERR_INVALID_SCANOUT_ID;
    if (id === 0) {
      this.disableScanout();
      return P.RESP_OK_NODATA;
    }
    const r = this.resources.get(id);
    if (r === undefined) return P.RESP_ERR_INVALID_RESOURCE_ID;
    if (w === 0 || h === 0 || !r.contains(x, y, w, h) || w > this.out.maxWidth || h > this.out.maxHeight) return P.RESP_ERR_INVALID_PARAMETER;
    this.scanResource = r;
    this.scanX = x;
    this.scanY = y;
    this.scanW = w;
    this.scanH = h;
    this.copyToScreen(r, x, y, w, h);
    this.out.setScanout(id, w, h, r.format);
    return P.RESP_OK_NODATA;
  }

  private disableScanout(): void {
    if (this.scanResource !== null) this.frameKeeper?.keep(this.screen);
    this.scanResource = null;
    this.scanW = this.scanH = 0;
    this.out.setScanout(0, 0, 0, 0);
  }

  private transfer(id: number, x: number, y: number, w: number, h: number, offset: number): number {
    const r = this.resources.get(id);
    if (r === undefined) return P.RESP_ERR_INVALID_RESOURCE_ID;
    if (!r.contains(x, y, w, h)) return P.RESP_ERR_INVALID_PARAMETER;
    const b = r.backing;
    if (b === null) return P.RESP_ERR_UNSPEC;
    if (w === 0 || h === 0) return P.RESP_OK_NODATA;
    const rowBytes = w * P.BYTES_PER_PIXEL;
    // Rows are `stride` apart in the backing as in the resource (QEMU's reading of the spec).
    if (offset + (h - 1) * r.stride + rowBytes > b.total) return P.RESP_ERR_INVALID_PARAMETER;
    const ram = this.transport!.ram.u8;
    const dst = y * r.stride + x * P.BYTES_PER_PIXEL;
    if (x === 0 && w === r.width) b.copyOut(ram, offset, r.data, dst, h * r.stride);
    else for (let row = 0; row < h; row++) b.copyOut(ram, offset + row * r.stride, r.data, dst + row * r.stride, rowBytes);
    this.out.count(S.C_TRANSFERS);
    this.out.count(S.C_TRANSFER_KIB, (h * rowBytes) >>> 10);
    return P.RESP_OK_NODATA;
  }

  private flush(id: number, x: number, y: number, w: number, h: number): number {
    const r = this.resources.get(id);
    if (r === undefined) return P.RESP_ERR_INVALID_RESOURCE_ID;
    if (!r.contains(x, y, w, h)) return P.RESP_ERR_INVALID_PARAMETER;
    this.out.count(S.C_FLUSHES);
    if (r !== this.scanResource) return P.RESP_OK_NODATA; // not on screen: nothing to show
    // Clip to the scanout rectangle, then copy those rows to the shared screen.
    const x1 = Math.max(x, this.scanX);
    const y1 = Math.max(y, this.scanY);
    const x2 = Math.min(x + w, this.scanX + this.scanW);
    const y2 = Math.min(y + h, this.scanY + this.scanH);
    if (x2 > x1 && y2 > y1) {
      this.copyToScreen(r, x1, y1, x2 - x1, y2 - y1);
      this.out.publish(x1 - this.scanX, y1 - this.scanY, x2 - x1, y2 - y1);
    }
    return P.RESP_OK_NODATA;
  }

  /** Copies resource rectangle (x, y, w, h) (inside the scanout rectangle) to the screen. */
  private copyToScreen(r: Resource, x: number, y: number, w: number, h: number): void {
    const px = this.out.pixels;
    const sStride = this.out.stride;
    const rowBytes = w * P.BYTES_PER_PIXEL;
    let src = y * r.stride + x * P.BYTES_PER_PIXEL;
    let dst = (y - this.scanY) * sStride + (x - this.scanX) * P.BYTES_PER_PIXEL;
    for (let row = 0; row < h; row++, src += r.stride, dst += sStride) px.set(r.data.subarray(src, src + rowBytes), dst);
  }

  // ---------------- cursor ----------------

  private cursorCommand(type: number): number {
    const v = this.reqView;
    const scanout = v.getUint32(24, true);
    const x = v.getUint32(28, true) | 0;
    const y = v.getUint32(32, true) | 0;
    if (scanout !== 0) return P.RESP_ERR_INVALID_SCANOUT_ID;
    if (type === P.CMD_MOVE_CURSOR) {
      this.out.moveCursor(x, y);
      return P.RESP_OK_NODATA;
    }
    if (type !== P.CMD_UPDATE_CURSOR) return P.RESP_ERR_UNSPEC;
    const id = v.getUint32(40, true);
    if (id === 0) {
      this.cursorResource = 0;
      this.out.setCursor(false, x, y, 0, 0, 0);
      return P.RESP_OK_NODATA;
    }
    const r = this.resources.get(id);
    if (r === undefined) return P.RESP_ERR_INVALID_RESOURCE_ID;
    if (r.width !== S.CURSOR_SIZE || r.height !== S.CURSOR_SIZE) return P.RESP_ERR_INVALID_PARAMETER;
    this.out.cursor.set(r.data);
    this.cursorResource = id;
    const hotX = Math.min(v.getUint32(44, true), S.CURSOR_SIZE - 1);
    const hotY = Math.min(v.getUint32(48, true), S.CURSOR_SIZE - 1);
    this.out.setCursor(true, x, y, hotX, hotY, r.format);
    return P.RESP_OK_NODATA;
  }
}
