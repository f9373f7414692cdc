// The AudioWorklet processor of the "semu audio" panel (inlined into dist/webview/audio.js and
// loaded from a blob: URL): plays one guest PCM stream through a PcmQueue (a jitter buffer) and
// posts progress to the page every 100 ms of audio, and at once when its xrun count changes.
import { PcmQueue, type PcmFormat } from './pcm-queue';

// The AudioWorkletGlobalScope (not in TypeScript's DOM library).
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, ctor: new (options: { processorOptions: ProcessorOptions }) => AudioWorkletProcessor): void;
declare const sampleRate: number;

export interface ProcessorOptions {
  channels: number;
  targetFrames: number;
  format: PcmFormat;
}

/** Page → processor. */
export type ToProcessor = { t: 'pcm'; data: Uint8Array } | { t: 'start' | 'stop' | 'end' };

class SemuPcmProcessor extends AudioWorkletProcessor {
  private readonly q: PcmQueue;
  private sinceReport = 0;
  private lastXruns = 0;
  private finished = false;
  private readonly gap = Math.round(sampleRate / 10);

  constructor(options: { processorOptions: ProcessorOptions }) {
    super();
    const o = options.processorOptions;
    this.q = new PcmQueue(o.channels, o.targetFrames, o.format);
    this.port.onmessage = (e: MessageEvent) => {
      const m = e.data as ToProcessor;
      if (m.t === 'pcm') this.q.push(m.data);
      else if (m.t === 'start') this.q.start();
      else if (m.t === 'stop') this.q.stop();
      else if (m.t === 'end') this.q.end();
      if (m.t !== 'pcm') this.report();
    };
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    if (this.finished) return false;
    const out = outputs[0];
    this.q.render(out);
    this.sinceReport += out.length ? out[0].length : 128;
    const p = this.q.progress;
    if (p.xruns !== this.lastXruns || this.sinceReport >= this.gap) this.report();
    if (this.q.done) {
      this.finished = true;
      this.report();
      this.port.postMessage({ t: 'closed' });
      return false;
    }
    return true;
  }

  private report(): void {
    const p = this.q.progress;
    this.sinceReport = 0;
    this.lastXruns = p.xruns;
    this.port.postMessage({ t: 'progress', frames: p.frames, silence: p.silence, device: p.device, xruns: p.xruns, dropped: p.dropped, latency: this.q.queued });
  }
}

registerProcessor('semu-pcm', SemuPcmProcessor);
