// The small expression language of the Debug Console, Watch and hover (docs/debugger.md):
//
//   numbers        42  0x2a  0b101010
//   registers      a0  x10  sp  pc  $pc  $a0          (ABI or xN names; `$` is optional)
//   CSRs           sstatus  satp  scause  $sepc  priv (the current privilege, 0 U / 1 S)
//   symbols        start_kernel  &start_kernel        (from System.map / vmlinux)
//   memory         *(u32*)0xc0001000   *(i16*)(sp+8)   *ADDR (= u32)   [ADDR] (= u32)
//                  a `p:` before the address reads guest-physical memory: *(u8*)p:0x1000, [p:0]
//   operators      + - * / % & | ^ << >> ~ ! unary-, == != < <= > >= && ||, parentheses
//   assignment     a0 = 5    *(u32*)p:0x1000 = 0xdeadbeef   (Debug Console only)
//
// Values are uint32, wrapping like the harts. Parsing is separate from evaluation so a typo
// is reported before anything is read, and the evaluator reaches the machine only through
// the small EvalContext interface (testable without a machine).

import { REGISTER_NAMES, registerIndex } from './registers';

export type LoadType = 'u8' | 'u16' | 'u32' | 'i8' | 'i16' | 'i32';

export type Expr =
  | { k: 'num'; v: number }
  | { k: 'reg'; name: string } // a general register, pc, a CSR or `priv`
  | { k: 'sym'; name: string }
  | { k: 'load'; type: LoadType; physical: boolean; addr: Expr }
  | { k: 'un'; op: string; a: Expr }
  | { k: 'bin'; op: string; a: Expr; b: Expr };

export interface Assignment {
  target: Expr; // 'reg' or 'load'
  value: Expr;
}

export interface EvalContext {
  /** A register/CSR value (uint32), or undefined if the name is not one. */
  register(name: string): number | undefined;
  symbol(name: string): number | undefined;
  load(addr: number, width: 1 | 2 | 4, physical: boolean): Promise<number>;
}

export class ExpressionError extends Error {
  override name = 'ExpressionError';
}

/** CSR names the evaluator knows (anything the adapter's CSR scope shows, plus priv). */
export const CSR_EXPRESSION_NAMES: readonly string[] = [
  'priv', 'sstatus', 'sie', 'sip', 'stvec', 'sscratch', 'sepc', 'scause', 'stval', 'satp',
  'scounteren', 'senvcfg', 'time', 'timeh', 'cycle', 'cycleh', 'instret', 'instreth',
];

const WIDTH: Record<LoadType, 1 | 2 | 4> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4 };

const TOKEN = /\s*(p:|0[xX][0-9a-fA-F]+|0[bB][01]+|\d+|\$?[A-Za-z_][A-Za-z0-9_.]*|==|!=|<=|>=|<<|>>|&&|\|\||[-+*/%&|^~!()<>[\]=])/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (/^\s*$/.test(text.slice(i))) break;
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(text);
    if (!m) throw new ExpressionError(`cannot read '${text.slice(i).trim()}'`);
    out.push(m[1]);
    i = TOKEN.lastIndex;
  }
  return out;
}

/** Operator precedence, loosest first (C's order). */
const LEVELS: readonly (readonly string[])[] = [
  ['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%'],
];

class Parser {
  private pos = 0;
  constructor(private readonly t: string[]) {}

  peek(o = 0): string | undefined {
    return this.t[this.pos + o];
  }
  take(want?: string): string {
    const t = this.t[this.pos];
    if (t === undefined) throw new ExpressionError(want ? `expected '${want}' at the end` : 'unexpected end of expression');
    if (want !== undefined && t !== want) throw new ExpressionError(`expected '${want}' before '${t}'`);
    this.pos++;
    return t;
  }
  atEnd(): boolean {
    return this.pos >= this.t.length;
  }

  expr(level = 0): Expr {
    if (level === LEVELS.length) return this.unary();
    let a = this.expr(level + 1);
    while (this.peek() !== undefined && LEVELS[level].includes(this.peek()!)) {
      const op = this.take();
      a = { k: 'bin', op, a, b: this.expr(level + 1) };
    }
    return a;
  }

