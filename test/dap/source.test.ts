// Source-level debugging of the real guest kernel (vmlinux with DWARF 5) under a DAP client:
// a source breakpoint in the virtio-snd driver, verified and hit on `pcm play`, with a call
// stack whose every frame has a file and line; a step over that line lands on the next; a data
// breakpoint on the substream's hw_ptr field stops where the driver writes it; a conditional
// instruction breakpoint with a hit count and a log point printing a register; restart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { SemuClient, guestArtifacts, BOOT_TIMEOUT_MS } from './client';
import { SymbolTable } from '../../debug-adapter/symbols';
import { ElfFile } from '../../debug-adapter/dwarf/elf';
import { DebugInfo } from '../../debug-adapter/dwarf/index';

const READY = 'semu-guest: ready';

/** The driver file as the guest's DWARF names it, and a line of it by its text. */
function driverSource(vmlinux: string): { path: string; lineOf: (text: string) => number } {
  const d = DebugInfo.fromElf(new ElfFile(new Uint8Array(readFileSync(vmlinux))), { info: false });
  const path = d.lines!.files.find((f) => f.endsWith('/sound/virtio/virtio_pcm_msg.c'))!;
  const text = readFileSync(path, 'utf8').split('\n');
  return { path, lineOf: (t) => text.findIndex((l) => l.includes(t)) + 1 };
}

/** A struct member's offset, from gdb reading the same vmlinux. */
function memberOffset(vmlinux: string, expr: string): number {
  const out = execFileSync('gdb-multiarch', ['-batch', '-nx', '-ex', `print/d (unsigned long)&(${expr})`, vmlinux], { encoding: 'utf8' });
  const m = /\$1 = (\d+)/.exec(out);
  if (!m) throw new Error(`gdb could not say ${expr}: ${out}`);
  return Number(m[1]);
}

function count(hay: string, needle: string): number {
  return hay.split(needle).length - 1;
}

