// The engine warm-up program must keep doing its job: run to its final WFI on every round,
// through the fast loop and the reference interpreter alike, without a crash.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runWarmUp } from '../../src/emulator/cpu/warmup';

test('the warm-up program finishes every round, the same way in both interpreters', () => {
  const rounds = runWarmUp(3);
  for (const r of rounds) {
    assert.equal(r.crashed, null);
    assert.equal(r.finished, true);
    assert.ok(r.iterations > 5000, `${r.iterations} iterations`);
  }
  assert.ok(rounds[0].translated >= 1, 'the hot loop went through the block translator');
  assert.equal(rounds[0].iterations, rounds[1].iterations, 'deterministic');
  assert.equal(rounds[0].iterations, rounds[2].iterations, 'the reference interpreter (last round) agrees');
});
