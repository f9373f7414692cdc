// virtio-net (VirtIO 1.2 §5.1), device ID 1: one receive and one transmit queue, the MAC and the
// link status in the configuration space, the MTU the backend is set up for.
//
// The device never touches a socket. Frames cross to its backend through two rings in shared
// memory (io.ts); the backend's own thread does the I/O, so a slow or dead peer can never stall
// the CPU loop, and a busy guest never stalls the peer. Both directions copy each frame once
// through one preallocated frame buffer.
//
// - TX (guest → wire): each chain is `virtio_net_hdr_v1 (12 bytes) | frame`, all device-readable.
//   The frame goes to the tx ring and the chain back to the used ring at once. When the ring
//   cannot take a frame of the largest size, the remaining chains wait in the available ring
//   (backpressure to the guest) until poll() finds room.
// - RX (wire → guest): each chain is one writable buffer of at least header + largest frame
//   (Linux's "small buffers", as neither MRG_RXBUF nor big packets are offered). A frame waits in
//   the rx ring until the guest has a buffer for it; the ring filling up stops the backend
//   reading its socket, so nothing is dropped for want of buffers.
// - Link: STATUS (LINK_UP) follows the backend; a change raises a configuration-change interrupt.
//
// Guest-controlled values that are wrong never throw and never put the device in needs-reset:
// a bad chain is returned empty and counted, a frame of bad length is dropped and counted
// (state.ts), so a buggy or hostile driver cannot take the link down for a well-behaved one.

import type { DescChain, VirtioDevice, VirtioTransport } from '../../emulator/virtio/types';
import { VIRTIO_ID_NET } from '../../emulator/virtio/types';
import { openNetIo, signal, allocateNetIo, IO_LINK, IO_RX_BLOCKED, IO_RX_SPACE, IO_TX_SIGNAL, type NetIo } from './io';
import {
  CFG_MAC,
  CFG_MAX_VQ_PAIRS,
  CFG_MTU,
  CFG_STATUS,
  DEFAULT_MAC,
  DEFAULT_MTU,
  ETH_HLEN,
  HDR_FLAGS,
  HDR_GSO_TYPE,
  HDR_NUM_BUFFERS,
  NET_CONFIG_SIZE,
  NET_HDR_SIZE,
  NET_QUEUE_NAMES,
  RXQ,
  TXQ,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_S_LINK_UP,
  maxFrameFor,
  parseMac,
} from './proto';
import {
  add64,
  allocateNetState,
  N_LINK,
  N_LINK_CHANGES,
  N_MAC_HI,
  N_MAC_LO,
  N_MTU,
  N_RX_BAD_CHAIN,
  N_RX_BYTES,
  N_RX_DROP_OVERSIZE,
  N_RX_FRAMES,
  N_TX_BAD_CHAIN,
  N_TX_BYTES,
  N_TX_DROP_LENGTH,
  N_TX_DROP_LINK,
  N_TX_FRAMES,
  N_TX_STALLS,
  SLOTS,
} from './state';

/** The smallest MTU IPv4 allows (RFC 791), and the largest that fits Linux's small rx buffers. */
export const MIN_MTU = 68;
export const MAX_MTU = 1500;

export interface VirtioNetOptions {
  /** "52:54:00:12:34:56" (default) or 6 bytes; must be unicast. */
  mac?: string | Uint8Array;
  /** 68..1500 (default 1500): offered as VIRTIO_NET_F_MTU, and what the backend should assign. */
  mtu?: number;
  /** QueueNumMax of both queues, a power of two (default 256). */
  queueSize?: number;
  /** Ring sizes of the channel to the backend, powers of two (defaults in io.ts). */
  rxRingBytes?: number;
  txRingBytes?: number;
}

/** What a backend needs to serve a device: the frame channel and the shared state to report into. */
export interface NetChannel {
  readonly io: SharedArrayBuffer;
  readonly state: SharedArrayBuffer;
  readonly mtu: number;
  readonly mac: Uint8Array;
}

