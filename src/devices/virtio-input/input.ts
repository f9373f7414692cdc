// virtio-input (VirtIO 1.2 §5.8), device ID 18: an event queue the driver fills with empty
// 8-byte buffers and a status queue it sends LED changes on. Two profiles, as semu's slots have
// two devices: a keyboard (EV_KEY with Linux key codes, EV_REP so the guest's input core does
// autorepeat, EV_LED) and an absolute tablet (ABS_X/ABS_Y 0..32767, left/right/middle/side/extra
// buttons, vertical and horizontal wheel), so a panel's pointer maps 1:1 onto the guest screen.
//
// Events come from the host through a shared ring (events.ts); poll() (between run slices) and
// every eventq kick move them into the guest's buffers, one event per buffer. With no buffer
// available they wait in the ring; a full ring drops whole reports at the producer.

import type { DescChain, VirtioDevice, VirtioTransport } from '../../emulator/virtio/types';
import * as P from './protocol';
import { allocateEvents, C_DELIVERED, C_ERRORS, C_LEDS, C_NO_BUFFER, C_STATUS, EventSource } from './events';
import { mappedKeyCodes } from './keymap';
import { readConfigBytes } from '../config-space';

export type InputProfile = 'keyboard' | 'tablet';

/** Each profile's device name (its descriptor's, so filters and the inspector tell them apart). */
export const INPUT_DEVICE_NAMES: Readonly<Record<InputProfile, string>> = { keyboard: 'virtio-keyboard', tablet: 'virtio-tablet' };

export interface VirtioInputOptions {
  /** ID_NAME (default "VirtIO Keyboard" / "VirtIO Tablet"). */
  name?: string;
  /** ID_SERIAL (default "semu-keyboard" / "semu-tablet"). */
  serial?: string;
  /** The event ring shared with the host (default: a new one of 1024 events). */
  events?: SharedArrayBuffer;
  /** QueueNumMax (default 64: Linux queues at most 64 event buffers). */
  queueSize?: number;
}

interface Profile {
  name: string;
  serial: string;
  product: number;
  props: number[];
  ev: Map<number, number[]>;
  abs: Map<number, [number, number]>;
}

function profile(kind: InputProfile): Profile {
  if (kind === 'keyboard') {
    return {
      name: 'VirtIO Keyboard',
      serial: 'semu-keyboard',
      product: 1,
      props: [],
      ev: new Map([
        [P.EV_KEY, mappedKeyCodes()],
        [P.EV_REP, []],
        [P.EV_LED, [P.LED_NUML, P.LED_CAPSL, P.LED_SCROLLL]],
      ]),
      abs: new Map(),
    };
  }
  return {
    name: 'VirtIO Tablet',
    serial: 'semu-tablet',
    product: 2,
    props: [P.INPUT_PROP_POINTER],
    ev: new Map([
      [P.EV_KEY, [P.BTN_LEFT, P.BTN_RIGHT, P.BTN_MIDDLE, P.BTN_SIDE, P.BTN_EXTRA]],
      [P.EV_REL, [P.REL_HWHEEL, P.REL_WHEEL]],
      [P.EV_ABS, [P.ABS_X, P.ABS_Y]],
    ]),
    abs: new Map([
      [P.ABS_X, [0, P.ABS_MAX]],
      [P.ABS_Y, [0, P.ABS_MAX]],
    ]),
  };
}

export class VirtioInput implements VirtioDevice {
  readonly deviceId = P.VIRTIO_ID_INPUT;
  readonly name: string;
  readonly queueNames = ['eventq', 'statusq'] as const;
  readonly queueMaxSize: number;
  readonly features = [0, 0] as const;
  readonly configSize = P.CONFIG_SIZE;
  /** The event ring and counters shared with the host. */
  readonly events: SharedArrayBuffer;

  private transport: VirtioTransport | null = null;
  private readonly source: EventSource;
  private readonly profile: Profile;
  private readonly config = new Uint8Array(P.CONFIG_SIZE);
  private readonly event = new Uint8Array(P.EVENT_SIZE);
  private readonly eventView = new DataView(this.event.buffer);
  private leds = 0;
  /** Events are waiting for the guest to queue buffers (counted once per wait). */
  private starved = false;

  constructor(
    readonly kind: InputProfile,
    opts: VirtioInputOptions = {},
  ) {
    this.profile = profile(kind);
    if (opts.name !== undefined) this.profile.name = opts.name;
    if (opts.serial !== undefined) this.profile.serial = opts.serial;
    this.name = INPUT_DEVICE_NAMES[kind];
    this.queueMaxSize = opts.queueSize ?? 64;
    this.events = opts.events ?? allocateEvents();
    this.source = new EventSource(this.events);
  }

  /** The event ring and counters (the Screen panel writes events, the Devices scope reads). */
  get sharedState(): SharedArrayBuffer {
    return this.events;
  }

  attach(transport: VirtioTransport): void {
    this.transport = transport;
  }

  // ---------------- configuration space (§5.8.5) ----------------

