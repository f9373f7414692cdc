// The fast loop's runs in WebAssembly (wasm-loop.ts): they follow jumps within and across pages,
// run the inline CSRs inline and the other CSR accesses and sfence.vma through the reference
// interpreter without ending, and leave the architectural state the reference gives. Every
// other CPU test runs on it too (the 'fast' and 'hybrid' modes); this one checks that the runs
// are WebAssembly's and long, not handed back to JavaScript at every turn.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc, li } from '../../src/emulator/cpu/asm';
import { CODE, TestCpu } from './harness';

const ROUNDS = 500;
const DATA = 0x200000;
const FAR = 0x3000; // another page

function program(cpu: TestCpu): void {
  cpu.load([
    ...li('s1', ROUNDS),
    ...li('s2', DATA),
    ...li('s3', DATA + 0x10000),
    // loop:
    enc('jal', 'ra', FAR - (CODE + 24)),
    enc('lw', 't0', 's2', 0),
    enc('addi', 't0', 't0', 3),
    enc('sw', 't0', 's2', 0),
    enc('csrrs', 't1', 0x100, 'zero'), // sstatus: inline
    enc('csrrw', 'zero', 0x140, 't0'), // sscratch: inline
    enc('csrrs', 't2', 0x105, 'zero'), // stvec: the reference interpreter
    enc('sfence.vma', 's3', 'zero'), // one page (not this code's): the reference interpreter, then a fetch through the TLB
    enc('amoadd.w', 't3', 's1', 's2'),
    enc('addi', 's1', 's1', -1),
    enc('bne', 's1', 'zero', -40),
    enc('wfi'),
  ]);
  cpu.load([enc('addi', 'a0', 'a0', 1), enc('jalr', 'zero', 'ra', 0)], FAR);
  cpu.hart.stvec = 0x8000;
}

test('fast: runs are WebAssembly, follow jumps, CSR accesses and sfence.vma, and match the reference', () => {
  const ref = new TestCpu('interp');
  program(ref);
  ref.runToWfi();

  const cpu = new TestCpu('fast');
  program(cpu);
  const loop = cpu.cache.loopFor(cpu.hart);
  assert.ok(loop !== null, 'a CPU area: the WebAssembly loop is there');
  let calls = 0, retired = 0;
  cpu.cache.loopFor = () => (hs, k, limit, pc, off) => {
    calls++;
    const n = loop(hs, k, limit, pc, off);
    retired += n;
    return n;
  };
  cpu.runToWfi();

  for (const r of ['a0', 's1', 't0', 't1', 't2', 't3']) assert.equal(cpu.x(r), ref.x(r), r);
  assert.equal(cpu.ram.i32[DATA >> 2], ref.ram.i32[DATA >> 2], 'the data word');
  assert.equal(cpu.hart.sscratch, ref.hart.sscratch, 'sscratch');
  assert.equal(cpu.hart.instret, ref.hart.instret, 'instructions retired');
  const insns = ROUNDS * 13;
  assert.ok(retired >= insns - 20, `WebAssembly retired ${retired} of ~${insns}`);
  // runToWfi asks for 1 000 iterations at a time: a run ends only at that budget (and at WFI).
  assert.ok(calls <= insns / 1000 + 4, `${calls} runs for ${retired} instructions`);
  // The crash trace holds the last runs, recorded by WebAssembly: the loop's body and the far page.
  const pcs = new Set<number>();
  for (let i = 0; i < cpu.hart.trace.length; i += 3) if (cpu.hart.trace[i + 2] > 0) pcs.add(cpu.hart.trace[i]);
  assert.ok(pcs.has(FAR) && pcs.has(CODE + 24), `trace run starts: ${[...pcs].map((p) => p.toString(16)).join(' ')}`);
});
