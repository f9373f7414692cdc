// Compiling generated JavaScript into a function, with the M extension's helpers in scope
// (once per process, at start-up).

import { HELPERS, HELPER_NAMES } from './muldiv';

/**
 * Compiles `body` as the body of a factory taking `names` (plus the M-extension helpers) and
 * calls it with `values`: the factory returns the generated function, which closes over them.
 */
export function build<T>(names: readonly string[], values: readonly unknown[], body: string): T {
  const factory = new Function(...names, ...HELPER_NAMES, body) as (...args: unknown[]) => T;
  return factory(...values, ...HELPERS);
}
