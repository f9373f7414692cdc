// The standalone adapter boots the default guest under a DAP client: stop on entry, an
// instruction breakpoint on start_kernel, registers/CSRs, disassembly and memory checked against
// the kernel image, stepping, evaluate, pause latency while running, semu/levels, and a
// disconnect that leaves the adapter process nothing to wait for.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { SemuClient, guestArtifacts, median, BOOT_TIMEOUT_MS } from './client';
import { SymbolTable } from '../../debug-adapter/symbols';

const hex = (n: number) => '0x' + (n >>> 0).toString(16).padStart(8, '0');

test('boot under the debugger: entry, start_kernel breakpoint, registers, memory, disassembly, pause, levels, clean exit', { timeout: 240_000 }, async (t) => {
  const g = guestArtifacts();
  const image = readFileSync(g.kernel);
  const syms = SymbolTable.load(g.systemMap);
  const startKernel = syms.address('start_kernel')!;
  const textBase = syms.address('_start')!;
  assert.ok(startKernel && textBase !== undefined, 'System.map names start_kernel and _start');

  const dc = new SemuClient();
  await dc.start();
  try {
    const entry = dc.nextStop();
    await dc.boot({ kernel: g.kernel, initrd: g.initrd, symbols: g.systemMap, stopOnEntry: true, time: 'icount', audioOut: 'null', audioIn: 'null' });
    const e = await entry;
    assert.equal(e.body.reason, 'entry');
    assert.equal(e.body.allThreadsStopped, true);

    const threads = await dc.threadsRequest();
    assert.deepEqual(threads.body.threads.map((t) => t.name), ['hart 0']);

    // ---- at entry: pc = kernel load address (physical 0), MMU off, a0 = hartid, a1 = DTB ----
    let st = await dc.stackTraceRequest({ threadId: 1 });
    const f0 = st.body.stackFrames[0];
    assert.equal(f0.instructionPointerReference, hex(0));
    assert.equal(f0.name, '_start (phys)', 'with the MMU off, the physical pc is named by the kernel symbol');
    let scopes = await dc.scopesRequest({ frameId: f0.id });
    assert.deepEqual(scopes.body.scopes.map((s) => s.name), ['Registers', 'CSRs', 'Devices']);
    let regs = await dc.vars(scopes.body.scopes[0].variablesReference);
    assert.equal(regs.size, 33, 'pc + x0..x31');
    assert.equal(regs.get('a0')!.value, hex(0));
    assert.equal(regs.get('a0')!.type, 'x10');
    const dtb = parseInt(regs.get('a1')!.value, 16);
    assert.ok(dtb > 0x01000000, `a1 ${hex(dtb)} points at the device tree near the top of RAM`);
    const fdt = await dc.customRequest('readMemory', { memoryReference: `p:${hex(dtb)}`, count: 4 });
    assert.deepEqual([...Buffer.from(fdt.body.data, 'base64')], [0xd0, 0x0d, 0xfe, 0xed], 'FDT magic (big-endian) at a1');
    let csrs = await dc.vars(scopes.body.scopes[1].variablesReference);
    assert.equal(csrs.get('privilege')!.value, 'S (supervisor)');
    assert.match(csrs.get('satp')!.value, /^0x00000000 Bare/);
    assert.match(csrs.get('instret')!.value, /^0 /);

    // ---- memory and disassembly at the entry pc are the kernel image's first bytes ----
    const mem = await dc.customRequest('readMemory', { memoryReference: hex(0), count: 64 });
    assert.deepEqual(Buffer.from(mem.body.data, 'base64'), image.subarray(0, 64));
    const dis0 = await dc.disassembleRequest({ memoryReference: hex(0), instructionCount: 8 });
    assert.equal(dis0.body!.instructions.length, 8);
    for (let i = 0; i < 8; i++) {
      const bytes = dis0.body!.instructions[i].instructionBytes!.split(' ').map((b) => parseInt(b, 16));
      assert.deepEqual(bytes, [...image.subarray(4 * i, 4 * i + 4)], `instruction ${i} bytes`);
      assert.ok(dis0.body!.instructions[i].instruction.length > 0);
    }

    // ---- instruction breakpoint on start_kernel (virtual: the MMU is on by then) ----
    const bp = await dc.setInstructionBreakpointsRequest({ breakpoints: [{ instructionReference: hex(startKernel) }] });
    assert.equal(bp.body.breakpoints[0].verified, true);
    const hit = dc.nextStop(BOOT_TIMEOUT_MS);
    await dc.continueRequest({ threadId: 1 });
    const h = await hit;
    assert.equal(h.body.reason, 'instruction breakpoint');
    assert.deepEqual(h.body.hitBreakpointIds, [bp.body.breakpoints[0].id]);
    st = await dc.stackTraceRequest({ threadId: 1 });
    assert.equal(st.body.stackFrames[0].name, 'start_kernel');
    assert.equal(st.body.stackFrames[0].instructionPointerReference, hex(startKernel));
    // System.map has no DWARF: the caller frame comes from ra, and the stack says that is all.
    assert.equal(st.body.stackFrames.length, 3);
    assert.match(st.body.stackFrames[1].name, / \(ra\)$/);
    assert.equal(st.body.stackFrames[2].presentationHint, 'label');
    assert.match(st.body.stackFrames[2].name, /only pc and ra are known/);
    // Each frame has a disassembly listing as its source (VS Code selects a frame only with one),
    // and the listing's line for the frame is the pc's instruction.
    const src = st.body.stackFrames[0].source;
    assert.ok(src?.sourceReference, 'the pc frame has a source');
    const listing = await dc.sourceRequest({ source: src, sourceReference: src.sourceReference! });
    const pcLine = listing.body.content.split('\n')[st.body.stackFrames[0].line - 1];
    assert.match(pcLine, new RegExp(`^=> ${startKernel.toString(16).padStart(8, '0')}:`));

    scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
    regs = await dc.vars(scopes.body.scopes[0].variablesReference);
    assert.equal(regs.get('pc')!.value, `${hex(startKernel)} <start_kernel>`);
    csrs = await dc.vars(scopes.body.scopes[1].variablesReference);
    assert.match(csrs.get('satp')!.value, /Sv32/, 'paging is on at start_kernel');
    assert.equal(csrs.get('privilege')!.value, 'S (supervisor)');
    const instret = Number(csrs.get('instret')!.value.split(' ')[0]);
    assert.ok(instret > 1000, `instret ${instret} counts the boot so far`);

    // Virtual memory at pc goes through satp to the image bytes of start_kernel.
    const off = startKernel - textBase;
    const vm = await dc.customRequest('readMemory', { memoryReference: hex(startKernel), count: 32 });
    assert.deepEqual(Buffer.from(vm.body.data, 'base64'), image.subarray(off, off + 32));
    const dis = await dc.disassembleRequest({ memoryReference: hex(startKernel), instructionCount: 4, resolveSymbols: true });
    assert.equal(dis.body!.instructions[0].symbol, 'start_kernel');
    assert.equal(dis.body!.instructions[0].address, hex(startKernel));
    const word = image.readUInt32LE(off);
    const ev = await dc.evaluateRequest({ expression: '*(u32*)$pc', context: 'repl', frameId: st.body.stackFrames[0].id });
    assert.ok(ev.body.result.startsWith(hex(word)), `*(u32*)$pc = ${ev.body.result}, image has ${hex(word)}`);
    const evSym = await dc.evaluateRequest({ expression: 'start_kernel + 4', context: 'watch' });
    assert.ok(evSym.body.result.startsWith(hex(startKernel + 4)));
    await assert.rejects(dc.evaluateRequest({ expression: 'a0 +', context: 'repl' }), /unexpected end/);

    // setVariable on a register round-trips through the worker.
    const t6Before = regs.get('t6')!.value.split(' ')[0];
    const set = await dc.setVariableRequest({ variablesReference: scopes.body.scopes[0].variablesReference, name: 't6', value: '0x1234 + 1' });
    assert.equal(set.body.value, hex(0x1235));
    const t6 = await dc.evaluateRequest({ expression: '$t6', context: 'watch' });
    assert.ok(t6.body.result.startsWith(hex(0x1235)));
    await dc.setVariableRequest({ variablesReference: (await dc.scopesRequest({ frameId: st.body.stackFrames[0].id })).body.scopes[0].variablesReference, name: 't6', value: t6Before });

    // One instruction step.
    const stepped = dc.nextStop();
    await dc.stepInRequest({ threadId: 1 });
    assert.equal((await stepped).body.reason, 'step');
    st = await dc.stackTraceRequest({ threadId: 1 });
    assert.notEqual(st.body.stackFrames[0].instructionPointerReference, hex(startKernel));

    // ---- function breakpoint by name, then step out = run to ra ----
    const fb = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: '_printk' }, { name: 'no_such_function' }] });
    assert.equal(fb.body.breakpoints[0].verified, true);
    assert.equal(fb.body.breakpoints[1].verified, false);
    assert.match(fb.body.breakpoints[1].message ?? '', /no symbol 'no_such_function'/);
    const inPrintk = dc.nextStop(BOOT_TIMEOUT_MS);
    await dc.continueRequest({ threadId: 1 });
    const pk = await inPrintk;
    assert.equal(pk.body.reason, 'function breakpoint');
    st = await dc.stackTraceRequest({ threadId: 1 });
    assert.equal(st.body.stackFrames[0].name, '_printk');
    const ra = st.body.stackFrames[1].instructionPointerReference;
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    const out = dc.nextStop(BOOT_TIMEOUT_MS);
    await dc.stepOutRequest({ threadId: 1 });
    assert.equal((await out).body.reason, 'step');
    st = await dc.stackTraceRequest({ threadId: 1 });
    assert.equal(st.body.stackFrames[0].instructionPointerReference, ra, 'step out stops at the return address');

    // ---- running: levels events flow; pause lands quickly ----
    await dc.setInstructionBreakpointsRequest({ breakpoints: [] });
    let levels = 0;
    const onLevels = () => levels++;
    dc.on('semu/levels', onLevels);
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      await dc.continueRequest({ threadId: 1 });
      await new Promise((r) => setTimeout(r, 250));
      const t0 = performance.now();
      const stop = dc.nextStop(5000);
      await dc.pauseRequest({ threadId: 1 });
      const s = await stop;
      latencies.push(performance.now() - t0);
      assert.equal(s.body.reason, 'pause');
    }
    dc.off('semu/levels', onLevels);
    const med = median(latencies);
    t.diagnostic(`pause latency ms: ${latencies.map((l) => l.toFixed(1)).join(', ')} (median ${med.toFixed(1)})`);
    for (const l of latencies) assert.ok(l < 500, `pause took ${l.toFixed(1)} ms`);
    assert.ok(levels >= 5, `semu/levels events while running: ${levels}`);

    // The custom requests answer while running, without pausing.
    await dc.continueRequest({ threadId: 1 });
    const vq = await dc.customRequest('semu/virtqueues');
    assert.equal(vq.body.running, true);
    assert.ok(Array.isArray(vq.body.devices) && vq.body.devices.length >= 1, 'virtio devices listed');

    // ---- the guest boots to its shell while we watch ----
    await dc.waitConsole('semu-guest: ready');

    const code = await dc.disconnectAndWaitExit();
    assert.equal(code, 0, 'the adapter exits by itself with nothing left running (3 = something held it)');
  } finally {
    await dc.stop();
  }
});

