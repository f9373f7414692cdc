// The engine warm-up program must keep doing its job: run to its final WFI on every round,
// through the fast loop and the reference interpreter alike, without a crash.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runWarmUp } from '../../src/emulator/cpu/warmup';

test('the warm-up program finishes every round, the same way on every engine', () => {
  const [fast, translated, reference, again] = runWarmUp();
  for (const r of [fast, translated, reference, again]) {
    assert.equal(r.crashed, null, r.engine);
    assert.equal(r.finished, true, r.engine);
    assert.ok(r.iterations > 5000, `${r.engine}: ${r.iterations} iterations`);
    assert.equal(r.checksum, reference.checksum, `${r.engine}: the registers agree with the reference`);
  }
  assert.equal(fast.translated, 0, 'the first round stays in the fast loop');
  assert.ok(translated.translated >= 1, 'the second round runs translated pages');
  assert.equal(fast.iterations, reference.iterations, 'the fast loop retires exactly what the reference does');
});
