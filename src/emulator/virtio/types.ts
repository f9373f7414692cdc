// The contract between the one virtio-mmio transport (virtio/mmio.ts) and each device model
// (src/devices/: blk, rng, snd, ...). Names follow VirtIO 1.2 §2 (basic facilities) and §4.2 (MMIO transport).
//
// A kick travels: guest stores QueueNotify → transport → Machine.notifyHook (the debugger may
// stop the machine here, before the device sees it) → VirtioDevice.onNotify(q) → the device pops
// chains with VirtQueue.pop(), reads/writes their buffers, VirtQueue.push() → transport.notifyUsed().

import type { Ram } from '../ram';

/** VirtIO device IDs (§5). */
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;
export const VIRTIO_ID_RNG = 4;
export const VIRTIO_ID_SOUND = 25;

/** Descriptor flags (§2.7.5). */
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;

/**
 * One descriptor chain popped from the available ring, held in preallocated storage that the
 * queue reuses (no allocation per kick). Readable descriptors (driver → device) come first, then
 * writable ones (§2.7.4.2); a chain that breaks that order or points outside RAM is rejected by
 * pop(), never handed to a device.
 */
export interface DescChain {
  /** Head descriptor index: what push() returns to the used ring. */
  readonly head: number;
  /** Number of descriptors in the chain. */
  readonly count: number;
  /** Total bytes of the device-readable part, and of the device-writable part. */
  readonly readableLength: number;
  readonly writableLength: number;
  /** Descriptor i of the chain (0 ≤ i < count): guest-physical address, length, flags. */
  addr(i: number): number;
  len(i: number): number;
  flags(i: number): number;
  /**
   * Copy up to dst.length bytes of the readable part, starting `offset` bytes into it, into dst.
   * Returns the bytes copied (short at the end of the readable part).
   */
  read(offset: number, dst: Uint8Array): number;
  /**
   * Copy src into the writable part starting `offset` bytes into it. Returns the bytes written
   * (short at the end of the writable part). Marks the pages written for the harts' caches.
   */
  write(offset: number, src: Uint8Array): number;
}

export interface VirtQueue {
  readonly index: number;
  /** True once the driver set QueueReady with valid ring addresses. */
  isReady(): boolean;
  /** Chains the driver has made available that the device has not popped yet. */
  pending(): number;
  /**
   * Pops the next available chain into the queue's reusable chain object and returns it, or null
   * when the ring is empty or the queue is not ready. A malformed chain (loop, out of RAM, bad
   * order, too long) puts the device in DEVICE_NEEDS_RESET and returns null.
   * The returned object stays valid until the next pop() on this queue; a device that keeps
   * chains in flight copies what it needs (head, addresses) into its own preallocated storage.
   */
  pop(): DescChain | null;
  /** Returns a chain to the used ring with the number of bytes written into it (§2.7.8). */
  push(head: number, writtenLength: number): void;
}

/** What a device model sees of its transport. */
export interface VirtioTransport {
  readonly ram: Ram;
  queue(index: number): VirtQueue;
  /** Used buffer notification: InterruptStatus bit 0 and the device's PLIC line. */
  notifyUsed(): void;
  /** Configuration change notification: InterruptStatus bit 1. */
  notifyConfig(): void;
  /** Sets DEVICE_NEEDS_RESET (status bit 64) and a config-change interrupt; logs the reason once. */
  needsReset(reason: string): void;
}

/** A device model behind the virtio-mmio transport. */
export interface VirtioDevice {
  readonly deviceId: number;
  /** Short name used by the debugger and inspector: 'virtio-blk', 'virtio-snd', ... */
  readonly name: string;
  /** One name per queue, e.g. ['controlq', 'eventq', 'txq', 'rxq']; its length is the queue count. */
  readonly queueNames: readonly string[];
  /** QueueNumMax for every queue. */
  readonly queueMaxSize: number;
  /** Device feature bits 0-31 and 32-63, without VIRTIO_F_VERSION_1 (the transport adds it). */
  readonly features: readonly [number, number];
  /** Bytes of device-specific configuration space (§4.2.2 offset 0x100). */
  readonly configSize: number;
  readConfig(offset: number, width: 1 | 2 | 4): number;
  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void;
  /** Called once by the transport it is plugged into. */
  attach(transport: VirtioTransport): void;
  /** The driver kicked queue `q` (after the debugger had its chance to stop the machine). */
  onNotify(q: number): void;
  /** Device reset (status written 0): drop every in-flight chain, stop host-side activity. */
  reset(): void;
  /** Called by the machine between run slices: for devices with host-side work (audio pacing, async I/O). */
  poll?(): void;
  /**
   * The guest-clock tick (absolute, as GuestClock.now()) by which the device wants poll() called
   * again, or Infinity. While every hart idles, the machine must not skip time (icount) or sleep
   * (host) past it: a sound card's period completions are due at exact instants.
   */
  nextDeadline?(): number;
  /**
   * Live device state other threads read (the debugger's Devices scope, the panels), decoded by
   * the device descriptor's readState()/streams() (src/devices/).
   */
  readonly sharedState?: SharedArrayBuffer;
  /** Frees the host resources the device holds (files, audio, child processes): the machine is done. */
  dispose?(): void;
}
