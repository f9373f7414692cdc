// A hot slot whose page cannot be translated now (its module still compiling) or again (it has
// used its versions) asks the translator once per `hotThreshold` entries, not on every entry: in
// a steady guest that was tens of thousands of refused calls a second, and their garbage made
// the worker's heap breathe by megabytes (bench/soak.ts). And what a translation's entries are:
// besides the hot slot, the return sites of the calls it includes and the slots already warm,
// whose counts survive translations made for other slots.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc, li } from '../../src/emulator/cpu/asm';
import { CODE, TestCpu } from './harness';
import { FREE_VERSIONS, MAX_VERSIONS } from '../../src/emulator/cpu/codecache';

const LOOPS = 2000;
const HOT = 50;

/** Runs a LOOPS-iteration loop on a cache set up by `setup`; returns the calls to translate(). */
function translateCalls(setup: (cpu: TestCpu) => void): { calls: number; cpu: TestCpu } {
  const cpu = new TestCpu('jit');
  cpu.cache.hotThreshold = HOT;
  setup(cpu);
  const cache = cpu.cache;
  const real = cache.translate.bind(cache);
  let calls = 0;
  cache.translate = (h, page, slot) => {
    calls++;
    return real(h, page, slot);
  };
  cpu.load([...li('s1', LOOPS), enc('addi', 'a0', 'a0', 1), enc('addi', 's1', 's1', -1), enc('bne', 's1', 'zero', -8), enc('wfi')]);
  cpu.runToWfi();
  assert.equal(cpu.x('a0'), LOOPS, 'the loop ran to the end');
  return { calls, cpu };
}

test('a page out of translation versions is asked about once per hotThreshold entries', () => {
  const { calls, cpu } = translateCalls((c) => {
    c.cache.maxVersions = 0;
  });
  assert.equal(cpu.cache.translated, 0);
  assert.ok(calls >= 1 && calls <= LOOPS / HOT + 2, `translate() called ${calls} times for ${LOOPS} entries`);
});

test('a page whose module is still compiling is asked about once per hotThreshold entries', () => {
  // Compiled in the background: nothing installs it before this synchronous run ends.
  const { calls, cpu } = translateCalls((c) => {
    c.cache.compileInBackground = true;
  });
  assert.equal(cpu.cache.translated, 1, 'one translation, still pending');
  assert.ok(calls >= 2 && calls <= LOOPS / HOT + 2, `translate() called ${calls} times for ${LOOPS} entries`);
});

test('a page is translated again at once FREE_VERSIONS times, then after twice as many hot slots each time, MAX_VERSIONS times at most', () => {
  const cpu = new TestCpu('jit');
  cpu.load([enc('addi', 'a0', 'a0', 1), enc('wfi')]);
  const page = CODE >>> 12;
  cpu.cache.decode(page);
  const translatedAt: number[] = [];
  for (let call = 1; call <= 600; call++) {
    const before = cpu.cache.translated;
    cpu.cache.translate(cpu.hart, page, 0);
    if (cpu.cache.translated > before) translatedAt.push(call);
  }
  // Versions 1–4 at once; version v + 1 after 2^(v − 4) hot slots (each call here is one).
  const want: number[] = [];
  for (let v = 0, call = 0; v < MAX_VERSIONS; v++) want.push((call += v < FREE_VERSIONS ? 1 : 1 << (v - FREE_VERSIONS)));
  assert.deepEqual(translatedAt, want);
  assert.equal(translatedAt.length, MAX_VERSIONS);
});

test('a translation is entered at the return site of every call it includes, calls within those too', () => {
  const cpu = new TestCpu('jit');
  // 0: call 8 · 1: a0 += 1 · 2: call 8 · 3: a0 += 2 · 4: jump 7 (no link) · 5: a0 += 4 · 6: wfi · 7: jump 5 · 8: ret
  cpu.load([enc('jal', 'ra', 32), enc('addi', 'a0', 'a0', 1), enc('jal', 'ra', 24), enc('addi', 'a0', 'a0', 2), enc('jal', 'zero', 12), enc('addi', 'a0', 'a0', 4), enc('wfi'), enc('jal', 'zero', -8), enc('jalr', 'zero', 'ra', 0)]);
  const page = CODE >>> 12;
  cpu.cache.decode(page);
  cpu.cache.translate(cpu.hart, page, 0);
  const labels = cpu.cache.labelPages[page]!;
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((s) => labels[s]), [1, 1, 0, 1, 0, 0], 'entries: the hot slot and the two return sites; a jump without a link makes none');
  cpu.runToWfi();
  assert.equal(cpu.x('a0'), 7, 'the program ran through its return sites');
});

test('slots keep their entry counts when their page is translated for another slot, and join a later translation once warm', () => {
  const cpu = new TestCpu('jit');
  cpu.cache.hotThreshold = 40; // warm: a quarter of it
  cpu.load([enc('addi', 'a0', 'a0', 1), enc('wfi'), enc('addi', 'a0', 'a0', 2), enc('wfi'), enc('addi', 'a0', 'a0', 3), enc('wfi')]);
  const page = CODE >>> 12;
  cpu.cache.decode(page);
  const heat = cpu.cache.heatPages[page]!;
  heat[2] = 9;
  cpu.cache.translate(cpu.hart, page, 0);
  assert.equal(heat[2], 9, 'slot 2 kept its count');
  assert.equal(cpu.cache.labelPages[page]![2], 0, 'not warm yet: not an entry');
  heat[2]++;
  cpu.cache.translate(cpu.hart, page, 4);
  assert.deepEqual([0, 2, 4].map((s) => cpu.cache.labelPages[page]![s]), [1, 1, 1], 'warm now: an entry of the next translation');
});
