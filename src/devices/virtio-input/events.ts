// Input events from the host to a virtio-input device, and the device's counters back: one
// SharedArrayBuffer per device. The host (the Screen panel's controller, tests) is the single
// producer, the device in the emulator worker the single consumer; neither ever waits.
//
//   header  int32 slots: magic, version, capacity, write index, read index, counters
//   events  capacity × 3 int32: type, code, value
//
// The producer writes a whole report (events up to and including SYN_REPORT) or nothing: when
// the ring lacks room the report is dropped and counted, so the guest never sees half of one.
// Indices only grow (int32 wrap is harmless: differences are taken with `| 0`).
//
// Pure: no Node imports.

import { ABS_MAX, ABS_X, ABS_Y, EV_ABS, EV_KEY, EV_REL, EV_SYN, LED_CAPSL, LED_NUML, LED_SCROLLL, REL_HWHEEL, REL_WHEEL, SYN_REPORT } from './protocol';

export const EVENTS_MAGIC = 0x56494e31; // 'VIN1'
const VERSION = 1;
export const DEFAULT_CAPACITY = 1024;

const H_MAGIC = 0;
const H_VERSION = 1;
const H_CAPACITY = 2;
const H_WRITE = 3;
const H_READ = 4;
// Counters (written by the consumer unless noted).
export const C_DELIVERED = 5; // events written into guest buffers
export const C_DROPPED = 6; // reports dropped by the producer (ring full) — producer-owned
export const C_LEDS = 7; // LED bitmap the guest last set through the status queue
export const C_STATUS = 8; // status-queue events received
export const C_ERRORS = 9; // malformed status buffers
export const C_NO_BUFFER = 10; // times events waited for the guest to queue buffers
export const C_INJECTED = 11; // events accepted by the producer — producer-owned
const HDR_INTS = 16;

/** `capacity` events, a power of two (indices wrap at 2^32 and stay continuous modulo it). */
export function allocateEvents(capacity = DEFAULT_CAPACITY): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < 8 || capacity > 1 << 20 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`input event ring: capacity ${capacity} must be a power of two in 8..2^20`);
  const sab = new SharedArrayBuffer((HDR_INTS + capacity * 3) * 4);
  const h = new Int32Array(sab);
  h[H_MAGIC] = EVENTS_MAGIC;
  h[H_VERSION] = VERSION;
  h[H_CAPACITY] = capacity;
  return sab;
}

function views(sab: SharedArrayBuffer): { h: Int32Array; ev: Int32Array; capacity: number } {
  if (sab.byteLength < HDR_INTS * 4) throw new Error('not an input event buffer');
  const h = new Int32Array(sab, 0, HDR_INTS);
  const capacity = h[H_CAPACITY];
  if (h[H_MAGIC] !== EVENTS_MAGIC || capacity <= 0 || (capacity & (capacity - 1)) !== 0 || (HDR_INTS + capacity * 3) * 4 > sab.byteLength) throw new Error('not an input event buffer');
  return { h, ev: new Int32Array(sab, HDR_INTS * 4, capacity * 3), capacity };
}

/** The host's side: writes reports. */
export class InputSink {
  private readonly h: Int32Array;
  private readonly ev: Int32Array;
  private readonly capacity: number;

  constructor(sab: SharedArrayBuffer) {
    ({ h: this.h, ev: this.ev, capacity: this.capacity } = views(sab));
  }

  /**
   * Queues one report: [type, code, value] triples, a SYN_REPORT appended if the last is not one.
   * Returns false (and counts a drop) when the ring has no room for all of it.
   */
  report(events: readonly (readonly [number, number, number])[]): boolean {
    const h = this.h;
    const last = events[events.length - 1];
    const needSyn = last === undefined || last[0] !== EV_SYN || last[1] !== SYN_REPORT;
    const n = events.length + (needSyn ? 1 : 0);
    const w = h[H_WRITE];
    const used = (w - Atomics.load(h, H_READ)) | 0;
    if (used + n > this.capacity) {
      Atomics.add(h, C_DROPPED, 1);
      return false;
    }
    let at = w;
    const put = (type: number, code: number, value: number) => {
      const i = (at & (this.capacity - 1)) * 3;
      this.ev[i] = type & 0xffff;
      this.ev[i + 1] = code & 0xffff;
      this.ev[i + 2] = value | 0;
      at = (at + 1) | 0;
    };
    for (const e of events) put(e[0], e[1], e[2]);
    if (needSyn) put(EV_SYN, SYN_REPORT, 0);
    Atomics.add(h, C_INJECTED, n);
    Atomics.store(h, H_WRITE, at);
    return true;
  }

