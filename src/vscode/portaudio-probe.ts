// Whether PortAudio can play here: this package's addon exists for the platform, the audio host
// loads it under VS Code's runtime, and it lists an output device. Asked once per extension host
// (a short-lived audio host, ~0.2 s), answered from the cache afterwards.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { listPortAudioDevices } from '../audio/portaudio';
import { extensionRoot } from '../paths';
import type { PortAudioAvailability } from './audio-choice';

let cached: Promise<PortAudioAvailability> | null = null;

export function portAudioAvailability(): Promise<PortAudioAvailability> {
  cached ??= probe();
  return cached;
}

async function probe(): Promise<PortAudioAvailability> {
  const addon = join(extensionRoot(), 'node_modules', 'naudiodon', 'build', 'Release', 'naudiodon.node');
  if (!existsSync(addon)) return { ok: false, why: `this package has no PortAudio addon for ${process.platform}-${process.arch}` };
  try {
    const devices = await listPortAudioDevices({}, 8000);
    if (!devices.some((d) => d.maxOutputChannels > 0)) return { ok: false, why: 'PortAudio found no output device' };
    return { ok: true };
  } catch (e) {
    return { ok: false, why: `PortAudio does not load: ${(e as Error).message}` };
  }
}
