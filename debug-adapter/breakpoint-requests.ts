// The DAP breakpoint requests, apart from the session class: each checks its arguments
// strictly (args.ts), resolves what it names — a source line through the DWARF line table, a
// function through the symbols, an instruction reference, a data target — and hands the
// entries to the Breakpoints store. The session then syncs the machine.

import type { DebugProtocol } from '@vscode/debugprotocol';
import { Checker } from './args';
import { Breakpoints, MAX_CODE_BREAKPOINTS, MAX_DATA_BREAKPOINTS, parseOptions, type BreakpointEntry, type BreakpointKind } from './breakpoints';
import { formatMemoryReference, offsetAddress, parseMemoryReference } from './memory';
import type { SymbolTable } from './symbols';
import type { DebugInfo } from './dwarf/index';
import type { SourcePaths } from './source-paths';
import { ACCESS_TYPES, addressTarget, describeTarget, expressionTarget, formatDataId, parseDataId, watchKind } from './data-breakpoints';
import type { EvalContext } from './expressions';
import type { VariableStore } from './variables';

/** How far below a line without code a source breakpoint may move (gdb moves to the next line with code). */
const MAX_LINE_MOVE = 200;

export interface BreakpointContext {
  readonly bps: Breakpoints;
  readonly symbols: SymbolTable | null;
  readonly debug: DebugInfo | null;
  readonly paths: SourcePaths;
  readonly vars: VariableStore;
  /** Evaluation context of the current stop (throws when the machine does not run). */
  evalContext(frameId?: number): Promise<EvalContext>;
}

type Entry = Omit<BreakpointEntry, 'id' | 'hits'>;

/** Entries beyond the bound are refused one by one, saying the bound. */
function bounded<T>(items: T[], max: number, what: string, each: (t: T, i: number) => { entry?: Entry; refuse?: string; extra?: Partial<DebugProtocol.Breakpoint> }) {
  const out: { entry?: Entry; refuse?: string; extra?: Partial<DebugProtocol.Breakpoint> }[] = [];
  let kept = 0;
  items.forEach((t, i) => {
    if (kept >= max) {
      out.push({ refuse: `more than ${max} ${what}: this one is not set (the bound keeps the machine fast; see docs/debugger.md)` });
      return;
    }
    try {
      const r = each(t, i);
      if (r.entry) kept++;
      out.push(r);
    } catch (e) {
      out.push({ refuse: (e as Error).message });
    }
  });
  return out;
}

function answer(ctx: BreakpointContext, kind: BreakpointKind, results: ReturnType<typeof bounded>, file?: string): DebugProtocol.Breakpoint[] {
  const entries = ctx.bps.replace(kind, results.filter((r) => r.entry).map((r) => r.entry!), file);
  let k = 0;
  return results.map((r) => (r.entry ? { id: entries[k++].id, verified: true, ...r.extra } : { verified: false, message: r.refuse }));
}

export function setInstructionBreakpoints(ctx: BreakpointContext, args: DebugProtocol.SetInstructionBreakpointsArguments): DebugProtocol.Breakpoint[] {
  const c = new Checker('setInstructionBreakpoints', args as unknown as Record<string, unknown>);
  const list = c.array('breakpoints')!;
  const items = list.map((bp, i) => {
    const b = c.item('breakpoints', i, bp);
    return { ref: b.str('instructionReference')!, offset: b.int('offset', { optional: true }), opts: bp as Record<string, unknown> };
  });
  const results = bounded(items, MAX_CODE_BREAKPOINTS, 'instruction breakpoints', (it) => {
    const ref = parseMemoryReference(it.ref, (n) => ctx.symbols?.address(n));
    if (ref.physical) throw new Error('instruction breakpoints take virtual addresses (the pc), not p: references');
    const pc = offsetAddress(ref.address, it.offset);
    if (pc & 3) throw new Error(`0x${pc.toString(16)} is not 4-byte aligned`);
    const o = parseOptions(it.opts);
    return { entry: { kind: 'instruction', key: `${pc}`, pcs: [pc], ...o }, extra: { instructionReference: formatMemoryReference(pc), message: ctx.symbols?.describe(pc) } };
  });
  return answer(ctx, 'instruction', results);
}

