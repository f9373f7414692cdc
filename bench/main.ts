// `npm run bench [-- NAME ...]`: runs the benchmarks (all by default: boot cpu pause panels
// panels-host audio screen fs watch dwarf net; `soak` (35 minutes), `vs-semu` (needs SEMU_C),
// `workloads` (in-process, WORKLOADS=a,b), `boot-timeline` and `wasm-calls` only when named),
// prints one table, and ends with the line `boot_s=<median of 5> mips=<cpubench>`.
// Record results with the machine's description in bench/RESULTS.md.

import { cpus, totalmem } from 'node:os';
import { benchCliBoot } from './cli-boot';
import { benchCpu } from './cpubench';
import { benchPause } from './pause';
import { benchPanels } from './panels';
import { benchPanelsHost } from './panels-host';
import { benchAudio } from './audio';
import { benchVsSemu, type Row as VsRow } from './vs-semu';
import { benchWorkloads } from './workloads';
import { benchBootTimeline } from './boot-timeline';
import { benchWasmCalls } from './wasm-calls';
import { benchWatch } from './watch';
import { benchDwarf } from './dwarf';
import { benchScreen } from './screen';
import { benchNet } from './net';
import { benchFs } from './fs';
import { soakNull, soakPulse, type SoakResult } from './soak';

type Row = [string, string, string];

/** "min–max" of the readings: how far one run is from the next. */
function range(all: readonly number[]): string {
  return all.length ? `${Math.min(...all).toFixed(3)}–${Math.max(...all).toFixed(3)}` : '-';
}

