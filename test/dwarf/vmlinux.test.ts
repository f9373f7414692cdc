// The DWARF reader on the default guest's vmlinux (DWARF 5, 90 MB): its line table is
// binutils' row for row (objdump --dwarf=decodedline), every FDE's rules are readelf's
// (--debug-dump=frames-interp), and the functions' names and ranges agree with the symbol table.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelTreeRoot } from '../../debug-adapter/source-paths';
import { execFileSync } from 'node:child_process';
import { ElfFile } from '../../debug-adapter/dwarf/elf';
import { DebugInfo } from '../../debug-adapter/dwarf/index';
import { parseElfSymbols } from '../../debug-adapter/symbols';
import { guestArtifacts } from '../guest-artifacts/artifacts';
import { tool } from './fixture';
import { compareFrames, compareLines } from './compare';
import { withLoopGaps } from '../helpers/loop-gaps';

let loaded: { d: DebugInfo; bytes: Uint8Array } | null = null;
function load() {
  if (!loaded) {
    const bytes = new Uint8Array(readFileSync(guestArtifacts().vmlinux));
    loaded = { d: DebugInfo.fromElf(new ElfFile(bytes)), bytes };
  }
  return loaded;
}

test('the guest build keeps the kernel tree; vmlinux has line info and CFI whose files are in it', { timeout: 600_000 }, () => {
  const g = guestArtifacts();
  assert.ok(g.source && existsSync(join(g.source, 'init', 'main.c')), `the build names its source tree: ${g.source}`);
  const { d } = load();
  const e = new ElfFile(load().bytes);
  for (const name of ['.debug_line', '.debug_info', '.debug_frame', '.debug_abbrev', '.debug_str']) assert.ok(e.header(name), `vmlinux has ${name}`);
  assert.equal(e.header('.eh_frame'), undefined, 'no .eh_frame (-fno-asynchronous-unwind-tables): .debug_frame is the CFI');
  assert.equal(kernelTreeRoot(d.lines!.files), g.source, 'DWARF names files in that tree');
  const missing = d.lines!.files.filter((f) => f.startsWith(g.source + '/') && !existsSync(f));
  assert.deepEqual(missing.slice(0, 5), [], 'every file DWARF names in the tree is there');
});

test('vmlinux: the line table is objdump --dwarf=decodedline, row for row', { timeout: 600_000 }, () => {
  const { d } = load();
  assert.deepEqual(d.problems, []);
  const c = compareLines(d, tool('objdump', ['--dwarf=decodedline', guestArtifacts().vmlinux]));
  assert.deepEqual(c.mismatches, []);
  assert.ok(c.compared > 500_000, `${c.compared} rows`);
  // Where objdump cannot be trusted with the file, gdb is the judge: a sample of those rows.
  const t = d.lines!;
  // (Rows alone at their address: with several rows at one address gdb picks one by its own rules.)
  const alone = (i: number) => t.addr[i - 1] !== t.addr[i] && t.addr[i + 1] !== t.addr[i];
  const starts = c.unchecked.filter((i) => alone(i));
  const sample = starts.filter((_, k) => k % Math.max(1, Math.floor(starts.length / 25)) === 0).slice(0, 25);
  const out = execFileSync('gdb-multiarch', ['-batch', '-nx', ...sample.flatMap((i) => ['-ex', `info line *0x${t.addr[i].toString(16)}`]), guestArtifacts().vmlinux], { encoding: 'utf8' });
  const gdbFiles = [...out.matchAll(/^Line \d+ of "([^"]+)"/gm)].map((m) => m[1]);
  assert.equal(gdbFiles.length, sample.length, out);
  sample.forEach((i, k) => assert.equal(t.files[t.file[i]], gdbFiles[k], `file of 0x${t.addr[i].toString(16)}`));
});

test('vmlinux: every FDE is readelf --debug-dump=frames-interp, row for row', { timeout: 600_000 }, () => {
  const { d } = load();
  const c = compareFrames(d, tool('readelf', ['--debug-dump=frames-interp', guestArtifacts().vmlinux]));
  assert.deepEqual(c.mismatches, []);
  assert.equal(c.fdes, d.frames!.fdes.length, 'as many FDEs as readelf');
  assert.ok(c.compared > 50_000, `${c.compared} CFI rows`);
});

test('vmlinux: C functions have their symbol\'s name and extent; the sound driver\'s lines resolve', { timeout: 600_000 }, () => {
  const { d, bytes } = load();
  const funcs = parseElfSymbols(bytes).filter((s) => s.type === 'T' && s.size > 0);
  let withDwarf = 0;
  let agree = 0;
  for (const s of funcs) {
    const f = d.info!.functionAt(s.addr);
    if (!f) continue; // assembly (entry.S, head.S...) has no DWARF function
    withDwarf++;
    const r = d.info!.functionRange(s.addr)!;
    if (f.name === s.name && r[0] === s.addr && r[1] === s.addr + s.size) agree++;
  }
  assert.ok(withDwarf > 3000, `${withDwarf} of ${funcs.length} global functions have DWARF`);
  assert.ok(agree / withDwarf > 0.99, `${agree} of ${withDwarf} agree on name and range`);
  // A line of the virtio-snd driver maps to code in the function it belongs to.
  const file = d.lines!.files.findIndex((f) => f.endsWith('/sound/virtio/virtio_pcm_msg.c'));
  assert.ok(file >= 0, 'virtio_pcm_msg.c is in the line table');
  const lines = d.lines!.linesOf(file);
  assert.ok(lines.length > 50, `${lines.length} lines with code`);
  const pcs = d.lines!.addressesOf(file, lines[10]);
  assert.ok(pcs.length >= 1);
  const rows = Array.from(d.lines!.rowsOf(file)).filter((r) => d.lines!.addr[r] === pcs[0]);
  assert.ok(rows.some((r) => d.lines!.line[r] === lines[10]), `a row at 0x${pcs[0].toString(16)} is line ${lines[10]}`);
  assert.match(d.info!.functionAt(pcs[0])!.name, /^virtsnd_/);
});

test('vmlinux: loading in slices leaves the event loop free (the inline adapter runs in the extension host)', { timeout: 600_000 }, async (t) => {
  const e = new ElfFile(load().bytes);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const { value: d, longestGapMs: worst } = await withLoopGaps(() => DebugInfo.load(e));
  const cpu = process.cpuUsage(cpu0);
  t.diagnostic(`DWARF load: ${(performance.now() - t0).toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU; longest event-loop gap ${worst.toFixed(0)} ms`);
  assert.equal(d.lines!.rowCount, load().d.lines!.rowCount, 'the same table as a one-go load');
  assert.equal(d.info!.functions.length, load().d.info!.functions.length);
  assert.ok(worst < 500, `the event loop waited ${worst.toFixed(0)} ms at most`);
});