test('a launch that cannot work fails with a message naming the problem', { timeout: 30_000 }, async () => {
  const dc = new SemuClient();
  await dc.start();
  try {
    await dc.initializeRequest();
    await assert.rejects(dc.launchRequest({ kernel: '/nonexistent/Image' } as never), /launch.json "kernel": the kernel image \/nonexistent\/Image does not exist/);
    await assert.rejects(dc.launchRequest({ kernel: guestArtifacts().kernel, harts: 9 } as never), /"harts" must be/);
    await assert.rejects(dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'virtio-snd-tx', condition: 'strem == 0' }] }), /unknown name 'strem'/);
    const code = await dc.disconnectAndWaitExit();
    assert.equal(code, 0);
  } finally {
    await dc.stop();
  }
});

test('a guest that crashes ends the session saying what and where', { timeout: 60_000 }, async () => {
  // A "kernel" of all-zero words: every fetch is an illegal instruction and stvec is 0, so the
  // hart traps to the same place forever — the machine's dead-guest detector ends it.
  const dir = mkdtempSync(join(tmpdir(), 'semu-dap-crash-'));
  const kernel = join(dir, 'zeros.bin');
  writeFileSync(kernel, Buffer.alloc(4096));
  const dc = new SemuClient();
  await dc.start();
  try {
    const stderr: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => {
      if (e.body.category === 'stderr') stderr.push(e.body.output);
    });
    const terminated = dc.waitForEvent('terminated', 30_000);
    const exited = dc.waitForEvent('exited', 30_000) as Promise<DebugProtocol.ExitedEvent>;
    await dc.boot({ kernel, time: 'icount', audioOut: 'null', audioIn: 'null' });
    await terminated;
    assert.notEqual((await exited).body.exitCode, 0);
    const text = stderr.join('');
    assert.match(text, /the machine stopped: .*illegal instruction/, text);
    assert.match(text, /0x00000000|00000000:/, 'the report shows where (the last instructions)');
    const code = await dc.disconnectAndWaitExit();
    assert.equal(code, 0);
  } finally {
    await dc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
