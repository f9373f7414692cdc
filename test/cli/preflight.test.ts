// Every user error at start, in one line, before the machine starts (src/host/preflight.ts):
// the CLI exits 2 with a message naming the real flag and a fix that works with the default
// guest; a launch configuration gets the same checks named by its attributes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distFile } from '../../src/paths';
import { resolveLaunch } from '../../debug-adapter/launch';
import { writeWav } from '../sound-guest/helpers/wav-files';

const dir = mkdtempSync(join(tmpdir(), 'semu-preflight-'));
chmodSync(dir, 0o755); // the unwritable-folder case runs the CLI as another user
test.after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  chmodSync(p, 0o644);
  return p;
}

// A "kernel" of one instruction that jumps to itself: boots and never ends on its own. A check
// that came only once the machine ran would let it run into --timeout (exit 124), not exit 2.
const spin = file('spin.bin', Uint8Array.from([0x6f, 0x00, 0x00, 0x00]));
const goodWav = join(dir, 'in.wav');
writeWav(goodWav, { rate: 8000, channels: 1, format: 'S16' }, new Uint8Array(1600));
chmodSync(goodWav, 0o644);

interface Cli {
  status: number | null;
  stderr: string;
  stdout: string;
}

function cli(args: string[], opts: { uid?: number; gid?: number } = {}): Cli {
  const r = spawnSync(process.execPath, [distFile('cli.js'), '-k', spin, '--audio-out', 'null', '--audio-in', 'null', '--timeout', '10', ...args], {
    encoding: 'utf8',
    input: '',
    timeout: 60_000,
    ...opts,
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** Exit code 2, exactly one line on stderr, matching `pattern`, and nothing booted. */
function assertOneLine(r: Cli, pattern: RegExp): void {
  assert.equal(r.status, 2, `exit code 2 expected, got ${r.status}; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.equal(r.stdout, '', 'the machine never started');
}

test('--audio-out wav: into a folder that does not exist: exit 2 before the machine starts', () => {
  assertOneLine(cli(['--audio-out', 'wav:/nonexistent-dir/x.wav']), /^semu: --audio-out: the folder \/nonexistent-dir does not exist: create it, or write the WAV file somewhere else$/);
});

test('--audio-out wav: naming a folder, or inside a file', () => {
  assertOneLine(cli(['--audio-out', `wav:${dir}`]), /is a folder: name a file in it/);
  assertOneLine(cli(['--audio-out', `wav:${spin}/x.wav`]), /spin\.bin is not a folder/);
});

test('--audio-out wav: in a folder the user cannot write to', () => {
  const ro = join(dir, 'read-only');
  mkdirSync(ro, { mode: 0o555 });
  chmodSync(ro, 0o555);
  // root may write anywhere: run the CLI as nobody then (a folder of root's, mode 555, stays closed to it).
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  assertOneLine(cli(['--audio-out', `wav:${ro}/x.wav`], asUser), /cannot write in .*read-only \(EACCES\): choose a place you can write to/);
});

test('--audio-in wav: missing, not a WAV, and a good one', () => {
  assertOneLine(cli(['--audio-in', `wav:${join(dir, 'missing.wav')}`]), /^semu: --audio-in: .*missing\.wav does not exist: give a WAV file/);
  assertOneLine(cli(['--audio-in', `wav:${file('notes.txt', 'hello, not a wav')}`]), /^semu: --audio-in: .*notes\.txt.* is not a RIFF\/WAVE file: give a PCM or float WAV file/);
  const r = cli(['--audio-in', `wav:${goodWav}`, '--timeout', '1']);
  assert.equal(r.status, 124, `a good WAV boots (then times out): ${r.stderr}`);
});

test('--log takes only the levels there are', () => {
  assertOneLine(cli(['--log', 'bogus']), /^semu: --log must be "debug" or "info" or "warn" or "error" or "silent", got "bogus"$/);
  assert.equal(cli(['--log', 'error', '--timeout', '1']).status, 124);
});

test('a kernel too large for RAM names --ram (not --memory) with a size that fits', () => {
  const r = cli(['-k', file('big.bin', new Uint8Array(40 << 20)), '--ram', '32']);
  assertOneLine(r, /the kernel image needs 40 MiB but 32 MiB of RAM leave 31 MiB below the device tree: give the machine more RAM with --ram 64$/);
  assert.doesNotMatch(r.stderr, /--memory/);
});

test('a missing or empty disk: mkfs.ext4 (what the default kernel mounts), never ext2', () => {
  const missing = cli(['-d', join(dir, 'disk.img')]);
  assertOneLine(missing, /^semu: -d: the disk image .*disk\.img does not exist: create one with "truncate -s 64M .*disk\.img && mkfs\.ext4 -q -F .*disk\.img"$/);
  assert.doesNotMatch(missing.stderr, /ext2/);
  assertOneLine(cli(['-d', file('empty.img', '')]), /^semu: -d: the disk image .*empty\.img is empty: make a file system on it with ".*mkfs\.ext4/);
});

test('a disk the user cannot write: chmod, or --disk-ro (which then boots)', () => {
  const img = file('ro.img', new Uint8Array(4096));
  chmodSync(img, 0o444);
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  assertOneLine(cli(['-d', img], asUser), /^semu: -d: the disk image .*ro\.img cannot be written \(EACCES\): make it writable \(chmod u\+w .*ro\.img\) or open it read-only with --disk-ro$/);
  assert.equal(cli(['-d', img, '--disk-ro', '--timeout', '1'], asUser).status, 124);
});

test('the advised disk command really makes a disk the machine opens', () => {
  const img = join(dir, 'made.img');
  execFileSync('sh', ['-c', `truncate -s 64M ${img} && mkfs.ext4 -q -F ${img}`]);
  assert.ok(existsSync(img));
  assert.equal(cli(['-d', img, '--timeout', '1']).status, 124);
});

function dtb(name: string, source: string): string {
  const src = file(`${name}.dts`, source);
  const out = join(dir, `${name}.dtb`);
  execFileSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb', '-o', out, src]);
  return out;
}

test('a device tree without memory, cpus or a console: one line saying what is missing', () => {
  const empty = dtb('empty', '/dts-v1/;\n/ { };\n');
  assertOneLine(
    cli(['-b', empty]),
    /^semu: -b: the device tree blob .*empty\.dtb has no memory node .*, no cpus .*, no console .*: add them, or leave -b out to use the generated tree$/,
  );
  const noConsole = dtb(
    'noconsole',
    `/dts-v1/;
     / { #address-cells = <1>; #size-cells = <1>;
         cpus { #address-cells = <1>; #size-cells = <0>; cpu@0 { device_type = "cpu"; reg = <0>; }; };
         memory@0 { device_type = "memory"; reg = <0 0x2000000>; }; };`,
  );
  assertOneLine(cli(['-b', noConsole]), /has no console \(an ns16550a serial node .*\): add it, or leave -b out/);
});

test('launch.json gets the same checks, named by its attributes', () => {
  const base = { kernel: spin };
  assert.throws(() => resolveLaunch({ ...base, audioOut: 'wav:/nonexistent-dir/x.wav' }), /^UsageError: launch\.json "audioOut": the folder \/nonexistent-dir does not exist/);
  assert.throws(() => resolveLaunch({ ...base, audioIn: `wav:${spin}` }), /launch\.json "audioIn": .* is not a RIFF\/WAVE file/);
  assert.throws(() => resolveLaunch({ ...base, logLevel: 'loud' }), /launch\.json "logLevel" must be "debug" or .*, got "loud"/);
  assert.throws(() => resolveLaunch({ kernel: file('big2.bin', new Uint8Array(40 << 20)), ramMiB: 32 }), /give the machine more RAM with "ramMiB": 64/);
  assert.throws(() => resolveLaunch({ ...base, dtb: dtb('empty2', '/dts-v1/;\n/ { };\n') }), /launch\.json "dtb": the device tree blob .* has no memory node .*leave launch\.json "dtb" out/);
  assert.doesNotThrow(() => resolveLaunch({ ...base, audioIn: `wav:${goodWav}`, audioOut: `wav:${join(dir, 'out.wav')}`, logLevel: 'info' }));
});
