// `npm run bench -- wasm-calls`: what V8 charges for a call from one WebAssembly function into
// others, by how those others are spread over modules. The translator makes one module per
// translated page (translate.ts); kernel code crosses hundreds of them. A dispatcher calls N
// functions through a table in a scrambled order (as a kernel hops between pages); each body is
// a dozen load/add/xor/store groups, about the work of a translated block.

import { Code, encodeModule, W } from '../src/emulator/cpu/wasm';

const T_BODY = 0; // (base) → i32
const T_RUN = 1; // (calls, mask) → i32
const TYPES = [
  { params: 1, results: 1 as const },
  { params: 2, results: 1 as const },
];
const CALLS = 4_000_000;

export interface WasmCallsResult {
  functions: number;
  perModule: number;
  ns_per_call: number;
}

function body(i: number): Code {
  const c = new Code();
  for (let k = 0; k < 12; k++) {
    c.get(0).get(0).mem(W.i32_load, 4 * k).get(0).mem(W.i32_load, 4 * k + 4).op(W.i32_add).i32(i).op(W.i32_xor).mem(W.i32_store, 4 * k);
  }
  return c.i32(i);
}

/** Fills `table` with `n` functions, `perModule` to a module. */
function install(n: number, perModule: number, table: WebAssembly.Table, memory: WebAssembly.Memory): void {
  for (let first = 0; first < n; first += perModule) {
    const functions = [];
    for (let i = first; i < first + perModule; i++) functions.push({ type: T_BODY, locals: 0, code: body(i) });
    const bytes = encodeModule({ types: TYPES, imports: [], memoryPages: 1, tablePages: n, functions, exports: functions.map((_, i) => ({ name: `f${i}`, fn: i })) });
    const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { mem: memory, table } }).exports;
    for (let i = 0; i < perModule; i++) table.set(first + i, exports[`f${i}`] as unknown as null);
  }
}

/** run(calls, mask): calls table[(i · 7919) & mask] for i < calls. */
function dispatcher(n: number, table: WebAssembly.Table, memory: WebAssembly.Memory): (calls: number, mask: number) => number {
  const c = new Code();
  const CALLS_ = 0, MASK = 1, I = 2, ACC = 3;
  const top = c.loop();
  c.get(ACC).i32(64).get(I).i32(7919).op(W.i32_mul).get(MASK).op(W.i32_and).callIndirect(T_BODY).op(W.i32_add).set(ACC);
  c.get(I).i32(1).op(W.i32_add).tee(I).get(CALLS_).op(W.i32_lt_s).brIf(top);
  c.end();
  c.get(ACC);
  const bytes = encodeModule({ types: TYPES, imports: [], memoryPages: 1, tablePages: n, functions: [{ type: T_RUN, locals: 2, code: c }], exports: [{ name: 'run', fn: 0 }] });
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { mem: memory, table } }).exports.run as (calls: number, mask: number) => number;
}

export function benchWasmCalls(): WasmCallsResult[] {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const results: WasmCallsResult[] = [];
  for (const n of [256, 1024, 4096]) {
    for (const perModule of [n, 128, 32, 8, 1]) {
      const table = new WebAssembly.Table({ element: 'anyfunc', initial: n });
      install(n, perModule, table, memory);
      const run = dispatcher(n, table, memory);
      for (let w = 0; w < 5; w++) run(CALLS, n - 1); // until V8 has tiered the bodies up
      const t0 = performance.now();
      run(CALLS, n - 1);
      results.push({ functions: n, perModule, ns_per_call: ((performance.now() - t0) * 1e6) / CALLS });
    }
  }
  return results;
}
