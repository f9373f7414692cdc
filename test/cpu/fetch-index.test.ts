// The fetch TLB's index (tlb-size.ts fetchIndex): pages of one 4 MiB region never collide, pages
// 4 MiB apart no longer do (Linux's text is longer than 4 MiB, and its last pages used to evict
// its hottest first ones), and translated code's dispatcher indexes the TLB exactly as the
// JavaScript that fills it: otherwise the dispatcher would miss an entry the fast loop finds, and
// the fast loop would hand the same pc back to it without end.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc, li } from '../../src/emulator/cpu/asm';
import { fetchIndex, TLB_SIZE } from '../../src/emulator/cpu/tlb-size';
import { CODE, TestCpu } from './harness';

test('pages of one 4 MiB region take every index once; the same page 4 MiB higher takes another', { timeout: 30_000 }, () => {
  for (const region of [0, 0x300, 0x301, 0x1ff]) {
    const seen = new Set<number>();
    for (let p = 0; p < TLB_SIZE; p++) seen.add(fetchIndex(((region << 22) | (p << 12)) >>> 0));
    assert.equal(seen.size, TLB_SIZE, `region ${region.toString(16)}`);
  }
  // The pages that evicted each other in every context switch of the guest's `pipebench`.
  for (const [a, b] of [[0xc002d000, 0xc042d000], [0xc0032000, 0xc0432000], [0x00001000, 0x00401000]]) {
    assert.notEqual(fetchIndex(a), fetchIndex(b), `${a.toString(16)} and ${b.toString(16)}`);
  }
});

test('translated code calls between pages 4 MiB apart through its own dispatcher, without returning to JavaScript', { timeout: 30_000 }, () => {
  const FAR = CODE + (4 << 20);
  const cpu = new TestCpu('jit', 8 << 20);
  const LOOPS = 2000;
  // CODE: s1 = LOOPS; t0 = FAR; loop: call FAR (jalr) · s1 -= 1 · bne loop · wfi. FAR: a0 += 1; ret.
  const head = [...li('s1', LOOPS), ...li('t0', FAR)];
  cpu.load([...head, enc('jalr', 'ra', 't0', 0), enc('addi', 's1', 's1', -1), enc('bne', 's1', 'zero', -8), enc('wfi')]);
  cpu.load([enc('addi', 'a0', 'a0', 1), enc('jalr', 'zero', 'ra', 0)], FAR);
  let enters = 0;
  const enter = cpu.cache.enter.bind(cpu.cache);
  cpu.cache.enter = (hs, k, budget) => {
    // A dispatcher that indexes the TLB otherwise misses at once, and the fast loop, whose
    // lookup hits, enters it again: forever. Fail instead of hanging.
    if (++enters > 1000) throw new Error(`translated code entered ${enters} times: its dispatcher misses the fetch TLB`);
    return enter(hs, k, budget);
  };
  cpu.runToWfi();
  assert.equal(cpu.x('a0'), LOOPS, 'every call ran');
  // Each slice of runToWfi enters once, and the first calls start before both pages are in.
  assert.ok(enters < 40, `translated code was entered ${enters} times for ${LOOPS} calls between two pages`);
});
