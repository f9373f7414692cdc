// The virtio-mmio transport, version 2 (VirtIO 1.2 §4.2.2): the register block the driver
// programs, feature negotiation, queue setup, notifications and interrupts, in front of one
// device model (VirtioDevice). One class serves blk, rng and snd alike.
//
// A QueueNotify first goes to `notifyHook` (set by the Machine, used by the debugger to stop on
// a kick before the device reacts). When the hook returns true the kick is deferred — a per-queue
// flag in the shared state — and delivered by deliverDeferredNotifies() when the machine resumes.
//
// Everything an inspector needs is mirrored into `state` (layout.ts), an Int32Array over a
// SharedArrayBuffer, with plain stores.

import type { IrqLine, MmioDevice, Width } from '../types';
import type { Ram } from '../ram';
import type { VirtioDevice, VirtioTransport } from './types';
import { logger } from '../../log';
import { SplitQueue, type QueueHost } from './queue';
import {
  HEADER_INTS,
  LAYOUT_VERSION,
  NEEDS_RESET_NAMES,
  NR_DEVICE,
  NR_QUEUE_CONFIG,
  Q_DEFERRED,
  Q_NOTIFICATIONS,
  STATUS_DEVICE_NEEDS_RESET,
  STATUS_DRIVER_OK,
  STATUS_FEATURES_OK,
  ST_BASE,
  ST_CONFIG_GENERATION,
  ST_CONFIG_INTERRUPTS,
  ST_DEVICE_FEATURES_HI,
  ST_DEVICE_FEATURES_LO,
  ST_DEVICE_ID,
  ST_DRIVER_FEATURES_HI,
  ST_DRIVER_FEATURES_LO,
  ST_INTERRUPTS,
  ST_INTERRUPT_STATUS,
  ST_IRQ,
  ST_LAYOUT_VERSION,
  ST_NEEDS_RESET,
  ST_NEEDS_RESET_QUEUE,
  ST_NOTIFICATIONS,
  ST_QUEUE_COUNT,
  ST_QUEUE_MAX,
  ST_QUEUE_SEL,
  ST_QUEUE_STRIDE,
  ST_RESETS,
  ST_STATUS,
  VIRTIO_F_INDIRECT_DESC,
  queueStride,
  stateInts,
} from './layout';

const log = logger('virtio-mmio');

/** The MMIO window each transport answers (registers 0x000-0x0FF, config space from 0x100). */
export const VIRTIO_MMIO_SIZE = 0x1000;

export const VIRTIO_MMIO_MAGIC = 0x74726976; // 'virt'
/** VendorID: 'SEMU' as a little-endian word, so a guest can tell this implementation apart. */
export const VIRTIO_MMIO_VENDOR = 0x554d4553;

// Register offsets (§4.2.2).
const MAGIC_VALUE = 0x000;
const VERSION = 0x004;
const DEVICE_ID = 0x008;
const VENDOR_ID = 0x00c;
const DEVICE_FEATURES = 0x010;
const DEVICE_FEATURES_SEL = 0x014;
const DRIVER_FEATURES = 0x020;
const DRIVER_FEATURES_SEL = 0x024;
const QUEUE_SEL = 0x030;
const QUEUE_NUM_MAX = 0x034;
const QUEUE_NUM = 0x038;
const QUEUE_READY = 0x044;
const QUEUE_NOTIFY = 0x050;
const INTERRUPT_STATUS = 0x060;
const INTERRUPT_ACK = 0x064;
const STATUS = 0x070;
const QUEUE_DESC_LOW = 0x080;
const QUEUE_DESC_HIGH = 0x084;
const QUEUE_DRIVER_LOW = 0x090;
const QUEUE_DRIVER_HIGH = 0x094;
const QUEUE_DEVICE_LOW = 0x0a0;
const QUEUE_DEVICE_HIGH = 0x0a4;
const SHM_LEN_LOW = 0x0b0;
const SHM_LEN_HIGH = 0x0b4;
const SHM_BASE_LOW = 0x0b8;
const SHM_BASE_HIGH = 0x0bc;
const CONFIG_GENERATION = 0x0fc;
const CONFIG = 0x100;

