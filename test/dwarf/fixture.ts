// Small RV32 ELF files with DWARF for the reader's tests, compiled at test time by the cross
// compiler the guest build already needs (riscv64-linux-gnu-gcc), and binutils' view of them.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { repoRoot } from '../guest-artifacts/artifacts';

export const CROSS = 'riscv64-linux-gnu-';

/** Builds test/fixtures/dwarf/prog.c with DWARF `version` (4 or 5) at -O2; returns the ELF path. */
export function buildFixture(version: 4 | 5, dir = mkdtempSync(join(tmpdir(), 'semu-dwarf-'))): string {
  const src = join(repoRoot(), 'test', 'fixtures', 'dwarf', 'prog.c');
  const out = join(dir, `prog-dwarf${version}.elf`);
  execFileSync(`${CROSS}gcc`, [
    '-march=rv32ima_zicsr', '-mabi=ilp32', '-O2', `-gdwarf-${version}`, '-fno-asynchronous-unwind-tables',
    '-nostdlib', '-static', '-Wl,-melf32lriscv', '-Wl,--build-id=none', '-o', out, src,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

export function bytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

export function tool(name: string, args: string[]): string {
  return execFileSync(`${CROSS}${name}`, args, { maxBuffer: 1 << 30, encoding: 'utf8' });
}

export interface BinutilsRow {
  file: string;
  line: number; // -1: end of sequence
  addr: number;
  stmt: boolean;
  /**
   * objdump (binutils 2.40) names the file right only once the program set one in this
   * sequence: at a sequence's start it prints the unit's name or the previous sequence's file,
   * where DWARF 5 §6.2.2 (and gdb) say file 1 of the unit.
   */
  fileKnown: boolean;
}

/** `objdump --dwarf=decodedline` as rows (a full path line names the file of the rows after it). */
export function* decodedLines(text: string): Generator<BinutilsRow> {
  let file = '';
  let known = false;
  for (const l of text.split('\n')) {
    if (l.endsWith(':') && !l.includes(' ')) {
      file = posix.normalize(l.slice(0, -1)); // ours are normalised (include/linux/../../scripts → scripts)
      known = file.includes('/'); // a unit's header is a base name: not a file the program set
      continue;
    }
    const m = /^(\S+)\s+(\d+|-)\s+0x([0-9a-f]+)(?:\s+(\d+))?(?:\s+(x))?\s*$/.exec(l);
    if (!m) continue;
    const end = m[2] === '-';
    yield { file, line: end ? -1 : Number(m[2]), addr: parseInt(m[3], 16), stmt: m[5] === 'x', fileKnown: known };
    if (end) known = false;
  }
}

export interface BinutilsFde {
  offset: number;
  start: number;
  end: number;
  /** Rows as readelf prints them: loc, "sp+16", { ra: "c-4", ... }. */
  rows: { loc: number; cfa: string; regs: Record<string, string> }[];
}

/** `readelf --debug-dump=frames-interp`: each FDE with its table (registers by ABI name). */
export function interpretedFrames(text: string): BinutilsFde[] {
  const out: BinutilsFde[] = [];
  let cur: BinutilsFde | null = null;
  let cols: string[] = [];
  for (const l of text.split('\n')) {
    const fde = /^([0-9a-f]{8}) [0-9a-f]+ [0-9a-f]+ FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.([0-9a-f]+)/.exec(l);
    if (fde) {
      cur = { offset: parseInt(fde[1], 16), start: parseInt(fde[2], 16), end: parseInt(fde[3], 16), rows: [] };
      out.push(cur);
      continue;
    }
    if (/ CIE /.test(l)) {
      cur = null;
      continue;
    }
    if (!cur) continue;
    if (/^\s+LOC\s+CFA/.test(l)) {
      cols = l.trim().split(/\s+/).slice(2);
      continue;
    }
    const row = /^([0-9a-f]{8})\s+(\S+)\s*(.*)$/.exec(l);
    if (!row) continue;
    const vals = row[3].trim() ? row[3].trim().split(/\s+/) : [];
    const regs: Record<string, string> = {};
    cols.forEach((c, i) => (regs[c] = vals[i] ?? 'u'));
    cur.rows.push({ loc: parseInt(row[1], 16), cfa: row[2], regs });
  }
  return out;
}

const ABI = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];

/** Our frame row in readelf's notation, for the columns readelf printed. */
export function formatRow(row: import('../../debug-adapter/dwarf/frame').FrameRow, cols: string[]): { cfa: string; regs: Record<string, string> } {
  const regs: Record<string, string> = {};
  for (const c of cols) {
    const r = row.regs.get(ABI.indexOf(c));
    if (!r) regs[c] = 'u';
    else if (r.kind === 0) regs[c] = 'u';
    else if (r.kind === 1) regs[c] = 's';
    else if (r.kind === 2) regs[c] = `c${r.n >= 0 ? '+' : ''}${r.n}`;
    else if (r.kind === 3) regs[c] = `v${r.n >= 0 ? '+' : ''}${r.n}`;
    else if (r.kind === 4) regs[c] = ABI[r.n] ?? `r${r.n}`;
    else regs[c] = 'exp';
  }
  const cfa = row.cfaExpr ? 'exp' : `${ABI[row.cfaReg] ?? `r${row.cfaReg}`}${row.cfaOffset >= 0 ? '+' : ''}${row.cfaOffset}`;
  return { cfa, regs };
}
