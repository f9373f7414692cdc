// A hot slot whose page cannot be translated now (its module still compiling) or again (it has
// used its versions) asks the translator once per `hotThreshold` entries, not on every entry: in
// a steady guest that was tens of thousands of refused calls a second, and their garbage made
// the worker's heap breathe by megabytes (bench/soak.ts).

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