  unary(): Expr {
    const t = this.peek();
    if (t === '-' || t === '~' || t === '!' || t === '+') {
      this.take();
      const a = this.unary();
      return t === '+' ? a : { k: 'un', op: t, a };
    }
    if (t === '&') {
      // &symbol: the symbol's address, which is already what a symbol evaluates to.
      this.take();
      const a = this.unary();
      if (a.k !== 'sym') throw new ExpressionError(`'&' applies to a symbol name only`);
      return a;
    }
    if (t === '*') {
      this.take();
      let type: LoadType = 'u32';
      if (this.peek() === '(' && isLoadType(this.peek(1)) && this.peek(2) === '*' && this.peek(3) === ')') {
        this.take('(');
        type = this.take() as LoadType;
        this.take('*');
        this.take(')');
      }
      const physical = this.physicalPrefix();
      return { k: 'load', type, physical, addr: this.unary() };
    }
    if (t === '[') {
      this.take();
      const physical = this.physicalPrefix();
      const addr = this.expr();
      this.take(']');
      return { k: 'load', type: 'u32', physical, addr };
    }
    return this.atom();
  }

  physicalPrefix(): boolean {
    if (this.peek() === 'p:') {
      this.take();
      return true;
    }
    return false;
  }

  atom(): Expr {
    const t = this.take();
    if (t === '(') {
      const e = this.expr();
      this.take(')');
      return e;
    }
    if (/^0[xX]/.test(t)) return { k: 'num', v: parseInt(t.slice(2), 16) >>> 0 };
    if (/^0[bB]/.test(t)) return { k: 'num', v: parseInt(t.slice(2), 2) >>> 0 };
    if (/^\d+$/.test(t)) {
      const v = Number(t);
      if (v > 0xffffffff) throw new ExpressionError(`${t} does not fit in 32 bits`);
      return { k: 'num', v };
    }
    if (/^\$?[A-Za-z_]/.test(t)) {
      const forced = t.startsWith('$');
      const name = forced ? t.slice(1) : t;
      const lower = name.toLowerCase();
      if (registerIndex(lower) >= 0 || lower === 'pc' || CSR_EXPRESSION_NAMES.includes(lower)) return { k: 'reg', name: lower };
      if (forced) throw new ExpressionError(`$${name} is not a register or CSR (registers: ${REGISTER_NAMES.slice(0, 6).join(', ')}…, pc; CSRs: ${CSR_EXPRESSION_NAMES.join(', ')})`);
      return { k: 'sym', name };
    }
    throw new ExpressionError(`unexpected '${t}'`);
  }
}

function isLoadType(t: string | undefined): boolean {
  return t !== undefined && Object.hasOwn(WIDTH, t);
}

export function parseExpression(text: string): Expr {
  const toks = tokenize(text);
  if (toks.length === 0) throw new ExpressionError('empty expression');
  const p = new Parser(toks);
  const e = p.expr();
  if (!p.atEnd()) throw new ExpressionError(`unexpected '${p.peek()}'`);
  return e;
}

/** `lhs = rhs` when the text is an assignment (a single '=' at the top level), else undefined. */
export function parseAssignment(text: string): Assignment | undefined {
  const toks = tokenize(text);
  let depth = 0;
  let at = -1;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t === '(' || t === '[') depth++;
    else if (t === ')' || t === ']') depth--;
    else if (t === '=' && depth === 0) {
      if (at >= 0) throw new ExpressionError(`only one '=' allowed`);
      at = i;
    }
  }
  if (at < 0) return undefined;
  if (at === 0 || at === toks.length - 1) throw new ExpressionError(`'=' needs a target and a value`);
  const lp = new Parser(toks.slice(0, at));
  const target = lp.expr();
  if (!lp.atEnd()) throw new ExpressionError(`unexpected '${lp.peek()}'`);
  if (target.k !== 'reg' && target.k !== 'load') throw new ExpressionError(`can only assign to a register, a CSR or memory`);
  const rp = new Parser(toks.slice(at + 1));
  const value = rp.expr();
  if (!rp.atEnd()) throw new ExpressionError(`unexpected '${rp.peek()}'`);
  return { target, value };
}

