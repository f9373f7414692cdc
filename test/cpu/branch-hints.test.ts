// Translated code carries WebAssembly branch hints (wasm.ts Hint, the "metadata.code.branch_hint"
// custom section): TurboFan then moves slow paths and exits out of the hot path. V8 ignores a
// hint section it cannot read, silently, so these tests read the module back as V8 would: each
// hint must name an `if` or `br_if` of its function, by an offset counted from the body's local
// declarations, with functions and offsets in increasing order, before the code section.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { enc } from '../../src/emulator/cpu/asm';
import { decodePage } from '../../src/emulator/cpu/predecode';
import { ModuleBatch } from '../../src/emulator/cpu/translate';
import { Code, encodeModule, Hint, W } from '../../src/emulator/cpu/wasm';

interface Reader {
  b: Uint8Array;
  p: number;
}
function u32(r: Reader): number {
  let v = 0, shift = 0, byte: number;
  do {
    byte = r.b[r.p++];
    v |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  return v >>> 0;
}

interface Parsed {
  /** Section ids in order (0: custom). */
  order: number[];
  imports: number;
  /** Per defined function: its body, from the local declarations on. */
  bodies: Uint8Array[];
  /** funcidx → [offset, hint][] from the branch-hint section (null if none). */
  hints: Map<number, [number, number][]> | null;
}

/** Reads the parts of a module these tests check. */
function parse(bytes: Uint8Array): Parsed {
  const r: Reader = { b: bytes, p: 8 };
  const out: Parsed = { order: [], imports: 0, bodies: [], hints: null };
  while (r.p < bytes.length) {
    const id = bytes[r.p++];
    const size = u32(r);
    const end = r.p + size;
    out.order.push(id);
    if (id === 2) out.imports = countFunctionImports({ b: bytes, p: r.p });
    if (id === 10) {
      const n = u32(r);
      for (let i = 0; i < n; i++) {
        const len = u32(r);
        out.bodies.push(bytes.subarray(r.p, r.p + len));
        r.p += len;
      }
    }
    if (id === 0) {
      const nameLen = u32(r);
      const name = Buffer.from(bytes.subarray(r.p, r.p + nameLen)).toString();
      r.p += nameLen;
      if (name === 'metadata.code.branch_hint') {
        out.hints = new Map();
        const fns = u32(r);
        for (let i = 0; i < fns; i++) {
          const fn = u32(r);
          const list: [number, number][] = [];
          const n = u32(r);
          for (let k = 0; k < n; k++) {
            const off = u32(r);
            assert.equal(u32(r), 1, 'a hint is one byte');
            list.push([off, bytes[r.p++]]);
          }
          out.hints.set(fn, list);
        }
      }
    }
    r.p = end;
  }
  return out;
}

function countFunctionImports(r: Reader): number {
  const n = u32(r);
  let fns = 0;
  for (let i = 0; i < n; i++) {
    for (let name = 0; name < 2; name++) {
      const len = u32(r); // module, then field name
      r.p += len;
    }
    const kind = r.b[r.p++];
    if (kind === 0) {
      fns++;
      u32(r);
    } else if (kind === 1) {
      r.p += 2; // funcref, limits flag 0
      u32(r);
    } else if (kind === 2) {
      r.p += 1;
      u32(r);
      u32(r);
    }
  }
  return fns;
}

/** Checks every hint of `m` against its function body; returns how many of each kind it saw. */
function checkHints(m: Parsed): { likely: number; unlikely: number } {
  assert.ok(m.hints !== null, 'the module has a branch-hint section');
  const hintsAt = m.order.indexOf(0);
  assert.ok(hintsAt >= 0 && hintsAt < m.order.indexOf(10), 'the hints come before the code section');
  let last = -1, likely = 0, unlikely = 0;
  for (const [fn, list] of m.hints) {
    assert.ok(fn > last, 'functions in increasing order');
    last = fn;
    const body = m.bodies[fn - m.imports];
    assert.ok(body !== undefined, `function ${fn} is defined in this module`);
    let prev = -1;
    for (const [off, hint] of list) {
      assert.ok(off > prev, 'offsets in increasing order');
      prev = off;
      assert.ok(body[off] === W.if || body[off] === W.br_if, `function ${fn} offset ${off}: 0x${body[off].toString(16)} is not if or br_if`);
      assert.ok(hint === Hint.Likely || hint === Hint.Unlikely);
      if (hint === Hint.Likely) likely++;
      else unlikely++;
    }
  }
  return { likely, unlikely };
}

test('encodeModule writes each hint at its if or br_if, counted from the local declarations', { timeout: 30_000 }, () => {
  // f(x) with locals: if (x) likely → 7 else 9; g(x) without: loop while x-- (br_if unlikely).
  const f = new Code();
  f.get(0).if_(Hint.Likely);
  f.i32(7).set(1).else_().i32(9).set(1).end().get(1);
  const g = new Code();
  const top = g.loop();
  g.get(0).i32(1).op(W.i32_sub).tee(0).brIf(top, Hint.Unlikely);
  g.end().get(0);
  const plain = new Code().get(0);
  const bytes = encodeModule({
    types: [{ params: 1, results: 1 }],
    imports: [{ name: 'h', type: 0 }],
    memoryPages: 1,
    functions: [
      { type: 0, locals: 3, code: f },
      { type: 0, locals: 0, code: plain },
      { type: 0, locals: 0, code: g },
    ],
    exports: [{ name: 'f', fn: 1 }, { name: 'g', fn: 3 }],
  });
  const m = parse(bytes);
  assert.deepEqual([...m.hints!.keys()], [1, 3], 'only the functions with hints, by index after the import');
  assert.deepEqual(checkHints(m), { likely: 1, unlikely: 1 });
  // The hints change no result, with the feature on or off.
  setFlagsFromString('--experimental-wasm-branch-hinting');
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { mem: memory, h: (x: number) => x } }).exports as Record<string, (x: number) => number>;
  assert.equal(ex.f(1), 7);
  assert.equal(ex.f(0), 9);
  assert.equal(ex.g(5), 0);
});

