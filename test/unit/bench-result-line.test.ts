// The benchmarks read each guest program's result line from console output that arrives in
// pieces (bench/vs-semu.ts resultLine): a line cut inside its number must not be read as a
// shorter time. It was, now and then, on both emulators (bench/RESULTS.md, seventh session).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insnsOf, resultLine } from '../../bench/vs-semu';

test('a result line is read only once it is whole, wherever the output was cut', () => {
  const line = '# pipebench\r\npipebench: ns=528123456 iters=200 per_iter_ns=2640617 insns=48123456\r\n# ';
  const re = resultLine('pipebench');
  let matched = 0;
  for (let cut = 0; cut <= line.length; cut++) {
    const m = re.exec(line.slice(0, cut));
    if (m === null) continue;
    matched++;
    assert.equal(m[1], '528123456', `output cut after ${cut} characters`);
    assert.equal(insnsOf(m[2]), 48123456, `output cut after ${cut} characters`);
  }
  assert.equal(matched, 3, 'matched from the end of line on');
  const c = resultLine('cpubench').exec('cpubench: ns=3656000000 iters=6000 checksum=b1a6a9a7\n');
  assert.ok(c !== null);
  assert.equal(c[1], '3656000000');
  assert.ok(Number.isNaN(insnsOf(c[2])), 'no insns= (a build without counters): NaN');
  assert.equal(re.exec('xpipebench: ns=5 iters=1\n'), null, 'only at the start of a line');
});