const INT_USED_RING = 1;
const INT_CONFIG = 2;

export interface VirtioMmioOptions {
  /** Offer VIRTIO_F_INDIRECT_DESC (default true; the queue supports it transparently). */
  indirect?: boolean;
}

/** What the debugger/inspector needs once to label a transport's shared state. */
export interface VirtioMmioInfo {
  name: string;
  deviceName: string;
  deviceId: number;
  base: number;
  irq: number;
  queueNames: string[];
  queueMaxSize: number;
  state: SharedArrayBuffer;
}

export class VirtioMmio implements MmioDevice, VirtioTransport, QueueHost {
  readonly size = VIRTIO_MMIO_SIZE;
  /** Shared with inspectors (layout.ts). */
  readonly state: Int32Array;
  /** Set by the Machine: return true to defer the kick until deliverDeferredNotifies(). */
  notifyHook: ((t: VirtioMmio, q: number) => boolean) | null = null;
  /** The last reason the device entered DEVICE_NEEDS_RESET (cleared by reset). */
  needsResetReason: string | null = null;

  private readonly queues: SplitQueue[];
  private readonly devFeatLo: number;
  private readonly devFeatHi: number;
  private status = 0;
  private devFeatSel = 0;
  private drvFeatSel = 0;
  private drvFeatLo = 0;
  private drvFeatHi = 0;
  private drvFeatExtra = false; // the driver wrote feature words we have none in
  private queueSel = 0;
  private interruptStatus = 0;
  private irqLevel = false;
  private configGeneration = 0;
  private deferredAny = false;
  private readonly warned = new Set<string>();

  constructor(
    readonly name: string,
    readonly base: number,
    private readonly irqLine: IrqLine,
    readonly irq: number,
    readonly device: VirtioDevice,
    readonly ram: Ram,
    opts: VirtioMmioOptions = {},
  ) {
    const nq = device.queueNames.length;
    const max = device.queueMaxSize;
    if (!(max >= 1 && max <= 32768 && (max & (max - 1)) === 0)) throw new Error(`${name}: queueMaxSize ${max} must be a power of two in 1..32768`);
    this.devFeatLo = (device.features[0] | ((opts.indirect ?? true) ? 1 << VIRTIO_F_INDIRECT_DESC : 0)) >>> 0;
    this.devFeatHi = (device.features[1] | 1) >>> 0; // VIRTIO_F_VERSION_1 is bit 32
    this.state = new Int32Array(new SharedArrayBuffer(4 * stateInts(nq, max)));
    const st = this.state;
    const stride = queueStride(max);
    st[ST_LAYOUT_VERSION] = LAYOUT_VERSION;
    st[ST_DEVICE_ID] = device.deviceId;
    st[ST_DEVICE_FEATURES_LO] = this.devFeatLo;
    st[ST_DEVICE_FEATURES_HI] = this.devFeatHi;
    st[ST_QUEUE_COUNT] = nq;
    st[ST_QUEUE_MAX] = max;
    st[ST_QUEUE_STRIDE] = stride;
    st[ST_BASE] = base;
    st[ST_IRQ] = irq;
    st[ST_NEEDS_RESET_QUEUE] = -1;
    this.queues = [];
    for (let q = 0; q < nq; q++) this.queues.push(new SplitQueue(q, max, this, st, HEADER_INTS + q * stride));
    device.attach(this);
  }

  info(): VirtioMmioInfo {
    return {
      name: this.name,
      deviceName: this.device.name,
      deviceId: this.device.deviceId,
      base: this.base,
      irq: this.irq,
      queueNames: [...this.device.queueNames],
      queueMaxSize: this.device.queueMaxSize,
      state: this.state.buffer as SharedArrayBuffer,
    };
  }

  // ---------------- VirtioTransport / QueueHost ----------------

  queue(index: number): SplitQueue {
    return this.queues[index];
  }

  get queueCount(): number {
    return this.queues.length;
  }

  get broken(): boolean {
    return (this.status & STATUS_DEVICE_NEEDS_RESET) !== 0;
  }