  readConfig(offset: number, width: 1 | 2 | 4): number {
    return readConfigBytes(this.config, offset, width);
  }

  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    // Only select and subsel are writable; a wider store covering them sets both.
    let changed = false;
    for (let i = 0; i < width; i++) {
      const at = offset + i;
      if (at !== P.CFG_SELECT && at !== P.CFG_SUBSEL) continue;
      this.config[at] = (value >>> (8 * i)) & 0xff;
      changed = true;
    }
    if (changed) this.select(this.config[P.CFG_SELECT], this.config[P.CFG_SUBSEL]);
  }

  /** Fills size and the union for (select, subsel); unknown selections read size 0. */
  private select(sel: number, sub: number): void {
    const u = this.config.subarray(P.CFG_UNION);
    u.fill(0);
    let size = 0;
    const p = this.profile;
    switch (sel) {
      case P.CFG_ID_NAME:
        size = putString(u, p.name);
        break;
      case P.CFG_ID_SERIAL:
        size = putString(u, p.serial);
        break;
      case P.CFG_ID_DEVIDS:
        // bustype, vendor, product, version (le16 each)
        u.set([P.BUS_VIRTUAL, 0, 0, 0, p.product, 0, 1, 0]);
        size = 8;
        break;
      case P.CFG_PROP_BITS:
        if (sub === 0) size = putBits(u, p.props);
        break;
      case P.CFG_EV_BITS: {
        const codes = p.ev.get(sub);
        // EV_REP has no codes: a non-zero size is what tells the driver to enable it.
        if (codes !== undefined) size = codes.length === 0 ? 1 : putBits(u, codes);
        break;
      }
      case P.CFG_ABS_INFO: {
        const range = p.abs.get(sub);
        if (range !== undefined) {
          const v = new DataView(u.buffer, u.byteOffset, 20);
          v.setUint32(0, range[0], true); // min
          v.setUint32(4, range[1], true); // max
          // fuzz, flat, res stay 0
          size = 20;
        }
        break;
      }
    }
    this.config[P.CFG_SIZE] = size;
  }

  // ---------------- queues ----------------

  reset(): void {
    this.leds = 0;
    this.starved = false;
    this.source.set(C_LEDS, 0);
    this.source.discard();
    this.config.fill(0);
  }

  onNotify(q: number): void {
    if (q === P.EVENTQ) this.deliver();
    else if (q === P.STATUSQ) this.takeStatus();
  }

  /** Between run slices: move what the host queued into the guest's buffers. */
  poll(): void {
    if (this.source.pending() > 0) this.deliver();
  }

  private deliver(): void {
    const t = this.transport;
    if (t === null) return;
    const queue = t.queue(P.EVENTQ);
    const src = this.source;
    if (!queue.isReady()) return;
    while (src.pending() > 0) {
      const c = queue.pop();
      if (c === null) {
        if (!this.starved) src.count(C_NO_BUFFER);
        this.starved = true;
        return;
      }
      this.starved = false;
      if (c.readableLength !== 0 || c.writableLength < P.EVENT_SIZE) {
        t.needsReset(`virtio-input (${this.kind}): event buffer ${c.head} has ${c.readableLength} readable / ${c.writableLength} writable bytes (needs 0 / 8)`);
        return;
      }
      src.peek();
      this.eventView.setUint16(0, src.type, true);
      this.eventView.setUint16(2, src.code, true);
      this.eventView.setInt32(4, src.value, true);
      c.write(0, this.event);
      src.consume();
      src.count(C_DELIVERED);
      queue.push(c.head, P.EVENT_SIZE);
    }
  }

  private takeStatus(): void {
    const t = this.transport;
    if (t === null) return;
    const queue = t.queue(P.STATUSQ);
    for (let c = queue.pop(); c !== null; c = queue.pop()) {
      this.status(c);
      queue.push(c.head, 0);
    }
  }

  /** A status event from the driver: LEDs are kept; anything else is counted and ignored. */
  private status(c: DescChain): void {
    this.source.count(C_STATUS);
    if (c.readableLength < P.EVENT_SIZE) {
      this.source.count(C_ERRORS);
      return;
    }
    c.read(0, this.event);
    const type = this.eventView.getUint16(0, true);
    const code = this.eventView.getUint16(2, true);
    const value = this.eventView.getInt32(4, true);
    if (type !== P.EV_LED || code > P.LED_SCROLLL || !this.profile.ev.has(P.EV_LED)) return;
    this.leds = value !== 0 ? this.leds | (1 << code) : this.leds & ~(1 << code);
    this.source.set(C_LEDS, this.leds);
  }
}

function putString(u: Uint8Array, s: string): number {
  let n = 0;
  for (; n < s.length && n < P.CFG_UNION_BYTES; n++) u[n] = s.charCodeAt(n) & 0x7f;
  return n;
}

/** Sets the bits, returns "highest set byte index + 1" (the spec's size of a bitmap). */
function putBits(u: Uint8Array, bits: readonly number[]): number {
  let size = 0;
  for (const b of bits) {
    if (b < 0 || b >= P.CFG_UNION_BYTES * 8) continue;
    u[b >> 3] |= 1 << (b & 7);
    size = Math.max(size, (b >> 3) + 1);
  }
  return size;
}
