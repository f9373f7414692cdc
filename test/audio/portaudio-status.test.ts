// PortAudio's callback status reaches the stream: naudiodon printf()s it to the audio host's
// stdout (its input streams run with closeOnError off, so a read keeps its data), and an input
// overflow — captured audio PortAudio dropped because its callback was held up — must count as
// an xrun, or the guest hears a jump that nothing reports. The file-backed test device has no
// clock and never overflows, so an audio host that speaks the protocol and prints naudiodon's
// line stands in for one that does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PcmParams } from '../../src/audio/backend';
import { createBackend } from '../../src/audio/index';
import { until } from './helpers/wait';

const dir = mkdtempSync(join(tmpdir(), 'semu-pa-status-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
// Opens at once; prints naudiodon's status line when told to (a message of its own, 'say').
const host = join(dir, 'status-host.js');
writeFileSync(
  host,
  `process.on('message', (m) => {
    if (m.t === 'open') process.send({ t: 'opened', device: 'status-test' });
    else if (m.t === 'say') console.log('AudioIO: portAudio status - ' + m.flags);
    else if (m.t === 'close') process.send({ t: 'closed' }, () => process.exit(0));
  });
  setInterval(() => process.send({ t: 'progress', frames: 0, silence: 0, device: Date.now(), xruns: 0, dropped: 0 }), 50);\n`,
);

const params = (direction: 'input' | 'output'): PcmParams => ({ direction, rate: 48000, channels: 2, format: 'S16', periodBytes: 3840, bufferBytes: 15360 });

function say(s: unknown, flags: string): void {
  (s as { child: { send(m: object): void } }).child.send({ t: 'say', flags });
}

const xrunsReach = (s: { stats(): { xruns: number } }, n: number, what: string) => until(() => s.stats().xruns >= n, 5000, what);

test('an input overflow PortAudio reports while the stream runs is an xrun; before START, or for output, it is not', { timeout: 20_000 }, async () => {
  const b = createBackend('portaudio', { portaudio: { hostScript: host } });
  const inp = b.open(params('input'));
  const out = b.open(params('output'));
  try {
    await until(() => (inp as unknown as { hostState: string }).hostState === 'open', 5000, 'the input host to open');
    await until(() => (out as unknown as { hostState: string }).hostState === 'open', 5000, 'the output host to open');
    const settle = () => new Promise((r) => setTimeout(r, 300));
    say(inp, 'input overflow ');
    await settle(); // read before START (a negative: it can only be waited for)
    inp.start();
    // The host's lines arrive in order: once a later line has counted, the earlier one was read.
    say(inp, 'input overflow ');
    await xrunsReach(inp, 1, 'the overflow while running to count');
    assert.equal(inp.stats().xruns, 1, 'the one before START did not count: nothing of the guest was lost');
    say(inp, 'output underflow ');
    say(inp, 'input overflow ');
    await xrunsReach(inp, 2, 'the second overflow to count');
    assert.equal(inp.stats().xruns, 2, 'an output status on an input stream did not count');
    out.start();
    say(out, 'input overflow ');
    await settle();
    assert.equal(out.stats().xruns, 0, 'an output stream has no input to lose');
    assert.equal(inp.failure, null);
  } finally {
    inp.close();
    out.close();
    b.dispose();
  }
});