  /** Driver-accepted feature bits (words 0 and 1), valid once FEATURES_OK is set. */
  get driverFeatures(): [number, number] {
    return [this.drvFeatLo, this.drvFeatHi];
  }

  notifyUsed(): void {
    this.state[ST_INTERRUPTS]++;
    this.raise(INT_USED_RING);
  }

  notifyConfig(): void {
    this.configGeneration = (this.configGeneration + 1) | 0;
    this.state[ST_CONFIG_GENERATION] = this.configGeneration;
    this.state[ST_CONFIG_INTERRUPTS]++;
    this.raise(INT_CONFIG);
  }

  needsReset(reason: string): void {
    this.fault(-1, NR_DEVICE, reason);
  }

  queueFault(q: number, code: number, detail: string): void {
    this.fault(q, code, `queue ${q}: ${NEEDS_RESET_NAMES[code] ?? 'fault'}: ${detail}`);
  }

  // ---------------- machine side ----------------

  /** Delivers the kicks the notify hook deferred. Returns how many were delivered. */
  deliverDeferredNotifies(): number {
    if (!this.deferredAny) return 0;
    this.deferredAny = false;
    let n = 0;
    const st = this.state;
    for (let q = 0; q < this.queues.length; q++) {
      const at = HEADER_INTS + q * st[ST_QUEUE_STRIDE] + Q_DEFERRED;
      if (st[at] === 0) continue;
      st[at] = 0;
      n++;
      this.deliver(q);
    }
    return n;
  }

  /** Host-side work of the device (audio pacing, ...), between run slices. */
  poll(): void {
    if (this.device.poll === undefined) return;
    try {
      this.device.poll();
    } catch (e) {
      this.needsReset(`${this.device.name} poll failed: ${(e as Error).message}`);
    }
  }

  // ---------------- bus side ----------------

  read(offset: number, width: Width): number {
    if (offset >= CONFIG) return this.readConfig(offset - CONFIG, width);
    if (width !== 4 || offset & 3) {
      this.warnOnce('narrow-read', `${width}-byte read of register 0x${offset.toString(16)} (registers are 32-bit): reads 0`);
      return 0;
    }
    const q = this.queues[this.queueSel] as SplitQueue | undefined;
    switch (offset) {
      case MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
      case VERSION:
        return 2;
      case DEVICE_ID:
        return this.device.deviceId;
      case VENDOR_ID:
        return VIRTIO_MMIO_VENDOR;
      case DEVICE_FEATURES:
        return this.devFeatSel === 0 ? this.devFeatLo : this.devFeatSel === 1 ? this.devFeatHi : 0;
      case QUEUE_NUM_MAX:
        return q ? q.maxSize : 0;
      case QUEUE_NUM:
        return q ? q.size : 0;
      case QUEUE_READY:
        return q && q.isReady() ? 1 : 0;
      case INTERRUPT_STATUS:
        return this.interruptStatus;
      case STATUS:
        return this.status;
      case QUEUE_DESC_LOW:
        return q ? q.descAddr : 0;
      case QUEUE_DRIVER_LOW:
        return q ? q.driverAddr : 0;
      case QUEUE_DEVICE_LOW:
        return q ? q.deviceAddr : 0;
      case SHM_LEN_LOW:
      case SHM_LEN_HIGH:
      case SHM_BASE_LOW:
      case SHM_BASE_HIGH:
        return 0xffffffff; // no shared memory regions: length reads as -1 (§4.2.2)
      case CONFIG_GENERATION:
        return this.configGeneration >>> 0;
      default:
        return 0;
    }
  }

