// The shared state of one virtio-mmio transport: an Int32Array over a SharedArrayBuffer that
// the emulator worker writes with plain stores and the extension host reads from another thread
// (together with guest RAM, also a SAB) to decode the rings without messaging or pausing.
//
// Readers get no atomicity across fields: a snapshot taken while the guest runs may mix two
// moments, so inspect.ts validates everything it reads. Values are int32; read addresses and
// feature words with `>>> 0`.
//
//   [0, HEADER_INTS)                         device header (ST_*)
//   HEADER_INTS + q * stride + [0, Q_INTS)   queue q header (Q_*), stride = state[ST_QUEUE_STRIDE]
//   ... + Q_INTS + [0, ceil(maxSize/32))     queue q "held" bitmap: bit h set while the device
//                                            holds the chain whose head is descriptor h

export const LAYOUT_VERSION = 1;

// ---- device header ----
export const ST_LAYOUT_VERSION = 0;
export const ST_DEVICE_ID = 1;
/** Device status register (§2.1): ACKNOWLEDGE 1, DRIVER 2, DRIVER_OK 4, FEATURES_OK 8, NEEDS_RESET 64, FAILED 128. */
export const ST_STATUS = 2;
export const ST_DEVICE_FEATURES_LO = 3;
export const ST_DEVICE_FEATURES_HI = 4;
export const ST_DRIVER_FEATURES_LO = 5;
export const ST_DRIVER_FEATURES_HI = 6;
export const ST_INTERRUPT_STATUS = 7;
/** 0, or why the device set DEVICE_NEEDS_RESET (NR_* below). */
export const ST_NEEDS_RESET = 8;
/** The queue the needs-reset fault was found on, or -1. */
export const ST_NEEDS_RESET_QUEUE = 9;
export const ST_CONFIG_GENERATION = 10;
export const ST_QUEUE_SEL = 11;
export const ST_QUEUE_COUNT = 12;
export const ST_QUEUE_MAX = 13;
export const ST_QUEUE_STRIDE = 14;
/** Times the driver reset the device (status written 0). */
export const ST_RESETS = 15;
export const ST_NOTIFICATIONS = 16;
/** Used-buffer notifications sent (InterruptStatus bit 0 raised). */
export const ST_INTERRUPTS = 17;
export const ST_CONFIG_INTERRUPTS = 18;
export const ST_BASE = 19;
export const ST_IRQ = 20;
export const HEADER_INTS = 32;

// ---- per queue ----
/** QueueNum as the driver set it (the ring size). */
export const Q_NUM = 0;
export const Q_READY = 1;
export const Q_DESC = 2;
export const Q_DESC_HI = 3;
export const Q_DRIVER = 4; // available ring
export const Q_DRIVER_HI = 5;
export const Q_DEVICE = 6; // used ring
export const Q_DEVICE_HI = 7;
/** The device's last-seen avail index (next avail.ring slot it will read), uint16. */
export const Q_LAST_AVAIL = 8;
/** used.idx as the device last wrote it, uint16. */
export const Q_USED_IDX = 9;
export const Q_NOTIFICATIONS = 10;
export const Q_INTERRUPTS = 11;
/** Chains popped and not yet pushed back. */
export const Q_IN_FLIGHT = 12;
/** 1 while a QueueNotify is held back by the debugger (deferred), else 0. */
export const Q_DEFERRED = 13;
/** Chains popped since reset. */
export const Q_POPPED = 14;
export const Q_INTS = 16;

/** Needs-reset reasons (ST_NEEDS_RESET). */
export const NR_NONE = 0;
export const NR_HEAD_RANGE = 1; // head index ≥ queue size
export const NR_LOOP = 2; // chain longer than the queue: a loop
export const NR_OUT_OF_RAM = 3; // a buffer outside guest RAM
export const NR_ORDER = 4; // device-readable descriptor after a device-writable one
export const NR_INDIRECT = 5; // malformed indirect table
export const NR_AVAIL_IDX = 6; // avail.idx moved by more than the queue size
export const NR_QUEUE_CONFIG = 7; // QueueReady with a bad size or ring address
export const NR_DEVICE = 8; // the device model found a protocol error
export const NR_NEXT_RANGE = 9; // next index ≥ queue size

export const NEEDS_RESET_NAMES: Record<number, string> = {
  [NR_NONE]: '',
  [NR_HEAD_RANGE]: 'head index out of range',
  [NR_LOOP]: 'descriptor loop (chain longer than the queue)',
  [NR_OUT_OF_RAM]: 'buffer outside guest RAM',
  [NR_ORDER]: 'device-readable descriptor after a device-writable one',
  [NR_INDIRECT]: 'malformed indirect descriptor table',
  [NR_AVAIL_IDX]: 'avail.idx ran ahead by more than the queue size',
  [NR_QUEUE_CONFIG]: 'queue enabled with an invalid size or ring address',
  [NR_DEVICE]: 'device protocol error',
  [NR_NEXT_RANGE]: 'next index out of range',
};

// Status bits (§2.1).
export const STATUS_ACKNOWLEDGE = 1;
export const STATUS_DRIVER = 2;
export const STATUS_DRIVER_OK = 4;
export const STATUS_FEATURES_OK = 8;
export const STATUS_DEVICE_NEEDS_RESET = 64;
export const STATUS_FAILED = 128;

/** Feature bits the transport itself deals with. */
export const VIRTIO_F_INDIRECT_DESC = 28; // in word 0
export const VIRTIO_F_VERSION_1 = 32; // bit 0 of word 1

export function queueStride(maxSize: number): number {
  return Q_INTS + ((maxSize + 31) >>> 5);
}

export function stateInts(queueCount: number, maxSize: number): number {
  return HEADER_INTS + queueCount * queueStride(maxSize);
}

/** Index of queue q's header in a state array (reads the stride from the array itself). */
export function queueBase(state: Int32Array, q: number): number {
  return HEADER_INTS + q * state[ST_QUEUE_STRIDE];
}

export function statusNames(status: number): string {
  const names: string[] = [];
  if (status & STATUS_ACKNOWLEDGE) names.push('ACKNOWLEDGE');
  if (status & STATUS_DRIVER) names.push('DRIVER');
  if (status & STATUS_FEATURES_OK) names.push('FEATURES_OK');
  if (status & STATUS_DRIVER_OK) names.push('DRIVER_OK');
  if (status & STATUS_DEVICE_NEEDS_RESET) names.push('DEVICE_NEEDS_RESET');
  if (status & STATUS_FAILED) names.push('FAILED');
  return names.join('|');
}
