// What the virtqueue inspector knows, independent of the DOM: the last snapshot of every virtio
// device (checked and trimmed so a hostile guest cannot make the panel draw 32768 chains), the
// indices of the snapshot before (to show ring activity since), the session state and the user's
// selection. Pure: unit-tested, and saved with setState so a hidden panel comes back as it was.
import type { ChainSnapshot, DescSnapshot, DeviceSnapshot, QueueSnapshot, SessionState, VirtqueuesResponseBody } from '../../src/shared/protocol';
import { count } from './format';
import type { PreviousIndices } from './ring-layout';
import { descFlagNames } from './virtio-names';

/** At most this many chains per list (pending / held) are kept and drawn; the rest are counted. */
export const MAX_CHAINS = 64;
/** At most this many descriptors per chain are kept. */
export const MAX_CHAIN_DESCRIPTORS = 64;

export interface Selection {
  device: string;
  queue: number;
  /** Descriptor table index the user picked in this queue, or null. */
  desc: number | null;
}

export interface QueueView extends QueueSnapshot {
  /** Chains dropped by the MAX_CHAINS cap. */
  pendingDropped: number;
  heldDropped: number;
}

export interface DeviceView extends Omit<DeviceSnapshot, 'queues'> {
  queues: QueueView[];
}

export interface SavedInspector {
  v: 1;
  session: SessionState;
  sessionName: string;
  devices: DeviceView[];
  running: boolean;
  selection: Selection | null;
}

export class InspectorModel {
  session: SessionState = 'none';
  sessionName = '';
  devices: DeviceView[] = [];
  /** Whether the machine was running when the snapshot was taken (live, may be mid-update). */
  running = false;
  /** Count of snapshots applied, to tell the user the view is alive. */
  snapshots = 0;
  selection: Selection | null = null;
  /** Indices of the previous snapshot, per "device/queue". */
  readonly prev = new Map<string, PreviousIndices>();
  version = 0;

  applySession(state: SessionState, name?: string): void {
    if (state === this.session && (name ?? this.sessionName) === this.sessionName) return;
    this.session = state;
    if (name !== undefined) this.sessionName = name;
    if (state === 'none') {
      this.devices = [];
      this.prev.clear();
      this.sessionName = name ?? '';
    }
    this.version++;
  }

  applyVirtqueues(body: VirtqueuesResponseBody): boolean {
    if (this.session === 'none') return false;
    this.prev.clear();
    for (const d of this.devices) for (const q of d.queues) this.prev.set(key(d.name, q.index), { availIdx: q.availIdx, usedIdx: q.usedIdx });
    this.devices = (Array.isArray(body.devices) ? body.devices : []).filter(isObj).map(sanitizeDevice);
    this.running = body.running === true;
    this.snapshots++;
    this.fixSelection();
    this.version++;
    return true;
  }

  select(device: string, queue: number): void {
    const same = this.selection && this.selection.device === device && this.selection.queue === queue;
    this.selection = { device, queue, desc: same ? this.selection!.desc : null };
    this.fixSelection();
    this.version++;
  }

  selectDesc(desc: number | null): void {
    if (!this.selection) return;
    this.selection = { ...this.selection, desc };
    this.version++;
  }

  selectedDevice(): DeviceView | undefined {
    return this.devices.find((d) => d.name === this.selection?.device);
  }

  selectedQueue(): QueueView | undefined {
    return this.selectedDevice()?.queues.find((q) => q.index === this.selection?.queue);
  }

  previous(device: string, queue: number): PreviousIndices | undefined {
    return this.prev.get(key(device, queue));
  }

  save(): SavedInspector {
    return { v: 1, session: this.session, sessionName: this.sessionName, devices: this.devices, running: this.running, selection: this.selection };
  }

  static restore(saved: unknown): InspectorModel {
    const m = new InspectorModel();
    const s = saved as Partial<SavedInspector> | undefined;
    if (!s || s.v !== 1) return m;
    m.session = ['none', 'running', 'paused'].includes(s.session as string) ? (s.session as SessionState) : 'none';
    m.sessionName = typeof s.sessionName === 'string' ? s.sessionName : '';
    m.devices = Array.isArray(s.devices) ? s.devices.filter(isObj).map(sanitizeDevice) : [];
    m.running = s.running === true;
    const sel = s.selection;
    if (sel && typeof sel.device === 'string') {
      m.selection = { device: sel.device, queue: count(sel.queue), desc: typeof sel.desc === 'number' ? count(sel.desc) : null };
    }
    m.fixSelection();
    return m;
  }

