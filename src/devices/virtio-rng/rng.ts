// virtio-rng / entropy device (VirtIO 1.2 §5.4), device ID 4: one request queue whose writable
// buffers the device fills with random bytes. By default the bytes come from the host CSPRNG;
// in deterministic mode (the machine's `--time icount` runs) from a seeded xoshiro128** so a
// run is reproducible bit for bit.

import { randomFillSync } from 'node:crypto';
import type { VirtioDevice, VirtioTransport } from '../../emulator/virtio/types';
import { VIRTIO_ID_RNG } from '../../emulator/virtio/types';

/** Bytes served per request at most: the used length tells the driver how many it got. */
const MAX_PER_REQUEST = 4096;

export interface VirtioRngOptions {
  /** Seeded PRNG instead of the host CSPRNG. */
  deterministic?: boolean;
  seed?: number;
  queueSize?: number;
}

export class VirtioRng implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_RNG;
  readonly name = 'virtio-rng';
  readonly queueNames = ['requestq'] as const;
  readonly queueMaxSize: number;
  readonly features = [0, 0] as const;
  readonly configSize = 0;
  bytesServed = 0;

  private transport: VirtioTransport | null = null;
  private readonly buf = new Uint8Array(MAX_PER_REQUEST);
  private readonly prng: Xoshiro128 | null;

  constructor(opts: VirtioRngOptions = {}) {
    this.queueMaxSize = opts.queueSize ?? 64;
    this.prng = opts.deterministic ? new Xoshiro128(opts.seed ?? 0x5e3a) : null;
  }

  attach(transport: VirtioTransport): void {
    this.transport = transport;
  }

  readConfig(): number {
    return 0;
  }
  writeConfig(): void {}
  reset(): void {}

  onNotify(q: number): void {
    const t = this.transport;
    if (t === null || q !== 0) return;
    const queue = t.queue(0);
    for (let c = queue.pop(); c !== null; c = queue.pop()) {
      const n = Math.min(c.writableLength, MAX_PER_REQUEST);
      const bytes = n === MAX_PER_REQUEST ? this.buf : this.buf.subarray(0, n);
      this.fill(bytes);
      const written = c.write(0, bytes);
      this.bytesServed += written;
      queue.push(c.head, written);
    }
  }

  private fill(b: Uint8Array): void {
    if (this.prng === null) randomFillSync(b);
    else this.prng.fill(b);
  }
}

/** xoshiro128** (Blackman & Vigna), 32-bit state words, seeded through splitmix32. */
export class Xoshiro128 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed | 0;
    const next = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  next(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9);
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result >>> 0;
  }

  fill(out: Uint8Array): void {
    let i = 0;
    for (; i + 4 <= out.length; i += 4) {
      const v = this.next();
      out[i] = v;
      out[i + 1] = v >>> 8;
      out[i + 2] = v >>> 16;
      out[i + 3] = v >>> 24;
    }
    if (i < out.length) {
      let v = this.next();
      for (; i < out.length; i++, v >>>= 8) out[i] = v;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
