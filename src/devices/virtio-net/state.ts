// virtio-net's live state as the debugger's Devices scope and the panels read it: one small
// SharedArrayBuffer (`VirtioNet.state`) of int32 slots, written with plain stores by the device
// (emulator thread) and by the network I/O thread, each slot by exactly one of them, and read
// from any thread without messaging. Pure: no node: imports.
//
//   slots [0, SLOTS)            counters and flags (int32; 64-bit byte counts as lo/hi pairs)
//   bytes [DESC_AT, +STR_BYTES) what the backend is ("passt 2023_03_09 pid 1234, tcp 127.0.0.1:8080 → 80")
//   bytes [ERROR_AT, +STR_BYTES) why the link is down, if it is ("passt is not installed: ...")
// Each string sits under its own sequence slot (odd while written); readers retry on a change.

import { formatMac } from './proto';

export const NET_STATE_MAGIC = 0x3154454e; // 'NET1' as a little-endian word
export const NET_STATE_VERSION = 1;

export const N_MAGIC = 0;
export const N_VERSION = 1;
/** What the guest's config space says: 1 link up, 0 down (device). */
export const N_LINK = 2;
/** BackendState (I/O thread, or the backend's constructor before it starts). */
export const N_BACKEND_STATE = 3;
/** The backend child's process id, 0 when none (I/O thread). */
export const N_CHILD_PID = 4;
export const N_MTU = 5;
/** MAC bytes 0-3 and 4-5, little-endian (device, once). */
export const N_MAC_LO = 6;
export const N_MAC_HI = 7;
/** Link-status changes signalled to the guest by a configuration-change interrupt (device). */
export const N_LINK_CHANGES = 8;
// Device counters: frames and bytes (Ethernet frame, virtio header excluded, as Linux counts).
export const N_RX_FRAMES = 9;
export const N_RX_BYTES = 10; // + 11
export const N_TX_FRAMES = 12;
export const N_TX_BYTES = 13; // + 14
/** Received frames larger than the guest's receive buffer: dropped. */
export const N_RX_DROP_OVERSIZE = 15;
/** Receive chains the driver made wrongly (readable descriptors, too small for a header): returned empty. */
export const N_RX_BAD_CHAIN = 16;
/** Transmitted frames shorter than an Ethernet header or longer than the MTU allows: dropped. */
export const N_TX_DROP_LENGTH = 17;
/** Transmitted while the link was down: dropped. */
export const N_TX_DROP_LINK = 18;
/** Transmit chains with writable descriptors, no header, or offloads never negotiated: dropped. */
export const N_TX_BAD_CHAIN = 19;
/** Times the transmit ring to the backend was full and the device left chains for later. */
export const N_TX_STALLS = 20;
// Backend counters (I/O thread): frames crossing the socket.
export const N_B_RX_FRAMES = 21;
export const N_B_RX_BYTES = 22; // + 23
export const N_B_TX_FRAMES = 24;
export const N_B_TX_BYTES = 25; // + 26
/** Frames from the backend with a bad length (< 14 bytes or over 64 KiB): dropped. */
export const N_B_RX_DROP_LENGTH = 27;
/** Times the receive ring was full and the I/O thread stopped reading the socket for a while. */
export const N_B_RX_STALLS = 28;
export const N_PCAP_FRAMES = 29;
/** 1 once writing the pcap file failed (the error string says why). */
export const N_PCAP_FAILED = 30;
export const N_DESC_SEQ = 31;
export const N_ERROR_SEQ = 32;
export const SLOTS = 40;

export const STR_BYTES = 384;
const DESC_AT = SLOTS * 4;
const ERROR_AT = DESC_AT + STR_BYTES;
const STATE_BYTES = ERROR_AT + STR_BYTES;

export const enum BackendState {
  None = 0,
  Starting = 1,
  Up = 2,
  Down = 3,
  Closed = 4,
}
const BACKEND_STATE_NAMES = ['none', 'starting', 'up', 'down', 'closed'];

export function allocateNetState(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(STATE_BYTES);
  const i32 = new Int32Array(sab, 0, SLOTS);
  i32[N_MAGIC] = NET_STATE_MAGIC;
  i32[N_VERSION] = NET_STATE_VERSION;
  return sab;
}

/** Adds n (< 2^31) to the 64-bit counter at slots [at, at + 1]; single writer. */
export function add64(i32: Int32Array, at: number, n: number): void {
  const lo = (i32[at] >>> 0) + n;
  i32[at] = lo | 0;
  if (lo > 0xffffffff) i32[at + 1] = (i32[at + 1] + 1) | 0;
}

