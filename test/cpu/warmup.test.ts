// The engine warm-up program must keep doing its job: run to its final WFI on every round,
// through the fast loop and the reference interpreter alike, without a crash; and after it, a
// Linux boot must not make V8 throw the optimized run loop away.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runWarmUp } from '../../src/emulator/cpu/warmup';
import { guestArtifacts, GUEST_READY_MARKER } from '../guest-artifacts/artifacts';
import { Cli } from '../helpers/cli-session';

test('the warm-up program finishes every round, the same way on every engine', () => {
  const rounds = runWarmUp();
  const [fast, translated, reference, translatedElsewhere] = rounds;
  assert.deepEqual(
    rounds.map((r) => r.engine),
    ['fast', 'translated', 'reference', 'translated', 'fast'],
  );
  for (const r of rounds) {
    assert.equal(r.crashed, null, r.engine);
    assert.equal(r.finished, true, r.engine);
    assert.ok(r.iterations > 3000, `${r.engine}: ${r.iterations} iterations (its main loop ran)`);
    assert.equal(r.checksum, reference.checksum, `${r.engine}: the registers agree with the reference`);
  }
  assert.equal(fast.translated, 0, 'the first round stays in the fast loop');
  assert.ok(translated.translated >= 1, 'the second round runs translated pages');
  assert.ok(translatedElsewhere.translated >= 1, 'the second machine runs translated pages too');
  assert.equal(fast.iterations, reference.iterations, 'the fast loop retires exactly what the reference does');
});

test('a Linux boot after the warm-up throws the optimized run loop away at most once, and detaches no ArrayBuffer', { timeout: 120_000 }, async () => {
  // Each deoptimization costs the boot 70-200 ms: the run loop runs unoptimized while V8
  // compiles it again (bench/RESULTS.md, 2026-12-06). Before the warm-up covered them, every
  // boot had three: the first transferred ArrayBuffer, the translate call inside a run, the
  // real machine's dispatcher. Now a boot has none; one was seen once in about twenty boots
  // (timing-dependent, not located), so one is allowed.
  // A detached ArrayBuffer would also put a detach check on every typed-array access of the
  // engine from then on (warmup.ts): the console goes both ways here, and nothing may detach.
  const g = guestArtifacts();
  const cli = new Cli(['-k', g.kernel, '-i', g.initrd, '--audio-out', 'null', '--audio-in', 'null', '-n', 'none'], undefined, ['--trace-deopt', '--trace-protector-invalidation']);
  try {
    await cli.waitFor(GUEST_READY_MARKER, 0, 90_000);
    const from = cli.out.length;
    cli.type('cat /proc/version');
    await cli.waitFor('Linux version', from, 30_000);
    assert.equal(await cli.poweroff(), 0, cli.ended());
  } finally {
    cli.kill();
  }
  // V8 writes its trace to the process's stdout, which Cli collects with the console.
  const out = cli.out;
  assert.match(out, /Invalidating protector cell|\[bailout/, 'the trace flags took effect');
  assert.doesNotMatch(out, /Invalidating protector cell ArrayBufferDetaching/, 'no thread of the CLI detached an ArrayBuffer');
  const lost = out.split('\n').filter((l) => /(bailout|marking dependent code).*runFast/.test(l));
  assert.ok(lost.length <= 1, `deoptimizations of the fast loop during the boot:\n${lost.join('\n')}`);
});
