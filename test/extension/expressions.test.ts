import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpression, parseAssignment, evaluate, formatValue, resultWidth, ExpressionError, type EvalContext } from '../../debug-adapter/expressions';
import { registerIndex, REGISTER_NAMES } from '../../debug-adapter/registers';

/** A fake machine: registers, two symbols, and memory as a Map of bytes (virtual or physical). */
function ctx(): EvalContext & { loads: string[] } {
  const regs: Record<string, number> = { pc: 0xc0001000, sp: 0xc1000000, a0: 5, a1: 0xfffffffe, priv: 1, satp: 0x80012345, sstatus: 0x22 };
  const virt = new Map<number, number>();
  const phys = new Map<number, number>();
  [0x78, 0x56, 0x34, 0x12].forEach((b, i) => virt.set(0xc1000008 + i, b));
  [0xef, 0xbe, 0xad, 0xde].forEach((b, i) => phys.set(0x1000 + i, b));
  virt.set(0xc2000000, 0x80);
  const loads: string[] = [];
  return {
    loads,
    register: (name) => {
      const i = registerIndex(name);
      if (i >= 0) return regs[REGISTER_NAMES[i]] ?? 0;
      return regs[name];
    },
    symbol: (name) => ({ start_kernel: 0xc032e76c, _start: 0xc0000000 })[name],
    load: async (addr, width, physical) => {
      loads.push(`${physical ? 'p' : 'v'}${width}@${addr.toString(16)}`);
      const m = physical ? phys : virt;
      let v = 0;
      for (let i = width - 1; i >= 0; i--) {
        const b = m.get(addr + i);
        if (b === undefined) throw new ExpressionError(`cannot read ${addr.toString(16)}`);
        v = v * 256 + b;
      }
      return v;
    },
  };
}

const ev = async (s: string, c = ctx()) => evaluate(parseExpression(s), c);

test('registers by ABI name, xN, fp and $ prefix', async () => {
  assert.equal(await ev('a0'), 5);
  assert.equal(await ev('x10'), 5);
  assert.equal(await ev('$a0'), 5);
  assert.equal(await ev('$pc'), 0xc0001000);
  assert.equal(await ev('zero'), 0);
  assert.equal(await ev('fp'), 0); // s0
  assert.equal(await ev('$satp'), 0x80012345);
  assert.equal(await ev('priv'), 1);
});

test('arithmetic wraps in 32 bits with C precedence', async () => {
  assert.equal(await ev('1 + 2 * 3'), 7);
  assert.equal(await ev('(1 + 2) * 3'), 9);
  assert.equal(await ev('a1 + 4'), 2);
  assert.equal(await ev('-1'), 0xffffffff);
  assert.equal(await ev('~0 >> 28'), 0xf);
  assert.equal(await ev('1 << 31'), 0x80000000);
  assert.equal(await ev('0x10 | 0b11 & 1'), 0x11);
  assert.equal(await ev('7 / 2'), 3);
  assert.equal(await ev('a0 == 5 && 1'), 1);
  assert.equal(await ev('a0 == 4 || a0 < 2'), 0);
});

test('symbols evaluate to their address; & is accepted', async () => {
  assert.equal(await ev('start_kernel'), 0xc032e76c);
  assert.equal(await ev('&start_kernel + 4'), 0xc032e770);
  await assert.rejects(ev('no_such_symbol'), /unknown name 'no_such_symbol'/);
});

test('memory: *(T*)addr, *addr, [addr], sign extension and p: physical', async () => {
  const c = ctx();
  assert.equal(await ev('*(u32*)(sp + 8)', c), 0x12345678);
  assert.equal(await ev('[sp+8]', c), 0x12345678);
  assert.equal(await ev('*(u8*)0xc1000009', c), 0x56);
  assert.equal(await ev('*(u16*)(sp+10)', c), 0x1234);
  assert.equal(await ev('*(i8*)0xc2000000', c), 0xffffff80);
  assert.equal(await ev('*(u8*)0xc2000000', c), 0x80);
  assert.equal(await ev('*(u32*)p:0x1000', c), 0xdeadbeef);
  assert.equal(await ev('[p:0x1000]', c), 0xdeadbeef);
  assert.deepEqual(c.loads.slice(-2), ['p4@1000', 'p4@1000']);
  await assert.rejects(ev('*(u32*)0x4', c), /cannot read/);
});

test('parse errors name the problem', () => {
  assert.throws(() => parseExpression(''), /empty/);
  assert.throws(() => parseExpression('1 +'), /unexpected end/);
  assert.throws(() => parseExpression('(1'), /expected '\)'/);
  assert.throws(() => parseExpression('1 2'), /unexpected '2'/);
  assert.throws(() => parseExpression('$nosuch'), /not a register or CSR/);
  assert.throws(() => parseExpression('a0 @ 1'), /cannot read '@ 1'/);
  assert.throws(() => parseExpression('99999999999'), /32 bits/);
  assert.throws(() => parseExpression('&a0'), /symbol name only/);
});

test('division by zero is an error, not Infinity', async () => {
  await assert.rejects(ev('1 / 0'), /division by zero/);
  await assert.rejects(ev('1 % (a0 - 5)'), /division by zero/);
});

test('assignments: registers and memory; comparisons are not assignments', () => {
  const a = parseAssignment('a0 = a1 + 1');
  assert.equal(a?.target.k, 'reg');
  const m = parseAssignment('*(u16*)p:0x1000 = 0xbeef');
  assert.equal(m?.target.k, 'load');
  assert.equal(m?.target.k === 'load' && m.target.physical, true);
  assert.equal(parseAssignment('a0 == 1'), undefined);
  assert.equal(parseAssignment('a0'), undefined);
  assert.throws(() => parseAssignment('1 = 2'), /register, a CSR or memory/);
  assert.throws(() => parseAssignment('a0 ='), /target and a value/);
});

test('formatting: hex with decimal, signed view for high values and narrow loads', () => {
  assert.equal(formatValue(42), '0x0000002a (42)');
  assert.equal(formatValue(0xfffffffe), '0xfffffffe (4294967294, -2)');
  assert.equal(formatValue(0x80, 1), '0x80 (128, -128)');
  assert.equal(formatValue(0x1234, 2), '0x1234 (4660)');
  assert.equal(resultWidth(parseExpression('*(u16*)0')), 2);
  assert.equal(resultWidth(parseExpression('a0')), 4);
});