  /** Keeps the selection on an existing queue; picks a sensible one when there is none. */
  private fixSelection(): void {
    if (this.devices.length === 0) return; // keep the user's choice until devices come back
    const sel = this.selection;
    const dev = sel && this.devices.find((d) => d.name === sel.device);
    if (dev && dev.queues.some((q) => q.index === sel.queue)) return;
    const pick = dev ?? busiest(this.devices.filter((d) => d.queues.length > 0));
    if (!pick || pick.queues.length === 0) {
      this.selection = null;
      return;
    }
    const q = pick.queues.find((x) => x.ready) ?? pick.queues[0];
    this.selection = { device: pick.name, queue: q.index, desc: null };
  }
}

/** The device the guest kicks most (ties: the first): where a person most likely wants to look. */
function busiest(devices: DeviceSnapshot[]): DeviceSnapshot | undefined {
  const kicks = (d: DeviceSnapshot) => d.queues.reduce((n, q) => n + q.notifications, 0);
  return devices.reduce<DeviceSnapshot | undefined>((best, d) => (best === undefined || kicks(d) > kicks(best) ? d : best), undefined);
}

function key(device: string, queue: number): string {
  return `${device}/${queue}`;
}

const isObj = (v: unknown): boolean => typeof v === 'object' && v !== null;

const u32 = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v >>> 0 : 0);
const u16 = (v: unknown) => u32(v) & 0xffff;
const str = (v: unknown, dflt = '') => (typeof v === 'string' ? v : dflt);

function sanitizeDevice(raw: DeviceSnapshot): DeviceView {
  const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [u32(v[0]), u32(v[1])] : [0, 0]);
  return {
    name: str(raw.name, '?'),
    deviceId: u32(raw.deviceId),
    base: u32(raw.base),
    irq: u32(raw.irq),
    status: u32(raw.status) & 0xff,
    statusNames: str(raw.statusNames),
    deviceFeatures: pair(raw.deviceFeatures),
    driverFeatures: pair(raw.driverFeatures),
    needsReset: raw.needsReset === true,
    interruptStatus: u32(raw.interruptStatus),
    queues: (Array.isArray(raw.queues) ? raw.queues : []).filter(isObj).map(sanitizeQueue),
  };
}

function sanitizeQueue(raw: QueueSnapshot): QueueView {
  const chains = (v: unknown): ChainSnapshot[] => (Array.isArray(v) ? v.filter(isObj).slice(0, MAX_CHAINS).map(sanitizeChain) : []);
  const pendingAll = Array.isArray(raw.pending) ? raw.pending.length : 0;
  const heldAll = Array.isArray(raw.held) ? raw.held.length : 0;
  return {
    device: str(raw.device),
    index: count(raw.index),
    name: str(raw.name, `queue ${count(raw.index)}`),
    ready: raw.ready === true,
    size: Math.min(32768, count(raw.size)),
    maxSize: count(raw.maxSize),
    descAddr: u32(raw.descAddr),
    availAddr: u32(raw.availAddr),
    usedAddr: u32(raw.usedAddr),
    availIdx: u16(raw.availIdx),
    availFlags: u16(raw.availFlags),
    usedIdx: u16(raw.usedIdx),
    usedFlags: u16(raw.usedFlags),
    lastAvailIdx: u16(raw.lastAvailIdx),
    inFlight: count(raw.inFlight),
    notifications: count(raw.notifications),
    interrupts: count(raw.interrupts),
    pending: chains(raw.pending),
    held: chains(raw.held),
    pendingDropped: Math.max(0, pendingAll - MAX_CHAINS),
    heldDropped: Math.max(0, heldAll - MAX_CHAINS),
  };
}

function sanitizeChain(raw: ChainSnapshot): ChainSnapshot {
  const descs = Array.isArray(raw.descriptors) ? raw.descriptors.filter(isObj) : [];
  const out: ChainSnapshot = {
    head: u16(raw.head),
    descriptors: descs.slice(0, MAX_CHAIN_DESCRIPTORS).map(sanitizeDesc),
  };
  if (typeof raw.decoded === 'string' && raw.decoded) out.decoded = raw.decoded;
  let malformed = typeof raw.malformed === 'string' && raw.malformed ? raw.malformed : undefined;
  if (descs.length > MAX_CHAIN_DESCRIPTORS) malformed = (malformed ? malformed + '; ' : '') + `${descs.length - MAX_CHAIN_DESCRIPTORS} more descriptors not shown`;
  if (malformed) out.malformed = malformed;
  return out;
}

function sanitizeDesc(raw: DescSnapshot): DescSnapshot {
  const flags = u16(raw.flags);
  return {
    index: u16(raw.index),
    addr: u32(raw.addr),
    len: u32(raw.len),
    flags,
    flagNames: typeof raw.flagNames === 'string' ? raw.flagNames : descFlagNames(flags),
    next: u16(raw.next),
  };
}
