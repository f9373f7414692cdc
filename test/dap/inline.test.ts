// The adapter as the extension runs it: inline in this process (DebugAdapterInlineImplementation
// talks to it through handleMessage/onDidSendMessage), console text to a callback instead of
// output events. Two sessions one after the other in the same process both work, and once each
// is disconnected nothing it started is left: no worker thread, no timer, no handle.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { SemuDebugSession } from '../../debug-adapter/session';
import type { MachineHost } from '../../src/host/machine-host';
import { guestArtifacts, BOOT_TIMEOUT_MS } from './client';
import { InlineClient } from './inline-client';

/** Handles that keep a process alive, by type (what the test runner itself holds is the baseline). */
function handles(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

/** One inline session: boot, type a command, check where things went, disconnect. */
async function oneSession(g: ReturnType<typeof guestArtifacts>): Promise<Map<string, number>> {
  let consoleText = '';
  let host: MachineHost | null = null;
  let hostCleared = false;
  const session = new SemuDebugSession({
    consoleOut: (t) => (consoleText += t),
    onMachine: (h) => {
      if (h) host = h;
      else hostCleared = true;
    },
  });
  const dc = new InlineClient(session);
  try {
    const init = await dc.request<DebugProtocol.InitializeResponse>('initialize', { adapterID: 'semu', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    assert.equal(init.success, true, init.message);
    const launched = dc.request('launch', { kernel: g.kernel, initrd: g.initrd, time: 'icount', audioOut: 'null', audioIn: 'null', consoleInput: ['echo inline   42'] });
    await dc.request('configurationDone');
    const l = await launched;
    assert.equal(l.success, true, l.message);
    assert.ok(host, 'onMachine told the extension about the machine');

    // The console goes to the callback (the terminal), not to output events. The shell echoes
    // what is typed; `echo` joins its words with one space, so "inline 42" is its output.
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    while (!/^inline 42/m.test(consoleText) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(consoleText, /semu-guest: ready/);
    assert.match(consoleText, /^inline 42/m, 'consoleInput was typed once the guest was ready (and the shell ran it)');
    assert.equal(dc.events.filter((e) => e.event === 'output' && (e as DebugProtocol.OutputEvent).body.category === 'stdout').length, 0);
    assert.ok(dc.events.some((e) => e.event === 'semu/levels'), 'levels events while running');
    assert.ok(dc.events.some((e) => e.event === 'semu/state' && e.body.state === 'running'));
    const during = handles();

    const d = await dc.request('disconnect', {});
    assert.equal(d.success, true);
    assert.equal(hostCleared, true, 'onMachine(null) once the machine is gone');
    assert.equal((host as MachineHost | null)?.state, 'exited');
    return during;
  } finally {
    // Whatever failed above, never leave a machine running in the test process.
    await session.close();
    dc.dispose();
  }
}

test('two inline sessions in one process, each leaving nothing behind', { timeout: 240_000 }, async () => {
  const g = guestArtifacts();
  const before = handles();
  for (let round = 0; round < 2; round++) {
    const during = await oneSession(g);
    // The check can fail: a running session holds handles (worker port, levels timer).
    assert.ok([...during].some(([type, n]) => n > (before.get(type) ?? 0)), `a running session shows in the handles: ${[...during].join(' ')}`);
    // Give closed handles one turn to leave the list, then compare with the start.
    await new Promise((r) => setImmediate(r));
    const after = handles();
    for (const [type, n] of after) assert.ok(n <= (before.get(type) ?? 0), `round ${round}: ${n} ${type} handle(s) left (before: ${before.get(type) ?? 0})`);
  }
});

test('a failed inline launch leaves no machine behind', { timeout: 30_000 }, async () => {
  let started = 0;
  const session = new SemuDebugSession({ onMachine: (h) => h && started++ });
  const dc = new InlineClient(session);
  await dc.request('initialize', { adapterID: 'semu', pathFormat: 'path' });
  const r = await dc.request('launch', { kernel: guestArtifacts().kernel, initrd: '/nonexistent/initrd' });
  assert.equal(r.success, false);
  assert.match(r.message ?? '', /launch.json "initrd": the initrd \/nonexistent\/initrd does not exist/);
  assert.equal(started, 0);
  const d = await dc.request('disconnect', {});
  assert.equal(d.success, true);
  dc.dispose();
});
