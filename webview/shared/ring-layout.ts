// Split-virtqueue arithmetic and geometry for the inspector (VirtIO 1.2 §2.7). Indices in the
// rings are free-running 16-bit counters; the slot they name is idx mod queue size. Everything
// here is pure: the inspector view only turns its results into SVG attributes and classes.
import type { ChainSnapshot, DescSnapshot, QueueSnapshot } from '../../src/shared/protocol';

/** How far `to` is ahead of `from` on a 16-bit free-running index. */
export function ringDistance(to: number, from: number): number {
  return ((to | 0) - (from | 0)) & 0xffff;
}

/** The ring slot a free-running index names. */
export function ringSlot(idx: number, size: number): number {
  return size > 0 ? (idx & 0xffff) % size : 0;
}

export type DescRole = 'free' | 'pending' | 'held' | 'conflict';
export type AvailRole = 'idle' | 'pending' | 'fresh';
export type UsedRole = 'idle' | 'fresh';

export interface DescInfo {
  desc: DescSnapshot;
  role: 'pending' | 'held';
  head: number;
  /** Position within its chain, 0 = head. */
  position: number;
}

export interface QueueLayout {
  size: number;
  /** avail.idx − last_avail_idx: chains made available that the device has not taken yet. */
  pendingCount: number;
  /** The driver claims more pending entries than the ring has slots: a broken driver or a torn read. */
  overrun: boolean;
  availSlot: number; // where the driver writes next
  lastAvailSlot: number; // where the device reads next
  usedSlot: number; // where the device writes next
  descRoles: DescRole[];
  availRoles: AvailRole[];
  usedRoles: UsedRole[];
  /** Head descriptor of the chain at each pending avail slot, when known. */
  availHeads: Map<number, number>;
  /** Descriptors the snapshot decoded, by table index. */
  known: Map<number, DescInfo>;
}

/** Largest queue the inspector lays out slot by slot; bigger (hostile) sizes are clamped. */
export const MAX_LAYOUT_SIZE = 32768;

export interface PreviousIndices {
  availIdx: number;
  usedIdx: number;
}

/**
 * Classifies every descriptor and ring slot of a queue snapshot. `prev` is the snapshot before
 * (same queue), so the slots written since then can be shown as fresh activity.
 */
export function layoutQueue(q: QueueSnapshot, prev?: PreviousIndices): QueueLayout {
  const size = Math.max(0, Math.min(MAX_LAYOUT_SIZE, q.size | 0));
  const pendingCount = ringDistance(q.availIdx, q.lastAvailIdx);
  const descRoles: DescRole[] = new Array(size).fill('free');
  const availRoles: AvailRole[] = new Array(size).fill('idle');
  const usedRoles: UsedRole[] = new Array(size).fill('idle');
  const known = new Map<number, DescInfo>();
  const availHeads = new Map<number, number>();

  const mark = (chains: ChainSnapshot[] | undefined, role: 'pending' | 'held') => {
    for (const chain of chains ?? []) {
      chain.descriptors?.forEach((d, position) => {
        const i = d.index | 0;
        if (i < 0 || i >= size) return;
        // A descriptor in two live chains at once is a driver (or device) bug worth seeing.
        descRoles[i] = descRoles[i] === 'free' ? role : 'conflict';
        if (!known.has(i)) known.set(i, { desc: d, role, head: chain.head, position });
      });
    }
  };
  mark(q.pending, 'pending');
  mark(q.held, 'held');

  if (size > 0) {
    if (prev) {
      fill(availRoles, ringSlot(prev.availIdx, size), Math.min(size, ringDistance(q.availIdx, prev.availIdx)), 'fresh');
      fill(usedRoles, ringSlot(prev.usedIdx, size), Math.min(size, ringDistance(q.usedIdx, prev.usedIdx)), 'fresh');
    }
    const first = ringSlot(q.lastAvailIdx, size);
    fill(availRoles, first, Math.min(size, pendingCount), 'pending');
    (q.pending ?? []).forEach((chain, i) => {
      if (i < size && i < pendingCount) availHeads.set((first + i) % size, chain.head);
    });
  }

  return {
    size,
    pendingCount,
    overrun: pendingCount > size,
    availSlot: ringSlot(q.availIdx, size),
    lastAvailSlot: ringSlot(q.lastAvailIdx, size),
    usedSlot: ringSlot(q.usedIdx, size),
    descRoles,
    availRoles,
    usedRoles,
    availHeads,
    known,
  };
}

function fill<T>(arr: T[], start: number, n: number, v: T): void {
  for (let k = 0; k < n; k++) arr[(start + k) % arr.length] = v;
}

export interface Run<T> {
  start: number;
  count: number;
  role: T;
}

/** Contiguous runs of one role (skipping `skip`), so a 1024-slot ring draws as a few arcs. */
export function runsOf<T>(roles: readonly T[], skip: T): Run<T>[] {
  const out: Run<T>[] = [];
  let i = 0;
  while (i < roles.length) {
    const role = roles[i];
    let j = i + 1;
    while (j < roles.length && roles[j] === role) j++;
    if (role !== skip) out.push({ start: i, count: j - i, role });
    i = j;
  }
  return out;
}

// ---------- geometry: slot k of n spans the angles [k, k+1)·2π/n, clockwise from 12 o'clock ----------

export function slotAngle(slot: number, size: number): number {
  return -Math.PI / 2 + (2 * Math.PI * slot) / (size > 0 ? size : 1);
}

export function polar(cx: number, cy: number, r: number, angle: number): [number, number] {
  return [cx + r * Math.cos(angle), cy + r * Math.sin(angle)];
}

const f = (v: number) => (Math.round(v * 100) / 100).toString();

/**
 * SVG path of the annular sector covering `count` slots from `start` between radii rInner..rOuter.
 * A full ring (count ≥ size) is two circles, to be filled with fill-rule evenodd.
 */
export function sectorPath(cx: number, cy: number, rOuter: number, rInner: number, start: number, count: number, size: number): string {
  if (size <= 0 || count <= 0) return '';
  if (count >= size) {
    const circle = (r: number) =>
      `M${f(cx - r)} ${f(cy)}A${f(r)} ${f(r)} 0 1 1 ${f(cx + r)} ${f(cy)}A${f(r)} ${f(r)} 0 1 1 ${f(cx - r)} ${f(cy)}Z`;
    return circle(rOuter) + circle(rInner);
  }
  const a0 = slotAngle(start, size);
  const a1 = slotAngle(start + count, size);
  const large = count * 2 > size ? 1 : 0;
  const [x0, y0] = polar(cx, cy, rOuter, a0);
  const [x1, y1] = polar(cx, cy, rOuter, a1);
  const [x2, y2] = polar(cx, cy, rInner, a1);
  const [x3, y3] = polar(cx, cy, rInner, a0);
  return (
    `M${f(x0)} ${f(y0)}A${f(rOuter)} ${f(rOuter)} 0 ${large} 1 ${f(x1)} ${f(y1)}` +
    `L${f(x2)} ${f(y2)}A${f(rInner)} ${f(rInner)} 0 ${large} 0 ${f(x3)} ${f(y3)}Z`
  );
}

/** A radial tick at the leading edge of `slot` (where a free-running index points). */
export function tickPath(cx: number, cy: number, r0: number, r1: number, slot: number, size: number): string {
  const a = slotAngle(slot, size);
  const [x0, y0] = polar(cx, cy, r0, a);
  const [x1, y1] = polar(cx, cy, r1, a);
  return `M${f(x0)} ${f(y0)}L${f(x1)} ${f(y1)}`;
}
