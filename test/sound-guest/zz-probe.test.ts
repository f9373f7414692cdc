import { test } from 'node:test';
import { createBackend } from '../../src/audio/index';
import { startRealtimeRig } from './helpers/realtime';
import { distFile } from '../../src/paths';
test('stall probe', async (t) => {
  const rig = await startRealtimeRig(440);
  try {
    const opts = { hostScript: distFile('audio-host.js'), env: { ...process.env, ...rig.env } };
    for (let round = 0; round < 3; round++) {
      for (const dir of ['output', 'input'] as const) {
        const b = createBackend(dir === 'output' ? 'portaudio:semutest_guest_out' : 'portaudio:semutest_guest_in', { portaudio: opts });
        const t0 = performance.now();
        const s = b.open({ direction: dir, rate: 48000, channels: 2, format: 'S16', periodBytes: 3840, bufferBytes: 15360 });
        const ev: string[] = [];
        let opened = -1, first = -1;
        const buf = new Uint8Array(19200);
        if (dir === 'output') s.ring.write(new Uint8Array(15360), 15360);
        s.start();
        let consumed = 0;
        while (performance.now() - t0 < 4000) {
          s.poll(0);
          const st = (s as unknown as { hostState: string }).hostState;
          if (opened < 0 && st === 'open') opened = performance.now() - t0;
          if (dir === 'output') { const r = s.ring.room(); if (r >= 3840) { s.ring.write(new Uint8Array(3840), 3840); consumed += 960; } }
          else { const n = s.ring.read(buf, buf.length, 4); consumed += n / 4; }
          if (first < 0 && consumed > 0) first = performance.now() - t0;
          await new Promise((r) => setTimeout(r, 2));
        }
        const el = performance.now() - t0;
        ev.push(`${dir}: opened ${opened.toFixed(0)} ms, first data ${first.toFixed(0)} ms, frames in 4 s ${consumed} (${(consumed / 48000).toFixed(2)} s) failure ${s.failure}`);
        s.close(); b.dispose();
        t.diagnostic(ev.join('; ') + ` el ${el.toFixed(0)}`);
      }
    }
  } finally { await rig.stop(); }
});
