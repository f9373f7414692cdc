// Loading the default guest's vmlinux debug information (DWARF 5, ~90 MB) with our reader:
// wall and CPU time in one go, per part, and in slices (as the adapter does it), with the
// longest event-loop gap that leaves.

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { ElfFile } from '../debug-adapter/dwarf/elf';
import { DebugInfo } from '../debug-adapter/dwarf/index';
import { guestArtifacts } from '../test/guest-artifacts/artifacts';
import { withLoopGaps } from '../test/helpers/loop-gaps';

export interface DwarfBench {
  read_ms: number;
  sync_ms: number;
  sync_cpu_ms: number;
  lines_ms: number;
  frames_ms: number;
  info_ms: number;
  sliced_ms: number;
  longest_gap_ms: number;
  rows: number;
  functions: number;
  fdes: number;
  load_average: number;
}

export async function benchDwarf(): Promise<DwarfBench> {
  const path = guestArtifacts().vmlinux;
  const la = loadavg()[0];
  let t = performance.now();
  const bytes = readFileSync(path);
  const read = performance.now() - t;
  const cpu0 = process.cpuUsage();
  t = performance.now();
  const d = DebugInfo.fromElf(new ElfFile(bytes));
  const sync = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  t = performance.now();
  const { longestGapMs: gap } = await withLoopGaps(() => DebugInfo.load(new ElfFile(bytes)));
  const sliced = performance.now() - t;
  return {
    read_ms: read, sync_ms: sync, sync_cpu_ms: (cpu.user + cpu.system) / 1000,
    lines_ms: d.times.lineMs, frames_ms: d.times.frameMs, info_ms: d.times.infoMs,
    sliced_ms: sliced, longest_gap_ms: gap,
    rows: d.lines?.rowCount ?? 0, functions: d.info?.functions.length ?? 0, fdes: d.frames?.fdes.length ?? 0,
    load_average: la,
  };
}
