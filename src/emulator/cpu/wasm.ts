// A small WebAssembly binary encoder: what the translator needs (i32 code, one shared memory,
// one function table, imported functions), and nothing else. Spec: WebAssembly Core 2.0,
// chapter 5 (binary format).

/** Opcodes used by the translator. */
export const enum W {
  unreachable = 0x00, block = 0x02, loop = 0x03, if = 0x04, else = 0x05, end = 0x0b,
  br = 0x0c, br_if = 0x0d, br_table = 0x0e, return = 0x0f, call = 0x10, call_indirect = 0x11, return_call = 0x12,
  drop = 0x1a, select = 0x1b,
  local_get = 0x20, local_set = 0x21, local_tee = 0x22,
  i32_load = 0x28, i32_load8_s = 0x2c, i32_load8_u = 0x2d, i32_load16_s = 0x2e, i32_load16_u = 0x2f,
  i32_store = 0x36, i32_store8 = 0x3a, i32_store16 = 0x3b,
  i32_const = 0x41, i64_const = 0x42,
  i32_eqz = 0x45, i32_eq = 0x46, i32_ne = 0x47, i32_lt_s = 0x48, i32_lt_u = 0x49, i32_gt_s = 0x4a, i32_gt_u = 0x4b,
  i32_le_s = 0x4c, i32_le_u = 0x4d, i32_ge_s = 0x4e, i32_ge_u = 0x4f,
  i32_add = 0x6a, i32_sub = 0x6b, i32_mul = 0x6c, i32_div_s = 0x6d, i32_div_u = 0x6e, i32_rem_s = 0x6f, i32_rem_u = 0x70,
  i32_and = 0x71, i32_or = 0x72, i32_xor = 0x73, i32_shl = 0x74, i32_shr_s = 0x75, i32_shr_u = 0x76,
  i64_mul = 0x7e, i64_shr_s = 0x87, i64_shr_u = 0x88, i32_wrap_i64 = 0xa7, i64_extend_i32_s = 0xac, i64_extend_i32_u = 0xad,
  i32_extend8_s = 0xc0, i32_extend16_s = 0xc1,
}

const VOID = 0x40;
const I32 = 0x7f;

/** A growable byte buffer. */
export class Bytes {
  u8 = new Uint8Array(256);
  length = 0;
  push(b: number): void {
    if (this.length === this.u8.length) this.grow(1);
    this.u8[this.length++] = b;
  }
  /** Makes room for `n` more bytes. */
  private grow(n: number): void {
    let size = this.u8.length * 2;
    while (size < this.length + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.u8.subarray(0, this.length));
    this.u8 = bigger;
  }
  push2(a: number, b: number): void {
    this.push(a);
    this.push(b);
  }
  append(o: Bytes): void {
    if (this.length + o.length > this.u8.length) this.grow(o.length);
    this.u8.set(o.u8.subarray(0, o.length), this.length);
    this.length += o.length;
  }
}

