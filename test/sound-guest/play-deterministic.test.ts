// `pcm play 440 2` in the real Linux guest into the WAV backend, with guest time derived from the
// instruction count: the file holds the tone (frequency, level, no gap), and a second identical
// run writes the very same bytes. The command comes from the kernel command line (guest_cmd), so
// nothing the host does at its own pace (typing on the console) enters the run.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze, samples } from '../audio/helpers/signal';
import { GuestSession, lastPcmSummary, type PcmSummary } from '../helpers/guest-session';
import { largestStep, longestSilence, readWav } from './helpers/wav-files';

const dir = mkdtempSync(join(tmpdir(), 'semu-sound-det-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  wav: string;
  console: string;
  pcm: PcmSummary;
}

/** Boots, lets guest_cmd play and power off, and returns what the run left behind. */
async function playRun(name: string): Promise<Run> {
  const wav = join(dir, `${name}.wav`);
  const g = await GuestSession.boot({
    audioOut: `wav:${wav}`,
    audioIn: 'null',
    time: 'icount',
    guestCmd: 'pcm play 440 2; poweroff',
    waitPrompt: false,
  });
  try {
    const e = await g.waitExit(120_000);
    assert.equal(e.reason, 'poweroff', `the run ended with ${e.reason}: ${e.message ?? ''}\n${g.tail()}`);
  } finally {
    await g.dispose();
  }
  const pcm = lastPcmSummary(g.output);
  assert.ok(pcm && pcm.verb === 'play', `no pcm: play line:\n${g.tail()}`);
  return { wav, console: g.output, pcm };
}

test('pcm play 440 2 → wav: (icount): 440 ± 1 Hz at the expected RMS, no gap; a second run is byte-identical', async (t) => {
  const a = await playRun('a');
  assert.equal(a.pcm.num('frames'), 96000);
  assert.equal(a.pcm.num('xruns'), 0);
  const w = readWav(a.wav);
  assert.deepEqual([w.rate, w.channels, w.format], [48000, 2, 'S16']);
  assert.equal(w.frames, 96000, 'two seconds, nothing more (no gap or silence written)');
  // Within the tone no all-zero stretch longer than a sample where a sine crosses zero — far
  // below the one period (960 frames) an underrun would leave.
  const gap = longestSilence(w);
  assert.ok(gap <= 1, `a silent gap of ${gap} frames`);
  const want = 0.5 / Math.SQRT2; // the tool's default amplitude 0.5
  for (let c = 0; c < 2; c++) {
    const s = analyze(w.data, w, c);
    assert.ok(Math.abs(s.freqHz - 440) <= 1, `channel ${c}: ${s.freqHz} Hz`);
    assert.ok(Math.abs(s.rms - want) <= want * 0.02, `channel ${c}: RMS ${s.rms}, want ${want.toFixed(4)} ± 2 %`);
    assert.ok(Math.abs(s.peak - 0.5) < 0.001, `channel ${c}: peak ${s.peak}`);
  }
  const maxStep = (2 * Math.PI * 440 * 0.5) / 48000;
  const step = largestStep(samples(w.data, w, 0));
  assert.ok(step <= maxStep * 1.01, `a jump of ${step} between samples: a dropped or repeated stretch`);

  const b = await playRun('b');
  const fa = readFileSync(a.wav);
  const fb = readFileSync(b.wav);
  assert.equal(fb.length, fa.length, 'the two runs wrote files of different sizes');
  assert.ok(fa.equals(fb), `the two runs differ from byte ${fa.findIndex((x, i) => x !== fb[i])}`);
  // The guest's own clock agrees too: the same instructions took the same guest time.
  assert.equal(b.pcm.raw, a.pcm.raw);
  // And so does everything else the machine printed, kernel log timestamps included.
  const same = a.console === b.console;
  t.diagnostic(`${fa.length} bytes identical; guest line "${a.pcm.raw}"; console transcript (${a.console.length} chars) ${same ? 'identical' : 'differs'}`);
  assert.ok(same, `the console transcripts differ from character ${[...a.console].findIndex((ch, i) => ch !== b.console[i])}`);
});
