// Fuzz the virtqueue layer itself (queue.ts through the virtio-mmio transport): an auditing
// device checks every chain pop() hands it — inside RAM, readable before writable, never longer
// than the ring, never more than 2^32 - 1 bytes, and, for a chain no hostile edit touched,
// exactly the descriptors and bytes the driver wrote, direct or through an indirect table — then
// completes it at once or later, in any order, with a used length within its writable part.
// The harness adds loops, bad indirect tables, lengths up to 2^32 - 1, high address words,
// buffers aimed at the rings and avail-index jumps, at a much higher rate than for devices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DescChain, VirtioDevice, VirtioTransport } from '../../src/emulator/virtio/types';
import { VIRTQ_DESC_F_WRITE } from '../../src/emulator/virtio/types';
import { type FuzzDriver, type GenContext, type DescSpec, runFuzz } from './harness';

const MAX_CHAIN_BYTES = 0xffffffff;

class AuditDevice implements VirtioDevice {
  readonly deviceId = 0x7e;
  readonly name = 'virtio-audit';
  readonly queueNames = ['q0', 'q1', 'q2'];
  readonly queueMaxSize = 64;
  readonly features: readonly [number, number] = [0, 0];
  readonly configSize = 0;
  drv: FuzzDriver | null = null;
  problems: string[] = [];
  popped = 0;
  exact = 0;
  private t: VirtioTransport | null = null;
  private heldBy: number[][] = [[], [], []];
  private heldLen: number[][] = [[], [], []];
  private readonly scratch = new Uint8Array(1 << 16);

  attach(t: VirtioTransport): void {
    this.t = t;
  }
  readConfig(): number {
    return 0;
  }
  writeConfig(): void {}
  reset(): void {
    this.heldBy = [[], [], []];
    this.heldLen = [[], [], []];
  }
  held(q: number): number {
    return this.heldBy[q].length;
  }

  onNotify(q: number): void {
    const queue = this.t!.queue(q);
    for (let c = queue.pop(); c !== null; c = queue.pop()) {
      this.popped++;
      this.audit(q, c);
      const n = Math.min(c.writableLength, (c.head * 131 + this.popped) % 300);
      const wrote = n > 0 ? c.write(0, this.scratch.subarray(0, n).fill(c.head & 0xff)) : 0;
      if (this.popped % 3 === 0) {
        this.heldBy[q].push(c.head); // completed later, maybe out of order
        this.heldLen[q].push(wrote);
      } else {
        queue.push(c.head, wrote);
      }
    }
  }

  /** Returns some held chains, newest first (out of order). */
  completeSome(q: number, k: number): void {
    const queue = this.t!.queue(q);
    for (let i = 0; i < k && this.heldBy[q].length > 0; i++) queue.push(this.heldBy[q].pop()!, this.heldLen[q].pop()!);
  }

  private audit(q: number, c: DescChain): void {
    const ram = this.drv!.ram;
    const fail = (why: string): void => {
      this.problems.push(`queue ${q} head ${c.head}: ${why}`);
    };
    if (c.count < 1 || c.count > this.drv!.queues[q].size) fail(`${c.count} descriptors`);
    let readable = 0;
    let writable = 0;
    for (let i = 0; i < c.count; i++) {
      const w = (c.flags(i) & VIRTQ_DESC_F_WRITE) !== 0;
      if (!ram.contains(c.addr(i), c.len(i))) fail(`descriptor ${i} [0x${c.addr(i).toString(16)}, +${c.len(i)}) outside RAM`);
      if (!w && writable > 0) fail(`readable descriptor ${i} after a writable one`);
      if (w) writable += c.len(i);
      else readable += c.len(i);
    }
    if (readable !== c.readableLength || writable !== c.writableLength) fail(`lengths ${c.readableLength}/${c.writableLength}, descriptors say ${readable}/${writable}`);
    if (readable + writable > MAX_CHAIN_BYTES) fail(`${readable + writable} bytes`);
    const p = this.drv!.queues[q].inflight.get(c.head);
    if (!p || p.hostile || this.drv!.corrupted) return;
    // Untouched: exactly what the driver wrote, bytes included.
    if (c.count !== p.specs.length) return fail(`${c.count} descriptors, the driver wrote ${p.specs.length}`);
    p.specs.forEach((s, i) => {
      if (c.addr(i) !== s.addr || c.len(i) !== s.len || ((c.flags(i) & VIRTQ_DESC_F_WRITE) !== 0) !== s.write) fail(`descriptor ${i} differs from what the driver wrote`);
    });
    const want = readableBytes(ram, p.specs);
    const got = new Uint8Array(c.readableLength);
    if (c.read(0, got) !== want.length || !got.every((b, i) => b === want[i])) fail('readable bytes differ');
    this.exact++;
  }
}

function readableBytes(ram: { u8: Uint8Array }, specs: DescSpec[]): Uint8Array {
  const parts = specs.filter((s) => !s.write).map((s) => ram.u8.subarray(s.addr, s.addr + s.len));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** 1-6 buffers, readable then writable, random sizes (some zero-length), random contents. */
function chain(ctx: GenContext): DescSpec[] {
  const { rng } = ctx;
  const n = 1 + rng.int(6);
  const readable = rng.int(n + 1);
  const out: DescSpec[] = [];
  for (let i = 0; i < n; i++) {
    const len = rng.chance(0.05) ? 0 : 1 + rng.int(rng.chance(0.1) ? 8192 : 256);
    const write = i >= readable;
    out.push({ addr: write ? ctx.alloc(len) : ctx.buffer(rng.bytes(len)), len, write });
  }
  return out;
}

test('fuzz: the virtqueue layer, 3 × 10 000 chains (hostile ones included): what pop() hands out is always sound', { timeout: 180_000 }, (t) => {
  const dev = new AuditDevice();
  const r = runFuzz({
    name: 'virtqueue',
    seed: 0xc0ffee,
    chain,
    hostile: 0.4,
    indirect: 0.3,
    target: () => ({
      device: dev,
      attach: (drv) => {
        dev.drv = drv;
      },
      held: (q) => dev.held(q),
      host: (rng) => {
        for (let q = 0; q < 3; q++) dev.completeSome(q, rng.int(3));
      },
      check: () => dev.problems.splice(0),
    }),
  });
  t.diagnostic(JSON.stringify({ ...r, exact: dev.exact, popped: dev.popped }));
  const kinds = Object.keys(r.hostile).sort();
  assert.deepEqual(kinds, [
    'avail-jump', 'bad-order', 'head-range', 'high-addr', 'huge-len', 'indirect-4gib', 'indirect-bad-len', 'indirect-loop', 'indirect-nested',
    'indirect-next-range', 'indirect-outside-ram', 'indirect-too-long', 'indirect-with-next', 'loop', 'next-range', 'ring-aimed', 'stale-heads',
  ], 'every hostile kind was tried');
  assert.ok(r.indirectChains > 3000, `${r.indirectChains} chains through indirect tables`);
  assert.ok(dev.exact > 10_000, `${dev.exact} untouched chains checked descriptor by descriptor`);
  assert.ok(r.used > 15_000, `${r.used} chains came back`);
  assert.ok(r.resets > 100, `${r.resets} resets after hostile chains`);
});