export function setFunctionBreakpoints(ctx: BreakpointContext, args: DebugProtocol.SetFunctionBreakpointsArguments): DebugProtocol.Breakpoint[] {
  const c = new Checker('setFunctionBreakpoints', args as unknown as Record<string, unknown>);
  const list = c.array('breakpoints')!;
  const items = list.map((bp, i) => ({ name: c.item('breakpoints', i, bp).str('name')!.trim(), opts: bp as Record<string, unknown> }));
  const results = bounded(items, MAX_CODE_BREAKPOINTS, 'function breakpoints', (it) => {
    let pc: number | undefined;
    if (/^\*?0x[0-9a-f]+$/i.test(it.name)) pc = parseInt(it.name.replace(/^\*/, ''), 16) >>> 0;
    else pc = ctx.symbols?.address(it.name);
    if (pc === undefined) {
      throw new Error(ctx.symbols ? `no symbol '${it.name}' in ${ctx.symbols.source} (an inlined function has none: set a source breakpoint in it)` : 'no symbols loaded: set "symbols" (System.map or vmlinux) in launch.json');
    }
    const o = parseOptions(it.opts);
    const extra: Partial<DebugProtocol.Breakpoint> = { instructionReference: formatMemoryReference(pc) };
    const pos = ctx.debug?.position(pc);
    if (pos) Object.assign(extra, sourceOf(ctx, pos.file, pos.line));
    return { entry: { kind: 'function', key: it.name, pcs: [pc], ...o }, extra };
  });
  return answer(ctx, 'function', results);
}

function sourceOf(ctx: BreakpointContext, dwarfFile: string, line: number): Partial<DebugProtocol.Breakpoint> {
  const path = ctx.paths.toLocal(dwarfFile);
  return { source: { name: path.split('/').pop(), path }, line };
}

/** Source line breakpoints: each verified at every address the line starts at, or moved to the next line with code. */
export function setSourceBreakpoints(ctx: BreakpointContext, args: DebugProtocol.SetBreakpointsArguments): DebugProtocol.Breakpoint[] {
  const c = new Checker('setBreakpoints', args as unknown as Record<string, unknown>);
  const source = c.object('source')!;
  const sc = new Checker('setBreakpoints: source', source);
  const path = sc.str('path', true);
  sc.int('sourceReference', { optional: true, min: 0 });
  const list = c.array('breakpoints', true) ?? (c.array('lines', true) ?? []).map((line) => ({ line }));
  const items = list.map((bp, i) => {
    const b = c.item('breakpoints', i, bp);
    return { line: b.int('line', { min: 1 })!, opts: bp as Record<string, unknown> };
  });
  const fileKey = path ?? `ref:${String(source.sourceReference)}`;
  const fileId = path ? findFile(ctx, path) : undefined;
  const results = bounded(items, MAX_CODE_BREAKPOINTS, 'source breakpoints in one file', (it) => {
    if (!path) throw new Error('breakpoints in disassembly listings: use the Disassembly view (instruction breakpoints)');
    if (!ctx.debug?.hasLines) throw new Error(`no line information: give a vmlinux with DWARF as "symbols" (the default guest's has it)${ctx.debug?.problems.length ? ` — ${ctx.debug.problems[0]}` : ''}`);
    if (fileId === undefined) throw new Error(`${path} is not in the kernel's debug information: not compiled into this kernel, or the tree is elsewhere (set "sourceRoot" / "sourceMap")`);
    const o = parseOptions(it.opts);
    const lines = ctx.debug.lines!;
    let line = it.line;
    let pcs = lines.addressesOf(fileId, line);
    if (pcs.length === 0) {
      const next = lines.linesOf(fileId).find((l) => l > it.line && l - it.line <= MAX_LINE_MOVE);
      if (next === undefined) throw new Error(`no code at or after line ${it.line} of ${path.split('/').pop()} in this kernel`);
      line = next;
      pcs = lines.addressesOf(fileId, line);
    }
    if (pcs.length > 64) pcs = pcs.slice(0, 64);
    const fn = ctx.debug.info?.functionAt(pcs[0])?.name ?? ctx.symbols?.describe(pcs[0]);
    const where = pcs.length > 1 ? `${pcs.length} places` : formatMemoryReference(pcs[0]);
    return {
      entry: { kind: 'source', key: `${line}|${String(it.opts.condition ?? '')}|${String(it.opts.hitCondition ?? '')}|${String(it.opts.logMessage ?? '')}`, pcs, ...o },
      extra: { line, instructionReference: formatMemoryReference(pcs[0]), message: `${fn ? `in ${fn}, ` : ''}${where}${line !== it.line ? ` (moved from line ${it.line}: no code there)` : ''}` },
    };
  });
  return answer(ctx, 'source', results, fileKey);
}

