// The real-VS-Code end-to-end run (scripts/e2e.sh: the packaged .vsix in code-server, driven from
// headless Chromium) as part of `npm test`. About a minute when the tools and the guest are
// cached; the first run installs code-server (~4 min) and may build the guest.
// SEMU_E2E=0 leaves it out (reported as skipped, never as passed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extensionRoot } from '../../src/paths';

const root = extensionRoot();
const OUT = join(root, 'test-results', 'e2e');
/**
 * The scenario's steps, counted in test/e2e/driver.ts itself (one `await step(` each; the boot
 * budget step runs only with the shipped guest), so a step added there is expected here: a run
 * reporting fewer did not run them all.
 */
function plannedSteps(): number {
  const calls = readFileSync(join(root, 'test', 'e2e', 'driver.ts'), 'utf8').match(/await step\(/g)?.length ?? 0;
  return process.env.SEMU_E2E_GUEST ? calls - 1 : calls;
}
const STEPS = plannedSteps();

function run(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(root, 'scripts', 'e2e.sh')], { cwd: root, env: { ...process.env, SEMU_E2E_OUT: OUT }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('e2e: the .vsix in a real VS Code: boot, levels, TX breakpoint, inspector, stop', { skip: process.env.SEMU_E2E === '0' ? 'SEMU_E2E=0' : false, timeout: 20 * 60_000 }, async () => {
  const r = await run();
  const lines = r.stdout.trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  const report = `${r.stdout}\n--- stderr (tail) ---\n${r.stderr.split('\n').slice(-20).join('\n')}\nscreenshots and logs: ${OUT}`;
  const m = /^(\d+) passed, (\d+) failed$/.exec(last);
  assert.ok(m, `the last line is not a summary:\n${report}`);
  assert.equal(Number(m[2]), 0, `steps failed:\n${report}`);
  assert.equal(Number(m[1]), STEPS, `expected ${STEPS} steps to pass:\n${report}`);
  assert.equal(r.code, 0, report);
  const results = JSON.parse(readFileSync(join(OUT, 'results.json'), 'utf8')) as { name: string; ok: boolean }[];
  assert.equal(results.filter((x) => x.ok).length, STEPS);
  assert.ok(existsSync(join(OUT, 'session.png')), 'the session screenshot');
});
