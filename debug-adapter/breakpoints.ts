// The adapter's breakpoints of every kind — instruction, function, source line and data — with
// what DAP lets each carry: a condition (the Debug Console's expression language), a hit
// condition and a log message. The machine only knows pcs and watched ranges; when it stops on
// one, decide() counts the hit, evaluates the conditions and the log messages, and says whether
// the person should see a stop at all (a log point or a false condition never stops).

import { evaluate, formatValue, parseExpression, resultWidth, type EvalContext, type Expr } from './expressions';
import type { Watchpoint } from '../src/emulator/watch';

export type BreakpointKind = 'instruction' | 'function' | 'source' | 'data';

/** Most breakpoints of one kind: every pc set makes the harts run the checking interpreter. */
export const MAX_CODE_BREAKPOINTS = 256;
/** Most data breakpoints (the machine watches at most 32 ranges, shared with gdb). */
export const MAX_DATA_BREAKPOINTS = 16;

export interface HitCondition {
  op: '>=' | '==' | '>' | '<=' | '<' | '%';
  n: number;
}

export interface BreakpointEntry {
  id: number;
  kind: BreakpointKind;
  /** Identity across set requests (so hit counts survive an edit elsewhere). */
  key: string;
  pcs: number[];
  watch?: Omit<Watchpoint, 'id'>;
  condition?: Expr;
  hitCondition?: HitCondition;
  logMessage?: string;
  hits: number;
}

/** The options a DAP breakpoint may carry, parsed (throws with a message for the person). */
export interface BreakpointOptions {
  condition?: Expr;
  hitCondition?: HitCondition;
  logMessage?: string;
}

export function parseOptions(bp: { condition?: unknown; hitCondition?: unknown; logMessage?: unknown }): BreakpointOptions {
  const o: BreakpointOptions = {};
  if (bp.condition !== undefined && bp.condition !== null && String(bp.condition).trim() !== '') {
    if (typeof bp.condition !== 'string') throw new Error('the condition must be text');
    o.condition = parseExpression(bp.condition);
  }
  if (bp.hitCondition !== undefined && bp.hitCondition !== null && String(bp.hitCondition).trim() !== '') {
    o.hitCondition = parseHitCondition(String(bp.hitCondition));
  }
  if (bp.logMessage !== undefined && bp.logMessage !== null && String(bp.logMessage) !== '') {
    if (typeof bp.logMessage !== 'string') throw new Error('the log message must be text');
    for (const m of bp.logMessage.matchAll(/\{([^{}]*)\}/g)) parseExpression(m[1]); // reject a bad {expression} now
    o.logMessage = bp.logMessage;
  }
  return o;
}

/** "5" or ">= 5": from the 5th hit on; "== 5" only the 5th; "> 5", "< 5", "<= 5"; "% 5": every 5th. */
export function parseHitCondition(text: string): HitCondition {
  const m = /^\s*(>=|==|>|<=|<|%)?\s*(\d+)\s*$/.exec(text);
  if (!m) throw new Error(`hit condition '${text}' is not understood: use N (from the Nth hit on), == N, > N, >= N, < N, <= N or % N`);
  const n = Number(m[2]);
  const op = (m[1] ?? '>=') as HitCondition['op'];
  if (op === '%' && n === 0) throw new Error('hit condition % 0 divides by zero');
  return { op, n };
}

function hitOk(h: HitCondition | undefined, hits: number): boolean {
  if (!h) return true;
  switch (h.op) {
    case '>=': return hits >= h.n;
    case '==': return hits === h.n;
    case '>': return hits > h.n;
    case '<=': return hits <= h.n;
    case '<': return hits < h.n;
    case '%': return hits % h.n === 0;
  }
}

export interface Decision {
  /** Show the stop to the person. */
  stop: boolean;
  /** Ids of the breakpoints that stop. */
  ids: number[];
  /** Log point output, one line each. */
  logs: string[];
  /** Conditions that failed to evaluate (they stop, as gdb does, with the reason). */
  errors: string[];
}

export class Breakpoints {
  private nextId = 1;
  private readonly byKind = new Map<BreakpointKind, BreakpointEntry[]>();
  /** Source breakpoints are set per file. */
  private readonly sourceByFile = new Map<string, BreakpointEntry[]>();

  /** Replaces the breakpoints of a kind (of one file for 'source'); ids and hit counts survive by key. */
  replace(kind: BreakpointKind, entries: Omit<BreakpointEntry, 'id' | 'hits'>[], file?: string): BreakpointEntry[] {
    const old = kind === 'source' ? (this.sourceByFile.get(file ?? '') ?? []) : (this.byKind.get(kind) ?? []);
    const byKey = new Map(old.map((e) => [e.key, e]));
    const next = entries.map((e) => {
      const prev = byKey.get(e.key);
      return { ...e, id: prev?.id ?? this.nextId++, hits: prev?.hits ?? 0 };
    });
    if (kind === 'source') {
      if (next.length) this.sourceByFile.set(file ?? '', next);
      else this.sourceByFile.delete(file ?? '');
    } else this.byKind.set(kind, next);
    return next;
  }

  /** Every breakpoint of every kind. */
  all(): BreakpointEntry[] {
    const out: BreakpointEntry[] = [];
    for (const l of this.byKind.values()) out.push(...l);
    for (const l of this.sourceByFile.values()) out.push(...l);
    return out;
  }

  /** Every pc the machine must stop at. */
  pcs(): number[] {
    const s = new Set<number>();
    for (const e of this.all()) for (const p of e.pcs) s.add(p >>> 0);
    return [...s];
  }

  watchpoints(): Watchpoint[] {
    return (this.byKind.get('data') ?? []).filter((e) => e.watch).map((e) => ({ id: e.id, ...e.watch! }));
  }

  atPc(pc: number): BreakpointEntry[] {
    return this.all().filter((e) => e.pcs.includes(pc >>> 0));
  }

  byIds(ids: number[]): BreakpointEntry[] {
    return this.all().filter((e) => ids.includes(e.id));
  }

  /** Counts a hit on each entry and decides whether the person sees a stop. */
  async decide(entries: BreakpointEntry[], ctx: EvalContext): Promise<Decision> {
    const d: Decision = { stop: false, ids: [], logs: [], errors: [] };
    for (const e of entries) {
      if (e.condition) {
        try {
          if ((await evaluate(e.condition, ctx)) === 0) continue;
        } catch (err) {
          d.errors.push(`breakpoint ${e.id}: its condition could not be evaluated: ${(err as Error).message}`);
          d.stop = true;
          d.ids.push(e.id);
          continue;
        }
      }
      e.hits++;
      if (!hitOk(e.hitCondition, e.hits)) continue;
      if (e.logMessage !== undefined) {
        d.logs.push(await interpolate(e.logMessage, ctx));
        continue;
      }
      d.stop = true;
      d.ids.push(e.id);
    }
    return d;
  }
}

/** A log message with {expression} parts replaced by their values. */
export async function interpolate(msg: string, ctx: EvalContext): Promise<string> {
  let out = '';
  let last = 0;
  for (const m of msg.matchAll(/\{([^{}]*)\}/g)) {
    out += msg.slice(last, m.index);
    try {
      const e = parseExpression(m[1]);
      out += formatValue(await evaluate(e, ctx), resultWidth(e)).split(' ')[0];
    } catch (err) {
      out += `<${(err as Error).message}>`;
    }
    last = m.index! + m[0].length;
  }
  return out + msg.slice(last);
}
