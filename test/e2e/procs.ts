// What runs in code-server's process group, read from /proc: the extension host, the audio hosts
// it forked (dist/audio-host.js of the installed extension) and the extension host's threads,
// where the emulator's worker_thread shows up. Used to prove a session leaves nothing behind.
import { readFileSync, readdirSync } from 'node:fs';

export interface Proc {
  pid: number;
  pgid: number;
  args: string;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // the process ended while we looked
  }
}

export function processesInGroup(pgid: number): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (!stat) continue;
    // Fields after the ")" that ends the command name: state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== pgid) continue;
    const args = (read(`/proc/${name}/cmdline`) ?? '').split('\0').join(' ').trim();
    out.push({ pid: Number(name), pgid, args });
  }
  return out;
}

export function audioHosts(pgid: number): Proc[] {
  return processesInGroup(pgid).filter((p) => /audio-host\.js/.test(p.args));
}

export function extensionHost(pgid: number): Proc | undefined {
  return processesInGroup(pgid).find((p) => /--type=extensionHost/.test(p.args));
}

/** Thread names (comm) of a process, e.g. MainThread, V8Worker, WorkerThread. */
export function threadNames(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map((t) => (read(`/proc/${pid}/task/${t}/comm`) ?? '').trim()).filter(Boolean);
  } catch {
    return [];
  }
}

/** Threads named like a worker_thread (Node names them after Worker's `name`, default WorkerThread). */
export function workerThreads(pid: number, baseline: readonly string[]): string[] {
  const left = [...baseline];
  const extra: string[] = [];
  for (const n of threadNames(pid)) {
    const i = left.indexOf(n);
    if (i >= 0) left.splice(i, 1);
    else extra.push(n);
  }
  return extra.filter((n) => !/^(V8Worker|libuv-worker|DelayedTaskSche|node)$/.test(n));
}

/** Shared libraries a process has mapped whose path matches `re` (to see which libportaudio loaded). */
export function mappedLibraries(pid: number, re: RegExp): string[] {
  const maps = read(`/proc/${pid}/maps`) ?? '';
  const libs = new Set<string>();
  for (const line of maps.split('\n')) {
    const path = line.slice(line.indexOf('/'));
    if (line.includes('/') && re.test(path)) libs.add(path);
  }
  return [...libs];
}
