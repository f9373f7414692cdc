// What audioOut / audioIn "auto" (the settings' default) means, as pure logic (unit-tested in
// test/extension/audio-choice.test.ts): playback through PortAudio where its addon loads and a
// device is there and the window is on this machine; otherwise through the webview panel, which
// plays where the person sits. Capture through PortAudio where playback would, else silence (a
// webview cannot open the microphone: wav:PATH feeds a file instead).

export type PortAudioAvailability = { ok: true } | { ok: false; why: string };

export interface AudioChoice {
  audioOut: string;
  audioIn: string;
  /** Why "auto" did not mean PortAudio, for the log; null when it did or nothing was auto. */
  note: string | null;
}

export function chooseAudio(c: { audioOut?: string; audioIn?: string }, remote: string | undefined, pa: PortAudioAvailability): AudioChoice {
  const why = remote ? `the window is remote (${remote}): sound plays where VS Code's window is` : pa.ok ? null : pa.why;
  const out = c.audioOut ?? 'auto';
  const inp = c.audioIn ?? 'auto';
  return {
    audioOut: out === 'auto' ? (why ? 'webview' : 'portaudio') : out,
    audioIn: inp === 'auto' ? (why ? 'null' : 'portaudio') : inp,
    note: why && (out === 'auto' || inp === 'auto') ? why : null,
  };
}

/** From the audio host's error, what to install (one line), for the one warning. */
export function portAudioHint(message: string): string {
  if (/libasound\.so/.test(message)) return "install ALSA's library: libasound2 (Debian, Ubuntu) or alsa-lib (Fedora, RHEL, Arch)";
  if (/GLIBCXX|libstdc\+\+/.test(message)) return 'install a newer C++ runtime: libstdc++6 (Debian, Ubuntu) or libstdc++ (Fedora, RHEL)';
  if (/GLIBC_/.test(message)) return 'this Linux is older than glibc 2.28, the oldest VS Code supports';
  if (/no (default )?output device|no device/i.test(message)) return 'no sound output device was found (a sound server such as PulseAudio or PipeWire, or ALSA devices, is needed)';
  return 'see the "semu" log for the audio host\'s error';
}
