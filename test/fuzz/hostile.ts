// Transport-level hostility: what a broken or malicious driver can do to a chain the generator
// made, applied to its descriptors in guest RAM before (or instead of) publishing it. Every kind
// is something VirtIO 1.2 §2.7 forbids a driver to do; the device must survive all of them —
// reject the chain (DEVICE_NEEDS_RESET) or, where the chain is still well formed (buffers aimed
// at the rings), process it — and never throw, hang or touch memory outside RAM.

import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../../src/emulator/virtio/types';
import type { FuzzDriver, Placed } from './driver';
import type { Rng } from './rng';

export const DIRECT_KINDS = ['loop', 'huge-len', 'high-addr', 'ring-aimed', 'bad-order', 'next-range', 'head-range', 'avail-jump', 'stale-heads'] as const;
export const INDIRECT_KINDS = ['indirect-nested', 'indirect-with-next', 'indirect-bad-len', 'indirect-outside-ram', 'indirect-too-long', 'indirect-next-range', 'indirect-loop', 'indirect-4gib'] as const;
export type HostileKind = (typeof DIRECT_KINDS)[number] | (typeof INDIRECT_KINDS)[number];

export interface HostileResult {
  /** Publish the chain as placed (false: the kind published something else itself). */
  publish: boolean;
  /** The device may now write into the rings or see heads twice: used entries are not checkable. */
  corrupts: boolean;
}

function desc(drv: FuzzDriver, table: number, i: number): { addr: number; len: number; flags: number; next: number } {
  const d = table + 16 * i;
  return { addr: drv.ram.read32(d), len: drv.ram.read32(d + 8), flags: drv.ram.read16(d + 12), next: drv.ram.read16(d + 14) };
}

function patch(drv: FuzzDriver, table: number, i: number, f: Partial<{ addr: number; len: number; flags: number; next: number; addrHi: number }>): void {
  const cur = desc(drv, table, i);
  drv.writeDesc(table, i, f.addr ?? cur.addr, f.len ?? cur.len, f.flags ?? cur.flags, f.next ?? cur.next, f.addrHi ?? 0);
}

/** The kinds that apply to a placed chain (indirect ones only to an indirect chain). */
export function kindsFor(p: Placed, drv: FuzzDriver): readonly HostileKind[] {
  return p.table !== drv.queues[p.q].desc ? [...DIRECT_KINDS, ...INDIRECT_KINDS] : DIRECT_KINDS;
}

export function applyHostile(kind: HostileKind, drv: FuzzDriver, p: Placed, rng: Rng): HostileResult {
  const fq = drv.queues[p.q];
  const n = p.index.length;
  const any = () => p.index[rng.int(n)];
  const last = p.index[n - 1];
  const ok = { publish: true, corrupts: false };
  switch (kind) {
    case 'loop': {
      // The last descriptor continues at an earlier one of the same chain (or itself).
      patch(drv, p.table, last, { flags: desc(drv, p.table, last).flags | VIRTQ_DESC_F_NEXT, next: p.index[rng.int(n)] });
      return ok;
    }
    case 'huge-len':
      patch(drv, p.table, any(), { len: rng.pick([0xffffffff, 0xfffffff0, 0x80000000, drv.ram.size + 1 + rng.int(4096)]) });
      return ok;
    case 'high-addr':
      patch(drv, p.table, any(), { addrHi: 1 + rng.int(0xffff) });
      return ok;
    case 'ring-aimed': {
      // A buffer that is the descriptor table, the available or the used ring of some queue.
      const target = drv.queues[rng.int(drv.queues.length)];
      const ring = rng.pick([
        { at: target.desc, len: 16 * target.size },
        { at: target.avail, len: 6 + 2 * target.size },
        { at: target.used, len: 6 + 8 * target.size },
      ]);
      const i = any();
      patch(drv, p.table, i, { addr: ring.at + rng.int(ring.len), len: 1 + rng.int(ring.len) });
      return { publish: true, corrupts: (desc(drv, p.table, i).flags & VIRTQ_DESC_F_WRITE) !== 0 };
    }
    case 'bad-order':
      if (n < 2) return ok;
      patch(drv, p.table, p.index[0], { flags: desc(drv, p.table, p.index[0]).flags | VIRTQ_DESC_F_WRITE });
      patch(drv, p.table, last, { flags: desc(drv, p.table, last).flags & ~VIRTQ_DESC_F_WRITE });
      return ok;
    case 'next-range':
      patch(drv, p.table, last, { flags: desc(drv, p.table, last).flags | VIRTQ_DESC_F_NEXT, next: fq.size + rng.int(0x10000 - fq.size) });
      return ok;
    case 'head-range':
      // An avail entry naming a head beyond the ring; the chain itself is never made available.
      for (const s of p.slots) fq.free.push(s);
      drv.publishHead(p.q, fq.size + rng.int(0x10000 - fq.size));
      return { publish: false, corrupts: true }; // available but never tracked: not countable
    case 'avail-jump':
      // avail.idx moves past slots never filled: more than a ring ahead, or into stale heads.
      drv.publish(p);
      drv.jumpAvail(p.q, rng.chance(0.5) ? fq.size + 1 + rng.int(1000) : 1 + rng.int(fq.size));
      return { publish: false, corrupts: true };
    case 'stale-heads':
      // Heads the device may be holding, made available again.
      drv.publish(p);
      for (let k = rng.int(3); k >= 0; k--) drv.publishHead(p.q, rng.int(fq.size));
      return { publish: false, corrupts: true };
    default:
      return indirectHostile(kind, drv, p, rng);
  }
}

