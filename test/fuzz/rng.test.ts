// Fuzz virtio-rng through the harness: 10 000+ requests of every shape — writable buffers from
// 0 bytes to far beyond the 4 KiB served per request, split over buffers, readable ones mixed
// in — plus the harness's hostile chains. Every request comes back with exactly
// min(writable bytes, 4096) filled, the rest of its buffers untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioRng } from '../../src/devices/virtio-rng/rng';
import { type DescSpec, type FuzzDriver, type GenContext, type Placed, runFuzz } from './harness';

const MAX_PER_REQUEST = 4096;
const CANARY = 0x5a;

function request(ctx: GenContext): DescSpec[] {
  const { rng } = ctx;
  const out: DescSpec[] = [];
  if (rng.chance(0.1)) out.push({ addr: ctx.buffer(rng.bytes(8)), len: 1 + rng.int(8), write: false });
  const n = rng.chance(0.05) ? 0 : 1 + rng.int(4);
  for (let i = 0; i < n; i++) {
    const len = rng.chance(0.1) ? 0 : 1 + rng.int(rng.chance(0.2) ? 9000 : 600);
    out.push({ addr: ctx.buffer(new Uint8Array(len).fill(CANARY)), len, write: true });
  }
  if (out.length === 0) out.push({ addr: ctx.alloc(4), len: 4, write: true });
  return out;
}

test('fuzz: virtio-rng, 10 000+ requests: exactly min(writable, 4 KiB) random bytes each, nothing else touched', { timeout: 180_000 }, (t) => {
  const stats = { checked: 0, bytes: 0, capped: 0 };
  const used = (_q: number, len: number, p: Placed, drv: FuzzDriver, trusted: boolean): string[] => {
    if (!trusted) return [];
    const writable = p.specs.filter((s) => s.write);
    const total = writable.reduce((n, s) => n + s.len, 0);
    const want = Math.min(total, MAX_PER_REQUEST);
    if (len !== want) return [`used length ${len}, want ${want} of ${total} writable`];
    const data = Buffer.concat(writable.map((s) => drv.ram.u8.subarray(s.addr, s.addr + s.len)));
    if (data.subarray(want).some((b) => b !== CANARY)) return [`bytes beyond the ${want} served were touched`];
    if (want >= 64 && data.subarray(0, want).every((b) => b === CANARY)) return [`${want} bytes served but none changed`];
    stats.checked++;
    stats.bytes += want;
    if (total > MAX_PER_REQUEST) stats.capped++;
    return [];
  };
  const dev = new VirtioRng({ deterministic: true, seed: 7 });
  const r = runFuzz({ name: 'virtio-rng', seed: 0x4a6, chain: request, target: () => ({ device: dev, used }) });
  t.diagnostic(JSON.stringify({ ...r, ...stats, served: dev.bytesServed }));
  assert.ok(stats.checked > 7000, `${stats.checked} requests checked byte for byte`);
  assert.ok(stats.capped > 100, `${stats.capped} requests larger than 4 KiB got exactly 4 KiB`);
});
