// Small async helpers for tests that talk to child processes.
import assert from 'node:assert/strict';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every 5 ms until true; fails with `what` after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for: ${what}`);
    await sleep(5);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until process `pid` is gone (signal 0 fails). */
export async function exited(pid: number, ms: number): Promise<void> {
  assert.ok(pid > 0, 'a process id');
  await until(() => !alive(pid), ms, `process ${pid} to exit`);
}
