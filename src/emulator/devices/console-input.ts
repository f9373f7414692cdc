// Console input waiting for the guest: the bytes the host typed or pasted, in order, until the
// UART's receive FIFO has room for them (the guest read what was there). A person pasting a
// megabyte, or a script piping a file into the CLI, loses nothing: the FIFO is fed from here as
// the guest drains it. The one bound (CONSOLE_INPUT_LIMIT, far beyond any paste) is said in one
// warning line when reached; the CLI never reaches it, because it stops reading its stdin while
// more than a little waits (MachineHost.consoleIn).

import { logger } from '../../log';

const log = logger('uart');

/** Most bytes of console input that wait for the guest at once. */
export const CONSOLE_INPUT_LIMIT = 64 * 1024 * 1024;

const EMPTY = new Uint8Array(0);

export class ConsoleInputQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // first chunk still holding bytes
  private off = 0; // next byte of that chunk
  private full = false; // the bound was reached and said; quiet until the queue drains to half
  /** Bytes waiting. */
  length = 0;
  /** Bytes handed out so far (uint32, wraps). */
  taken = 0;
  /** Bytes refused because the bound was reached. */
  refused = 0;

  constructor(readonly limit: number) {}

  /** Appends a copy of `bytes` (the caller may reuse its buffer); returns how many fit. */
  push(bytes: Uint8Array): number {
    const n = Math.max(0, Math.min(this.limit - this.length, bytes.length));
    if (n > 0) {
      this.chunks.push(bytes.slice(0, n));
      this.length += n;
    }
    if (n < bytes.length) {
      this.refused += bytes.length - n;
      if (!this.full) {
        this.full = true;
        log.warn(
          `console input: ${mib(this.limit)} already wait for the guest to read them; ${bytes.length - n} bytes dropped ` +
            '(the guest reads its console slower than input arrives, or not at all)',
        );
      }
    }
    return n;
  }

  /** The next byte (length must be > 0). */
  shift(): number {
    const c = this.chunks[this.head];
    const b = c[this.off++];
    if (this.off === c.length) this.nextChunk();
    this.length--;
    this.taken = (this.taken + 1) >>> 0;
    if (this.full && this.length < this.limit / 2) this.full = false;
    return b;
  }

  private nextChunk(): void {
    this.chunks[this.head++] = EMPTY;
    this.off = 0;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head); // drop the spent slots now and then, not per byte
      this.head = 0;
    }
  }
}

function mib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(0)} MiB` : `${bytes} bytes`;
}

/** Why a request to type `bytes` more was refused while `pending` bytes still wait (one line). */
export function consoleFullMessage(bytes: number, pending: number): string {
  return (
    `console input refused: ${bytes} bytes more would pass the ${mib(CONSOLE_INPUT_LIMIT)} that may wait for the guest ` +
    `(${pending} bytes wait now); send less at a time, or wait until the guest has read what it has`
  );
}
