// virtio-net (VirtIO 1.2 §5.1), device ID 1: one receive and one transmit queue, the MAC, the
// link status and the MTU in the configuration space, and mergeable receive buffers.
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
// - RX (wire → guest): with MRG_RXBUF (what Linux negotiates) a frame fills as many buffers as
//   it needs; without it each chain must hold header + frame (Linux then sizes its buffers for
//   the MTU: "small" or "big packets"). A frame waits in the rx ring until the guest has buffers
//   for it, and a full ring stops the backend reading: none is dropped for want of buffers.
// - MTU: up to 65520, passt's own; a large one cuts the guest's per-packet work (measured in
//   docs/virtio-net.md). The backend is told the same MTU (passt hands it out by DHCP).
// - Link: STATUS (LINK_UP) follows the backend; a change raises a configuration-change interrupt.
//
// Guest-controlled values that are wrong never throw and never put the device in needs-reset:
// a bad chain is returned empty and counted, a frame of bad length is dropped and counted
// (state.ts), so a buggy or hostile driver cannot take the link down for a well-behaved one.

import type { DescChain, VirtQueue, VirtioDevice, VirtioTransport } from '../../emulator/virtio/types';
import { VIRTIO_ID_NET, VIRTQ_DESC_F_WRITE } from '../../emulator/virtio/types';
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
  VIRTIO_NET_F_MRG_RXBUF,
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

/** The smallest MTU IPv4 allows (RFC 791), and passt's largest (64 KiB less headers, 4-aligned). */
export const MIN_MTU = 68;
export const MAX_MTU = 65520;

export interface VirtioNetOptions {
  /** "52:54:00:12:34:56" (default) or 6 bytes; must be unicast. */
  mac?: string | Uint8Array;
  /** 68..65520 (default 1500): offered as VIRTIO_NET_F_MTU, and what the backend should assign. */
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

/** What the device needs of its backend (backend.ts NetBackend). */
export interface NetBackendHandle {
  waitReady(timeoutMs: number): boolean;
  closeSync(): void;
}

export class VirtioNet implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_NET;
  readonly name = 'virtio-net';
  readonly queueNames = NET_QUEUE_NAMES;
  readonly queueMaxSize: number;
  readonly features: readonly [number, number] = [((1 << VIRTIO_NET_F_MAC) | (1 << VIRTIO_NET_F_STATUS) | (1 << VIRTIO_NET_F_MTU) | (1 << VIRTIO_NET_F_MRG_RXBUF)) >>> 0, 0];
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
  /** MRG_RXBUF negotiated: 1 / 0, -1 until the receive queue is first used after a reset. */
  private mergeable = -1;
  // A merged frame being written: its total (header + frame, -1: none), bytes written, the
  // chains holding it so far, and where num_buffers lives in the first one.
  private rxTotal = -1;
  private rxDone = 0;
  private rxParts = 0;
  private readonly rxHeads: Uint16Array;
  private readonly rxUsed: Uint32Array;
  private nbAddr0 = -1;
  private nbAddr1 = -1;
  private txWaiting = false;
  private backend: NetBackendHandle | null = null;
  /** Date.now() by which a starting backend should be up; 0 when nothing is to wait for. */
  private readyBy = 0;

  constructor(opts: VirtioNetOptions = {}) {
    const mac = typeof opts.mac === 'string' || opts.mac === undefined ? parseMac(opts.mac ?? DEFAULT_MAC) : opts.mac;
    if (mac === null || mac.length !== 6 || mac[0] & 1) throw new Error(`virtio-net: MAC ${String(opts.mac)} is not a unicast address like 52:54:00:12:34:56`);
    const mtu = opts.mtu ?? DEFAULT_MTU;
    if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) throw new Error(`virtio-net: MTU ${mtu} must be an integer in ${MIN_MTU}..${MAX_MTU}`);
    this.mac = Uint8Array.from(mac);
    this.mtu = mtu;
    this.maxFrame = maxFrameFor(mtu);
    this.queueMaxSize = opts.queueSize ?? 256;
    this.rxHeads = new Uint16Array(this.queueMaxSize);
    this.rxUsed = new Uint32Array(this.queueMaxSize);
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