  write(offset: number, width: Width, value: number): void {
    if (offset >= CONFIG) {
      this.writeConfig(offset - CONFIG, width, value);
      return;
    }
    if (width !== 4 || offset & 3) {
      this.warnOnce('narrow-write', `${width}-byte write to register 0x${offset.toString(16)} ignored (registers are 32-bit)`);
      return;
    }
    value >>>= 0;
    switch (offset) {
      case DEVICE_FEATURES_SEL:
        this.devFeatSel = value;
        break;
      case DRIVER_FEATURES_SEL:
        this.drvFeatSel = value;
        break;
      case DRIVER_FEATURES:
        this.writeDriverFeatures(value);
        break;
      case QUEUE_SEL:
        this.queueSel = value;
        this.state[ST_QUEUE_SEL] = value;
        break;
      case QUEUE_NUM:
      case QUEUE_DESC_LOW:
      case QUEUE_DESC_HIGH:
      case QUEUE_DRIVER_LOW:
      case QUEUE_DRIVER_HIGH:
      case QUEUE_DEVICE_LOW:
      case QUEUE_DEVICE_HIGH:
        this.writeQueueRegister(offset, value);
        break;
      case QUEUE_READY:
        this.writeQueueReady(value);
        break;
      case QUEUE_NOTIFY:
        this.notify(value & 0xffff);
        break;
      case INTERRUPT_ACK:
        this.interruptStatus &= ~value;
        this.state[ST_INTERRUPT_STATUS] = this.interruptStatus;
        this.updateIrq();
        break;
      case STATUS:
        this.writeStatus(value & 0xff);
        break;
      default:
        break; // read-only or unimplemented: ignored
    }
  }

  // ---------------- registers ----------------

  private writeDriverFeatures(value: number): void {
    if (this.status & STATUS_FEATURES_OK) return; // fixed once negotiated
    if (this.drvFeatSel === 0) this.drvFeatLo = value;
    else if (this.drvFeatSel === 1) this.drvFeatHi = value;
    else if (value !== 0) this.drvFeatExtra = true;
    this.state[ST_DRIVER_FEATURES_LO] = this.drvFeatLo;
    this.state[ST_DRIVER_FEATURES_HI] = this.drvFeatHi;
  }

  private writeStatus(value: number): void {
    if (value === 0) {
      this.reset();
      return;
    }
    if (value & STATUS_FEATURES_OK && !(this.status & STATUS_FEATURES_OK)) {
      const why = this.checkFeatures();
      if (why !== null) {
        // Not retaining FEATURES_OK is how the device refuses (§2.2.2); the driver reads it back.
        log.warn(`${this.name}: refusing features: ${why}`);
        value &= ~STATUS_FEATURES_OK;
      } else {
        const indirect = (this.drvFeatLo & (1 << VIRTIO_F_INDIRECT_DESC)) !== 0;
        for (const q of this.queues) q.indirect = indirect;
      }
    }
    // DEVICE_NEEDS_RESET belongs to the device: the driver can neither set nor clear it.
    this.status = (value & ~STATUS_DEVICE_NEEDS_RESET) | (this.status & STATUS_DEVICE_NEEDS_RESET);
    this.state[ST_STATUS] = this.status;
  }

  private checkFeatures(): string | null {
    const extraLo = (this.drvFeatLo & ~this.devFeatLo) >>> 0;
    const extraHi = (this.drvFeatHi & ~this.devFeatHi) >>> 0;
    if (extraLo !== 0 || extraHi !== 0 || this.drvFeatExtra) {
      return `driver accepted bits not offered (0x${extraHi.toString(16)}_${extraLo.toString(16).padStart(8, '0')})`;
    }
    if (!(this.drvFeatHi & 1)) return 'driver did not accept VIRTIO_F_VERSION_1';
    return null;
  }

  private writeQueueRegister(offset: number, value: number): void {
    const q = this.queues[this.queueSel];
    if (!q) return;
    if (q.isReady()) {
      this.warnOnce('ready-write', `queue ${this.queueSel}: register 0x${offset.toString(16)} written while QueueReady=1: ignored`);
      return;
    }
    switch (offset) {
      case QUEUE_NUM:
        q.setNum(value);
        break;
      case QUEUE_DESC_LOW:
        q.setDesc(value, false);
        break;
      case QUEUE_DESC_HIGH:
        q.setDesc(value, true);
        break;
      case QUEUE_DRIVER_LOW:
        q.setDriver(value, false);
        break;
      case QUEUE_DRIVER_HIGH:
        q.setDriver(value, true);
        break;
      case QUEUE_DEVICE_LOW:
        q.setDevice(value, false);
        break;
      case QUEUE_DEVICE_HIGH:
        q.setDevice(value, true);
        break;
    }
  }