function indirectHostile(kind: HostileKind, drv: FuzzDriver, p: Placed, rng: Rng): HostileResult {
  const fq = drv.queues[p.q];
  const head = p.slots[0];
  const n = p.index.length;
  const ok = { publish: true, corrupts: false };
  switch (kind) {
    case 'indirect-nested':
      patch(drv, p.table, rng.int(n), { flags: VIRTQ_DESC_F_INDIRECT, len: 16, addr: p.table });
      return ok;
    case 'indirect-with-next':
      patch(drv, fq.desc, head, { flags: VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, next: rng.int(fq.size) });
      return ok;
    case 'indirect-bad-len':
      patch(drv, fq.desc, head, { len: rng.pick([0, 8, 16 * n + 1 + rng.int(15)]) });
      return ok;
    case 'indirect-outside-ram':
      patch(drv, fq.desc, head, { addr: drv.ram.size - 8 * rng.int(4), addrHi: rng.chance(0.3) ? 1 : 0 });
      return ok;
    case 'indirect-too-long': {
      const entries = fq.size + 1 + rng.int(64);
      const table = drv.alloc(16 * entries, 16);
      drv.ram.u8.fill(0, table, table + 16 * entries);
      patch(drv, fq.desc, head, { addr: table, len: 16 * entries });
      return ok;
    }
    case 'indirect-next-range':
      patch(drv, p.table, n - 1, { flags: desc(drv, p.table, n - 1).flags | VIRTQ_DESC_F_NEXT, next: n + rng.int(0x10000 - n) });
      return ok;
    case 'indirect-loop':
      patch(drv, p.table, n - 1, { flags: desc(drv, p.table, n - 1).flags | VIRTQ_DESC_F_NEXT, next: rng.int(n) });
      return ok;
    case 'indirect-4gib': {
      // A table whose entries each span all of RAM: together up to 2^32 bytes or more.
      const entries = Math.min(fq.size, 1 + rng.int(fq.size));
      const table = drv.alloc(16 * entries, 16);
      const write = rng.chance(0.5) ? VIRTQ_DESC_F_WRITE : 0;
      for (let i = 0; i < entries; i++) drv.writeDesc(table, i, 0, drv.ram.size, write | (i < entries - 1 ? VIRTQ_DESC_F_NEXT : 0), i + 1);
      patch(drv, fq.desc, head, { addr: table, len: 16 * entries });
      // A writable one lets the device write anywhere in RAM, the rings included.
      p.writable = write ? entries * drv.ram.size : 0;
      return { publish: true, corrupts: write !== 0 };
    }
    default:
      return ok;
  }
}
