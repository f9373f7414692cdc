// A device model for transport tests: two queues; every chain is recorded (readable bytes copied
// out) and returned with its writable part filled with 0xA5.

import type { DescChain, VirtioDevice, VirtioTransport } from '../../src/emulator/virtio/types';

export interface SeenChain {
  q: number;
  head: number;
  count: number;
  readable: Uint8Array;
  writableLength: number;
}

export class RecordingDevice implements VirtioDevice {
  readonly deviceId = 0x7f;
  readonly name = 'virtio-test';
  readonly queueNames = ['q0', 'q1'];
  readonly queueMaxSize: number;
  readonly features: readonly [number, number] = [0b101, 0];
  readonly configSize = 8;
  readonly config = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  transport: VirtioTransport | null = null;
  seen: SeenChain[] = [];
  notifies: number[] = [];
  resets = 0;
  /** When false, chains are kept (not pushed) so tests can see them held. */
  autoComplete = true;
  held: { q: number; head: number }[] = [];
  throwOnNotify = false;

  constructor(queueMaxSize = 16) {
    this.queueMaxSize = queueMaxSize;
  }

  attach(t: VirtioTransport): void {
    this.transport = t;
  }
  readConfig(offset: number, width: 1 | 2 | 4): number {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = v * 256 + this.config[offset + i];
    return v;
  }
  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    for (let i = 0; i < width; i++) this.config[offset + i] = (value >>> (8 * i)) & 0xff;
  }
  reset(): void {
    this.resets++;
    this.held = [];
  }

  onNotify(q: number): void {
    this.notifies.push(q);
    if (this.throwOnNotify) throw new Error('boom');
    const queue = this.transport!.queue(q);
    for (let c = queue.pop(); c !== null; c = queue.pop()) this.take(q, c);
  }

  private take(q: number, c: DescChain): void {
    const readable = new Uint8Array(c.readableLength);
    c.read(0, readable);
    this.seen.push({ q, head: c.head, count: c.count, readable, writableLength: c.writableLength });
    if (!this.autoComplete) {
      this.held.push({ q, head: c.head });
      return;
    }
    const fill = new Uint8Array(c.writableLength).fill(0xa5);
    const n = c.write(0, fill);
    this.transport!.queue(q).push(c.head, n);
  }

  completeHeld(): void {
    for (const h of this.held) this.transport!.queue(h.q).push(h.head, 0);
    this.held = [];
  }
}
