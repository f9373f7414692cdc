// Audio lost on the host is an xrun on both sides: when the audio host dies mid-stream (here:
// SIGKILL), the stream falls back to null audio, counts the loss as a host xrun and sends the
// guest's driver an XRUN event (VIRTIO_SND_EVT_PCM_XRUN), where before it counted nothing at
// all. (Linux 6.12's virtio_snd only sets a flag it never reads on that event, so ALSA and the
// guest's `pcm` do not see it: the Devices view and the levels panel show both counters.) The
// guest's stream goes on to its end, as null audio. Real PortAudio, the file-backed device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { sine } from '../audio/helpers/signal';
import { sleep, until } from '../audio/helpers/wait';
import { audioHosts, useFileDeviceGuest } from './helpers/file-device';
import { watchStreams } from './helpers/streams';

const dev = useFileDeviceGuest((inRaw) => writeFileSync(inRaw, sine({ rate: 48000, channels: 2, format: 'S16' }, 1000, 48000 * 10)));

for (const [verb, direction] of [['play', 'output'], ['rec', 'input']] as const) {
  test(`${verb}: the audio host killed mid-stream → a host xrun and an XRUN event to the guest; the stream goes on`, { timeout: 120_000 }, async () => {
    const g = dev.g;
    const watch = watchStreams(g.host, 10);
    const done = g.run(verb === 'play' ? 'pcm play 440 3' : 'pcm rec 3', { timeoutMs: 60_000 });
    await until(() => audioHosts().length === 1, 10_000, `the ${direction} audio host`);
    await sleep(1000);
    const [pid] = audioHosts();
    process.kill(pid, 'SIGKILL');
    const r = await done;
    const seen = watch.stop();
    assert.equal(r.shellStatus, null, r.output);
    assert.ok(r.pcm && r.pcm.verb === verb, r.output);
    assert.equal(r.pcm.num('frames'), 3 * 48000, 'the stream went on (as null audio)');
    const id = direction === 'output' ? 0 : 1;
    assert.match(seen.failures.get(id) ?? '', /exited unexpectedly \(SIGKILL\)/);
    const most = (k: 'xrunsHost' | 'xrunsGuest') => Math.max(...seen.samples.map((s) => s.streams.find((x) => x.id === id)?.[k] ?? 0));
    assert.ok(most('xrunsHost') >= 1, 'no host xrun counted');
    assert.ok(most('xrunsGuest') >= 1, 'no XRUN event sent to the guest');
  });
}
