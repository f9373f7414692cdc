// Strict DAP (issue 17 §4): every request with bad arguments, unknown ids or in the wrong state
// gets an error response that names the problem — never a success built on undefined. Each
// case here answered success (or a TypeError's text) before. The machine is a tiny loop.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { SemuClient } from './client';
import { enc } from '../../src/emulator/cpu/asm';
import { MAX_CODE_BREAKPOINTS } from '../../debug-adapter/breakpoints';

/** A kernel that spins: addi a0, a0, 1; j -4. */
function tinyKernel(dir: string): string {
  const p = join(dir, 'spin.bin');
  writeFileSync(p, Buffer.from(Int32Array.from([enc('addi', 'a0', 'a0', 1), enc('jal', 'zero', -4)]).buffer));
  return p;
}

test('requests before launch, with bad arguments or unknown ids are refused, naming the problem', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'semu-dap-strict-'));
  const dc = new SemuClient();
  await dc.start();
  try {
    await dc.initializeRequest();
    // Wrong state: nothing launched.
    await assert.rejects(dc.continueRequest({ threadId: 1 }), /not running: launch it first/);
    await assert.rejects(dc.nextRequest({ threadId: 1 }), /not running: launch it first/);
    await assert.rejects(dc.stackTraceRequest({ threadId: 1 }), /not running: launch it first/);

    const stop = dc.nextStop();
    await dc.launchRequest({ kernel: tinyKernel(dir), time: 'icount', audioOut: 'null', audioIn: 'null', stopOnEntry: true } as DebugProtocol.LaunchRequestArguments);
    await dc.configurationDoneRequest();
    await stop;

    // writeMemory: data must be base64 text.
    await assert.rejects(dc.customRequest('writeMemory', { memoryReference: 'p:0x1000', data: 'not base64!' }), /'data' is not valid base64/);
    await assert.rejects(dc.customRequest('writeMemory', { memoryReference: 'p:0x1000', data: 1234 }), /'data' must be base64 text \(got number 1234\)/);
    await assert.rejects(dc.customRequest('writeMemory', { memoryReference: 17, data: 'AAAA' }), /'memoryReference' must be a string/);
    const ok = await dc.customRequest('writeMemory', { memoryReference: 'p:0x1000', data: Buffer.from([1, 2, 3, 4]).toString('base64') });
    assert.equal(ok.body.bytesWritten, 4);

    // Breakpoints: arrays of objects with the right fields.
    await assert.rejects(dc.setInstructionBreakpointsRequest({ breakpoints: 'abc' as never }), /setInstructionBreakpoints: 'breakpoints' must be an array \(got the string "abc"\)/);
    await assert.rejects(dc.setInstructionBreakpointsRequest({ breakpoints: [{ instructionReference: 4 }] as never }), /breakpoints\[0\]: 'instructionReference' must be a string/);
    await assert.rejects(dc.setFunctionBreakpointsRequest({ breakpoints: [{}] as never }), /breakpoints\[0\]: 'name' must be a string \(got missing\)/);
    await assert.rejects(dc.setBreakpointsRequest({ source: { path: '/x.c' }, breakpoints: [{ line: 0 }] }), /'line' must be a whole number ≥ 1/);
    await assert.rejects(dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'p:0x1000/4', accessType: 'sometimes' as never }] }), /'accessType' must be "read", "write" or "readWrite"/);
    const badData = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'nonsense' }] });
    assert.equal(badData.body.breakpoints[0].verified, false);
    assert.match(badData.body.breakpoints[0].message ?? '', /not a data breakpoint id/);
    const badCond = await dc.setInstructionBreakpointsRequest({ breakpoints: [{ instructionReference: '0x0', condition: 'a0 ==' }, { instructionReference: '0x0', hitCondition: 'often' }] });
    assert.match(badCond.body.breakpoints[0].message ?? '', /unexpected end/);
    assert.match(badCond.body.breakpoints[1].message ?? '', /hit condition 'often' is not understood/);

    // A sane bound: 100 000 instruction breakpoints are not all taken.
    const many = Array.from({ length: 100_000 }, (_, i) => ({ instructionReference: `0x${(0x1000 + 4 * i).toString(16)}` }));
    const r = await dc.setInstructionBreakpointsRequest({ breakpoints: many });
    assert.equal(r.body.breakpoints.filter((b) => b.verified).length, MAX_CODE_BREAKPOINTS);
    assert.match(r.body.breakpoints[MAX_CODE_BREAKPOINTS].message ?? '', new RegExp(`more than ${MAX_CODE_BREAKPOINTS} instruction breakpoints`));
    await dc.setInstructionBreakpointsRequest({ breakpoints: [] });

    // Unknown ids.
    await assert.rejects(dc.stackTraceRequest({ threadId: 7 }), /unknown threadId 7 \(threads are 1: the harts\)/);
    await assert.rejects(dc.scopesRequest({ frameId: 999 }), /unknown frameId 999/);
    await assert.rejects(dc.variablesRequest({ variablesReference: 4242 }), /unknown variablesReference 4242/);
    await assert.rejects(dc.customRequest('source', { sourceReference: 555 }), /no disassembly listing 555/);
    await assert.rejects(dc.evaluateRequest({ expression: 'a0', frameId: 31337, context: 'watch' }), /unknown frameId 31337/);
    await assert.rejects(dc.nextRequest({ threadId: 3 }), /unknown threadId 3/);
    await assert.rejects(dc.nextRequest({ threadId: 1, granularity: 'paragraph' as never }), /'granularity' must be "statement", "line" or "instruction"/);
    await assert.rejects(dc.customRequest('disassemble', { memoryReference: '0x0', instructionCount: -5 }), /'instructionCount' must be a whole number ≥ 0/);
    await assert.rejects(dc.customRequest('readMemory', { memoryReference: '0x0', count: 'lots' }), /'count' must be a whole number/);

    // Frame ids belong to one stop: after a step the old one is unknown.
    const st = await dc.stackTraceRequest({ threadId: 1 });
    const old = st.body.stackFrames[0].id;
    await dc.scopesRequest({ frameId: old });
    const stepped = dc.nextStop();
    await dc.stepInRequest({ threadId: 1 });
    await stepped;
    await assert.rejects(dc.scopesRequest({ frameId: old }), /unknown frameId/);

    // Wrong state: stepping while running.
    await dc.continueRequest({ threadId: 1 });
    await assert.rejects(dc.nextRequest({ threadId: 1 }), /the machine is running \(pause it first\)/);
    await assert.rejects(dc.stackTraceRequest({ threadId: 1 }), /the machine is running/);

    // Data breakpoint info: a register has no address; an address does.
    const reg = await dc.dataBreakpointInfoRequest({ name: 'a0' });
    assert.equal(reg.body.dataId, null);
    assert.match(reg.body.description, /a register/);
    const addr = await dc.dataBreakpointInfoRequest({ name: 'p:0x1000', asAddress: true, bytes: 16 });
    assert.equal(addr.body.dataId, null);
    assert.match(addr.body.description, /1 to 8 bytes/);

    const code = await dc.disconnectAndWaitExit();
    assert.equal(code, 0);
  } finally {
    await dc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
