// The channel between the device (emulator thread) and its backend's I/O thread: one
// SharedArrayBuffer holding control words and two frame rings — rx (backend → guest) and tx
// (guest → backend). Pure: no node: imports.
//
// Who writes what: the backend owns IO_LINK, IO_RX_HEAD, IO_TX_TAIL, IO_RX_BLOCKED; the device
// owns IO_RX_TAIL, IO_TX_HEAD; either side bumps and notifies the signal words the other waits on.

import { FrameRing } from './frame-ring';

export const IO_RX_HEAD = 0;
export const IO_RX_TAIL = 1;
export const IO_TX_HEAD = 2;
export const IO_TX_TAIL = 3;
/** Bumped and notified by the device after it appends tx frames (the I/O thread waits on it). */
export const IO_TX_SIGNAL = 4;
/** Bumped and notified by the device after it takes rx frames while IO_RX_BLOCKED is set. */
export const IO_RX_SPACE = 5;
/** Set by the I/O thread while it holds a frame the rx ring has no room for. */
export const IO_RX_BLOCKED = 6;
/** 1 while the backend is connected (the device mirrors it into the guest's link status). */
export const IO_LINK = 7;
/** Set by the owner to make the I/O thread stop (bumps IO_TX_SIGNAL too, to wake it). */
export const IO_QUIT = 8;
const IO_RX_CAP = 9;
const IO_TX_CAP = 10;
/** Set by the I/O thread before it closes the pcap file (from then on the file is its to close). */
export const IO_PCAP_CLOSING = 11;
/** Set and notified by the I/O thread as its last act: the child is gone, the pcap closed. */
export const IO_CLOSED = 12;
const IO_INTS = 16;

/** Default ring sizes: enough for a TCP window of frames each way while a side is busy. */
export const DEFAULT_RX_RING = 1 << 20;
export const DEFAULT_TX_RING = 512 << 10;

export interface NetIo {
  readonly sab: SharedArrayBuffer;
  readonly ctl: Int32Array;
  readonly rx: FrameRing;
  readonly tx: FrameRing;
}

export function allocateNetIo(rxBytes = DEFAULT_RX_RING, txBytes = DEFAULT_TX_RING): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(IO_INTS * 4 + rxBytes + txBytes);
  const ctl = new Int32Array(sab, 0, IO_INTS);
  ctl[IO_RX_CAP] = rxBytes;
  ctl[IO_TX_CAP] = txBytes;
  openNetIo(sab); // validates the sizes
  return sab;
}

export function openNetIo(sab: SharedArrayBuffer): NetIo {
  const ctl = new Int32Array(sab, 0, IO_INTS);
  const rxCap = ctl[IO_RX_CAP];
  const txCap = ctl[IO_TX_CAP];
  if (IO_INTS * 4 + rxCap + txCap !== sab.byteLength) throw new Error(`virtio-net channel of ${sab.byteLength} bytes does not match its rings (${rxCap} + ${txCap})`);
  const rx = new FrameRing(ctl, IO_RX_HEAD, IO_RX_TAIL, new Uint8Array(sab, IO_INTS * 4, rxCap));
  const tx = new FrameRing(ctl, IO_TX_HEAD, IO_TX_TAIL, new Uint8Array(sab, IO_INTS * 4 + rxCap, txCap));
  return { sab, ctl, rx, tx };
}

/** Bumps a signal word and wakes whoever waits on it. */
export function signal(ctl: Int32Array, at: number): void {
  Atomics.add(ctl, at, 1);
  Atomics.notify(ctl, at);
}
