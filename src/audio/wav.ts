// The WAV backend: output streams write a WAV file, input streams read one (wav-reader.ts); both
// are paced by the guest clock (paced.ts), so --time icount runs produce identical files.
//
// Several opens of one output path (the driver's RELEASE then PREPARE for the next song): the
// first open truncates PATH; a later open with the same format appends to it (one file, the whole
// session, header fixed up each time); a later open with another format — or while the first
// stream is still open — starts PATH-2.wav, PATH-3.wav, ... (a WAV file has one format).
// Input: every open reads PATH from its start (each capture session hears the whole file).

import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { AudioBackend, AudioStream, PcmParams, SampleFormat } from './backend';
import { frameBytes } from './backend';
import { logger } from '../log';
import { nullStream } from './null';
import type { PacedSink } from './paced';
import { PacedStream } from './paced';
import { bytesPerSecond, describeParams } from './pcm';
import type { PcmRing } from './ring';
import { checkParams, createStreamRing } from './stream-ring';
import { WAV_MAX_DATA, wavHeader, wavHeaderBytes } from './wav-format';
import { WavReader } from './wav-reader';
import { copyBytes } from '../shared/bytes';

const log = logger('audio');
const CHUNK_BYTES = 65536;

/** Writes frames to a WAV file in chunks; header sizes are fixed up about every second and on close. */
export class WavWriter implements PacedSink {
  error: string | null = null;
  private fd: number;
  private readonly buf: Buffer;
  private bufLen = 0;
  private written: number; // data bytes already in the file
  private sinceFixup = 0;
  private readonly hdr: number;
  private readonly fixupEvery: number;
  private full = false;
  private readonly fb: number;

  /** `appendBytes` > 0 continues a file that already holds that many data bytes of the same format. */
  constructor(
    readonly path: string,
    private readonly format: SampleFormat,
    private readonly channels: number,
    private readonly rate: number,
    appendBytes = 0,
    private readonly onClose?: (dataBytes: number) => void,
  ) {
    this.hdr = wavHeaderBytes(format);
    this.written = appendBytes;
    this.fd = -1;
    if (appendBytes > 0) {
      try {
        this.fd = openSync(path, 'r+');
        ftruncateSync(this.fd, this.hdr + appendBytes);
      } catch {
        // Moved or deleted since the last session: start it again.
        if (this.fd >= 0) closeSync(this.fd);
        this.fd = -1;
        this.written = 0;
      }
    }
    if (this.fd < 0) this.fd = openSync(path, 'w');
    this.writeHeader();
    this.fb = frameBytes({ format, channels });
    this.fixupEvery = bytesPerSecond({ rate, format, channels });
    // Chunks of at most 64 KiB and at most a quarter second: a slow stream reaches the disk too.
    const chunk = Math.max(4096, Math.min(CHUNK_BYTES, this.fixupEvery >> 2));
    this.buf = Buffer.alloc(Math.max(this.fb, Math.floor(chunk / this.fb) * this.fb));
  }

  /** Data bytes in the file so far, buffered ones included. */
  get dataBytes(): number {
    return this.written + this.bufLen;
  }

  consume(src: Uint8Array, len: number): void {
    let off = 0;
    while (off < len && !this.full) {
      const n = Math.min(len - off, this.buf.length - this.bufLen);
      copyBytes(this.buf, this.bufLen, src, off, n);
      this.bufLen += n;
      off += n;
      if (this.bufLen === this.buf.length) this.flush();
    }
  }

  silence(frames: number): void {
    let bytes = frames * this.fb;
    while (bytes > 0 && !this.full) {
      const n = Math.min(bytes, this.buf.length - this.bufLen);
      this.buf.fill(0, this.bufLen, this.bufLen + n);
      this.bufLen += n;
      bytes -= n;
      if (this.bufLen === this.buf.length) this.flush();
    }
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    this.writeHeader();
    try {
      closeSync(this.fd);
    } catch {
      /* already reported by flush */
    }
    this.fd = -1;
    this.onClose?.(this.written);
  }

  private flush(): void {
    if (this.bufLen === 0 || this.fd < 0) return;
    let len = this.bufLen;
    this.bufLen = 0;
    if (this.written + len > WAV_MAX_DATA) {
      len = WAV_MAX_DATA - this.written;
      len -= len % this.fb;
      this.full = true;
      this.fail(`${this.path} reached the WAV size limit (4 GiB); later audio is discarded`);
    }
    try {
      writeSync(this.fd, this.buf, 0, len, this.hdr + this.written);
      this.written += len;
    } catch (e) {
      this.full = true;
      this.fail(`writing ${this.path}: ${(e as Error).message}; later audio is discarded`);
    }
    this.sinceFixup += len;
    if (this.sinceFixup >= this.fixupEvery) {
      this.sinceFixup = 0;
      this.writeHeader();
    }
  }

  private writeHeader(): void {
    try {
      const h = wavHeader(this.format, this.channels, this.rate, this.written);
      writeSync(this.fd, h, 0, h.length, 0);
    } catch (e) {
      this.fail(`writing the header of ${this.path}: ${(e as Error).message}`);
    }
  }

  private fail(msg: string): void {
    if (this.error) return;
    this.error = msg;
    log.warn(msg);
  }
}

interface OutputFile {
  path: string;
  key: string; // format, channels, rate
  dataBytes: number;
  open: boolean;
}

function numbered(path: string, n: number): string {
  const m = /^(.*?)(\.wav)?$/i.exec(path)!;
  return `${m[1]}-${n}${m[2] ?? ''}`;
}

export class WavBackend implements AudioBackend {
  readonly spec: string;
  private last: OutputFile | null = null;
  private seq = 1;

  constructor(readonly path: string) {
    this.spec = `wav:${path}`;
  }

  open(params: PcmParams): AudioStream {
    checkParams(params);
    const ring = createStreamRing(params);
    return params.direction === 'output' ? this.openOutput(params, ring) : this.openInput(params, ring);
  }

  dispose(): void {}

  private openOutput(params: PcmParams, ring: PcmRing): AudioStream {
    const key = `${params.format}/${params.channels}/${params.rate}`;
    let file: OutputFile;
    let append = 0;
    if (this.last && !this.last.open && this.last.key === key) {
      file = this.last;
      append = file.dataBytes;
    } else {
      const path = this.last ? numbered(this.path, ++this.seq) : this.path;
      if (this.last) log.info(`wav: ${describeParams(params)} output goes to ${path}`);
      file = { path, key, dataBytes: 0, open: false };
    }
    try {
      const w = new WavWriter(file.path, params.format, params.channels, params.rate, append, (bytes) => {
        file.dataBytes = bytes;
        file.open = false;
      });
      file.open = true;
      this.last = file;
      return new PacedStream(params, ring, `wav:${file.path}`, w, null);
    } catch (e) {
      return failed(params, ring, `cannot write ${file.path}: ${(e as Error).message}`);
    }
  }

  private openInput(params: PcmParams, ring: PcmRing): AudioStream {
    try {
      const r = new WavReader(this.path, params);
      return new PacedStream(params, ring, `wav:${this.path}`, null, r);
    } catch (e) {
      return failed(params, ring, `cannot read ${this.path}: ${(e as Error).message}`);
    }
  }
}

function failed(params: PcmParams, ring: PcmRing, why: string): AudioStream {
  const msg = `${params.direction} stream: ${why}; using null audio instead`;
  log.warn(msg);
  return nullStream(params, ring, msg);
}