export class VirtioNet implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_NET;
  readonly name = 'virtio-net';
  readonly queueNames = NET_QUEUE_NAMES;
  readonly queueMaxSize: number;
  readonly features: readonly [number, number] = [((1 << VIRTIO_NET_F_MAC) | (1 << VIRTIO_NET_F_STATUS) | (1 << VIRTIO_NET_F_MTU)) >>> 0, 0];
  readonly configSize = NET_CONFIG_SIZE;
  /** Counters and backend strings for the debugger (state.ts). */
  readonly state: SharedArrayBuffer;
  readonly channel: NetChannel;
  readonly mac: Uint8Array;
  readonly mtu: number;

  private transport: VirtioTransport | null = null;
  private readonly io: NetIo;
  private readonly st: Int32Array;
  private readonly maxFrame: number;
  /** One frame (with its virtio header in front for RX), reused for every copy. */
  private readonly buf: Uint8Array;
  private readonly frame: Uint8Array;
  private linkUp = false;
  /** A receive chain popped for a frame that did not fit it: used for the next frame. */
  private heldRx: DescChain | null = null;
  private txWaiting = false;

  constructor(opts: VirtioNetOptions = {}) {
    const mac = typeof opts.mac === 'string' || opts.mac === undefined ? parseMac(opts.mac ?? DEFAULT_MAC) : opts.mac;
    if (mac === null || mac.length !== 6 || mac[0] & 1) throw new Error(`virtio-net: MAC ${String(opts.mac)} is not a unicast address like 52:54:00:12:34:56`);
    const mtu = opts.mtu ?? DEFAULT_MTU;
    if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) throw new Error(`virtio-net: MTU ${mtu} must be an integer in ${MIN_MTU}..${MAX_MTU}`);
    this.mac = Uint8Array.from(mac);
    this.mtu = mtu;
    this.maxFrame = maxFrameFor(mtu);
    this.queueMaxSize = opts.queueSize ?? 256;
    this.buf = new Uint8Array(NET_HDR_SIZE + this.maxFrame);
    this.frame = this.buf.subarray(NET_HDR_SIZE);
    this.io = openNetIo(allocateNetIo(opts.rxRingBytes, opts.txRingBytes));
    this.state = allocateNetState();
    this.st = new Int32Array(this.state, 0, SLOTS);
    this.st[N_MTU] = mtu;
    this.st[N_MAC_LO] = this.mac[0] | (this.mac[1] << 8) | (this.mac[2] << 16) | (this.mac[3] << 24);
    this.st[N_MAC_HI] = this.mac[4] | (this.mac[5] << 8);
    this.channel = { io: this.io.sab, state: this.state, mtu, mac: this.mac };
  }

  attach(transport: VirtioTransport): void {
    this.transport = transport;
  }

  get link(): boolean {
    return this.linkUp;
  }

  // ---------------- configuration space ----------------

  readConfig(offset: number, width: 1 | 2 | 4): number {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = (v << 8) | this.configByte(offset + i);
    return v >>> 0;
  }

  private configByte(off: number): number {
    if (off >= CFG_MAC && off < CFG_MAC + 6) return this.mac[off - CFG_MAC];
    if (off === CFG_STATUS) return this.linkUp ? VIRTIO_NET_S_LINK_UP : 0;
    if (off === CFG_MAX_VQ_PAIRS) return 1;
    if (off === CFG_MTU) return this.mtu & 0xff;
    if (off === CFG_MTU + 1) return this.mtu >>> 8;
    return 0;
  }

  writeConfig(): void {
    // The MAC is writable only with VIRTIO_NET_F_CTRL_MAC_ADDR / legacy; neither is offered.
  }

  // ---------------- queues ----------------

  reset(): void {
    this.heldRx = null;
    this.txWaiting = false;
  }

  onNotify(q: number): void {
    if (q === TXQ) this.drainTx();
    else if (q === RXQ) this.deliverRx();
  }

  /** Between run slices: follow the link, move waiting frames both ways. */
  poll(): void {
    const link = Atomics.load(this.io.ctl, IO_LINK) === 1;
    if (link !== this.linkUp) this.setLink(link);
    if (this.io.rx.peekLength() >= 0) this.deliverRx();
    if (this.txWaiting) this.drainTx();
  }

  private setLink(up: boolean): void {
    this.linkUp = up;
    this.st[N_LINK] = up ? 1 : 0;
    const t = this.transport;
    // Only a driver that has set up its queues has an interrupt handler to tell.
    if (t === null || !(t.queue(RXQ).isReady() || t.queue(TXQ).isReady())) return;
    this.st[N_LINK_CHANGES]++;
    t.notifyConfig();
  }

  /** Guest → backend: every available transmit chain, while the ring has room for a frame. */
  private drainTx(): void {
    const t = this.transport;
    if (t === null) return;
    const queue = t.queue(TXQ);
    const ring = this.io.tx;
    let sent = 0;
    this.txWaiting = false;
    while (queue.pending() > 0) {
      if (this.linkUp && !ring.fits(this.maxFrame)) {
        // The I/O thread is behind: leave the rest in the available ring, retry from poll().
        this.txWaiting = true;
        this.st[N_TX_STALLS]++;
        break;
      }
      const c = queue.pop();
      if (c === null) break;
      if (this.takeTx(c)) sent++;
      queue.push(c.head, 0);
    }
    if (sent > 0) signal(this.io.ctl, IO_TX_SIGNAL);
  }

  /** Validates one transmit chain and appends its frame to the ring; false when dropped. */
  private takeTx(c: DescChain): boolean {
    const st = this.st;
    if (c.writableLength !== 0 || c.readableLength < NET_HDR_SIZE) {
      st[N_TX_BAD_CHAIN]++;
      return false;
    }
    const len = c.readableLength - NET_HDR_SIZE;
    if (len < ETH_HLEN || len > this.maxFrame) {
      st[N_TX_DROP_LENGTH]++;
      return false;
    }
    const buf = this.buf;
    c.read(0, buf.subarray(0, NET_HDR_SIZE + len));
    // Neither CSUM nor any GSO was offered: a header asking for them is a driver bug.
    if (buf[HDR_FLAGS] !== 0 || buf[HDR_GSO_TYPE] !== 0) {
      st[N_TX_BAD_CHAIN]++;
      return false;
    }
    if (!this.linkUp) {
      st[N_TX_DROP_LINK]++;
      return false;
    }
    this.io.tx.push(this.frame, len);
    st[N_TX_FRAMES]++;
    add64(st, N_TX_BYTES, len);
    return true;
  }

  /** Backend → guest: each waiting frame into the next receive buffer. */
  private deliverRx(): void {
    const t = this.transport;
    if (t === null) return;
    const queue = t.queue(RXQ);
    const ring = this.io.rx;
    const st = this.st;
    let taken = 0;
    for (let len = ring.peekLength(); len >= 0; len = ring.peekLength()) {
      const c = this.heldRx ?? queue.pop();
      this.heldRx = null;
      if (c === null) break; // no buffer: the frame waits in the ring
      if (c.readableLength !== 0 || c.writableLength < NET_HDR_SIZE + ETH_HLEN) {
        st[N_RX_BAD_CHAIN]++;
        queue.push(c.head, 0);
        continue;
      }
      if (NET_HDR_SIZE + len > c.writableLength || len > this.maxFrame) {
        ring.skip();
        taken++;
        st[N_RX_DROP_OVERSIZE]++;
        this.heldRx = c; // the buffer is good: keep it for the next frame
        continue;
      }
      ring.pop(this.frame);
      taken++;
      const buf = this.buf;
      buf.fill(0, 0, NET_HDR_SIZE);
      buf[HDR_NUM_BUFFERS] = 1; // §5.1.6.4: one buffer per packet without MRG_RXBUF
      c.write(0, buf.subarray(0, NET_HDR_SIZE + len));
      queue.push(c.head, NET_HDR_SIZE + len);
      st[N_RX_FRAMES]++;
      add64(st, N_RX_BYTES, len);
    }
    if (taken > 0 && Atomics.load(this.io.ctl, IO_RX_BLOCKED) !== 0) signal(this.io.ctl, IO_RX_SPACE);
  }
}
