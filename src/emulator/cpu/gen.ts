// What the engine generators share: filling a semantic expression's operands, and compiling
// generated source into a function (once per process, at start-up or when code gets hot).

import { HELPERS, HELPER_NAMES } from './muldiv';

export interface Operands {
  a?: string;
  b?: string;
  i?: string;
  pc?: string;
  old?: string;
}

/** Replaces $a, $b, $i, $pc and $old in a semantic expression (decode.ts) by JavaScript operands. */
export function fill(e: string, ops: Operands): string {
  return e.replace(/\$(old|pc|a|b|i)(?![A-Za-z0-9_])/g, (_m, name: keyof Operands) => {
    const v = ops[name];
    if (v === undefined) throw new Error(`semantics "${e}": no operand for $${name}`);
    return `(${v})`;
  });
}

/**
 * Compiles `body` as the body of a factory taking `names` (plus the M-extension helpers) and
 * calls it with `values`: the factory returns the generated function, which closes over them.
 */
export function build<T>(names: readonly string[], values: readonly unknown[], body: string): T {
  const factory = new Function(...names, ...HELPER_NAMES, body) as (...args: unknown[]) => T;
  return factory(...values, ...HELPERS);
}
