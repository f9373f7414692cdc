// A worker started before its machine's options are known (src/host/prestart.ts; the CLI's
// entry starts one first thing): MachineHost.start() gives it the machine, and replaces one that
// died before it was taken. The CLI's own runs (cli.test.ts, preflight.test.ts) take this path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MachineHost, type ExitedEvent } from '../../src/host/machine-host';
import { prestartWorker } from '../../src/host/prestart';
import { enc } from '../../src/emulator/cpu/asm';

const dir = mkdtempSync(join(tmpdir(), 'semu-prestart-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

// a0 counts up forever: a machine that runs shows it in a0.
const kernel = join(dir, 'count.bin');
writeFileSync(kernel, Buffer.from(Int32Array.from([enc('addi', 'a0', 'a0', 1), enc('jal', 'zero', -4)]).buffer));

async function a0(host: MachineHost): Promise<number> {
  const [h] = await host.request('harts');
  return h.x[10];
}

test('a prestarted worker takes the machine: it runs, and it is the worker the host owns', { timeout: 60_000 }, async () => {
  const spare = prestartWorker();
  assert.ok(spare, 'dist/worker.js exists (npm run build)');
  const host = new MachineHost({ kernel, audioOut: 'null', audioIn: 'null', time: 'icount' });
  await host.start({ prestarted: spare });
  const first = await a0(host);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok((await a0(host)) !== first, 'the guest runs (a0 moves)');
  // Ending the prestarted worker ends the host's machine: they are the same thread.
  const exited = new Promise<ExitedEvent>((r) => host.once('exited', r));
  await spare.worker.terminate();
  const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the host did not see the prestarted worker end: it runs another')), 10_000).unref());
  assert.match((await Promise.race([exited, late])).message ?? '', /the emulator worker exited unexpectedly/);
});

test('a prestarted worker that died before it was taken is replaced by a new one', { timeout: 60_000 }, async () => {
  const spare = prestartWorker();
  assert.ok(spare);
  await spare.worker.terminate();
  assert.equal(spare.alive(), false, 'its exit was seen');
  const host = new MachineHost({ kernel, audioOut: 'null', audioIn: 'null', time: 'icount' });
  try {
    await host.start({ prestarted: spare });
    const first = await a0(host);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok((await a0(host)) !== first, 'the machine runs in a worker of its own');
  } finally {
    await host.dispose();
  }
});

test('a prestarted worker reports a bad kernel as the usage error it is', { timeout: 60_000 }, async () => {
  const host = new MachineHost({ kernel: join(dir, 'missing.bin'), audioOut: 'null', audioIn: 'null' });
  await assert.rejects(host.start({ prestarted: prestartWorker() }), (e: Error) => e.name === 'UsageError' && /missing\.bin/.test(e.message));
});