/** The guest's instructions on both sides and the speed they imply, for a workload that prints them. */
function insnsNote(r: VsRow): string {
  if (!(r.ours_insns > 0 && r.c_insns > 0)) return '';
  const mips = (insns: number, s: number) => (insns / s / 1e6).toFixed(0);
  return `; guest instructions ${(r.ours_insns / 1e6).toFixed(1)} M vs ${(r.c_insns / 1e6).toFixed(1)} M (${(r.ours_insns / r.c_insns).toFixed(2)}×), ${mips(r.ours_insns, r.ours_s)} vs ${mips(r.c_insns, r.c_s)} MIPS`;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const all = ['boot', 'cpu', 'pause', 'panels', 'panels-host', 'audio', 'screen', 'fs', 'watch', 'dwarf', 'net'];
  const named = ['soak', 'vs-semu', 'workloads', 'boot-timeline', 'wasm-calls'];
  const unknown = wanted.filter((n) => !all.includes(n) && !named.includes(n));
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')}: choose from ${[...all, ...named].join(' ')}`);
  const run = (n: string) => (wanted.length === 0 ? all : wanted).includes(n);
  const rows: Row[] = [];
  let bootS = NaN;
  let mips = NaN;
  const say = (r: Row) => {
    rows.push(r);
    process.stderr.write(`${r[0].padEnd(34)} ${r[1].padStart(12)}  ${r[2]}\n`);
  };
  process.stderr.write(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}\n`);
  if (run('boot')) {
    const b = await benchCliBoot(5);
    bootS = b.boot_s;
    say(['boot to ready (CLI, median of 5)', `${b.boot_s.toFixed(2)} s`, b.boots_s.map((s) => s.toFixed(2)).join(' ')]);
  }
  if (run('cpu')) {
    const c = await benchCpu();
    mips = c.mips;
    say(['cpubench', `${c.mips.toFixed(1)} MIPS`, `${(c.instructions / 1e6).toFixed(0)} M insns in ${c.seconds.toFixed(2)} s; ${c.guest_line}`]);
  }
  if (run('pause')) {
    const p = await benchPause();
    say(['pause latency (median)', `${p.pause_ms_median.toFixed(1)} ms`, `p90 ${p.pause_ms_p90.toFixed(1)} ms, max ${p.pause_ms_max.toFixed(1)} ms, ${p.pauses} pauses`]);
    say(['semu/virtqueues round trip (median)', `${p.virtqueues_ms_median.toFixed(2)} ms`, 'polled at 20 Hz while the kernel boots; answered from shared memory']);
  }
  if (run('panels')) {
    for (const r of await benchPanels()) say([`panel main-thread time: ${r.panel} @ ${r.rateHz} Hz`, `${r.taskMsPerMessage.toFixed(2)} ms`, `per message; script ${r.scriptMsPerMessage.toFixed(2)}, layout ${r.layoutMsPerMessage.toFixed(2)}, style ${r.styleMsPerMessage.toFixed(2)} ms`]);
  }
  if (run('panels-host')) {
    const h = await benchPanelsHost();
    say(['extension host, both panels open', `${(h.host_ms_per_s_open - h.host_ms_per_s_closed).toFixed(1)} ms/s`, `main-thread busy ${h.host_ms_per_s_closed.toFixed(1)} ms/s closed → ${h.host_ms_per_s_open.toFixed(1)} ms/s open; ${h.levels_per_s.toFixed(1)} levels/s, ${h.virtqueues_per_s.toFixed(1)} virtqueues/s, ${h.posted_kib_per_s.toFixed(0)} KiB/s posted`]);
    say(['guest slowdown, both panels open', `${(h.guest_slowdown * 100).toFixed(1)} %`, `cpubench ${h.cpubench_ms_closed.toFixed(0)} ms closed → ${h.cpubench_ms_open.toFixed(0)} ms open (median of ${h.rounds} rounds), pcm play running`]);
    say(['guest slowdown, semu/virtqueues at 20 Hz', `${(h.poll20_slowdown * 100).toFixed(1)} %`, `cpubench ${h.cpubench_ms_closed.toFixed(0)} ms → ${h.cpubench_ms_poll20.toFixed(0)} ms, no panel open`]);
  }
  if (run('audio')) {
    const a = await benchAudio(60);
    say(['audio loopback 60 s, 48 kHz S16 stereo', `${a.xruns_guest} guest / ${a.xruns_host} host xruns`, `capture latency ${a.capture_latency_periods.toFixed(2)} periods (p95 ${a.capture_latency_p95_periods.toFixed(2)}), emulator CPU ${a.emulator_cpu_ms_per_s_loop.toFixed(0)} ms/s looping vs ${a.emulator_cpu_ms_per_s_idle.toFixed(0)} ms/s idle, audio hosts ${a.audio_host_cpu_ms_per_s.toFixed(0)} ms/s`]);
  }
  if (run('workloads')) {
    const w = await benchWorkloads(process.env.WORKLOADS ? process.env.WORKLOADS.split(',') : undefined, process.env.WORKLOAD_COUNTS === '1', process.env.WORKLOAD_SYNC !== '1');
    for (const r of [w.boot, ...w.results]) {
      say([`in-process ${r.name}`, `${(r.instructions / r.cpu_s / 1e6).toFixed(0)} MIPS`, `${(r.instructions / 1e6).toFixed(1)} M insns, ${r.cpu_s.toFixed(3)} s CPU, guest ${Number.isNaN(r.guest_s) ? '-' : r.guest_s.toFixed(3) + ' s'}`]);
      if (r.counts) say([`in-process ${r.name}: engine events`, `${Object.keys(r.counts).length} kinds`, Object.entries(r.counts).map(([k, v]) => `${k} ${v}`).join(', ')]);
    }
    say(['code cache', `${w.translated} blocks`, `${w.decodes} page decodes, ${w.invalidated} invalidations`]);
  }
  if (run('boot-timeline')) {
    const t = benchBootTimeline();
    for (const s of t.slices) {
      say([`boot from ${(s.from / 1e6).toFixed(1)} M insns`, `${s.ms.toFixed(1)} ms`, `${(s.instructions / 1e3 / s.ms).toFixed(0)} MIPS; console: ${s.console.slice(-90)}`]);
    }
    say(['boot to ready (in-process, wall)', `${t.total_ms.toFixed(0)} ms`, `${t.slices.length} slices`]);
  }
  if (run('wasm-calls')) {
    for (const r of benchWasmCalls()) say([`wasm call: ${r.functions} functions, ${r.perModule} per module`, `${r.ns_per_call.toFixed(1)} ns`, 'per call_indirect from one dispatcher, scrambled order']);
  }
  if (run('vs-semu')) {
    const v = await benchVsSemu(undefined, (l) => process.stderr.write(`  ${l}\n`));
    for (const r of v.rows) {
      say([`vs C semu: ${r.workload} (median of ${v.runs})`, `${r.ratio.toFixed(2)}×`, `${r.workload === 'boot' ? 'wall' : 'guest-measured'} ${r.ours_s.toFixed(3)} s vs ${r.c_s.toFixed(3)} s (ranges ${range(r.ours_all)} vs ${range(r.c_all)}); CPU ${r.ours_cpu_s.toFixed(2)} s vs ${r.c_cpu_s.toFixed(2)} s (${r.cpu_ratio.toFixed(2)}×)${insnsNote(r)}`]);
    }
    say(['vs C semu: peak RSS after boot', `${(v.ours_boot_rss_mib / v.c_boot_rss_mib).toFixed(2)}×`, `${v.ours_boot_rss_mib.toFixed(1)} MiB vs ${v.c_boot_rss_mib.toFixed(1)} MiB`]);
    say(['vs C semu: peak RSS after all workloads', `${(v.ours_rss_mib / v.c_rss_mib).toFixed(2)}×`, `${v.ours_rss_mib.toFixed(1)} MiB vs ${v.c_rss_mib.toFixed(1)} MiB (pfbench touches 64 MiB of guest RAM)`]);
  }
  if (run('watch')) {
    const w = await benchWatch();
    const cost = (n: 1 | 4) => `${((w.cpu[n] / w.cpu[0] - 1) * 100).toFixed(1)} % CPU`;
    say(['guest speed, no data breakpoint', `${w.cpu[0].toFixed(2)} s CPU`, `cpubench 3000, median of ${w.rounds} interleaved rounds; wall ${w.seconds[0].toFixed(2)} s, ${w.mips[0].toFixed(1)} MIPS`]);
    say(['guest speed, 1 data breakpoint', cost(1), `${w.cpu[1].toFixed(2)} s CPU, wall ${w.seconds[1].toFixed(2)} s, ${w.mips[1].toFixed(1)} MIPS; watching ${w.symbols[0]}`]);
    say(['guest speed, 4 data breakpoints', cost(4), `${w.cpu[4].toFixed(2)} s CPU, wall ${w.seconds[4].toFixed(2)} s, ${w.mips[4].toFixed(1)} MIPS; ${w.symbols.join(', ')}; ${w.hits} hits`]);
  }
  if (run('dwarf')) {
    const d = await benchDwarf();
    say(['DWARF load (vmlinux, in one go)', `${d.sync_ms.toFixed(0)} ms`, `CPU ${d.sync_cpu_ms.toFixed(0)} ms; lines ${d.lines_ms.toFixed(0)}, CFI ${d.frames_ms.toFixed(0)}, info ${d.info_ms.toFixed(0)} ms; file read ${d.read_ms.toFixed(0)} ms; ${d.rows} rows, ${d.fdes} FDEs, ${d.functions} functions; load average ${d.load_average.toFixed(1)}`]);
    say(['DWARF load in slices (the adapter)', `${d.sliced_ms.toFixed(0)} ms`, `longest event-loop gap ${d.longest_gap_ms.toFixed(0)} ms`]);
  }
  if (run('screen')) {
    const s = await benchScreen();
    say(['guest full-screen redraw (DRM dumb buffer)', `${s.guest_fps.toFixed(1)} fps`, `1024×768 XRGB8888, TRANSFER_TO_HOST_2D + RESOURCE_FLUSH per frame; ${s.guest_fps_line}`]);
    say(['fbcon boot cost', `+${((s.boot_insns_gpu / s.boot_insns_plain - 1) * 100).toFixed(0)} %`, `${(s.boot_insns_plain / 1e6).toFixed(0)} M → ${(s.boot_insns_gpu / 1e6).toFixed(0)} M instructions to the ready marker with virtio-gpu + input`]);
    say(['screen feed, host CPU per frame', `${s.host_ms_per_full_frame.toFixed(2)} ms`, `full 1024×768 frame (read, RGBA, one copy); one text line: ${s.host_ms_per_line_frame.toFixed(3)} ms`]);
    say(['screen panel, post → shown (median)', `${s.panel_latency_full_ms.median.toFixed(1)} ms`, `full frames, p90 ${s.panel_latency_full_ms.p90.toFixed(1)} ms, ${s.panel_fps_full.toFixed(0)} fps shown; one-line frames ${s.panel_latency_line_ms.median.toFixed(1)} ms (p90 ${s.panel_latency_line_ms.p90.toFixed(1)} ms, ${s.panel_fps_line.toFixed(0)} fps)`]);
  }
  if (run('fs')) {
    const f = await benchFs();
    for (const [dev, r] of [['virtio-fs (-s, /mnt)', f.fs], ['ext4 on virtio-blk (-d, /blk)', f.blk]] as const) {
      say([`guest fsbench ${f.mib} MiB: ${dev}`, `${r.writeMBps.toFixed(1)} / ${r.readMBps.toFixed(1)} MB/s`, `sequential write (fsync) / read (page cache dropped); ${r.filesPerS} create+stat+unlink per s; median of ${f.rounds}`]);
    }
  }
  if (run('net')) {
    const n = await benchNet();
    say(['virtio-net host→guest TCP (passt)', `${n.host_to_guest_mb_s.toFixed(2)} MB/s`, `emulator CPU ${n.host_to_guest_cpu_ms_per_mb.toFixed(0)} ms/MB; guest http get of 8 MiB, median of ${n.rounds}`]);
    say(['virtio-net guest→host TCP (passt)', `${n.guest_to_host_mb_s.toFixed(2)} MB/s`, `emulator CPU ${n.guest_to_host_cpu_ms_per_mb.toFixed(0)} ms/MB; host fetch of 8 MiB from http serve through --hostfwd, median of ${n.rounds}`]);
    say(['boot to ready, -n none → -n user', `${(n.boot_user_s - n.boot_none_s).toFixed(2)} s`, `wall ${n.boot_none_s.toFixed(2)} → ${n.boot_user_s.toFixed(2)} s, CPU ${n.boot_none_cpu_s.toFixed(2)} → ${n.boot_user_cpu_s.toFixed(2)} s (medians of ${n.boot_pairs} alternating boots each)`]);
  }
  if (wanted.includes('soak')) {
    for (const r of [await soakNull(), await soakPulse()]) say(soakRow(r));
  }
  process.stdout.write('\n| benchmark | result | detail |\n| --- | --- | --- |\n');
  for (const r of rows) process.stdout.write(`| ${r[0]} | ${r[1]} | ${r[2]} |\n`);
  process.stdout.write(`boot_s=${Number.isNaN(bootS) ? 'n/a' : bootS.toFixed(2)} mips=${Number.isNaN(mips) ? 'n/a' : mips.toFixed(1)}\n`);
}

function soakRow(r: SoakResult): Row {
  const min = (r.seconds / 60).toFixed(r.seconds % 60 ? 1 : 0);
  return [
    `soak: pcm loop ${min} min, ${r.backend}`,
    `RSS ±${(r.rss_spread_mb / 2).toFixed(1)} MB (floors ±${(r.rss_floor_spread_mb / 2).toFixed(1)}; V8 heap ±${(r.heap_spread_mb / 2).toFixed(1)})`,
    `RSS ${r.rss_first_mb.toFixed(0)} MB at start, ${r.rss_min_after_1min_mb.toFixed(1)}–${r.rss_max_after_1min_mb.toFixed(1)} MB after the first minute, ${r.rss_last_mb.toFixed(1)} MB at the end; ` +
      `${r.guest_line.startsWith('FAILED') ? r.guest_line + '; ' : ''}xruns ${r.xruns_guest} guest / ${r.xruns_host} host; frames ${r.frames_exact ? 'exact' : 'NOT exact'} (guest ${r.guest_rec_frames} rec / ${r.guest_play_frames} play, device ${r.device_in_frames} in / ${r.device_out_frames} out); ${r.wall_s.toFixed(0)} s wall`,
  ];
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`bench: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