  key(code: number, down: boolean): boolean {
    return this.report([[EV_KEY, code, down ? 1 : 0]]);
  }

  /** Absolute position in 0..ABS_MAX on both axes (clamped). */
  moveTo(x: number, y: number): boolean {
    return this.report([
      [EV_ABS, ABS_X, clampAbs(x)],
      [EV_ABS, ABS_Y, clampAbs(y)],
    ]);
  }

  button(code: number, down: boolean): boolean {
    return this.report([[EV_KEY, code, down ? 1 : 0]]);
  }

  /** Wheel clicks: dy > 0 scrolls up (REL_WHEEL's sign), dx > 0 right. */
  wheel(dy: number, dx = 0): boolean {
    const ev: [number, number, number][] = [];
    if (dy !== 0) ev.push([EV_REL, REL_WHEEL, dy | 0]);
    if (dx !== 0) ev.push([EV_REL, REL_HWHEEL, dx | 0]);
    return ev.length === 0 ? true : this.report(ev);
  }
}

function clampAbs(v: number): number {
  return Math.max(0, Math.min(ABS_MAX, Math.round(v)));
}

/** The device's side: reads events one at a time into preallocated slots (no allocation). */
export class EventSource {
  readonly h: Int32Array;
  private readonly ev: Int32Array;
  private readonly capacity: number;
  type = 0;
  code = 0;
  value = 0;

  constructor(readonly sab: SharedArrayBuffer) {
    ({ h: this.h, ev: this.ev, capacity: this.capacity } = views(sab));
  }

  /** Events written and not yet consumed. */
  pending(): number {
    return (Atomics.load(this.h, H_WRITE) - this.h[H_READ]) | 0;
  }

  /** Loads the next event into type/code/value (call only when pending() > 0). */
  peek(): void {
    const i = (this.h[H_READ] & (this.capacity - 1)) * 3;
    this.type = this.ev[i];
    this.code = this.ev[i + 1];
    this.value = this.ev[i + 2];
  }

  /** Consumes the event peek() loaded. */
  consume(): void {
    Atomics.store(this.h, H_READ, (this.h[H_READ] + 1) | 0);
  }

  /** Drops everything pending (device reset: the guest's state starts over). */
  discard(): void {
    Atomics.store(this.h, H_READ, Atomics.load(this.h, H_WRITE));
  }

  count(slot: number, by = 1): void {
    Atomics.add(this.h, slot, by);
  }

  set(slot: number, v: number): void {
    Atomics.store(this.h, slot, v);
  }
}

/** A virtio-input device's live state for the Devices scope: plain JSON. */
export interface InputStateSnapshot {
  pending: number;
  injected: number;
  delivered: number;
  droppedReports: number;
  waitsForBuffers: number;
  statusEvents: number;
  malformedStatus: number;
  leds: { numLock: boolean; capsLock: boolean; scrollLock: boolean };
}

export function readInputState(sab: SharedArrayBuffer): InputStateSnapshot | null {
  let h: Int32Array;
  try {
    h = views(sab).h;
  } catch {
    return null;
  }
  const leds = h[C_LEDS];
  return {
    pending: Math.max(0, (Atomics.load(h, H_WRITE) - Atomics.load(h, H_READ)) | 0),
    injected: h[C_INJECTED] >>> 0,
    delivered: h[C_DELIVERED] >>> 0,
    droppedReports: h[C_DROPPED] >>> 0,
    waitsForBuffers: h[C_NO_BUFFER] >>> 0,
    statusEvents: h[C_STATUS] >>> 0,
    malformedStatus: h[C_ERRORS] >>> 0,
    leds: { numLock: (leds & (1 << LED_NUML)) !== 0, capsLock: (leds & (1 << LED_CAPSL)) !== 0, scrollLock: (leds & (1 << LED_SCROLLL)) !== 0 },
  };
}