test('kernel source debugging: source breakpoint, stack with lines, step over, data breakpoint, conditions, log point, restart', { timeout: 600_000 }, async () => {
  const g = guestArtifacts();
  const src = driverSource(g.vmlinux);
  const bpLine = src.lineOf('vss->msg_count++;');
  const hwPtr = memberOffset(g.vmlinux, '((struct virtio_pcm_substream *)0)->hw_ptr');
  const syms = SymbolTable.load(g.vmlinux);
  const dc = new SemuClient();
  const logs: string[] = [];
  dc.on('output', (e: DebugProtocol.OutputEvent) => {
    if (e.body.category === 'console' && /^msg_send /.test(e.body.output)) logs.push(e.body.output.trim());
  });
  await dc.start();
  try {
    await dc.boot({ kernel: g.kernel, initrd: g.initrd, symbols: g.vmlinux, time: 'icount', audioOut: 'null', audioIn: 'null' });
    await dc.waitConsole(READY);

    // ---- a source breakpoint in the driver: verified at its line ----
    const set = await dc.setBreakpointsRequest({ source: { path: src.path }, breakpoints: [{ line: bpLine }, { line: 1 }] });
    const bp = set.body.breakpoints[0];
    assert.equal(bp.verified, true, bp.message);
    assert.equal(bp.line, bpLine);
    assert.match(bp.message ?? '', /virtsnd_pcm_msg_send/);
    assert.equal(set.body.breakpoints[1].verified, true, 'line 1 (a comment) moves to the first line with code');
    assert.ok(set.body.breakpoints[1].line! > 1);
    await dc.setBreakpointsRequest({ source: { path: src.path }, breakpoints: [{ line: bpLine }] });

    let stop = dc.nextStop(BOOT_TIMEOUT_MS);
    await dc.customRequest('semu/consoleInput', { text: 'pcm play 440 1\n' });
    let s = await stop;
    assert.equal(s.body.reason, 'breakpoint');
    assert.deepEqual(s.body.hitBreakpointIds, [bp.id]);
    let st = await dc.stackTraceRequest({ threadId: 1 });
    const real = st.body.stackFrames.filter((f) => f.presentationHint !== 'label');
    const trace = real.map((f) => `${f.name} (${f.source?.name}:${f.line})`).join(' ← ');
    assert.ok(real.length >= 4, `a stack of ${real.length} frames: ${trace}`);
    assert.equal(real[0].name, 'virtsnd_pcm_msg_send');
    assert.equal(real[0].source?.path, src.path);
    assert.equal(real[0].line, bpLine);
    for (const f of real) {
      assert.ok(/\.[chS]$/.test(f.source?.path ?? ''), `${f.name} has a source file (${f.source?.path ?? f.source?.name})`);
      assert.ok(f.line > 0, `${f.name} has a line`);
    }

    // ---- step over the line: the next line of the function ----
    stop = dc.nextStop();
    await dc.nextRequest({ threadId: 1 });
    s = await stop;
    assert.equal(s.body.reason, 'step');
    st = await dc.stackTraceRequest({ threadId: 1 });
    assert.equal(st.body.stackFrames[0].name, 'virtsnd_pcm_msg_send');
    const next = st.body.stackFrames[0].line;
    assert.ok(next > bpLine && next <= src.lineOf('if (msg_count == vss->msg_count)'), `stepped from line ${bpLine} to line ${next}`);

    // ---- a data breakpoint on vss->hw_ptr (the hardware pointer the device's completions advance) ----
    await dc.setBreakpointsRequest({ source: { path: src.path }, breakpoints: [] });
    const fb = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'virtsnd_pcm_msg_send' }] });
    stop = dc.nextStop(BOOT_TIMEOUT_MS);
    await dc.continueRequest({ threadId: 1 });
    s = await stop;
    assert.deepEqual(s.body.hitBreakpointIds, [fb.body.breakpoints[0].id]);
    st = await dc.stackTraceRequest({ threadId: 1 });
    const vss = parseInt((await dc.evaluateRequest({ expression: 'a0', context: 'watch', frameId: st.body.stackFrames[0].id })).body.result, 16);
    const info = await dc.dataBreakpointInfoRequest({ name: `0x${(vss + hwPtr).toString(16)}`, asAddress: true, bytes: 4 });
    assert.ok(info.body.dataId, info.body.description);
    assert.deepEqual(info.body.accessTypes, ['write', 'read', 'readWrite']);
    const db = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
    assert.equal(db.body.breakpoints[0].verified, true);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    stop = dc.nextStop(BOOT_TIMEOUT_MS);
    await dc.continueRequest({ threadId: 1 });
    s = await stop;
    assert.equal(s.body.reason, 'data breakpoint', s.body.text);
    assert.deepEqual(s.body.hitBreakpointIds, [db.body.breakpoints[0].id]);
    assert.match(s.body.text ?? '', /^write of 4 bytes at 0x[0-9a-f]+ by hart 0/);
    st = await dc.stackTraceRequest({ threadId: 1 });
    assert.match(st.body.stackFrames[0].name, /virtsnd_pcm_msg_complete/, `the write is in the completion: ${st.body.stackFrames.map((f) => f.name).join(' ← ')}`);
    const hw = await dc.evaluateRequest({ expression: `*(u32*)0x${(vss + hwPtr).toString(16)}`, context: 'watch' });
    assert.notEqual(parseInt(hw.body.result, 16), 0, 'hw_ptr advanced');
    await dc.setDataBreakpointsRequest({ breakpoints: [] });

    // ---- a conditional instruction breakpoint with a hit count, and a log point printing a register ----
    const entry = syms.address('virtsnd_pcm_msg_send')!;
    const ib = await dc.setInstructionBreakpointsRequest({
      breakpoints: [
        { instructionReference: `0x${entry.toString(16)}`, condition: 'a2 != 0', hitCondition: '== 3' },
      ],
    });
    assert.equal(ib.body.breakpoints[0].verified, true);
    const lp = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'virtsnd_pcm_msg_send', condition: 'a0 == 0' }] });
    assert.equal(lp.body.breakpoints[0].verified, true, 'a breakpoint whose condition is never true');
    const lpAt = await dc.setBreakpointsRequest({ source: { path: src.path }, breakpoints: [{ line: src.lineOf('struct virtio_snd *snd = vss->snd;'), logMessage: 'msg_send bytes={a2} vss={a0}' }] });
    // The function's first line may start at its entry: then the log point shares the stop's pc.
    const samePc = parseInt(lpAt.body.breakpoints[0].instructionReference ?? '0', 16) === entry;
    logs.length = 0;
    stop = dc.nextStop(BOOT_TIMEOUT_MS);
    await dc.continueRequest({ threadId: 1 });
    s = await stop;
    assert.equal(s.body.reason, 'instruction breakpoint');
    assert.deepEqual(s.body.hitBreakpointIds, [ib.body.breakpoints[0].id], 'only the hit-count breakpoint stops');
    // The log point has printed for the calls before (and for this one, at the same pc).
    assert.equal(logs.length, samePc ? 3 : 2, logs.join('\n'));
    for (const l of logs) assert.match(l, /^msg_send bytes=0x[0-9a-f]{8} vss=0x[0-9a-f]{8}$/);
    await dc.setInstructionBreakpointsRequest({ breakpoints: [] });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    await dc.setBreakpointsRequest({ source: { path: src.path }, breakpoints: [] });

    // ---- restart: the machine boots again, the session goes on ----
    await dc.continueRequest({ threadId: 1 });
    await dc.waitConsole(/pcm: play frames=\d+|pcm: error/, BOOT_TIMEOUT_MS);
    const readyBefore = count(dc.console, READY);
    await dc.customRequest('restart', {});
    await dc.waitConsole(new RegExp(`(${READY}[\\s\\S]*){${readyBefore + 1}}`), BOOT_TIMEOUT_MS);
    const threads = await dc.threadsRequest();
    assert.equal(threads.body.threads.length, 1);
  } finally {
    await dc.stop();
  }
});
