// Pieces of guest/build.sh that a normal build never exercises: the check that every
// kernel.config line survived olddefconfig, and the message for missing packages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './artifacts';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'guest-script-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `body` in bash with guest/lib/common.sh and kernel.sh sourced. */
function lib(body: string): { status: number | null; stdout: string; stderr: string } {
  const guest = join(repoRoot(), 'guest');
  const script = `set -euo pipefail\n. '${guest}/lib/common.sh'\n. '${guest}/lib/kernel.sh'\n${body}\n`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function files(fragment: string, config: string): [string, string] {
  const f = join(dir, 'fragment');
  const c = join(dir, 'config');
  writeFileSync(f, fragment);
  writeFileSync(c, config);
  return [f, c];
}

test('verify_fragment accepts a config that kept every fragment line', () => {
  const [f, c] = files('# comment\nCONFIG_A=y\nCONFIG_N=4\n# CONFIG_B is not set\n# CONFIG_GONE is not set\n',
    'CONFIG_A=y\nCONFIG_N=4\n# CONFIG_B is not set\nCONFIG_OTHER=y\n');
  const r = lib(`verify_fragment '${f}' '${c}'; echo verified`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'verified');
});

test('verify_fragment fails loudly on a dropped option, a changed value and an unwanted one', () => {
  const [f, c] = files('CONFIG_A=y\nCONFIG_N=4\n# CONFIG_B is not set\n', '# CONFIG_A is not set\nCONFIG_N=8\nCONFIG_B=y\n');
  const r = lib(`verify_fragment '${f}' '${c}'; echo verified`);
  assert.notEqual(r.status, 0);
  assert.doesNotMatch(r.stdout, /verified/);
  assert.match(r.stderr, /want 'CONFIG_A=y', got '# CONFIG_A is not set'/);
  assert.match(r.stderr, /want 'CONFIG_N=4', got 'CONFIG_N=8'/);
  assert.match(r.stderr, /CONFIG_B should be unset but is CONFIG_B=y/);
  assert.match(r.stderr, /did not survive olddefconfig/);
});

test('a missing package without root prints the exact apt-get line and exits 1', () => {
  // `id` is shadowed so the check believes it runs as a normal user
  const r = lib(`REQUIRED_PKGS=(make no-such-package-vscode-semu)\nid() { echo 1000; }\nensure_packages; echo installed`);
  assert.equal(r.status, 1);
  assert.doesNotMatch(r.stdout, /installed/);
  assert.match(r.stderr, /^ {2}sudo apt-get install -y --no-install-recommends no-such-package-vscode-semu$/m);
});

test('SEMU_GUEST_NO_INSTALL=1 never installs, even as root: prints the apt-get line and exits 3', () => {
  // `apt-get` is shadowed: reaching it would be the bug
  const r = lib(`REQUIRED_PKGS=(make no-such-package-vscode-semu)\nid() { echo 0; }\napt-get() { echo RAN-APT; }\nSEMU_GUEST_NO_INSTALL=1 ensure_packages; echo installed`);
  assert.equal(r.status, 3);
  assert.doesNotMatch(r.stdout + r.stderr, /RAN-APT|installed/);
  assert.match(r.stderr, /^ {2}apt-get install -y --no-install-recommends no-such-package-vscode-semu$/m);
});

test('the cache keys: same inputs give the same hash, any content change a different one', () => {
  const [f] = files('CONFIG_A=y\n', '');
  const r1 = lib(`hash_of '${f}'`);
  const r2 = lib(`hash_of '${f}'`);
  writeFileSync(f, 'CONFIG_A=n\n');
  const r3 = lib(`hash_of '${f}'`);
  assert.equal(r1.status, 0, r1.stderr);
  assert.match(r1.stdout.trim(), /^[0-9a-f]{16}$/);
  assert.equal(r1.stdout, r2.stdout);
  assert.notEqual(r1.stdout, r3.stdout);
});
