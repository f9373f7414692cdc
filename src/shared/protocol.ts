// The data shapes and custom messages shared by the debug adapter, the extension and the webview
// panels — declared once here (types only: the webview bundle pulls no runtime code from here
// except the string constants).
//
// Producers: virtio/inspect.ts (QueueSnapshot), virtio/snd-layout.ts (StreamSnapshot), the debug
// adapter (custom requests/events), the extension (panel messages). Consumers: the Variables
// view's Devices scope, the levels panel, the virtqueue inspector.

// ---------- virtqueues (VirtIO 1.2 §2.7, split rings) ----------

export interface DescSnapshot {
  index: number; // descriptor table index
  addr: number; // guest-physical
  len: number;
  flags: number;
  flagNames: string; // 'NEXT|WRITE'
  next: number;
}

export interface ChainSnapshot {
  head: number;
  descriptors: DescSnapshot[];
  /** Human decoding of the chain's first bytes, when the device knows its protocol:
   *  'PCM_SET_PARAMS stream 0', 'xfer stream 0, 4096 PCM bytes', 'IN sector 2048 × 8'. */
  decoded?: string;
  /** True when the chain was cut short (loop, out of RAM, longer than the queue). */
  malformed?: string;
}

export interface QueueSnapshot {
  device: string; // 'virtio-snd'
  index: number; // queue index
  name: string; // 'txq'
  ready: boolean;
  size: number; // QueueNum
  maxSize: number;
  descAddr: number;
  availAddr: number; // "driver area"
  usedAddr: number; // "device area"
  availIdx: number; // avail.idx as the driver last wrote it
  availFlags: number;
  usedIdx: number; // used.idx as the device last wrote it
  usedFlags: number;
  lastAvailIdx: number; // the device's last-seen avail index
  inFlight: number; // chains the device popped and has not returned
  notifications: number; // QueueNotify writes for this queue
  interrupts: number; // used-buffer interrupts raised for the device
  /** Chains made available but not yet seen by the device (lastAvailIdx .. availIdx). */
  pending: ChainSnapshot[];
  /** Chains popped by the device and not yet in the used ring (when the device can tell). */
  held: ChainSnapshot[];
}

export interface DeviceSnapshot {
  name: string; // 'virtio-snd'
  deviceId: number;
  base: number; // MMIO base
  irq: number;
  status: number;
  statusNames: string; // 'ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK'
  deviceFeatures: [number, number];
  driverFeatures: [number, number];
  needsReset: boolean;
  interruptStatus: number;
  queues: QueueSnapshot[];
}

// ---------- virtio-snd streams (VirtIO 1.2 §5.14) ----------

export type StreamState = 'set-up' | 'prepared' | 'running' | 'stopped' | 'released';

export interface StreamSnapshot {
  id: number; // stream id
  direction: 'output' | 'input';
  state: StreamState;
  format: 'S16' | 'S32' | 'FLOAT' | null; // null until PCM_SET_PARAMS
  rate: number;
  channels: number;
  periodBytes: number;
  bufferBytes: number;
  backend: string; // 'portaudio:pulse', 'wav:/tmp/out.wav', 'null'
  backendFailure: string | null;
  ringFill: number; // frames in the host ring now
  ringCapacity: number; // frames
  framesMoved: number; // frames through the device since PREPARE
  buffersInFlight: number; // guest buffers the device holds
  xrunsGuest: number; // XRUN events sent to the guest
  xrunsHost: number; // host underruns (output) / overruns (input)
  peak: number; // linear 0..1, last window
  rms: number; // linear 0..1, last window
}

// ---------- custom DAP requests and events ----------

export const DAP_VIRTQUEUES = 'semu/virtqueues'; // request → { devices: DeviceSnapshot[] }
export const DAP_STREAMS = 'semu/streams'; // request → { streams: StreamSnapshot[] }
export const DAP_CONSOLE_INPUT = 'semu/consoleInput'; // request { text } → {}
export const DAP_LEVELS = 'semu/levels'; // event, ~20 Hz while running
export const DAP_STATE = 'semu/state'; // event { state: 'running' | 'paused' | 'exited' } on every change

export interface VirtqueuesResponseBody {
  devices: DeviceSnapshot[];
  running: boolean;
}
export interface StreamsResponseBody {
  streams: StreamSnapshot[];
  running: boolean;
}
export interface StateEventBody {
  state: 'running' | 'paused' | 'exited';
}
export interface ConsoleInputArguments {
  text: string;
}
export interface LevelsEventBody {
  time: number; // guest seconds
  running: boolean;
  /** Instructions retired by all harts so far (the status bar's MIPS). */
  instret?: number;
  streams: (Pick<StreamSnapshot, 'id' | 'direction' | 'state' | 'peak' | 'rms' | 'ringFill' | 'ringCapacity' | 'xrunsGuest' | 'xrunsHost' | 'format' | 'rate' | 'channels' | 'backend'> &
    Partial<Pick<StreamSnapshot, 'backendFailure'>>)[];
}

// ---------- DAP memoryReference for guest-physical memory ----------
// Descriptor addresses are guest-physical; the panels ask VS Code's memory view (DAP readMemory /
// writeMemory) for them with this reference, so the adapter must accept it: 'phys:0x' + 8 hex
// digits, offset added to the address. Other references (e.g. virtual addresses) are the
// adapter's own business.
export const PHYS_MEMORY_REFERENCE_PREFIX = 'phys:';

export function physMemoryReference(address: number): string {
  return PHYS_MEMORY_REFERENCE_PREFIX + '0x' + (address >>> 0).toString(16).padStart(8, '0');
}

/** The guest-physical address named by a physMemoryReference, or undefined for any other string. */
export function parsePhysMemoryReference(ref: string): number | undefined {
  const m = /^phys:0x([0-9a-f]{1,8})$/i.exec(ref);
  return m ? parseInt(m[1], 16) >>> 0 : undefined;
}

// ---------- extension ⇄ webview panels ----------

export type SessionState = 'none' | 'running' | 'paused';

export type ToPanel =
  | { type: 'session'; state: SessionState; name?: string }
  | { type: 'select'; device: string; queue: number }
  | { type: 'levels'; body: LevelsEventBody }
  | { type: 'streams'; body: StreamsResponseBody }
  | { type: 'virtqueues'; body: VirtqueuesResponseBody };

export type FromPanel =
  | { type: 'ready' }
  | { type: 'openMemory'; address: number; length: number }
  | { type: 'refresh' };
