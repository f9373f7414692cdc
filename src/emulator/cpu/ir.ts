// The little expression language of the instruction table's semantics (decode.ts): int32
// values in, one int32 out, no side effects, so every engine can evaluate it its own way —
// JavaScript source for the interpreters (here), WebAssembly for the translator (wasm-page.ts).

/** Leaves: rs1's value, rs2's value, the format's immediate, the instruction's pc, an AMO's old word. */
export type Leaf = 'a' | 'b' | 'i' | 'pc' | 'old';

export type BinOp =
  | 'add' | 'sub' | 'and' | 'or' | 'xor'
  | 'shl' | 'shr' | 'sra' // shift counts use their low 5 bits (RV32, JavaScript and wasm alike)
  | 'lt' | 'ltu' | 'ge' | 'geu' | 'gt' | 'gtu' | 'eq' | 'ne' // 1 or 0
  | 'mul' | 'mulh' | 'mulhsu' | 'mulhu' | 'div' | 'divu' | 'rem' | 'remu';

export type Expr =
  | { readonly o: 'leaf'; readonly leaf: Leaf }
  | { readonly o: 'bin'; readonly op: BinOp; readonly x: Expr; readonly y: Expr }
  | { readonly o: 'sel'; readonly c: Expr; readonly x: Expr; readonly y: Expr }; // c ≠ 0 ? x : y

const leaf = (l: Leaf): Expr => ({ o: 'leaf', leaf: l });
export const A = leaf('a');
export const B = leaf('b');
export const I = leaf('i');
export const PC = leaf('pc');
export const OLD = leaf('old');

const bin = (op: BinOp) => (x: Expr, y: Expr): Expr => ({ o: 'bin', op, x, y });
export const add = bin('add'), sub = bin('sub'), and = bin('and'), or = bin('or'), xor = bin('xor');
export const shl = bin('shl'), shr = bin('shr'), sra = bin('sra');
export const lt = bin('lt'), ltu = bin('ltu'), ge = bin('ge'), geu = bin('geu'), gt = bin('gt'), gtu = bin('gtu'), eq = bin('eq'), ne = bin('ne');
export const mul = bin('mul'), mulh = bin('mulh'), mulhsu = bin('mulhsu'), mulhu = bin('mulhu');
export const div = bin('div'), divu = bin('divu'), rem = bin('rem'), remu = bin('remu');
export const sel = (c: Expr, x: Expr, y: Expr): Expr => ({ o: 'sel', c, x, y });

export const COMPARES: ReadonlySet<BinOp> = new Set(['lt', 'ltu', 'ge', 'geu', 'gt', 'gtu', 'eq', 'ne']);

/** JavaScript operands for the leaves an expression uses. */
export type JsOperands = Partial<Record<Leaf, string>>;

const JS_INFIX: Partial<Record<BinOp, string>> = { and: '&', or: '|', xor: '^', shl: '<<', sra: '>>', lt: '<', ge: '>=', gt: '>', eq: '===', ne: '!==' };
const JS_UNSIGNED: Partial<Record<BinOp, string>> = { ltu: '<', geu: '>=', gtu: '>' };

/** An int32-valued JavaScript expression. */
export function js(e: Expr, ops: JsOperands): string {
  if (e.o === 'leaf') {
    const v = ops[e.leaf];
    if (v === undefined) throw new Error(`semantics: no operand for ${e.leaf}`);
    return `(${v})`;
  }
  if (e.o === 'sel') return `(${jsCond(e.c, ops)} ? ${js(e.x, ops)} : ${js(e.y, ops)})`;
  if (COMPARES.has(e.op)) return `(${jsCond(e, ops)} ? 1 : 0)`;
  const x = js(e.x, ops);
  const y = js(e.y, ops);
  switch (e.op) {
    case 'add': return `((${x} + ${y}) | 0)`;
    case 'sub': return `((${x} - ${y}) | 0)`;
    case 'shr': return `((${x} >>> ${y}) | 0)`;
    case 'mul': return `Math.imul(${x}, ${y})`;
    case 'mulh': case 'mulhsu': case 'mulhu': case 'div': case 'divu': case 'rem': case 'remu':
      return `${e.op}(${x}, ${y})`; // muldiv.ts
    default: return `(${x} ${JS_INFIX[e.op]} ${y})`;
  }
}

/** A JavaScript boolean for a condition (a compare, or any int32: true when not 0). */
export function jsCond(e: Expr, ops: JsOperands): string {
  if (e.o === 'bin' && COMPARES.has(e.op)) {
    const x = js(e.x, ops);
    const y = js(e.y, ops);
    const u = JS_UNSIGNED[e.op];
    return u !== undefined ? `(${x} >>> 0) ${u} (${y} >>> 0)` : `${x} ${JS_INFIX[e.op]} ${y}`;
  }
  return `${js(e, ops)} !== 0`;
}