test('a translated page hints its TLB checks likely and its slow paths and budget checks unlikely', { timeout: 30_000 }, () => {
  // A loop over a load and a store (each a TLB check and a slow path), a branch back (a budget check).
  const words = [enc('lw', 'a1', 'a0', 0), enc('sw', 'a1', 'a0', 4), enc('addi', 'a2', 'a2', -1), enc('bne', 'a2', 'zero', -12), enc('jalr', 'zero', 'ra', 0)];
  const ram = new Int32Array(1024);
  ram.set(words);
  const batch = new ModuleBatch(0x80000000 | 0);
  batch.add(decodePage(ram, 0), 0, [0]);
  const bytes = batch.encode(1);
  assert.ok(WebAssembly.validate(bytes), 'the module is valid');
  const m = parse(bytes);
  const { likely, unlikely } = checkHints(m);
  assert.ok(likely >= 2, `the load's and the store's TLB checks are likely (${likely})`);
  assert.ok(unlikely >= 3, `their slow paths and the loop's budget check are unlikely (${unlikely})`);
});

test('a branch names its label by depth (nested br_table as in a page entry); a closed label throws', () => {
  // f(x) = 10 + x for x < 3, else 99: three blocks nested under a br_table, as a page's entry
  // dispatches to its blocks.
  const f = new Code();
  const out = f.block();
  const none = f.block();
  const arms = [f.block(), f.block(), f.block()];
  f.get(0).brTable(arms, none);
  for (let i = arms.length - 1; i >= 0; i--) f.end().i32(10 + (arms.length - 1 - i)).set(1).br(out);
  f.end().i32(99).set(1).br(out);
  f.end().get(1);
  const fixed = new Code();
  const l = fixed.block();
  fixed.end();
  assert.throws(() => fixed.br(l), /not open/);
  const bytes = encodeModule({ types: [{ params: 1, results: 1 }], imports: [], memoryPages: 1, functions: [{ type: 0, locals: 1, code: f }], exports: [{ name: 'f', fn: 0 }] });
  assert.ok(WebAssembly.validate(bytes));
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { mem: memory } }).exports as Record<string, (x: number) => number>;
  assert.deepEqual([0, 1, 2, 3, 7].map((x) => ex.f(x)), [12, 11, 10, 99, 99]);
});
