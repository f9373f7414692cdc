// The CLI lowers V8's background threads (src/host/background-threads.ts) so the emulator
// thread keeps its core: read from /proc while a real CLI runs a guest that spins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKGROUND_NICE } from '../../src/host/background-threads';
import { Cli } from '../helpers/cli-session';

const dir = mkdtempSync(join(tmpdir(), 'semu-threads-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

interface Thread {
  tid: number;
  nice: number;
  /** CPU ticks (user + system). */
  cpu: number;
}

function threads(pid: number): Thread[] {
  const out: Thread[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15, nice 19.
    const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.push({ tid: Number(t), cpu: Number(f[11]) + Number(f[12]), nice: Number(f[16]) });
  }
  return out;
}

test('the CLI runs V8 background threads at a low priority and the emulator thread at the default', { skip: process.platform !== 'linux' && 'Linux only (/proc)', timeout: 60_000 }, async () => {
  const spin = join(dir, 'spin.bin');
  writeFileSync(spin, Uint8Array.from([0x6f, 0x00, 0x00, 0x00])); // jal x0, 0: the hart runs flat out
  const cli = new Cli(['-k', spin, '--audio-out', 'null', '--audio-in', 'null', '-n', 'none', '--timeout', '30']);
  try {
    // Let the emulator thread run long enough to be the busiest by far.
    let all: Thread[] = [];
    let emulator: Thread;
    const deadline = Date.now() + 20_000;
    for (;;) {
      await new Promise((r) => setTimeout(r, 300));
      all = threads(cli.pid);
      emulator = all.reduce((a, b) => (b.cpu > a.cpu ? b : a));
      if (emulator.tid !== cli.pid && emulator.cpu >= 50) break;
      if (Date.now() > deadline) throw new Error(`no busy emulator thread: ${JSON.stringify(all)}\n${cli.out}`);
    }
    const main = all.find((t) => t.tid === cli.pid)!;
    assert.equal(main.nice, 0, 'the main thread (host, console, audio control) keeps its priority');
    assert.equal(emulator.nice, 0, 'the emulator thread keeps its priority');
    const low = all.filter((t) => t.nice === BACKGROUND_NICE);
    assert.ok(low.length >= 2, `V8's platform threads are lowered: ${JSON.stringify(all)}`);
  } finally {
    cli.kill();
  }
});
