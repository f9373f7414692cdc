// Breakpoints on virtio notifications: the exception-breakpoint filters the debug adapter offers
// (one for any device, then each device's own from its descriptor in the registry), and the small
// condition language they accept (`avail_idx - used_idx > 2`, `stream == 1`). Conditions are
// parsed here into closures — never eval'd — so a typo gets a clear message when the breakpoint
// is set, not an exception in the machine loop.

import { DEVICES } from '../devices/registry';

export interface NotifyFilterDef {
  id: string;
  label: string;
  device: string | null; // null: any device
  queue: number | null; // null: any queue of the device
  description: string;
}

export const ANY_NOTIFY_FILTER = 'virtio-notify';

export const NOTIFY_FILTERS: readonly NotifyFilterDef[] = [
  { id: ANY_NOTIFY_FILTER, label: 'Any virtio notify', device: null, queue: null, description: 'Stop when the guest kicks any virtqueue of any virtio device.' },
  ...DEVICES.flatMap((d) => (d.notifyFilters ?? []).map((f) => ({ ...f, device: d.name }))),
];

/** An enabled filter as sent to the worker. */
export interface NotifyFilter {
  id: string;
  condition?: string;
}

/**
 * The fields a condition can name, filled in by the worker at the QueueNotify write: every
 * queue's (below), then the devices' own (ConditionField in their descriptors; -1 where they do
 * not apply).
 */
export const QUEUE_FIELDS = [
  'queue',
  'avail_idx',
  'used_idx',
  'last_avail_idx',
  'pending', // chains available and not yet seen by the device
  'in_flight', // chains the device holds
  'notifications', // this queue's notify count, this one included
] as const;

export const CONDITION_FIELDS: readonly string[] = [...new Set([...QUEUE_FIELDS, ...DEVICES.flatMap((d) => (d.conditionFields ?? []).map((f) => f.name))])];

export type NotifyFields = Record<string, number>;

export type Condition = (f: NotifyFields) => boolean;

export function filterDef(id: string): NotifyFilterDef | undefined {
  return NOTIFY_FILTERS.find((f) => f.id === id);
}

/** True when the filter's device/queue selection covers this notification. */
export function filterMatches(def: NotifyFilterDef, device: string, queue: number): boolean {
  return (def.device === null || def.device === device) && (def.queue === null || def.queue === queue);
}

// ---- the condition language: C-like expressions over integer fields ----
// expr := or ; or := and ('||' and)* ; and := cmp ('&&' cmp)* ; cmp := sum (op sum)?
// sum := term (('+'|'-') term)* ; term := unary (('*'|'/'|'%') unary)* ; unary := ('!'|'-')? atom
// atom := number | field | '(' expr ')'

type Node = (f: NotifyFields) => number;

export class ConditionError extends Error {
  override name = 'ConditionError';
}

export function parseCondition(text: string): Condition {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const take = (want?: string) => {
    const t = tokens[pos];
    if (want !== undefined && t !== want) fail(`expected '${want}'${t === undefined ? ' at the end' : ` before '${t}'`}`);
    pos++;
    return t;
  };
  const fail = (msg: string): never => {
    throw new ConditionError(`condition "${text}": ${msg}. Fields: ${CONDITION_FIELDS.join(', ')}; operators: == != < <= > >= && || ! + - * / % ( ).`);
  };

  const atom = (): Node => {
    const t = take();
    if (t === undefined) return fail('unexpected end');
    if (t === '(') {
      const e = or();
      take(')');
      return e;
    }
    if (/^(0x[0-9a-fA-F]+|\d+)$/.test(t)) {
      const v = Number(t);
      return () => v;
    }
    if (CONDITION_FIELDS.includes(t)) {
      return (f) => f[t] ?? -1;
    }
    return fail(`unknown name '${t}'`);
  };
  const unary = (): Node => {
    if (peek() === '!') {
      take();
      const a = unary();
      return (f) => (a(f) ? 0 : 1);
    }
    if (peek() === '-') {
      take();
      const a = unary();
      return (f) => -a(f);
    }
    return atom();
  };
  const binary = (next: () => Node, ops: Record<string, (a: number, b: number) => number>) => (): Node => {
    let left = next();
    while (peek() !== undefined && Object.hasOwn(ops, peek()!)) {
      const op = ops[take()!];
      const l = left;
      const r = next();
      left = (f) => op(l(f), r(f));
    }
    return left;
  };
  const term = binary(unary, { '*': (a, b) => a * b, '/': (a, b) => (b === 0 ? 0 : Math.trunc(a / b)), '%': (a, b) => (b === 0 ? 0 : a % b) });
  const sum = binary(term, { '+': (a, b) => a + b, '-': (a, b) => a - b });
  const cmp = binary(sum, {
    '==': (a, b) => +(a === b), '!=': (a, b) => +(a !== b), '<': (a, b) => +(a < b),
    '<=': (a, b) => +(a <= b), '>': (a, b) => +(a > b), '>=': (a, b) => +(a >= b),
  });
  const and = binary(cmp, { '&&': (a, b) => +(a !== 0 && b !== 0) });
  const or = binary(and, { '||': (a, b) => +(a !== 0 || b !== 0) });

  if (tokens.length === 0) return () => true;
  const root = or();
  if (pos < tokens.length) fail(`unexpected '${tokens[pos]}'`);
  return (f) => root(f) !== 0;
}

function tokenize(text: string): string[] {
  const out: string[] = [];
  const re = /\s*(0x[0-9a-fA-F]+|\d+|[A-Za-z_][A-Za-z0-9_]*|==|!=|<=|>=|&&|\|\||[-+*/%()<>!])/y;
  let i = 0;
  while (i < text.length) {
    if (/^\s*$/.test(text.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) throw new ConditionError(`condition "${text}": cannot read '${text.slice(i).trim()}'`);
    out.push(m[1]);
    i = re.lastIndex;
  }
  return out;
}
