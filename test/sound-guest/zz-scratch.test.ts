import { test } from 'node:test';
import { GuestSession } from '../helpers/guest-session';
import { GUEST_IN, GUEST_OUT, startRealtimeRig } from './helpers/realtime';
test('rt probe', async (t) => {
  const rig = await startRealtimeRig(440);
  const g = await GuestSession.boot({ audioOut: GUEST_OUT, audioIn: GUEST_IN, time: 'host', env: rig.env });
  t.diagnostic('pids ' + JSON.stringify((await import('../helpers/guest-session')).childPids()));
  try {
    for (const c of (process.env.CMDS ?? 'pcm rec 2;pcm play 440 2;pcm rec 2;pcm loop 2;pcm rec 2 -b 96000;pcm loop 3 -b 96000').split(';')) {
      const r = await g.run(c, { timeoutMs: 60000 });
      t.diagnostic(`${c}: ${r.ms} ms ${JSON.stringify(r.output)}`);
    }
  } finally { await g.dispose(); await rig.stop(); }
});
