// Truncated and corrupt DWARF never crash the reader or the adapter: every variant of the test
// program's debug sections (cut short, bytes flipped, both) loads without an exception other
// than the reader's own (reported as a problem), and every query on it answers or says nothing.
// The adapter, given such a file, still launches and shows disassembly frames.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ElfFile } from '../../debug-adapter/dwarf/elf';
import { DebugInfo } from '../../debug-adapter/dwarf/index';
import { unwind } from '../../debug-adapter/dwarf/unwind';
import { buildFixture, bytes } from './fixture';
import { SemuClient } from '../dap/client';
import { enc } from '../../src/emulator/cpu/asm';

const SECTIONS = ['.debug_info', '.debug_abbrev', '.debug_line', '.debug_frame', '.debug_str', '.debug_line_str', '.debug_rnglists', '.debug_loclists'];
const VARIANTS_PER_SECTION = Number(process.env.DWARF_FUZZ_VARIANTS ?? 150);

function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A copy of the ELF with one section cut to `size` bytes (its header says so) and/or bytes flipped. */
function mutate(elf: Uint8Array, name: string, rnd: () => number): Uint8Array {
  const b = elf.slice();
  const e = new ElfFile(b);
  const s = e.header(name)!;
  const dv = new DataView(b.buffer);
  const shoff = dv.getUint32(32, true);
  const entry = shoff + s.index * dv.getUint16(46, true);
  const mode = Math.floor(rnd() * 3);
  if (mode !== 1) dv.setUint32(entry + 20, Math.floor(rnd() * s.size), true); // truncate
  if (mode !== 0) {
    const flips = 1 + Math.floor(rnd() * 8);
    for (let i = 0; i < flips; i++) b[s.offset + Math.floor(rnd() * s.size)] ^= 1 << Math.floor(rnd() * 8);
  }
  return b;
}

/** Asks everything a session would ask; nothing may throw. */
function exercise(d: DebugInfo, text: { addr: number; size: number }): void {
  for (let pc = text.addr; pc < text.addr + text.size; pc += 4) {
    d.position(pc);
    d.sourceFrames(pc, 'x');
    d.frames?.rowAt(pc);
    d.info?.functionRange(pc);
  }
  const x = Array.from({ length: 32 }, (_, i) => 0x1000 * i);
  unwind(d.frames, text.addr + 8, x, { read32: () => 0x10100, isCode: () => true, maxFrames: 16 });
  const lines = d.lines;
  if (lines) {
    for (let f = 0; f < lines.files.length; f++) {
      for (const l of lines.linesOf(f).slice(0, 50)) {
        for (const pc of lines.addressesOf(f, l)) lines.rangesOfLine(lines.rowAt(pc) < 0 ? 0 : lines.rowAt(pc));
      }
    }
  }
  for (const fde of d.frames?.fdes ?? []) d.frames!.rows(fde);
}

test('corrupt and truncated DWARF sections: no exception, no hang, problems reported', { timeout: 300_000 }, () => {
  const elf = bytes(buildFixture(5));
  const text = new ElfFile(elf).header('.text')!;
  const rnd = prng(Number(process.env.DWARF_FUZZ_SEED ?? 14));
  let problems = 0;
  let variants = 0;
  const t0 = performance.now();
  for (const name of SECTIONS) {
    if (!new ElfFile(elf).header(name)) continue;
    for (let i = 0; i < VARIANTS_PER_SECTION; i++) {
      const v = mutate(elf, name, rnd);
      const d = DebugInfo.fromElf(new ElfFile(v));
      if (d.problems.length) problems++;
      exercise(d, text);
      variants++;
    }
  }
  const ms = performance.now() - t0;
  assert.ok(variants >= 1000, `${variants} variants`);
  assert.ok(problems > variants / 4, `${problems} of ${variants} variants reported a problem (most corruptions are noticed)`);
  assert.ok(ms / variants < 200, `${(ms / variants).toFixed(1)} ms per variant: no pathological loops`);
});

test('the adapter given corrupt DWARF launches, says so, and falls back to disassembly', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'semu-dwarf-fuzz-'));
  const elf = bytes(buildFixture(5));
  const bad = elf.slice();
  const e = new ElfFile(bad);
  for (const name of ['.debug_line', '.debug_info', '.debug_frame']) {
    const s = e.header(name)!;
    for (let i = s.offset; i < s.offset + s.size; i += 7) bad[i] ^= 0xa5;
  }
  const symbols = join(dir, 'bad.elf');
  writeFileSync(symbols, bad);
  const kernel = join(dir, 'spin.bin');
  writeFileSync(kernel, Buffer.from(Int32Array.from([enc('addi', 'a0', 'a0', 1), enc('jal', 'zero', -4)]).buffer));
  const dc = new SemuClient();
  const notes: string[] = [];
  dc.on('output', (ev: DebugProtocol.OutputEvent) => {
    if (ev.body.category === 'console') notes.push(ev.body.output);
  });
  await dc.start();
  try {
    const stop = dc.nextStop();
    await dc.boot({ kernel, symbols, time: 'icount', audioOut: 'null', audioIn: 'null', stopOnEntry: true });
    await stop;
    assert.match(notes.join(''), /debug info: /, notes.join(''));
    const st = await dc.stackTraceRequest({ threadId: 1 });
    assert.ok(st.body.stackFrames[0].source?.sourceReference, 'the frame shows its disassembly');
    const lines = await dc.setBreakpointsRequest({ source: { path: join(dir, 'prog.c') }, breakpoints: [{ line: 20 }] });
    assert.equal(lines.body.breakpoints[0].verified, false);
    assert.equal(await dc.disconnectAndWaitExit(), 0);
  } finally {
    await dc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
