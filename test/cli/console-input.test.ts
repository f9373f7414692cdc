// Console input is never dropped: whatever the CLI's stdin or the debugger's semu/consoleInput
// sends waits on the host side and reaches the guest as it reads (src/emulator/devices/
// console-input.ts). A megabyte pasted into the real guest's shell arrives whole — every line,
// in order, as the shell's own echo shows — then a marker command runs and poweroff works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { distFile } from '../../src/paths';
import { SemuClient, guestArtifacts } from '../dap/client';

const LINE_BODY = 60;

/** About `bytes` of comment lines "# L000001 ppp…", numbered, for the shell to read and ignore. */
function paste(bytes: number): { text: string; lines: number } {
  const parts: string[] = [];
  let n = 0;
  let size = 0;
  while (size < bytes) {
    const line = `# L${String(++n).padStart(6, '0')} ${'p'.repeat(LINE_BODY)}\n`;
    parts.push(line);
    size += line.length;
  }
  return { text: parts.join(''), lines: n };
}

/** Every numbered line shows up in the shell's echo, in order (echo repeats are harmless). */
function assertAllLines(consoleText: string, lines: number): void {
  const seen = [...consoleText.matchAll(/# L(\d{6}) p{60}/g)].map((m) => Number(m[1]));
  let want = 1;
  for (const k of seen) if (k === want) want++;
  assert.equal(want - 1, lines, `the shell read lines 1..${want - 1} of ${lines} in order (next missing: ${want})`);
}

function runCli(input: string, timeoutS: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [distFile('cli.js'), '--audio-out', 'null', '--audio-in', 'null', '--timeout', String(timeoutS)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('latin1').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('exit', (code) => resolve({ code, out: out.replace(/\r/g, ''), err }));
    child.stdin.end(input);
  });
}

test('cli: an 8000-byte line, then a marker and poweroff: nothing after 4 KiB is lost', { timeout: 180_000 }, async () => {
  const input = `echo A\n${'y'.repeat(8000)}\necho MARKER-B\npoweroff\n`;
  const r = await runCli(input, 150);
  assert.equal(r.code, 0, `poweroff ends the run with 0 (124 = the input was lost): ${r.err}`);
  assert.match(r.out, /^MARKER-B$/m);
});

test('cli: 1 MiB piped into the shell arrives whole, then a marker command runs, then poweroff', { timeout: 600_000 }, async () => {
  const p = paste(1 << 20);
  const r = await runCli(`echo START\n${p.text}echo MARKER-1MiB\npoweroff\n`, 540);
  assert.equal(r.code, 0, `exit code (124: the machine never got to poweroff): ${r.err}\n${r.out.slice(-500)}`);
  assert.match(r.out, /^MARKER-1MiB$/m);
  assertAllLines(r.out, p.lines);
});

test('dap: 1 MiB of semu/consoleInput arrives whole, then a marker command runs, then poweroff', { timeout: 600_000 }, async () => {
  const g = guestArtifacts();
  const dc = new SemuClient();
  await dc.start();
  try {
    await dc.boot({ kernel: g.kernel, initrd: g.initrd, audioOut: 'null', audioIn: 'null' });
    await dc.waitConsole('semu-guest: ready');
    const p = paste(1 << 20);
    const exited = dc.waitForEvent('terminated', 540_000);
    await dc.customRequest('semu/consoleInput', { text: `echo START\n${p.text}` });
    await dc.customRequest('semu/consoleInput', { text: 'echo MARKER-DAP\npoweroff\n' });
    await exited;
    assert.match(dc.console.replace(/\r/g, ''), /^MARKER-DAP$/m);
    assertAllLines(dc.console, p.lines);
  } finally {
    await dc.stop();
  }
});
