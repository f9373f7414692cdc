// Turns audioOut / audioIn "auto" (the settings' default) into a backend before a launch
// (audio-choice.ts decides; portaudio-probe.ts says whether PortAudio can play here), opens the
// "semu audio" panel ahead of a webview stream, and warns once when PortAudio is there but fails.
import * as vscode from 'vscode';
import { logger } from '../log';
import type { AudioRelay } from '../panels/audio-relay';
import { chooseAudio, portAudioHint, type PortAudioAvailability } from './audio-choice';
import type { SemuDebugConfiguration } from './config-defaults';
import { portAudioAvailability } from './portaudio-probe';

const log = logger('audio');

export function audioResolver(relay: AudioRelay): (c: SemuDebugConfiguration) => Promise<SemuDebugConfiguration> {
  let warned = false;
  return async (c) => {
    const remote = vscode.env.remoteName;
    const auto = c.audioOut === 'auto' || c.audioIn === 'auto';
    const pa: PortAudioAvailability = auto && !remote ? await portAudioAvailability() : { ok: true };
    const choice = chooseAudio(c, remote, pa);
    if (choice.note) log.info(`audio "auto": ${choice.audioOut} / ${choice.audioIn} (${choice.note})`);
    if (!pa.ok && !warned && /does not load/.test(pa.why)) {
      warned = true;
      void vscode.window.showWarningMessage(`semu: ${pa.why}. Sound plays through the "semu audio" panel instead; to use PortAudio, ${portAudioHint(pa.why)}.`);
    }
    if (choice.audioOut === 'webview') relay.prepare();
    return { ...c, audioOut: choice.audioOut, audioIn: choice.audioIn };
  };
}
