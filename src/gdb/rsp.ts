// gdb Remote Serial Protocol framing (gdb manual, "Overview" of Remote Protocol): packets are
// `$data#cc` with a two-digit hex checksum, acknowledged with `+` (or `-`: resend) until
// QStartNoAckMode; a lone 0x03 byte is an interrupt (Ctrl-C). In binary data (X, qXfer
// answers) `$ # } *` are escaped as `}` followed by the byte XOR 0x20.

/** semu's and QEMU's gdb port. */
export const DEFAULT_GDB_PORT = 1234;

/** Longest packet accepted; we announce it in qSupported (PacketSize). */
export const MAX_PACKET = 0x4000;

export type RspEvent = { k: 'packet'; data: Uint8Array } | { k: 'interrupt' } | { k: 'ack'; ok: boolean } | { k: 'bad'; why: string };

const DOLLAR = 0x24, HASH = 0x23, BRACE = 0x7d, STAR = 0x2a, PLUS = 0x2b, MINUS = 0x2d, CTRL_C = 0x03;

/** Turns a byte stream into RSP events. Never throws: garbage between packets is dropped. */
export class RspDecoder {
  private buf = new Uint8Array(MAX_PACKET);
  private len = 0;
  private state: 'idle' | 'data' | 'escape' | 'cs1' | 'cs2' = 'idle';
  private sum = 0;
  private cs = '';
  private overflow = false;

  push(chunk: Uint8Array): RspEvent[] {
    const out: RspEvent[] = [];
    for (const b of chunk) {
      switch (this.state) {
        case 'idle':
          if (b === DOLLAR) this.begin();
          else if (b === CTRL_C) out.push({ k: 'interrupt' });
          else if (b === PLUS || b === MINUS) out.push({ k: 'ack', ok: b === PLUS });
          break;
        case 'data':
          if (b === HASH) {
            this.state = 'cs1';
            break;
          }
          this.sum = (this.sum + b) & 0xff;
          if (b === DOLLAR) this.begin(); // a new packet restarts: the old one was cut
          else if (b === BRACE) this.state = 'escape';
          else this.add(b);
          break;
        case 'escape':
          this.sum = (this.sum + b) & 0xff;
          this.add(b ^ 0x20);
          this.state = 'data';
          break;
        case 'cs1':
          this.cs = String.fromCharCode(b);
          this.state = 'cs2';
          break;
        case 'cs2': {
          this.cs += String.fromCharCode(b);
          this.state = 'idle';
          const want = /^[0-9a-fA-F]{2}$/.test(this.cs) ? parseInt(this.cs, 16) : -1;
          if (this.overflow) out.push({ k: 'bad', why: `packet longer than ${MAX_PACKET} bytes` });
          else if (want !== this.sum) out.push({ k: 'bad', why: `checksum ${this.cs} does not match ${hex2(this.sum)}` });
          else out.push({ k: 'packet', data: this.buf.slice(0, this.len) });
          break;
        }
      }
    }
    return out;
  }

  private begin(): void {
    this.state = 'data';
    this.len = 0;
    this.sum = 0;
    this.overflow = false;
  }

  private add(b: number): void {
    if (this.len >= this.buf.length) {
      this.overflow = true;
      return;
    }
    this.buf[this.len++] = b;
  }
}

/** Frames a reply: `$data#cc`, escaping what must be escaped. */
export function encodePacket(data: string | Uint8Array): Buffer {
  const src = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const out: number[] = [DOLLAR];
  let sum = 0;
  for (const b of src) {
    if (b === DOLLAR || b === HASH || b === BRACE || b === STAR) {
      out.push(BRACE, b ^ 0x20);
      sum += BRACE + (b ^ 0x20);
    } else {
      out.push(b);
      sum += b;
    }
  }
  out.push(HASH, ...Buffer.from(hex2(sum & 0xff), 'latin1'));
  return Buffer.from(out);
}

export function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

/** A 32-bit value as gdb wants a register: little-endian bytes in hex. */
export function le32(v: number): string {
  v >>>= 0;
  return hex2(v) + hex2(v >>> 8) + hex2(v >>> 16) + hex2(v >>> 24);
}

/** The inverse of le32 (8 hex digits); undefined when malformed. */
export function parseLe32(s: string): number | undefined {
  if (!/^[0-9a-fA-F]{8}$/.test(s)) return undefined;
  let v = 0;
  for (let i = 3; i >= 0; i--) v = v * 256 + parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return v >>> 0;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Hex text to bytes; undefined when malformed (odd length, non-hex). */
export function fromHex(s: string): Uint8Array | undefined {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/** A hex number that must fit in 32 bits; undefined when malformed. */
export function parseHex32(s: string): number | undefined {
  if (!/^[0-9a-fA-F]{1,8}$/.test(s)) return undefined;
  return parseInt(s, 16) >>> 0;
}