function uleb(out: Bytes, n: number): void {
  n >>>= 0;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

function sleb(out: Bytes, n: number): void {
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

/** A structured-control label: branch targets are named by these, depths computed by Code. */
export interface Label {
  readonly id: number;
  /** Its place in the stack of open labels (so a branch finds its depth without a search). */
  readonly at: number;
}

/**
 * A branch hint (the WebAssembly branch-hinting proposal): which way an `if` or `br_if` usually
 * goes. TurboFan moves the unlikely side out of the hot path and keeps its spills there.
 */
export const enum Hint {
  Unlikely = 0,
  Likely = 1,
}

/** One function body under construction. */
export class Code {
  readonly bytes = new Bytes();
  /** Branch hints: the instruction's offset in `bytes` << 1 | Hint, in order. */
  readonly hints: number[] = [];
  private readonly labels: Label[] = [];
  private nextLabel = 0;

  op(o: W): this {
    this.bytes.push(o);
    return this;
  }
  i32(v: number): this {
    this.bytes.push(W.i32_const);
    sleb(this.bytes, v);
    return this;
  }
  /** An i64 constant in the int32 range. */
  i64(v: number): this {
    this.bytes.push(W.i64_const);
    sleb(this.bytes, v);
    return this;
  }
  get(local: number): this {
    this.bytes.push(W.local_get);
    uleb(this.bytes, local);
    return this;
  }
  set(local: number): this {
    this.bytes.push(W.local_set);
    uleb(this.bytes, local);
    return this;
  }
  tee(local: number): this {
    this.bytes.push(W.local_tee);
    uleb(this.bytes, local);
    return this;
  }
  /** A load or store with a constant byte offset (alignment hint: natural). */
  mem(o: W, offset: number): this {
    const align = o === W.i32_load || o === W.i32_store ? 2 : o === W.i32_load16_s || o === W.i32_load16_u || o === W.i32_store16 ? 1 : 0;
    this.bytes.push2(o, align);
    uleb(this.bytes, offset);
    return this;
  }
  call(fn: number): this {
    this.bytes.push(W.call);
    uleb(this.bytes, fn);
    return this;
  }
  /** A tail call (the WebAssembly tail-call proposal, shipped in V8 11.2). */
  returnCall(fn: number): this {
    this.bytes.push(W.return_call);
    uleb(this.bytes, fn);
    return this;
  }
  callIndirect(type: number): this {
    this.bytes.push(W.call_indirect);
    uleb(this.bytes, type);
    this.bytes.push(0); // table 0
    return this;
  }
  private hint(h: Hint | undefined): void {
    if (h !== undefined) this.hints.push((this.bytes.length << 1) | h);
  }
  private open(o: W.block | W.loop | W.if): Label {
    const l = { id: this.nextLabel++, at: this.labels.length };
    this.labels.push(l);
    this.bytes.push2(o, VOID);
    return l;
  }
  block(): Label {
    return this.open(W.block);
  }
  loop(): Label {
    return this.open(W.loop);
  }
  /** `if` on the i32 on the stack; close with end() (else_() in between for an else arm). */
  if_(hint?: Hint): Label {
    this.hint(hint);
    return this.open(W.if);
  }
  else_(): this {
    this.bytes.push(W.else);
    return this;
  }
  end(): this {
    this.labels.pop();
    this.bytes.push(W.end);
    return this;
  }
  private depth(l: Label): number {
    // A page's entry branches to each of its blocks from under all of them: searching the stack
    // for each made that quadratic (1 % of the first `forkbench` after the boot).
    if (this.labels[l.at] !== l) throw new Error('wasm: branch to a label that is not open');
    return this.labels.length - 1 - l.at;
  }
  br(l: Label): this {
    this.bytes.push(W.br);
    uleb(this.bytes, this.depth(l));
    return this;
  }
  brIf(l: Label, hint?: Hint): this {
    this.hint(hint);
    this.bytes.push(W.br_if);
    uleb(this.bytes, this.depth(l));
    return this;
  }
  brTable(targets: readonly Label[], otherwise: Label): this {
    this.bytes.push(W.br_table);
    uleb(this.bytes, targets.length);
    for (const t of targets) uleb(this.bytes, this.depth(t));
    uleb(this.bytes, this.depth(otherwise));
    return this;
  }
}

export interface FuncType {
  params: number;
  results: 0 | 1;
}

export interface ModuleSpec {
  types: readonly FuncType[];
  /** Imported functions (module "m"), by name and type index; they come first in the index space. */
  imports: readonly { name: string; type: number }[];
  /** Import the shared memory "m.mem" of this many 64 KiB pages. */
  memoryPages: number;
  /** Import the function table "m.table" with at least this many entries (0: none). */
  tablePages?: number;
  functions: readonly { type: number; locals: number; code: Code }[];
  exports: readonly { name: string; fn: number }[];
}

function section(out: Bytes, id: number, body: Bytes): void {
  out.push(id);
  uleb(out, body.length);
  out.append(body);
}

function name(out: Bytes, s: string): void {
  uleb(out, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

/** The module's bytes. */
export function encodeModule(m: ModuleSpec): Uint8Array<ArrayBuffer> {
  const out = new Bytes();
  for (const b of [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]) out.push(b);
  let b = new Bytes();
  uleb(b, m.types.length);
  for (const t of m.types) {
    b.push(0x60);
    uleb(b, t.params);
    for (let i = 0; i < t.params; i++) b.push(I32);
    uleb(b, t.results);
    if (t.results) b.push(I32);
  }
  section(out, 1, b);
  b = new Bytes();
  uleb(b, m.imports.length + 1 + (m.tablePages ? 1 : 0));
  name(b, 'm');
  name(b, 'mem');
  b.push2(0x02, 0x03); // memory, limits: shared with a maximum
  uleb(b, m.memoryPages);
  uleb(b, m.memoryPages);
  if (m.tablePages) {
    name(b, 'm');
    name(b, 'table');
    b.push2(0x01, 0x70);
    b.push(0x00); // table of funcref, minimum only
    uleb(b, m.tablePages);
  }
  for (const im of m.imports) {
    name(b, 'm');
    name(b, im.name);
    b.push(0x00);
    uleb(b, im.type);
  }
  section(out, 2, b);
  b = new Bytes();
  uleb(b, m.functions.length);
  for (const f of m.functions) uleb(b, f.type);
  section(out, 3, b);
  b = new Bytes();
  uleb(b, m.exports.length);
  for (const e of m.exports) {
    name(b, e.name);
    b.push(0x00);
    uleb(b, e.fn);
  }
  section(out, 7, b);
  const hints = branchHints(m);
  if (hints !== null) section(out, 0, hints);
  b = new Bytes();
  uleb(b, m.functions.length);
  const head = new Bytes();
  for (const f of m.functions) {
    // Body: local declarations, code, end; preceded by its size.
    localsHead(head, f.locals);
    uleb(b, head.length + f.code.bytes.length + 1);
    b.append(head);
    b.append(f.code.bytes);
    b.push(W.end);
  }
  section(out, 10, b);
  return out.u8.slice(0, out.length);
}

/** A function body's local declarations (all i32). */
function localsHead(head: Bytes, locals: number): void {
  head.length = 0;
  if (locals > 0) {
    uleb(head, 1);
    uleb(head, locals);
    head.push(I32);
  } else uleb(head, 0);
}

/**
 * The custom section "metadata.code.branch_hint" (before the code section): for each function
 * with hints, by increasing index, each hint's offset from the start of the body (its local
 * declarations), a size of 1 and the hint. Null if no function has any.
 */
function branchHints(m: ModuleSpec): Bytes | null {
  const fns = m.functions.filter((f) => f.code.hints.length > 0).length;
  if (fns === 0) return null;
  const b = new Bytes();
  name(b, 'metadata.code.branch_hint');
  uleb(b, fns);
  const head = new Bytes();
  m.functions.forEach((f, i) => {
    const hints = f.code.hints;
    if (hints.length === 0) return;
    localsHead(head, f.locals);
    uleb(b, m.imports.length + i);
    uleb(b, hints.length);
    for (const h of hints) {
      uleb(b, head.length + (h >>> 1));
      uleb(b, 1);
      b.push(h & 1);
    }
  });
  return b;
}
