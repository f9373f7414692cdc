// The DWARF reader on small programs compiled here as DWARF 4 and DWARF 5: line tables and
// CFI identical to binutils', functions and their address ranges as nm sees them, inlined calls
// with their call sites, and unwinding through real prologues.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ElfFile } from '../../debug-adapter/dwarf/elf';
import { DebugInfo } from '../../debug-adapter/dwarf/index';
import { parseElfSymbols } from '../../debug-adapter/symbols';
import { buildFixture, bytes, tool } from './fixture';
import { compareFrames, compareLines } from './compare';
import { repoRoot } from '../guest-artifacts/artifacts';
import { join } from 'node:path';

const SRC = join(repoRoot(), 'test', 'fixtures', 'dwarf', 'prog.c');
const srcLines = readFileSync(SRC, 'utf8').split('\n');
const lineOf = (text: string) => srcLines.findIndex((l) => l.includes(text)) + 1;

for (const version of [4, 5] as const) {
  test(`DWARF ${version}: line table and CFI match binutils row for row`, () => {
    const elf = buildFixture(version);
    const d = DebugInfo.fromElf(new ElfFile(bytes(elf)));
    assert.deepEqual(d.problems, []);
    const lines = compareLines(d, tool('objdump', ['--dwarf=decodedline', elf]));
    assert.deepEqual(lines.mismatches, []);
    assert.ok(lines.compared > 20, `${lines.compared} rows compared`);
    assert.ok(d.lines!.files.includes(SRC), `the source's full path is in the table: ${d.lines!.files.join(', ')}`);
    const frames = compareFrames(d, tool('readelf', ['--debug-dump=frames-interp', elf]));
    assert.deepEqual(frames.mismatches, []);
    assert.ok(frames.compared >= 4, `${frames.compared} CFI rows compared`);
  });

  test(`DWARF ${version}: functions, inlined calls with call sites, source breakpoints`, () => {
    const elf = buildFixture(version);
    const b = bytes(elf);
    const d = DebugInfo.fromElf(new ElfFile(b));
    const syms = new Map(parseElfSymbols(b).filter((s) => s.type.toLowerCase() === 't').map((s) => [s.name, s]));
    for (const name of ['sum', 'depth', '_start']) {
      const s = syms.get(name)!;
      const f = d.info!.functionAt(s.addr);
      assert.equal(f?.name, name, `function at ${name}'s address`);
      assert.deepEqual(d.info!.functionRange(s.addr), [s.addr, s.addr + s.size], `${name}'s range is its symbol's extent`);
    }
    // sq's multiply is inlined twice deep (sq in dist in sum): an address of it inside sq's
    // inlined range gives the whole chain, each frame at its call site.
    const sqLine = lineOf('return v * v');
    const fileId = d.lines!.findFile(SRC)!;
    const pcs = d.lines!.addressesOf(fileId, sqLine);
    assert.ok(pcs.length >= 1, `line ${sqLine} (sq) has code`);
    const rows = Array.from(d.lines!.rowsOf(fileId)).filter((r) => d.lines!.line[r] === sqLine);
    const chains = rows.map((r) => d.sourceFrames(d.lines!.addr[r], '?')).filter((f) => f[0]?.name === 'sq');
    assert.ok(chains.length >= 1, 'some row of sq lies in its inlined code');
    const frames = chains[0];
    assert.deepEqual(frames.map((f) => f.name), ['sq', 'dist', 'sum']);
    assert.deepEqual(frames.map((f) => f.inlined), [true, true, false]);
    assert.equal(frames[0].line, sqLine);
    assert.ok([lineOf('return sq(p->x) +'), lineOf('sq(p->y);')].includes(frames[1].line), `dist calls sq at line ${frames[1].line}`);
    assert.equal(frames[2].line, lineOf('s += dist(&pts[i])'));
    // A line without code moves to the next one with code.
    const blank = lineOf('int total;') - 1;
    assert.deepEqual(d.lines!.addressesOf(fileId, blank), []);
  });
}

test('a stack through real prologues: depth → depth → … → _start by CFI', async () => {
  // Run the fixture on a Machine until `sum` is entered from the deepest `depth`, then unwind.
  const { Machine, StopReason } = await import('../../src/emulator/machine');
  const { unwind } = await import('../../debug-adapter/dwarf/unwind');
  const elf = buildFixture(5);
  const b = bytes(elf);
  const e = new ElfFile(b);
  const syms = new Map(parseElfSymbols(b).map((s) => [s.name, s]));
  // Load the program's sections at their link addresses in a flat RAM image (satp Bare).
  const loaded = e.sections.filter((s) => s.addr !== 0 && s.type !== 8 && s.size > 0);
  const image = new Uint8Array(Math.max(...loaded.map((s) => s.addr + s.size)));
  for (const s of loaded) image.set(e.data(s), s.addr);
  const m = new Machine({ kernel: image, ramSize: 8 << 20, time: 'icount' }, { consoleOut: () => {} });
  const h = m.harts[0];
  h.pc = syms.get('_start')!.addr;
  h.x[2] = 0x400000;
  m.breakpoints.add(syms.get('sum')!.addr);
  assert.equal(m.run(100_000), StopReason.Breakpoint);
  assert.equal(m.run(100_000), StopReason.Breakpoint, 'the second call of sum is from the deepest depth()');
  const d = DebugInfo.fromElf(e);
  const read32 = (a: number) => (m.ram.contains(a, 4) ? m.ram.read32(a) : undefined);
  const u = unwind(d.frames, h.pc, Array.from(h.x.subarray(0, 32)), { read32, isCode: () => true });
  const names = u.frames.map((f, i) => d.info!.functionAt(i === 0 ? f.pc : f.pc - 4)?.name);
  assert.deepEqual(names, ['sum', 'depth', 'depth', 'depth', 'depth', '_start'], u.end);
});