  private writeQueueReady(value: number): void {
    const q = this.queues[this.queueSel];
    if (!q) return;
    if ((value & 1) === 0) {
      q.disable();
      return;
    }
    if (q.isReady()) return;
    const why = q.enable();
    if (why !== null) this.fault(this.queueSel, NR_QUEUE_CONFIG, `queue ${this.queueSel}: QueueReady refused: ${why}`);
  }

  private notify(q: number): void {
    const st = this.state;
    st[ST_NOTIFICATIONS]++;
    if (q >= this.queues.length) {
      this.warnOnce('notify-range', `${this.name}: notify for queue ${q}, device has ${this.queues.length}: ignored`);
      return;
    }
    const sb = HEADER_INTS + q * st[ST_QUEUE_STRIDE];
    st[sb + Q_NOTIFICATIONS]++;
    if (this.notifyHook !== null && this.notifyHook(this, q)) {
      st[sb + Q_DEFERRED] = 1;
      this.deferredAny = true;
      return;
    }
    this.deliver(q);
  }

  private deliver(q: number): void {
    if (this.broken || !this.queues[q].isReady()) return;
    try {
      this.device.onNotify(q);
    } catch (e) {
      // A bug in a device model must not take the machine loop down.
      this.needsReset(`${this.device.name} failed handling queue ${q}: ${(e as Error).message}`);
    }
  }

  private readConfig(off: number, width: Width): number {
    if (off + width > this.device.configSize) return 0;
    try {
      return this.device.readConfig(off, width) >>> 0;
    } catch (e) {
      this.needsReset(`${this.device.name} config read failed: ${(e as Error).message}`);
      return 0;
    }
  }

  private writeConfig(off: number, width: Width, value: number): void {
    if (off + width > this.device.configSize) return;
    try {
      this.device.writeConfig(off, width, value >>> 0);
    } catch (e) {
      this.needsReset(`${this.device.name} config write failed: ${(e as Error).message}`);
    }
  }

  /** Status 0: every register back to its reset value, the device dropping all its work. */
  private reset(): void {
    this.status = 0;
    this.devFeatSel = 0;
    this.drvFeatSel = 0;
    this.drvFeatLo = 0;
    this.drvFeatHi = 0;
    this.drvFeatExtra = false;
    this.queueSel = 0;
    this.interruptStatus = 0;
    this.deferredAny = false;
    this.needsResetReason = null;
    const st = this.state;
    for (let q = 0; q < this.queues.length; q++) {
      this.queues[q].reset();
      st[HEADER_INTS + q * st[ST_QUEUE_STRIDE] + Q_DEFERRED] = 0;
    }
    st[ST_STATUS] = 0;
    st[ST_DRIVER_FEATURES_LO] = 0;
    st[ST_DRIVER_FEATURES_HI] = 0;
    st[ST_QUEUE_SEL] = 0;
    st[ST_INTERRUPT_STATUS] = 0;
    st[ST_NEEDS_RESET] = 0;
    st[ST_NEEDS_RESET_QUEUE] = -1;
    st[ST_RESETS]++;
    this.updateIrq();
    try {
      this.device.reset();
    } catch (e) {
      log.error(`${this.name}: device reset failed: ${(e as Error).message}`);
    }
  }

  private fault(q: number, code: number, reason: string): void {
    if (this.broken) return; // first cause wins until the driver resets
    this.status |= STATUS_DEVICE_NEEDS_RESET;
    this.needsResetReason = reason;
    const st = this.state;
    st[ST_STATUS] = this.status;
    st[ST_NEEDS_RESET] = code;
    st[ST_NEEDS_RESET_QUEUE] = q;
    log.warn(`${this.name}: DEVICE_NEEDS_RESET: ${reason}`);
    // §2.1.2: once DRIVER_OK is set, tell the driver with a configuration change notification.
    if (this.status & STATUS_DRIVER_OK) this.notifyConfig();
  }

  private raise(bits: number): void {
    this.interruptStatus |= bits;
    this.state[ST_INTERRUPT_STATUS] = this.interruptStatus;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.interruptStatus !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irqLine.setIrq(this.irq, level);
    }
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    log.warn(`${this.name}: ${msg}`);
  }
}
