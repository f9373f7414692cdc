import { test } from 'node:test';
import { GuestSession } from '../helpers/guest-session';
import { writeWav, ditheredSine } from './helpers/wav-files';
test('timing', async (t) => {
  const IN = { rate: 48000, channels: 2, format: 'S16' as const };
  writeWav('/tmp/sg/in.wav', IN, ditheredSine(IN, 1000, 48000 * 3));
  const t0 = Date.now();
  const g = await GuestSession.boot({ audioOut: 'null', audioIn: 'wav:/tmp/sg/in.wav', time: 'icount' });
  t.diagnostic(`boot ${Date.now() - t0} ms`);
  for (const c of ['pcm rec 1', 'pcm rec 1', 'pcm play 440 1', 'pcm rec 1']) {
    const r = await g.run(c);
    t.diagnostic(`${c}: ${r.ms} ms ${r.pcm?.raw} instret ${g.host.instret()}`);
  }
  await g.poweroff();
});
