// Self-modifying code and the translated-code cache: stores by the hart (before and after the
// page holds translations), FENCE.I, and writes by others (DMA, the debugger) via Ram.noteWrite.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc, li } from '../../src/emulator/cpu/asm';
import { MODES, TestCpu } from './harness';

for (const mode of MODES) {
  test(`${mode}: a patched instruction runs after the store and FENCE.I`, () => {
    const cpu = new TestCpu(mode);
    cpu.load([enc('addi', 'a0', 'a0', 1), enc('jalr', 'zero', 'ra', 0)], 0x1100);
    const loop = [
      enc('jal', 'ra', 0x1100 - 0x1018), // 0x1018
      enc('sw', 't0', 's0', 0),
      enc('fence.i'),
      enc('addi', 's1', 's1', -1),
      enc('bne', 's1', 'zero', -16),
      enc('wfi'),
    ];
    cpu.load([...li('s0', 0x1100), ...li('t0', enc('addi', 'a0', 'a0', 100)), ...li('s1', 3), ...loop]);
    cpu.runToWfi();
    assert.equal(cpu.x('a0'), 201);
    if (mode === 'jit') assert.ok(cpu.cache.invalidated >= 1, 'the translated page was dropped');
  });

  test(`${mode}: a store through a TLB entry made before the page held code still invalidates it`, () => {
    const cpu = new TestCpu(mode);
    // 0x5000: the callee; 0x5800: data in the same page, written first (store TLB entry filled).
    cpu.load([enc('addi', 'a0', 'a0', 1), enc('jalr', 'zero', 'ra', 0)], 0x5000);
    cpu.load([
      ...li('s0', 0x5000),
      enc('sw', 'zero', 's0', 0x7fc), // data store into the code page: TLB entry for the page
      enc('jal', 'ra', 0x5000 - 0x100c), // 0x100c: runs (and compiles) the callee
      ...li('t0', enc('addi', 'a0', 'a0', 10)),
      enc('sw', 't0', 's0', 0), // patch through the (evicted) entry
      enc('fence.i'),
      enc('jal', 'ra', 0x5000 - 0x1020), // 0x1020
      enc('wfi'),
    ]);
    cpu.runToWfi();
    assert.equal(cpu.x('a0'), 11);
  });

  test(`${mode}: external writes (DMA, debugger) drop translations of the pages they touch`, () => {
    const cpu = new TestCpu(mode);
    cpu.load([enc('addi', 'a0', 'a0', 1), enc('wfi')], 0x6000);
    cpu.hart.pc = 0x6000;
    cpu.runToWfi();
    assert.equal(cpu.x('a0'), 1);
    cpu.ram.write32(0x6000, enc('addi', 'a0', 'a0', 5));
    cpu.ram.noteWrite(0x6000, 4);
    cpu.hart.pc = 0x6000;
    cpu.runToWfi();
    assert.equal(cpu.x('a0'), 6);
  });

  test(`${mode}: identical code at two places and one place at two virtual addresses both run right`, () => {
    const cpu = new TestCpu(mode);
    const body = [enc('auipc', 'a0', 0), enc('jal', 'a1', 8), enc('wfi'), enc('wfi')];
    cpu.load(body, 0x7000);
    cpu.load(body, 0x7100);
    for (const at of [0x7000, 0x7100, 0x7000]) {
      cpu.hart.pc = at;
      cpu.runToWfi();
      assert.equal(cpu.x('a0'), at);
      assert.equal(cpu.x('a1'), at + 8);
      assert.equal(cpu.hart.pc, at + 16);
    }
  });
}
