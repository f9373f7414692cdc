// The CLI as a person meets it: bad input gets one clear line and exit code 2 (never a stack
// trace), a guest that dies is reported with pc, cause, tval and its last instructions, and the
// console escape quits.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distFile } from '../../src/paths';
import { parseArgs, EscapeFilter } from '../../src/host/cli-args';

const dir = mkdtempSync(join(tmpdir(), 'semu-cli-'));
const cli = (...args: string[]) =>
  // Defaults first: a flag given by the test comes later and wins.
  spawnSync(process.execPath, [distFile('cli.js'), '--audio-out', 'null', '--audio-in', 'null', '--timeout', '20', ...args], {
    encoding: 'utf8',
    input: '',
    timeout: 60_000,
  });

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

// A "kernel" of one instruction that jumps to itself: boots and never ends on its own.
const spin = file('spin.bin', Uint8Array.from([0x6f, 0x00, 0x00, 0x00])); // jal x0, 0

function assertUsageError(r: ReturnType<typeof cli>, pattern: RegExp): void {
  assert.equal(r.status, 2, `exit code 2 expected, got ${r.status}; stderr: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('cli: a missing kernel file', () => {
  assertUsageError(cli('-k', join(dir, 'nope')), /-k: the kernel image .*nope does not exist/);
});

test('cli: an empty kernel', () => {
  assertUsageError(cli('-k', file('empty.bin', '')), /kernel image .* is empty/);
});

test('cli: a kernel larger than RAM', () => {
  assertUsageError(cli('-k', file('big.bin', new Uint8Array(17 * 1024 * 1024)), '--ram', '16'), /RAM|larger|fit/i);
});

test('cli: a device tree that is not an FDT', () => {
  assertUsageError(cli('-k', spin, '-b', file('bad.dtb', 'not a device tree at all')), /dtb|device tree|FDT/i);
});

test('cli: an initrd that does not fit', () => {
  assertUsageError(cli('-k', spin, '-i', file('huge.cpio', new Uint8Array(15 * 1024 * 1024)), '--ram', '16'), /initrd/i);
});

test('cli: an unsupported hart count, time mode, audio backend, option', () => {
  assertUsageError(cli('-k', spin, '-c', '9'), /-c must be a whole number from 1 to 4, got 9/);
  assertUsageError(cli('-k', spin, '--time', 'warp'), /--time must be "host" or "icount", got "warp"/);
  assertUsageError(cli('-k', spin, '--audio-out', 'speakers'), /--audio-out must be one of null, wav:PATH, portaudio, portaudio:NAME, webview, got "speakers"/);
  assertUsageError(cli('--frobnicate'), /unknown option '--frobnicate'/);
  assertUsageError(cli('-k', spin, '--log', 'loud'), /--log must be "debug" or "info" or "warn" or "error" or "silent", got "loud"/);
});

test('cli: a disk image that cannot be opened', () => {
  const d = join(dir, 'a-directory');
  mkdirSync(d, { recursive: true });
  assertUsageError(cli('-k', spin, '-d', d), /-d: the disk image .*a-directory is not a file/);
  assertUsageError(cli('-k', spin, '-d', join(dir, 'missing.img')), /-d: the disk image .*missing\.img does not exist/);
  assertUsageError(cli('-k', spin, '-d', file('odd.img', new Uint8Array(1000))), /virtio-blk: .*not a multiple of 512.*truncate/);
});

test('cli: a guest that dies is reported with pc, cause, tval and its last instructions', () => {
  // An all-zero word is an illegal instruction; with stvec = 0 nothing can handle it.
  const r = cli('-k', file('dead.bin', new Uint8Array(16)));
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /illegal instruction/i);
  assert.match(r.stderr, /pc/i);
  assert.match(r.stderr, /tval/i);
  assert.match(r.stderr, /00000000: 00000000/, 'the last instructions, with pc and word');
});

test('cli: --timeout stops a guest that runs forever, exit code 124', () => {
  const r = spawnSync(process.execPath, [distFile('cli.js'), '-k', spin, '--audio-out', 'null', '--audio-in', 'null', '--timeout', '1'], { encoding: 'utf8', input: '', timeout: 30_000 });
  assert.equal(r.status, 124, r.stderr);
  assert.match(r.stderr, /--timeout 1s reached/);
});

test('cli: flags parse as semu spells them, short, attached, long and long=value', () => {
  const [k, i, b, d] = ['K', 'I', 'B', 'D'].map((n) => file(n, 'x'));
  const want = { kernel: k, initrd: i, dtb: b, disk: d, harts: 2, time: 'icount', audioOut: 'wav:/t/o.wav' };
  const a = parseArgs(['-k', k, '-i', i, '-b', b, '-d', d, '-c', '2', '--time', 'icount', '--audio-out', 'wav:/t/o.wav']);
  assert.deepEqual(a.options, want);
  const long = parseArgs([`--kernel=${k}`, '--initrd', i, '--dtb', b, '--disk', d, '--smp', '2', '--time=icount', '--audio-out', 'wav:/t/o.wav', '--headless']);
  assert.deepEqual(long.options, want);
  assert.equal(long.headless, true);
  assert.deepEqual(parseArgs([`-k${k}`, '-Hc2']).options, { kernel: k, harts: 2 }, 'attached values and bundled flags, as getopt');
  assert.equal(parseArgs(['-H']).help, false, "-H is semu's --headless, not help");
  assert.equal(parseArgs(['-H']).headless, true);
  assert.equal(parseArgs(['-h']).help, true);
  assert.equal(parseArgs(['--help']).help, true);
  assert.throws(() => parseArgs(['-k']), /-k needs a value/);
  assert.throws(() => parseArgs(['--ram', '3']), /--ram must be a whole number from 16 to 2048, got 3/);
  assert.throws(() => parseArgs(['-c', 'two']), /-c must be a whole number from 1 to 4, got 'two'/);
  assert.throws(() => parseArgs(['--disk-ro=yes']), /--disk-ro takes no value/);
  assert.throws(() => parseArgs(['Image']), /unexpected argument 'Image'/);
});

test("cli: semu's flags for devices still to come are accepted and say they are not available", () => {
  assert.throws(() => parseArgs(['-n', 'user']), /-n: virtio-net is not available yet/);
  assert.throws(() => parseArgs(['--netdev=tap']), /--netdev: virtio-net is not available yet/);
  const r = cli('-n', 'user');
  assertUsageError(r, /virtio-net is not available yet/);
});

test("cli: semu's -s / --shared_dir share a folder over virtio-fs, --shared-ro makes it read-only", () => {
  assert.deepEqual(parseArgs(['-s', dir]).options, { sharedDir: dir });
  assert.deepEqual(parseArgs([`--shared_dir=${dir}`, '--shared-ro']).options, { sharedDir: dir, sharedDirReadOnly: true });
  assert.deepEqual(parseArgs(['--shared-dir', dir]).options, { sharedDir: dir });
  assert.throws(() => parseArgs(['-s', join(dir, 'no-such-folder')]), /-s: the shared folder .*no-such-folder does not exist/);
  assert.throws(() => parseArgs(['-s']), /-s needs a value \(DIR\)/);
});

test('cli: -h prints the help with semu\'s flags and exits 0', () => {
  const r = spawnSync(process.execPath, [distFile('cli.js'), '-h'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  for (const flag of ['-k, --kernel', '-b, --dtb', '-i, --initrd', '-d, --disk', '-n, --netdev', '-c, --smp', '-g, --gdbstub', '-s, --shared_dir', '-H, --headless', '-h, --help', '--audio-out', '--timeout']) {
    assert.ok(r.stdout.includes(flag), `help lists ${flag}:\n${r.stdout}`);
  }
});

test('cli: Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A, other bytes pass', () => {
  const f = new EscapeFilter();
  assert.deepEqual(f.filter(Uint8Array.from([0x61, 0x01, 0x01, 0x62])), { forward: Uint8Array.from([0x61, 0x01, 0x62]), quit: false });
  const split = f.filter(Uint8Array.from([0x63, 0x01]));
  assert.deepEqual(split, { forward: Uint8Array.from([0x63]), quit: false });
  assert.equal(f.filter(Uint8Array.from([0x78])).quit, true, 'the escape survives a chunk boundary');
});