export async function evaluate(e: Expr, ctx: EvalContext): Promise<number> {
  switch (e.k) {
    case 'num':
      return e.v >>> 0;
    case 'reg': {
      const v = ctx.register(e.name);
      if (v === undefined) throw new ExpressionError(`${e.name} is not available`);
      return v >>> 0;
    }
    case 'sym': {
      const v = ctx.symbol(e.name);
      if (v === undefined) throw new ExpressionError(`unknown name '${e.name}' (not a register, CSR or symbol${ctx.symbol('_start') === undefined ? '; no symbols loaded' : ''})`);
      return v >>> 0;
    }
    case 'load': {
      const addr = await evaluate(e.addr, ctx);
      const w = WIDTH[e.type];
      const raw = await ctx.load(addr, w, e.physical);
      return extend(raw, e.type);
    }
    case 'un': {
      const a = await evaluate(e.a, ctx);
      if (e.op === '-') return -a >>> 0;
      if (e.op === '~') return ~a >>> 0;
      return a === 0 ? 1 : 0;
    }
    case 'bin': {
      const a = await evaluate(e.a, ctx);
      const b = await evaluate(e.b, ctx);
      return binary(e.op, a, b);
    }
  }
}

function extend(raw: number, type: LoadType): number {
  if (type === 'i8') return ((raw << 24) >> 24) >>> 0;
  if (type === 'i16') return ((raw << 16) >> 16) >>> 0;
  return raw >>> 0;
}

function binary(op: string, a: number, b: number): number {
  switch (op) {
    case '+': return (a + b) >>> 0;
    case '-': return (a - b) >>> 0;
    case '*': return Math.imul(a, b) >>> 0;
    case '/':
      if (b === 0) throw new ExpressionError('division by zero');
      return Math.floor(a / b) >>> 0;
    case '%':
      if (b === 0) throw new ExpressionError('division by zero');
      return a % b >>> 0;
    case '&': return (a & b) >>> 0;
    case '|': return (a | b) >>> 0;
    case '^': return (a ^ b) >>> 0;
    case '<<': return b >= 32 ? 0 : (a << b) >>> 0;
    case '>>': return b >= 32 ? 0 : a >>> b;
    case '&&': return +(a !== 0 && b !== 0);
    case '||': return +(a !== 0 || b !== 0);
    case '==': return +(a === b);
    case '!=': return +(a !== b);
    case '<': return +(a < b);
    case '<=': return +(a <= b);
    case '>': return +(a > b);
    case '>=': return +(a >= b);
  }
  throw new ExpressionError(`unknown operator ${op}`);
}

/** Width of the value an expression yields (loads show their own width), for display. */
export function resultWidth(e: Expr): 1 | 2 | 4 {
  return e.k === 'load' ? WIDTH[e.type] : 4;
}

export function isSignedLoad(e: Expr): boolean {
  return e.k === 'load' && e.type.startsWith('i');
}

/** "0x0000002a (42)", "0xfffffffe (4294967294, -2)", "0x2a (42)" for narrow loads. */
export function formatValue(v: number, width: 1 | 2 | 4 = 4): string {
  v >>>= 0;
  const hex = '0x' + v.toString(16).padStart(width * 2, '0');
  if (width === 4 && v >= 0x80000000) return `${hex} (${v}, ${v | 0})`;
  if (width < 4) {
    const bits = width * 8;
    const m = v & ((1 << bits) - 1);
    const s = (m << (32 - bits)) >> (32 - bits);
    const hexN = '0x' + m.toString(16).padStart(width * 2, '0');
    return s < 0 ? `${hexN} (${m}, ${s})` : `${hexN} (${m})`;
  }
  return `${hex} (${v})`;
}