/** The DWARF file of a local path: through the source map, then by a unique path suffix. */
function findFile(ctx: BreakpointContext, local: string): number | undefined {
  const lines = ctx.debug?.lines;
  if (!lines) return undefined;
  const exact = lines.findFile(ctx.paths.toDwarf(local));
  if (exact !== undefined) return exact;
  // A tree elsewhere without a map: match the longest unique tail (sound/virtio/virtio_pcm.c).
  const parts = local.split('/').filter(Boolean);
  for (let k = Math.min(parts.length, 4); k >= 2; k--) {
    const tail = '/' + parts.slice(-k).join('/');
    const hits = lines.files.map((f, i) => [f, i] as const).filter(([f]) => f.endsWith(tail));
    if (hits.length === 1) return hits[0][1];
    if (hits.length > 1) return undefined;
  }
  return undefined;
}

export async function dataBreakpointInfo(ctx: BreakpointContext, args: DebugProtocol.DataBreakpointInfoArguments): Promise<DebugProtocol.DataBreakpointInfoResponse['body']> {
  const c = new Checker('dataBreakpointInfo', args as unknown as Record<string, unknown>);
  const name = c.str('name')!;
  const ref = c.int('variablesReference', { optional: true, min: 0 });
  const frameId = c.int('frameId', { optional: true, min: 0 });
  const bytes = c.int('bytes', { optional: true, min: 1 }); // more than 8: answered with a description below
  const asAddress = c.bool('asAddress');
  const none = (description: string) => ({ dataId: null, description });
  let target;
  if (asAddress || bytes !== undefined) {
    try {
      target = await addressTarget(name, bytes, await ctx.evalContext(frameId));
    } catch (e) {
      return none(`cannot watch '${name}': ${(e as Error).message}`);
    }
  } else if (ref) {
    const node = await ctx.vars.find(ref, name);
    if (!node) return none(`no variable '${name}' under reference ${ref}`);
    if (!node.data) return none(`${name} is not in guest memory${/^(pc|x\d+|zero|ra|sp|gp|tp|[ast]\d+|fp)$/.test(name) ? ' (a register)' : ''}: nothing to watch`);
    target = node.data;
  } else {
    const t = await expressionTarget(name, await ctx.evalContext(frameId), ctx.symbols);
    if (typeof t === 'string') return none(t);
    target = t;
  }
  return { dataId: formatDataId(target), description: describeTarget(target, ctx.symbols), accessTypes: ACCESS_TYPES, canPersist: true };
}

export function setDataBreakpoints(ctx: BreakpointContext, args: DebugProtocol.SetDataBreakpointsArguments): DebugProtocol.Breakpoint[] {
  const c = new Checker('setDataBreakpoints', args as unknown as Record<string, unknown>);
  const list = c.array('breakpoints')!;
  const items = list.map((bp, i) => {
    const b = c.item('breakpoints', i, bp);
    const access = b.str('accessType', true);
    if (access !== undefined && !ACCESS_TYPES.includes(access as DebugProtocol.DataBreakpointAccessType)) b.fail('accessType', '"read", "write" or "readWrite"', access);
    return { dataId: b.str('dataId')!, access: access as DebugProtocol.DataBreakpointAccessType | undefined, opts: bp as Record<string, unknown> };
  });
  const results = bounded(items, MAX_DATA_BREAKPOINTS, 'data breakpoints', (it) => {
    const t = parseDataId(it.dataId);
    if (!t) throw new Error(`'${it.dataId}' is not a data breakpoint id of this adapter (ask dataBreakpointInfo)`);
    if (!t.physical && (t.addr & 0xfff) + t.len > 0x1000) throw new Error('a virtual data breakpoint may not cross a page boundary');
    const o = parseOptions(it.opts);
    return {
      entry: { kind: 'data', key: `${it.dataId}|${it.access ?? 'write'}`, pcs: [], watch: { addr: t.addr, len: t.len, kind: watchKind(it.access), physical: t.physical }, ...o },
      extra: { message: `${it.access ?? 'write'} of ${describeTarget(t, ctx.symbols)}` },
    };
  });
  return answer(ctx, 'data', results);
}
