import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveLaunch } from '../../debug-adapter/launch';
import { restrictedIn } from '../../src/vscode/trust';
import { applyDefaults, defaultConfiguration, isEmptyConfiguration, needsDefaultGuest, withDefaultGuest, wavSpec } from '../../src/vscode/config-defaults';

const settings = { audioOut: 'portaudio', audioIn: 'null', logLevel: 'info' };

function files(): { dir: string; kernel: string; initrd: string; map: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'semu-cfg-'));
  const kernel = join(dir, 'Image');
  const initrd = join(dir, 'initrd.cpio');
  const map = join(dir, 'System.map');
  writeFileSync(kernel, 'k');
  writeFileSync(initrd, 'i');
  writeFileSync(map, 'c0000000 T _start\n');
  mkdirSync(join(dir, 'sub'));
  return { dir, kernel, initrd, map, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('F5 without launch.json: the empty configuration becomes "Boot semu" with the settings', () => {
  assert.ok(isEmptyConfiguration({}));
  const c = applyDefaults({}, settings, {}, '/ws');
  assert.equal(c.type, 'semu');
  assert.equal(c.request, 'launch');
  assert.equal(c.name, 'Boot semu');
  assert.equal(c.audioOut, 'portaudio');
  assert.equal(c.audioIn, 'null');
  assert.equal(c.logLevel, 'info');
  assert.equal(c.cwd, '/ws');
  assert.equal(c.sharedDir, '/ws', 'the workspace folder is shared with the guest');
  assert.equal(c.sharedDirReadOnly, undefined, 'read-write in a trusted workspace');
  assert.ok(needsDefaultGuest(c));
});

test('the shared folder: launch.json picks another or none (""); an untrusted workspace shares read-only', () => {
  const mine = { type: 'semu', request: 'launch', name: 'mine' };
  assert.equal(applyDefaults({ ...mine, sharedDir: '/elsewhere' }, settings, {}, '/ws').sharedDir, '/elsewhere');
  assert.equal(applyDefaults({ ...mine, sharedDir: '' }, settings, {}, '/ws').sharedDir, '');
  assert.equal(applyDefaults(mine, settings).sharedDir, undefined, 'no workspace folder, no share');
  assert.equal(applyDefaults(mine, settings, {}, '/ws', { canShare: false }).sharedDir, undefined, 'not by default where virtio-fs cannot run (macOS, Windows)');
  assert.equal(applyDefaults({ ...mine, sharedDir: '/x' }, settings, {}, '/ws', { canShare: false }).sharedDir, '/x', 'asked for: the device says why it cannot');
  const untrusted = applyDefaults({}, settings, {}, '/ws', { trusted: false });
  assert.equal(untrusted.sharedDir, '/ws');
  assert.equal(untrusted.sharedDirReadOnly, true);
  assert.equal(applyDefaults({ ...mine, sharedDirReadOnly: false }, settings, {}, '/ws', { trusted: false }).sharedDirReadOnly, true, 'launch.json cannot lift it');
  assert.equal(applyDefaults({ ...mine, sharedDirReadOnly: true }, settings, {}, '/ws').sharedDirReadOnly, true);
});

test('untrusted workspace: launch.json naming a folder is refused; the default (the workspace, read-only) and "" are not', () => {
  const mine = { type: 'semu', request: 'launch', name: 'mine' };
  assert.deepEqual(restrictedIn({ ...mine, sharedDir: '/home' }), ['sharedDir']);
  assert.deepEqual(restrictedIn({ ...mine, sharedDir: '' }), []);
  assert.deepEqual(restrictedIn({ ...mine, sharedDirReadOnly: false }), [], 'read-only is forced by the defaults, not refused');
  assert.deepEqual(restrictedIn(mine), []);
  assert.equal(applyDefaults({ ...mine, sharedDir: '' }, settings, {}, '/ws', { trusted: false }).sharedDir, '', 'none stays none');
});

test('explicit launch.json values win over settings; pending one-shot overrides win over both', () => {
  const c = applyDefaults({ type: 'semu', request: 'launch', name: 'mine', audioOut: 'null', cwd: '/elsewhere' }, settings, {}, '/ws');
  assert.equal(c.name, 'mine');
  assert.equal(c.audioOut, 'null');
  assert.equal(c.cwd, '/elsewhere');
  const p = applyDefaults({ type: 'semu', request: 'launch', name: 'mine', audioOut: 'null' }, settings, { audioOut: wavSpec('/tmp/tx.wav') });
  assert.equal(p.audioOut, 'wav:/tmp/tx.wav');
  assert.equal(p.audioIn, 'null');
});

test('the default guest fills kernel/initrd/symbols but keeps what the person set', () => {
  const g = { kernel: '/g/Image', initrd: '/g/initramfs.cpio', vmlinux: '/g/vmlinux', systemMap: '/g/System.map' };
  const c = withDefaultGuest(defaultConfiguration(), g);
  assert.equal(c.kernel, '/g/Image');
  assert.equal(c.initrd, '/g/initramfs.cpio');
  assert.equal(c.symbols, '/g/vmlinux', 'vmlinux: DWARF for source lines and stacks');
  const kept = withDefaultGuest({ ...defaultConfiguration(), symbols: '/my/vmlinux' }, g);
  assert.equal(kept.symbols, '/my/vmlinux');
  assert.equal(needsDefaultGuest(c), false);
});

test('resolveLaunch: paths relative to cwd, options carried over, defaults', () => {
  const f = files();
  try {
    const r = resolveLaunch({ cwd: f.dir, kernel: 'Image', initrd: f.initrd, symbols: 'System.map', harts: 2, time: 'icount', audioOut: 'wav:out.wav', audioIn: 'null', consoleInput: ['pcm play 440 1'], stopOnEntry: true });
    assert.equal(r.options.kernel, f.kernel);
    assert.equal(r.options.initrd, f.initrd);
    assert.equal(r.symbols, f.map);
    assert.equal(r.options.harts, 2);
    assert.equal(r.options.time, 'icount');
    assert.equal(r.options.audioOut, `wav:${join(f.dir, 'out.wav')}`);
    assert.equal(r.options.audioIn, 'null');
    assert.deepEqual(r.consoleInput, ['pcm play 440 1']);
    assert.equal(r.stopOnEntry, true);
    const d = resolveLaunch({ kernel: f.kernel });
    assert.equal(d.stopOnEntry, false);
    assert.deepEqual(d.consoleInput, []);
    assert.equal(d.options.harts, undefined);
  } finally {
    f.cleanup();
  }
});

test('resolveLaunch: the debugger\'s gdbPort, sourceRoot and sourceMap', () => {
  const f = files();
  try {
    const r = resolveLaunch({ cwd: f.dir, kernel: f.kernel, gdbPort: 1234, sourceRoot: '.', sourceMap: { '/build/linux': 'linux' } });
    assert.equal(r.gdbPort, 1234);
    assert.equal(r.sourceRoot, f.dir);
    assert.deepEqual(r.sourceMap, { '/build/linux': join(f.dir, 'linux') });
    const d = resolveLaunch({ kernel: f.kernel });
    assert.equal(d.gdbPort, undefined);
    assert.equal(d.sourceRoot, undefined);
    const k = f.kernel;
    assert.throws(() => resolveLaunch({ kernel: k, gdbPort: 70000 }), /"gdbPort" must be a whole number from 0 to 65535, got 70000/);
    assert.throws(() => resolveLaunch({ kernel: k, gdbPort: true as never }), /"gdbPort" must be a whole number/);
    assert.throws(() => resolveLaunch({ kernel: k, sourceRoot: f.kernel }), /"sourceRoot": the kernel source tree .* is not a folder/);
    assert.throws(() => resolveLaunch({ kernel: k, sourceMap: ['/a', '/b'] as never }), /"sourceMap" must map paths to paths/);
    assert.throws(() => resolveLaunch({ kernel: k, sourceMap: { '/a': 3 } as never }), /"sourceMap" must map paths to paths/);
  } finally {
    f.cleanup();
  }
});

test('resolveLaunch: sharedDir is a folder relative to cwd; "" shares nothing; a missing one is named', () => {
  const f = files();
  try {
    const r = resolveLaunch({ cwd: f.dir, kernel: f.kernel, sharedDir: 'sub', sharedDirReadOnly: true });
    assert.equal(r.options.sharedDir, join(f.dir, 'sub'));
    assert.equal(r.options.sharedDirReadOnly, true);
    assert.equal(resolveLaunch({ kernel: f.kernel, sharedDir: '' }).options.sharedDir, undefined);
    assert.throws(() => resolveLaunch({ cwd: f.dir, kernel: f.kernel, sharedDir: 'gone' }), /launch.json "sharedDir": the shared folder .*gone does not exist/);
    assert.throws(() => resolveLaunch({ kernel: f.kernel, sharedDir: f.kernel }), /launch.json "sharedDir": the shared folder .* is not a folder/);
    assert.throws(() => resolveLaunch({ kernel: f.kernel, sharedDirReadOnly: 'yes' as never }), /"sharedDirReadOnly" must be true or false/);
  } finally {
    f.cleanup();
  }
});

test('resolveLaunch: every bad field is named in the message', () => {
  const f = files();
  try {
    const k = f.kernel;
    assert.throws(() => resolveLaunch({}), /"kernel" is missing/);
    assert.throws(() => resolveLaunch({ kernel: join(f.dir, 'nope') }), /launch.json "kernel": the kernel image .*nope does not exist/);
    assert.throws(() => resolveLaunch({ kernel: join(f.dir, 'sub') }), /is not a file/);
    assert.throws(() => resolveLaunch({ kernel: k, initrd: '/no/initrd' }), /"initrd"/);
    assert.throws(() => resolveLaunch({ kernel: k, symbols: '/no/map' }), /"symbols"/);
    assert.throws(() => resolveLaunch({ kernel: k, harts: 5 }), /"harts" must be a whole number from 1 to 4/);
    assert.throws(() => resolveLaunch({ kernel: k, harts: 1.5 }), /"harts"/);
    assert.throws(() => resolveLaunch({ kernel: k, time: 'fast' as never }), /"time" must be "host" or "icount", got "fast"/);
    assert.throws(() => resolveLaunch({ kernel: k, audioOut: 'speakers' }), /"audioOut" must be one of null, wav:PATH, portaudio, portaudio:NAME, webview, got "speakers"/);
    assert.throws(() => resolveLaunch({ kernel: k, consoleInput: [1] as never }), /"consoleInput"/);
    assert.throws(() => resolveLaunch({ kernel: k, stopOnEntry: 'yes' as never }), /"stopOnEntry" must be true or false/);
    assert.throws(() => resolveLaunch({ kernel: k, ramMiB: 8 }), /"ramMiB"/);
    assert.equal(resolveLaunch({ kernel: k, consoleInput: 'ls' as never }).consoleInput[0], 'ls');
  } finally {
    f.cleanup();
  }
});
