// Appends pcap records to a file the owner opened (and wrote the header of), from the network
// I/O thread: records queue up while a write is in flight and go out together in the next one,
// so a burst of small frames costs a few writes, not one each. One failure stops the recording
// and says so; the network carries on.

import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { putPcapRecordHeader, PCAP_RECORD_HEADER_BYTES } from './pcap';
import { N_PCAP_FAILED, N_PCAP_FRAMES } from './state';

export class PcapAppender {
  private queued: Buffer[] = [];
  private writing: Promise<void> | null = null;
  private failed = false;

  constructor(
    private readonly fd: number,
    /** The shared state slots (state.ts): frames recorded, failure flag. */
    private readonly st: Int32Array,
    private readonly warn: (message: string) => void,
  ) {}

  /** Records a frame seen now. */
  record(frame: Uint8Array): void {
    if (this.failed) return;
    const rec = Buffer.allocUnsafe(PCAP_RECORD_HEADER_BYTES + frame.length);
    putPcapRecordHeader(rec, 0, (performance.timeOrigin + performance.now()) * 1000, frame.length);
    rec.set(frame, PCAP_RECORD_HEADER_BYTES);
    this.st[N_PCAP_FRAMES]++;
    this.queued.push(rec);
    if (this.writing === null) this.writing = this.drain();
  }

  /** Resolves once everything recorded so far is in the file (or recording failed). */
  async flush(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => fs.close(this.fd, () => resolve()));
  }

  private async drain(): Promise<void> {
    while (this.queued.length > 0 && !this.failed) {
      const data = this.queued.length === 1 ? this.queued[0] : Buffer.concat(this.queued);
      this.queued = [];
      await this.writeAll(data);
    }
    this.queued = [];
    this.writing = null;
  }

  private writeAll(data: Buffer): Promise<void> {
    return new Promise((resolve) => {
      const step = (off: number) =>
        fs.write(this.fd, data, off, data.length - off, null, (err, n) => {
          if (err) {
            this.failed = true;
            this.st[N_PCAP_FAILED] = 1;
            this.warn(`pcap: writing failed (${err.message}); no more frames are recorded`);
            return resolve();
          }
          if (off + n < data.length) step(off + n);
          else resolve();
        });
      step(0);
    });
  }
}
