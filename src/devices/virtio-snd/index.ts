// virtio-snd, declared for the registry: the sound card at semu's snd slot (0xF470_0000, IRQ 5),
// one playback and one capture stream through the host audio backends (src/audio/). The device
// model is snd.ts (control, events, dispatch) and snd-stream.ts (the one PCM path for TX and RX).

import type { DeviceDescriptor, StateNode } from '../descriptor';
import { VIRTIO_ID_SOUND } from '../../emulator/virtio/types';
import { AUDIO_SPEC_FORMS, createBackend, parseAudioSpec } from '../../audio';
import type { AudioBackend } from '../../audio/backend';
import type { StreamSnapshot } from '../../shared/protocol';
import { VirtioSnd } from './snd';
import { readStreams } from './snd-layout';
import { describeSndChain, le32, VIRTIO_SND_VQ_RX, VIRTIO_SND_VQ_TX } from './snd-proto';

export interface SndOptions {
  /** Playback (TX) backend spec: portaudio[:DEVICE], wav:PATH, null. */
  audioOut?: string;
  /** Capture (RX) backend spec. */
  audioIn?: string;
}

function checkSpec(v: string): string | undefined {
  try {
    parseAudioSpec(v);
    return undefined;
  } catch {
    return `one of ${AUDIO_SPEC_FORMS}`;
  }
}

/** `wav:PATH` with a relative PATH is relative to the workspace, like every other path. */
function mapWavPath(v: string, resolve: (p: string) => string): string {
  return v.startsWith('wav:') ? `wav:${resolve(v.slice(4))}` : v;
}

/** Only a WAV backend touches a host path; PortAudio, the webview and null do not. */
function namesAFile(v: string): boolean {
  return typeof v === 'string' && v.trim().startsWith('wav:');
}

function openBackend(spec: string, flag: string): AudioBackend {
  try {
    return createBackend(spec);
  } catch (e) {
    throw new Error(`${flag}: ${(e as Error).message}`);
  }
}

export const virtioSnd: DeviceDescriptor<SndOptions> = {
  name: 'virtio-snd',
  summary: 'sound card: one playback and one capture PCM stream',
  deviceId: VIRTIO_ID_SOUND,
  slot: 'snd',
  queueNames: ['controlq', 'eventq', 'txq', 'rxq'],
  options: [
    {
      key: 'audioOut', cli: ['--audio-out'], type: 'string', arg: 'B', hostAccess: namesAFile,
      help: 'playback (TX) backend: portaudio[:DEVICE] (default), wav:PATH (write a WAV file), null, webview (in VS Code: plays where the window is)',
      detail: 'virtio-snd playback (TX) backend: "portaudio", "portaudio:DEVICE", "webview" (Web Audio in a VS Code panel: sound plays where the window is, also over Remote), "wav:PATH" (write a WAV file) or "null". Default: the semu.audioOut setting ("auto": PortAudio, or the webview when the window is remote or PortAudio cannot play).',
      check: checkSpec, mapPath: mapWavPath,
    },
    {
      key: 'audioIn', cli: ['--audio-in'], type: 'string', arg: 'B', hostAccess: namesAFile,
      help: 'capture (RX) backend: portaudio[:DEVICE] (default), wav:PATH (read a WAV file), null',
      detail: 'virtio-snd capture (RX) backend: "portaudio", "portaudio:DEVICE", "wav:PATH" (read a WAV file) or "null" (a webview cannot open the microphone). Default: the semu.audioIn setting ("auto": PortAudio, else null).',
      check: checkSpec, mapPath: mapWavPath,
    },
  ],
  enabled: () => true,
  create(o, ctx) {
    const backendOut = openBackend(o.audioOut ?? 'portaudio', '--audio-out');
    let backendIn: AudioBackend | undefined;
    try {
      backendIn = openBackend(o.audioIn ?? 'portaudio', '--audio-in');
      return new VirtioSnd({ backendOut, backendIn, clock: ctx.clock, timebaseHz: ctx.timebaseHz, owned: [backendIn, backendOut] });
    } catch (e) {
      backendIn?.dispose();
      backendOut.dispose();
      throw e;
    }
  },
  notifyFilters: [
    { id: 'virtio-snd-ctrl', label: 'virtio-snd control notify', queue: 0, description: 'Stop when the guest kicks the sound card’s control queue.' },
    { id: 'virtio-snd-event', label: 'virtio-snd event notify', queue: 1, description: 'Stop when the guest kicks the sound card’s event queue.' },
    { id: 'virtio-snd-tx', label: 'virtio-snd TX notify', queue: VIRTIO_SND_VQ_TX, description: 'Stop when the guest queues playback buffers (txq).' },
    { id: 'virtio-snd-rx', label: 'virtio-snd RX notify', queue: VIRTIO_SND_VQ_RX, description: 'Stop when the guest queues capture buffers (rxq).' },
  ],
  conditionFields: [
    {
      name: 'stream',
      description: 'the stream id in the xfer header of the first pending txq/rxq chain',
      queues: [VIRTIO_SND_VQ_TX, VIRTIO_SND_VQ_RX],
      bytes: 4,
      read: (prefix) => le32(prefix, 0),
    },
  ],
  decodeChain: describeSndChain,
  readState: (state) => {
    const streams = readStreams(state);
    return [{ name: 'streams', value: `${streams.length}`, children: streams.map(streamNode) }];
  },
  streams: readStreams,
};

export function streamSummary(s: StreamSnapshot): string {
  const params = s.format ? `${s.format} ${s.channels}ch ${s.rate} Hz` : 'no params';
  return `${s.state}, ${params}, ring ${s.ringFill}/${s.ringCapacity} frames`;
}

function streamNode(s: StreamSnapshot): StateNode {
  const children: StateNode[] = [
    { name: 'direction', value: s.direction },
    { name: 'state', value: s.state },
    {
      name: 'params',
      value: s.format ? `${s.format} ${s.channels}ch ${s.rate} Hz` : 'not set',
      children: [
        { name: 'format', value: s.format ?? '(unset)' },
        { name: 'rate', value: `${s.rate} Hz` },
        { name: 'channels', value: s.channels },
        { name: 'period bytes', value: s.periodBytes },
        { name: 'buffer bytes', value: s.bufferBytes },
      ],
    },
    { name: 'host backend', value: s.backend || '(none)' },
  ];
  if (s.backendFailure) children.push({ name: 'backend failure', value: s.backendFailure });
  children.push(
    { name: 'ring fill', value: `${s.ringFill} / ${s.ringCapacity} frames` },
    { name: 'frames moved', value: s.framesMoved },
    { name: 'buffers in flight', value: s.buffersInFlight },
    { name: 'xruns', value: `guest ${s.xrunsGuest}, host ${s.xrunsHost}` },
    { name: 'level', value: `peak ${s.peak.toFixed(3)}, rms ${s.rms.toFixed(3)}` },
  );
  return { name: `stream ${s.id} (${s.direction})`, value: streamSummary(s), children };
}
