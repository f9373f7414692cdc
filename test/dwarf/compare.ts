// Our tables against binutils', row by row: the line table against objdump --dwarf=decodedline
// and every FDE's rules against readelf --debug-dump=frames-interp. Shared by the fixture tests
// and the real-vmlinux test; each returns the number of rows compared and the first mismatches.

import type { DebugInfo } from '../../debug-adapter/dwarf/index';
import { ROW_END_SEQUENCE, ROW_STMT } from '../../debug-adapter/dwarf/line';
import { decodedLines, formatRow, interpretedFrames } from './fixture';

export interface Comparison {
  compared: number;
  mismatches: string[];
  /** Rows whose file objdump cannot be trusted with (see decodedLines): check them another way. */
  unchecked?: number[];
}

function note(c: Comparison, msg: string): void {
  if (c.mismatches.length < 10) c.mismatches.push(msg);
  else if (c.mismatches.length === 10) c.mismatches.push('…');
}

export function compareLines(d: DebugInfo, objdumpText: string): Comparison & { unchecked: number[] } {
  const t = d.lines!;
  const c: Comparison & { unchecked: number[] } = { compared: 0, mismatches: [], unchecked: [] };
  let i = 0;
  for (const r of decodedLines(objdumpText)) {
    if (i >= t.rowCount) {
      note(c, `binutils has more rows than ours (${t.rowCount})`);
      break;
    }
    const end = (t.flags[i] & ROW_END_SEQUENCE) !== 0;
    // objdump names the unit's primary file by its base name, the others by their full path;
    // where it cannot be trusted with the file (fileKnown), the row is compared without it.
    const path = t.files[t.file[i]];
    const file = !r.fileKnown ? r.file : r.file.includes('/') ? path : path.slice(path.lastIndexOf('/') + 1);
    if (!r.fileKnown && !end) c.unchecked.push(i);
    const ours = `${t.addr[i].toString(16)} ${end ? '-' : t.line[i]} ${end ? '' : (t.flags[i] & ROW_STMT ? 'x' : '')} ${end ? '' : file}`;
    const theirs = `${r.addr.toString(16)} ${r.line < 0 ? '-' : r.line} ${r.line < 0 ? '' : r.stmt ? 'x' : ''} ${r.line < 0 ? '' : r.file}`;
    if (ours !== theirs) note(c, `row ${i}: ours "${ours}", binutils "${theirs}"`);
    i++;
    c.compared++;
  }
  if (i !== t.rowCount) note(c, `ours has ${t.rowCount} rows, binutils ${i}`);
  return c;
}

export function compareFrames(d: DebugInfo, readelfText: string): Comparison & { fdes: number } {
  const f = d.frames!;
  const c = { compared: 0, mismatches: [] as string[], fdes: 0 };
  const byOffset = new Map(f.fdes.map((x) => [x.offset, x]));
  for (const b of interpretedFrames(readelfText)) {
    c.fdes++;
    const ours = byOffset.get(b.offset);
    if (!ours) {
      note(c, `FDE at 0x${b.offset.toString(16)} is missing`);
      continue;
    }
    if (ours.start !== b.start || ours.end !== b.end) note(c, `FDE 0x${b.offset.toString(16)}: pc ${ours.start.toString(16)}..${ours.end.toString(16)}, binutils ${b.start.toString(16)}..${b.end.toString(16)}`);
    if (b.rows.length === 0) continue; // readelf prints no table for an FDE without instructions
    const rows = f.rows(ours);
    const cols = Object.keys(b.rows[0].regs);
    if (rows.length !== b.rows.length) note(c, `FDE 0x${b.offset.toString(16)}: ${rows.length} rows, binutils ${b.rows.length}`);
    for (let k = 0; k < Math.min(rows.length, b.rows.length); k++) {
      const o = formatRow(rows[k], cols);
      const want = b.rows[k];
      c.compared++;
      const a = `${rows[k].loc.toString(16)} ${o.cfa} ${cols.map((x) => o.regs[x]).join(' ')}`;
      const e = `${want.loc.toString(16)} ${want.cfa} ${cols.map((x) => want.regs[x]).join(' ')}`;
      if (a !== e) note(c, `FDE 0x${b.offset.toString(16)} row ${k}: ours "${a}", binutils "${e}"`);
    }
  }
  return c;
}
