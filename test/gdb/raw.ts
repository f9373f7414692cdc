// A raw gdb remote protocol client for the stub's tests: send a packet, read the next reply.

import { connect, type Socket } from 'node:net';
import { encodePacket } from '../../src/gdb/rsp';

export class RawGdb {
  private buf = '';
  private readonly waiters: (() => void)[] = [];
  constructor(readonly s: Socket) {
    s.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      for (const w of this.waiters.splice(0)) w();
    });
  }
  /** Sends a packet (or raw bytes) and returns the next reply packet's payload ('+'/'-' acks dropped). */
  async ask(packet: string, raw = false): Promise<string> {
    this.s.write(raw ? Buffer.from(packet, 'latin1') : encodePacket(packet));
    return this.reply();
  }
  async reply(): Promise<string> {
    for (;;) {
      const m = /^[+-]*\$([^#]*)#[0-9a-f]{2}/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        return m[1];
      }
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no reply; have ${JSON.stringify(this.buf)}`)), 20_000);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  /** The next raw byte (an ack). */
  async ack(): Promise<string> {
    while (!/^[+-]/.test(this.buf)) await new Promise<void>((r) => this.waiters.push(r));
    const c = this.buf[0];
    this.buf = this.buf.slice(1);
    return c;
  }
}

export function open(port: number): Promise<RawGdb> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(new RawGdb(s)));
    s.on('error', reject);
  });
}

