// The guest session helper's parsing of the pcm tool's summary lines (no guest needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastPcmSummary, parsePcmLine } from '../helpers/guest-session';

test('parsePcmLine: verb, key=value pairs, numbers and strings', () => {
  const p = parsePcmLine('pcm: play frames=96000 rate=48000 ch=2 fmt=S16 freq=440.0 xruns=0 ms=2014');
  assert.ok(p);
  assert.equal(p.verb, 'play');
  assert.equal(p.num('frames'), 96000);
  assert.equal(p.num('freq'), 440);
  assert.equal(p.str('fmt'), 'S16');
  assert.equal(p.error, null);
  assert.throws(() => p.num('fmt'), /fmt=S16 is not a number/);
  assert.throws(() => p.num('rms'), /no rms=/);
});

test('parsePcmLine: errors, and lines that are not summaries', () => {
  const e = parsePcmLine('pcm: error open /dev/snd/pcmC0D0c: no such file or directory');
  assert.ok(e);
  assert.equal(e.verb, 'error');
  assert.equal(e.error, 'open /dev/snd/pcmC0D0c: no such file or directory');
  assert.equal(parsePcmLine('/dev/snd/pcmC0D0p: S16 ch=2 rate=48000 period=960 buffer=3840'), null);
  assert.equal(parsePcmLine('pcm: play and some prose'), null);
  assert.equal(parsePcmLine('# pcm: play frames=1'), null);
});

test('lastPcmSummary: the last summary line of a command output', () => {
  const out = 'pcm: info cards=1 playback=1 capture=1\n/dev/snd/pcmC0D0c: S16 ch=2\npcm: rec frames=48000 freq=1000.0\n';
  assert.equal(lastPcmSummary(out)?.verb, 'rec');
  assert.equal(lastPcmSummary(out)?.num('freq'), 1000);
  assert.equal(lastPcmSummary('nothing here\n'), null);
});