/** Reads a 64-bit counter written by another thread (retries if the high word moved). */
export function read64(i32: Int32Array, at: number): number {
  for (;;) {
    const hi = i32[at + 1];
    const lo = i32[at] >>> 0;
    if (i32[at + 1] === hi) return (hi >>> 0) * 4294967296 + lo;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes the backend description (which: 'desc') or the link-down reason ('error'). */
export function writeNetString(sab: SharedArrayBuffer, which: 'desc' | 'error', text: string): void {
  const i32 = new Int32Array(sab, 0, SLOTS);
  const seq = which === 'desc' ? N_DESC_SEQ : N_ERROR_SEQ;
  const bytes = new Uint8Array(sab, which === 'desc' ? DESC_AT : ERROR_AT, STR_BYTES);
  Atomics.add(i32, seq, 1);
  bytes.fill(0);
  const enc = encoder.encode(text);
  // Cut at a character boundary: never leave half a UTF-8 sequence at the end.
  let n = Math.min(enc.length, STR_BYTES);
  while (n > 0 && n < enc.length && (enc[n] & 0xc0) === 0x80) n--;
  bytes.set(enc.subarray(0, n));
  Atomics.add(i32, seq, 1);
}

export function readNetString(sab: SharedArrayBuffer, which: 'desc' | 'error'): string {
  const i32 = new Int32Array(sab, 0, SLOTS);
  const seq = which === 'desc' ? N_DESC_SEQ : N_ERROR_SEQ;
  const bytes = new Uint8Array(sab, which === 'desc' ? DESC_AT : ERROR_AT, STR_BYTES);
  for (let tries = 0; ; tries++) {
    const s0 = Atomics.load(i32, seq);
    const copy = bytes.slice();
    if ((s0 & 1) === 0 && Atomics.load(i32, seq) === s0) {
      const end = copy.indexOf(0);
      return decoder.decode(end < 0 ? copy : copy.subarray(0, end));
    }
    if (tries > 1000) return ''; // a writer died mid-update: better empty than stuck
  }
}

/** What the Devices scope shows for the network card: plain JSON. */
export interface NetStateJson {
  mac: string;
  mtu: number;
  link: 'up' | 'down';
  linkChanges: number;
  backend: { description: string; state: string; pid: number | null; error: string | null };
  rx: { frames: number; bytes: number; droppedOversize: number; badChains: number };
  tx: { frames: number; bytes: number; droppedLength: number; droppedLinkDown: number; badChains: number; stalls: number };
  wire: { rxFrames: number; rxBytes: number; txFrames: number; txBytes: number; rxDroppedLength: number; rxStalls: number };
  pcap: { frames: number; failed: boolean };
}

/** Reads the state; null when the buffer is not a virtio-net state block. */
export function readNetState(sab: SharedArrayBuffer): NetStateJson | null {
  if (sab.byteLength < STATE_BYTES) return null;
  const i = new Int32Array(sab, 0, SLOTS);
  if (i[N_MAGIC] !== NET_STATE_MAGIC || i[N_VERSION] !== NET_STATE_VERSION) return null;
  const mac = [i[N_MAC_LO], i[N_MAC_LO] >>> 8, i[N_MAC_LO] >>> 16, i[N_MAC_LO] >>> 24, i[N_MAC_HI], i[N_MAC_HI] >>> 8];
  const error = readNetString(sab, 'error');
  const u = (slot: number) => i[slot] >>> 0;
  return {
    mac: formatMac(mac),
    mtu: i[N_MTU],
    link: i[N_LINK] === 1 ? 'up' : 'down',
    linkChanges: u(N_LINK_CHANGES),
    backend: {
      description: readNetString(sab, 'desc'),
      state: BACKEND_STATE_NAMES[i[N_BACKEND_STATE]] ?? `state ${i[N_BACKEND_STATE]}`,
      pid: i[N_CHILD_PID] > 0 ? i[N_CHILD_PID] : null,
      error: error === '' ? null : error,
    },
    rx: { frames: u(N_RX_FRAMES), bytes: read64(i, N_RX_BYTES), droppedOversize: u(N_RX_DROP_OVERSIZE), badChains: u(N_RX_BAD_CHAIN) },
    tx: {
      frames: u(N_TX_FRAMES),
      bytes: read64(i, N_TX_BYTES),
      droppedLength: u(N_TX_DROP_LENGTH),
      droppedLinkDown: u(N_TX_DROP_LINK),
      badChains: u(N_TX_BAD_CHAIN),
      stalls: u(N_TX_STALLS),
    },
    wire: {
      rxFrames: u(N_B_RX_FRAMES),
      rxBytes: read64(i, N_B_RX_BYTES),
      txFrames: u(N_B_TX_FRAMES),
      txBytes: read64(i, N_B_TX_BYTES),
      rxDroppedLength: u(N_B_RX_DROP_LENGTH),
      rxStalls: u(N_B_RX_STALLS),
    },
    pcap: { frames: u(N_PCAP_FRAMES), failed: i[N_PCAP_FAILED] !== 0 },
  };
}
