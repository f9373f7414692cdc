// A hot slot whose page cannot be translated now (its module still compiling) or again (it has
// used its versions) asks the translator once per `hotThreshold` entries, not on every entry: in
// a steady guest that was tens of thousands of refused calls a second, and their garbage made
// the worker's heap breathe by megabytes (bench/soak.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc, li } from '../../src/emulator/cpu/asm';
import { TestCpu } from './harness';

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
