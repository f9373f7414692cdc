// One booted guest whose sound card plays into and captures from real PortAudio on the
// test-owned, file-backed ALSA device (test/fixtures/alsa/file-pcms.conf: out.raw, in.raw in a
// temp dir), for a whole test file: before() boots, after() powers off and removes the dir.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GuestSession, childPids } from '../../helpers/guest-session';
import { alsaConfig } from '../../audio/helpers/alsa';
import { SPARE_ARG } from '../../../src/audio/host-protocol';

export interface FileDeviceGuest {
  /** The guest (set once before() ran). */
  readonly g: GuestSession;
  /** What the capture device reads, from its start at every open. */
  readonly inRaw: string;
  /** What the playback device wrote since its last open (truncated at each). */
  readonly outRaw: string;
}

/** Process ids of this process's audio hosts that own a stream (one per open PortAudio stream; not spares). */
export function audioHosts(): number[] {
  return childPids().filter((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmd.includes('audio-host') && !cmd.includes(SPARE_ARG);
    } catch {
      return false;
    }
  });
}

export function useFileDeviceGuest(beforeBoot: (inRaw: string) => void = () => {}): FileDeviceGuest {
  const alsa = alsaConfig('file-pcms.conf');
  let guest: GuestSession | null = null;
  const inRaw = join(alsa.dir, 'in.raw');
  before(async () => {
    beforeBoot(inRaw);
    guest = await GuestSession.boot({ audioOut: 'portaudio', audioIn: 'portaudio', env: { ALSA_CONFIG_PATH: alsa.config } });
  });
  after(async () => {
    try {
      if (guest) assert.equal((await guest.poweroff()).reason, 'poweroff');
    } finally {
      alsa.remove();
    }
  });
  return {
    get g() {
      if (!guest) throw new Error('the guest is not booted');
      return guest;
    },
    inRaw,
    outRaw: join(alsa.dir, 'out.raw'),
  };
}