  /** The counters the Devices scope reads (state.ts). */
  get sharedState(): SharedArrayBuffer {
    return this.state;
  }

  /**
   * The backend serving `channel`: the device stops it when the machine shuts down. A backend
   * still starting gets up to `readyWithinMs` more when the driver first reads the link status
   * (its probe, seconds into the boot: passt is up by then), so the guest's DHCP finds the link
   * up without the machine waiting for passt before its first instruction.
   */
  setBackend(backend: NetBackendHandle, readyWithinMs = 0): void {
    this.backend = backend;
    this.readyBy = readyWithinMs > 0 ? Date.now() + readyWithinMs : 0;
  }

  private awaitBackend(): void {
    const left = this.readyBy - Date.now();
    this.readyBy = 0;
    if (left > 0 && this.backend !== null) this.backend.waitReady(left);
    const link = Atomics.load(this.io.ctl, IO_LINK) === 1;
    if (link !== this.linkUp) this.setLink(link);
  }

  dispose(): void {
    const b = this.backend;
    this.backend = null;
    b?.closeSync();
  }

  // ---------------- configuration space ----------------

  readConfig(offset: number, width: 1 | 2 | 4): number {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = (v << 8) | this.configByte(offset + i);
    return v >>> 0;
  }

  private configByte(off: number): number {
    if (off >= CFG_MAC && off < CFG_MAC + 6) return this.mac[off - CFG_MAC];
    if (off === CFG_STATUS) {
      if (this.readyBy !== 0) this.awaitBackend();
      return this.linkUp ? VIRTIO_NET_S_LINK_UP : 0;
    }
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
    this.mergeable = -1;
    this.rxTotal = -1;
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
    const wasWaiting = this.txWaiting;
    this.txWaiting = false;
    while (queue.pending() > 0) {
      if (this.linkUp && !ring.fits(this.maxFrame)) {
        // The I/O thread is behind: leave the rest in the available ring, retry from poll().
        this.txWaiting = true;
        if (!wasWaiting) this.st[N_TX_STALLS]++;
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

  /** Backend → guest: each waiting frame into the guest's receive buffers. */
  private deliverRx(): void {
    const t = this.transport;
    if (t === null) return;
    const queue = t.queue(RXQ);
    if (!queue.isReady()) return;
    if (this.mergeable < 0) this.mergeable = t.driverFeatures[0] & (1 << VIRTIO_NET_F_MRG_RXBUF) ? 1 : 0;
    const taken = this.mergeable === 1 ? this.deliverMerged(queue) : this.deliverSingle(queue);
    if (taken > 0 && Atomics.load(this.io.ctl, IO_RX_BLOCKED) !== 0) signal(this.io.ctl, IO_RX_SPACE);
  }

  /** Without MRG_RXBUF: one frame per chain. Returns the frames taken from the ring. */
  private deliverSingle(queue: VirtQueue): number {
    const ring = this.io.rx;
    const st = this.st;
    let taken = 0;
    for (let len = ring.peekLength(); len >= 0; len = ring.peekLength()) {
      const c = this.heldRx ?? queue.pop();
      this.heldRx = null;
      if (c === null) break; // no buffer: the frame waits in the ring
      if (!this.usableRx(c, queue, NET_HDR_SIZE + ETH_HLEN)) continue;
      if (NET_HDR_SIZE + len > c.writableLength || len > this.maxFrame) {
        ring.skip();
        taken++;
        st[N_RX_DROP_OVERSIZE]++;
        this.heldRx = c; // the buffer is good: keep it for the next frame
        continue;
      }
      ring.pop(this.frame);
      taken++;
      this.startFrame();
      c.write(0, this.buf.subarray(0, NET_HDR_SIZE + len));
      queue.push(c.head, NET_HDR_SIZE + len);
      this.countRx(len);
    }
    return taken;
  }

  /**
   * With MRG_RXBUF (§5.1.6.4.2): a frame fills as many chains as it needs; num_buffers in the
   * header says how many. The chains go to the used ring together once the frame is whole, so
   * the driver never sees part of one; a frame waits, half written, for the guest's next buffers.
   */
  private deliverMerged(queue: VirtQueue): number {
    const ring = this.io.rx;
    let taken = 0;
    for (;;) {
      if (this.rxTotal < 0) {
        const len = ring.peekLength();
        if (len < 0) break;
        taken++;
        if (len > this.maxFrame) {
          ring.skip();
          this.st[N_RX_DROP_OVERSIZE]++;
          continue;
        }
        ring.pop(this.frame);
        this.startFrame();
        this.rxTotal = NET_HDR_SIZE + len;
        this.rxDone = 0;
        this.rxParts = 0;
      }
      const c = queue.pop();
      if (c === null) break; // the rest of the frame waits for buffers
      if (!this.usableRx(c, queue, this.rxParts === 0 ? NET_HDR_SIZE : 1)) continue;
      if (this.rxParts === 0) this.findNumBuffers(c);
      const n = Math.min(c.writableLength, this.rxTotal - this.rxDone);
      c.write(0, this.buf.subarray(this.rxDone, this.rxDone + n));
      this.rxHeads[this.rxParts] = c.head;
      this.rxUsed[this.rxParts++] = n;
      this.rxDone += n;
      if (this.rxDone === this.rxTotal) this.finishMerged(queue);
      else if (this.rxParts === this.rxHeads.length) this.abandonMerged(queue);
    }
    return taken;
  }

  /** A receive chain the device can write into (at least `min` bytes); else returned empty, counted. */
  private usableRx(c: DescChain, queue: VirtQueue, min: number): boolean {
    if (c.readableLength === 0 && c.writableLength >= min) return true;
    this.st[N_RX_BAD_CHAIN]++;
    queue.push(c.head, 0);
    return false;
  }

  /** The header in front of the frame in buf: zero, num_buffers 1 (rewritten when merged). */
  private startFrame(): void {
    const buf = this.buf;
    buf.fill(0, 0, NET_HDR_SIZE);
    buf[HDR_NUM_BUFFERS] = 1;
  }

  /** Where the first chain keeps num_buffers (bytes 10 and 11 of its writable part). */
  private findNumBuffers(c: DescChain): void {
    let off = 0;
    this.nbAddr0 = this.nbAddr1 = -1;
    for (let i = 0; i < c.count && this.nbAddr1 < 0; i++) {
      if (!(c.flags(i) & VIRTQ_DESC_F_WRITE)) continue;
      const len = c.len(i);
      if (this.nbAddr0 < 0 && HDR_NUM_BUFFERS < off + len) this.nbAddr0 = c.addr(i) + HDR_NUM_BUFFERS - off;
      if (HDR_NUM_BUFFERS + 1 < off + len) this.nbAddr1 = c.addr(i) + HDR_NUM_BUFFERS + 1 - off;
      off += len;
    }
  }

  private finishMerged(queue: VirtQueue): void {
    const ram = this.transport!.ram;
    const n = this.rxParts;
    ram.u8[this.nbAddr0 - ram.base] = n & 0xff;
    ram.u8[this.nbAddr1 - ram.base] = n >>> 8;
    ram.noteWrite(this.nbAddr0, 1);
    ram.noteWrite(this.nbAddr1, 1);
    for (let i = 0; i < n; i++) queue.push(this.rxHeads[i], this.rxUsed[i]);
    this.countRx(this.rxTotal - NET_HDR_SIZE);
    this.rxTotal = -1;
  }

  /** A driver whose buffers are so small a frame needs more than a ring of them: drop the frame. */
  private abandonMerged(queue: VirtQueue): void {
    for (let i = 0; i < this.rxParts; i++) queue.push(this.rxHeads[i], 0);
    this.st[N_RX_BAD_CHAIN] += this.rxParts;
    this.st[N_RX_DROP_OVERSIZE]++;
    this.rxTotal = -1;
  }

  private countRx(len: number): void {
    this.st[N_RX_FRAMES]++;
    add64(this.st, N_RX_BYTES, len);
  }
}
