// The benchmarks read each guest program's result line from console output that arrives in
// pieces (bench/vs-semu.ts resultLine): a line cut inside its number must not be read as a
// shorter time. It was, now and then, on both emulators (bench/RESULTS.md, seventh session).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resultLine } from '../../bench/vs-semu';

test('a result line is read only once its number is whole, wherever the output was cut', () => {
  const line = '# pipebench\r\npipebench: ns=528123456 iters=200 per_iter_ns=2640617\r\n# ';
  const re = resultLine('pipebench');
  for (let cut = 0; cut <= line.length; cut++) {
    const m = re.exec(line.slice(0, cut));
    if (m !== null) assert.equal(m[1], '528123456', `output cut after ${cut} characters`);
  }
  assert.equal(re.exec(line)?.[1], '528123456');
  assert.equal(resultLine('cpubench').exec('cpubench: ns=3656000000 iters=6000 checksum=b1a6a9a7\n')?.[1], '3656000000');
  assert.equal(re.exec('xpipebench: ns=5 iters=1'), null, 'only at the start of a line');
});
