// QEMU's stream protocol, as passt speaks it on its UNIX socket (and our tap helper on its
// socket): every Ethernet frame is preceded by its length, 4 bytes big-endian. A byte stream has
// no frame boundaries of its own, so the decoder reassembles frames split across reads and
// splits reads holding several frames.
//
// Bad lengths are the peer's fault and cost only that frame: shorter than an Ethernet header or
// longer than 64 KiB + header → skipped (streamed past, never buffered) and counted. A length
// so large no peer would send it (over 16 MiB) means the stream is out of step — every later
// "frame" would be garbage — so the decoder stops and says so; the owner drops the connection.

import { ETH_HLEN, MAX_STREAM_FRAME } from './proto';

/** Beyond this a length is not a frame at all: the byte stream has lost its framing. */
export const STREAM_DESYNC_LENGTH = 16 << 20;

export interface StreamSink {
  /** A whole frame: frame[off, off + len). The bytes are only valid during the call. */
  frame(bytes: Uint8Array, off: number, len: number): void;
  /** A frame of a bad length was skipped. */
  dropped(len: number): void;
}

export class StreamDecoder {
  /** Set once the stream is out of step; feed() then ignores everything. */
  error: string | null = null;
  private readonly lenBuf = new Uint8Array(4);
  private lenHave = 0;
  /** Bytes of the current frame still to come (-1: reading a length word). */
  private need = -1;
  private skipping = false;
  private readonly frameBuf = new Uint8Array(MAX_STREAM_FRAME);
  private have = 0;
  private frameLen = 0;

  constructor(private readonly sink: StreamSink) {}

  /** True while a frame or its length word is half received. */
  get partial(): boolean {
    return this.lenHave > 0 || this.need >= 0;
  }

  feed(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n && this.error === null) {
      if (this.need < 0) {
        // Fast path: a whole frame inside this chunk is handed over without copying.
        if (this.lenHave === 0 && n - i >= 4) {
          const len = ((chunk[i] << 24) | (chunk[i + 1] << 16) | (chunk[i + 2] << 8) | chunk[i + 3]) >>> 0;
          if (len >= ETH_HLEN && len <= MAX_STREAM_FRAME && n - i - 4 >= len) {
            this.sink.frame(chunk, i + 4, len);
            i += 4 + len;
            continue;
          }
        }
        this.lenBuf[this.lenHave++] = chunk[i++];
        if (this.lenHave === 4) this.startFrame();
        continue;
      }
      const take = Math.min(this.need, n - i);
      if (!this.skipping) this.frameBuf.set(chunk.subarray(i, i + take), this.have);
      this.have += take;
      this.need -= take;
      i += take;
      if (this.need === 0) this.endFrame();
    }
  }

  private startFrame(): void {
    const b = this.lenBuf;
    const len = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
    this.lenHave = 0;
    if (len > STREAM_DESYNC_LENGTH) {
      this.error = `the peer sent a frame length of ${len} bytes: the stream is out of step`;
      return;
    }
    this.frameLen = len;
    this.have = 0;
    this.need = len;
    this.skipping = len < ETH_HLEN || len > MAX_STREAM_FRAME;
    if (len === 0) this.endFrame();
  }

  private endFrame(): void {
    this.need = -1;
    if (this.skipping) this.sink.dropped(this.frameLen);
    else this.sink.frame(this.frameBuf, 0, this.frameLen);
    this.skipping = false;
  }
}

/** Writes `len` as the 4-byte big-endian prefix at out[at]. */
export function putStreamLength(out: Uint8Array, at: number, len: number): void {
  out[at] = len >>> 24;
  out[at + 1] = len >>> 16;
  out[at + 2] = len >>> 8;
  out[at + 3] = len;
}
