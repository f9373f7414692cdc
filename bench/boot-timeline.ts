// `npm run bench -- boot-timeline`: where the boot's time goes, in order. Boots the default guest
// on a bare Machine in this process, a slice of BOOT_SLICE instructions (default 2 M) at a time,
// and reports each slice's wall time and MIPS with the last console line printed by then, so a
// slow phase can be named: on 2026-12-06 the fixmap writes of paging_init (the first 16 M
// instructions) ran at ~200 MIPS and the initcalls (33 M → the ready marker) at 30–60 MIPS.

import { StopReason } from '../src/emulator/machine';
import { guestArtifacts, GUEST_READY_MARKER } from '../test/guest-artifacts/artifacts';
import { guestMachine } from './workloads';

export interface TimelineSlice {
  /** Instructions retired before the slice. */
  from: number;
  instructions: number;
  ms: number;
  /** The console's last non-empty line at the end of the slice. */
  console: string;
}

export function benchBootTimeline(slice = Number(process.env.BOOT_SLICE ?? 2_000_000)): { slices: TimelineSlice[]; total_ms: number } {
  if (!(slice >= 1000)) throw new Error(`BOOT_SLICE must be at least 1000 instructions, not ${process.env.BOOT_SLICE}`);
  let text = '';
  const m = guestMachine(guestArtifacts(), (t) => (text += t));
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const slices: TimelineSlice[] = [];
  const t0 = performance.now();
  const deadline = Date.now() + 300_000;
  let from = 0;
  let start = t0;
  while (!text.includes(GUEST_READY_MARKER)) {
    const r = m.run(Math.min(slice, 1 << 20));
    if (r === StopReason.Halted || r === StopReason.Crashed) throw new Error(`boot-timeline: the guest stopped: ${m.crash?.description ?? m.haltReason}`);
    if (r === StopReason.Idle) Atomics.wait(sleeper, 0, 0, Math.min(m.idleMilliseconds(), 5));
    if (Date.now() > deadline) throw new Error('boot-timeline: no ready marker after 300 s');
    const n = m.instret() - from;
    if (n < slice && !text.includes(GUEST_READY_MARKER)) continue;
    const now = performance.now();
    const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
    slices.push({ from, instructions: n, ms: now - start, console: lines[lines.length - 1] ?? '' });
    from += n;
    start = now;
  }
  const total_ms = performance.now() - t0;
  m.shutdown();
  return { slices, total_ms };
}
