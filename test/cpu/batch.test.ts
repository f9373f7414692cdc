// In the worker, pages that get hot within `batchMs` of each other are compiled into one
// WebAssembly module (codecache.ts flush, translate.ts ModuleBatch): calls between modules cost
// several times calls within one. Each page is installed only once its module is compiled,
// unless it changed meanwhile; until then it runs in the fast loop.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc } from '../../src/emulator/cpu/asm';
import { CODE, TestCpu } from './harness';

const PAGE_A = CODE >>> 12;
const PAGE_B = PAGE_A + 1;
const PAGE_C = PAGE_A + 2;

/**
 * Page A calls a function on page B (a0 += 1) and one on page C (a0 += 2), then waits in WFI;
 * each page gets hot at its first entry and is queued for a module compiled in the background.
 */
function threePages(setup: (cpu: TestCpu) => void = () => {}): TestCpu {
  const cpu = new TestCpu('jit');
  cpu.cache.compileInBackground = true;
  cpu.cache.batchMs = 60_000; // only an explicit flush, unless a test says otherwise
  setup(cpu);
  cpu.load([enc('jal', 'ra', 0x1000), enc('jal', 'ra', 0x1ffc), enc('wfi')]);
  cpu.load([enc('addi', 'a0', 'a0', 1), enc('jalr', 'zero', 'ra', 0)], CODE + 0x1000);
  cpu.load([enc('addi', 'a0', 'a0', 2), enc('jalr', 'zero', 'ra', 0)], CODE + 0x2000);
  return cpu;
}

/** Runs the program from its start; returns a0 and how often translated code was entered. */
function runOnce(cpu: TestCpu): { a0: number; entered: number } {
  let entered = 0;
  const real = cpu.cache.enter.bind(cpu.cache);
  cpu.cache.enter = (hs, k, budget) => {
    entered++;
    return real(hs, k, budget);
  };
  cpu.set('a0', 0);
  cpu.hart.pc = CODE;
  cpu.runToWfi();
  cpu.cache.enter = real;
  return { a0: cpu.x('a0'), entered };
}

test('pages that get hot together share one module, and run translated once it is compiled', async () => {
  const cpu = threePages();
  const first = runOnce(cpu);
  assert.equal(first.a0, 3, 'the program ran in the fast loop meanwhile');
  assert.equal(first.entered, 0, 'nothing installed before the module is compiled');
  assert.equal(cpu.cache.translated, 3);
  assert.equal(cpu.cache.modules, 0, 'the batch waits for batchMs');
  await cpu.cache.flush();
  assert.equal(cpu.cache.modules, 1, 'one module for the three pages');
  for (const p of [PAGE_A, PAGE_B, PAGE_C]) assert.ok(cpu.cache.labelPages[p] !== null, `page ${p} installed`);
  const again = runOnce(cpu);
  assert.equal(again.a0, 3);
  assert.ok(again.entered >= 1, 'the program ran translated');
});

test('a page that changed while its module compiled is not installed; the others are', async () => {
  const cpu = threePages();
  runOnce(cpu);
  const flushed = cpu.cache.flush();
  // A loader writes page B again (a0 += 5 now) before the module is ready.
  cpu.load([enc('addi', 'a0', 'a0', 5), enc('jalr', 'zero', 'ra', 0)], CODE + 0x1000);
  await flushed;
  assert.equal(cpu.cache.labelPages[PAGE_B], null, 'the old bytes of page B were not installed');
  assert.ok(cpu.cache.labelPages[PAGE_A] !== null && cpu.cache.labelPages[PAGE_C] !== null);
  assert.equal(runOnce(cpu).a0, 7, 'the new bytes of page B ran');
});

test('a batch is compiled when it is full, and batchMs after its first page otherwise', async () => {
  const cpu = threePages((c) => {
    c.cache.batchPages = 2;
    c.cache.batchMs = 30;
  });
  runOnce(cpu);
  assert.equal(cpu.cache.modules, 1, 'the first two pages went as soon as the batch was full');
  const until = Date.now() + 5000;
  while (cpu.cache.modules < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  assert.equal(cpu.cache.modules, 2, 'the third page went after batchMs');
  // Both modules compile in the background.
  const installed = () => [PAGE_A, PAGE_B, PAGE_C].every((p) => cpu.cache.labelPages[p] !== null);
  while (!installed() && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  assert.ok(installed(), 'every page installed');
  assert.equal(runOnce(cpu).a0, 3);
});

test('a machine shutting down drops its waiting batch and timer', async () => {
  const cpu = threePages((c) => {
    c.cache.batchMs = 10;
  });
  runOnce(cpu);
  cpu.cache.dispose();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(cpu.cache.modules, 0, 'nothing compiled after dispose');
  await cpu.cache.flush();
  assert.equal(cpu.cache.modules, 0, 'the batch is gone');
});
