// Host audio backends by spec string, as typed on the CLI (--audio-out / --audio-in) and in
// launch.json (audioOut / audioIn). See backend.ts for the interface and docs/audio.md.

import type { AudioBackend } from './backend';
import { NullBackend } from './null';
import type { PortAudioOptions } from './portaudio';
import { PortAudioBackend } from './portaudio';
import { WavBackend } from './wav';
import { WebviewBackend } from './webview';

export type { PortAudioOptions } from './portaudio';
export { listPortAudioDevices, liveAudioHosts } from './portaudio';

export const AUDIO_SPEC_FORMS = 'null, wav:PATH, portaudio, portaudio:NAME, webview';

export type AudioSpec =
  | { kind: 'null' }
  | { kind: 'wav'; path: string }
  | { kind: 'portaudio'; device: string | null }
  | { kind: 'webview' };

/** Parses a backend spec; throws an Error naming the accepted forms. */
export function parseAudioSpec(spec: string): AudioSpec {
  const s = typeof spec === 'string' ? spec.trim() : '';
  if (s === 'null') return { kind: 'null' };
  if (s === 'portaudio') return { kind: 'portaudio', device: null };
  if (s === 'webview') return { kind: 'webview' };
  if (s.startsWith('portaudio:') && s.length > 'portaudio:'.length) return { kind: 'portaudio', device: s.slice(10) };
  if (s.startsWith('wav:') && s.length > 'wav:'.length) return { kind: 'wav', path: s.slice(4) };
  throw new Error(`bad audio backend ${JSON.stringify(spec)}: use one of ${AUDIO_SPEC_FORMS}`);
}

export interface BackendOptions {
  portaudio?: PortAudioOptions;
}

export function createBackend(spec: string, opts: BackendOptions = {}): AudioBackend {
  const p = parseAudioSpec(spec);
  switch (p.kind) {
    case 'null':
      return new NullBackend();
    case 'wav':
      return new WavBackend(p.path);
    case 'portaudio':
      return new PortAudioBackend(p.device, opts.portaudio);
    case 'webview':
      return new WebviewBackend();
  }
}
