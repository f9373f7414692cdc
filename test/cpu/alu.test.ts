// Integer and M-extension instructions against a BigInt reference model, in both execution modes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc, li } from '../../src/emulator/cpu/asm';
import { MODES, TestCpu } from './harness';

const s32 = (v: number) => BigInt.asIntN(32, BigInt(v));
const u32 = (v: number) => BigInt.asUintN(32, BigInt(v));
const i32 = (v: bigint) => Number(BigInt.asIntN(32, v));

const EDGES = [0, 1, -1, 2, -2, 3, 5, 31, 32, 33, 63, 0x7fffffff, -0x80000000, -0x7fffffff, 0xffff, 0x10000, 0x12345678, -0x12345678, 0x55555555, -0x55555556];

function operands(): [number, number][] {
  const out: [number, number][] = [];
  for (const a of EDGES) for (const b of EDGES) out.push([a, b]);
  let seed = 12345;
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) | 0;
    return seed ^ (seed << 13);
  };
  for (let i = 0; i < 100; i++) out.push([rnd() | 0, rnd() | 0]);
  return out;
}

const R_OPS: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => i32(s32(a) + s32(b)),
  sub: (a, b) => i32(s32(a) - s32(b)),
  sll: (a, b) => i32(s32(a) << (u32(b) & 31n)),
  slt: (a, b) => (s32(a) < s32(b) ? 1 : 0),
  sltu: (a, b) => (u32(a) < u32(b) ? 1 : 0),
  xor: (a, b) => a ^ b,
  srl: (a, b) => i32(u32(a) >> (u32(b) & 31n)),
  sra: (a, b) => i32(s32(a) >> (u32(b) & 31n)),
  or: (a, b) => a | b,
  and: (a, b) => a & b,
  mul: (a, b) => i32(s32(a) * s32(b)),
  mulh: (a, b) => i32((s32(a) * s32(b)) >> 32n),
  mulhsu: (a, b) => i32((s32(a) * u32(b)) >> 32n),
  mulhu: (a, b) => i32((u32(a) * u32(b)) >> 32n),
  // Division: by zero gives -1 / the dividend; overflow (-2^31 / -1) gives -2^31 / 0 (spec §M.2).
  div: (a, b) => (b === 0 ? -1 : a === -0x80000000 && b === -1 ? a : i32(s32(a) / s32(b))),
  divu: (a, b) => (b === 0 ? -1 : i32(u32(a) / u32(b))),
  rem: (a, b) => (b === 0 ? a : a === -0x80000000 && b === -1 ? 0 : i32(s32(a) % s32(b))),
  remu: (a, b) => (b === 0 ? a : i32(u32(a) % u32(b))),
};

for (const mode of MODES) {
  test(`${mode}: R-type and M ops match the reference for edge and random operands`, () => {
    const cpu = new TestCpu(mode);
    const pairs = operands();
    for (const [name, ref] of Object.entries(R_OPS)) {
      cpu.load([enc(name, 'a2', 'a0', 'a1'), enc('wfi')]);
      for (const [a, b] of pairs) {
        cpu.hart.pc = 0x1000;
        cpu.set('a0', a);
        cpu.set('a1', b);
        cpu.runToWfi();
        assert.equal(cpu.x('a2'), ref(a, b), `${name} ${a}, ${b}`);
      }
    }
  });

  test(`${mode}: I-type ops, shifts by immediate, lui/auipc`, () => {
    const cpu = new TestCpu(mode);
    const imms = [0, 1, -1, 2, 5, 2047, -2048, 0x7ff, -0x800, 100, -100];
    const ops: Record<string, (a: number, i: number) => number> = {
      addi: (a, i) => i32(s32(a) + BigInt(i)),
      slti: (a, i) => (s32(a) < BigInt(i) ? 1 : 0),
      sltiu: (a, i) => (u32(a) < u32(i) ? 1 : 0), // the immediate is sign-extended, then compared unsigned
      xori: (a, i) => a ^ i,
      ori: (a, i) => a | i,
      andi: (a, i) => a & i,
    };
    for (const [name, ref] of Object.entries(ops)) {
      for (const imm of imms) {
        cpu.load([enc(name, 'a2', 'a0', imm), enc('wfi')]);
        for (const a of EDGES) {
          cpu.hart.pc = 0x1000;
          cpu.set('a0', a);
          cpu.runToWfi();
          assert.equal(cpu.x('a2'), ref(a, imm), `${name} ${a}, ${imm}`);
        }
      }
    }
    for (let sh = 0; sh < 32; sh++) {
      cpu.load([enc('slli', 'a2', 'a0', sh), enc('srli', 'a3', 'a0', sh), enc('srai', 'a4', 'a0', sh), enc('wfi')]);
      for (const a of EDGES) {
        cpu.hart.pc = 0x1000;
        cpu.set('a0', a);
        cpu.runToWfi();
        assert.equal(cpu.x('a2'), R_OPS.sll(a, sh));
        assert.equal(cpu.x('a3'), R_OPS.srl(a, sh));
        assert.equal(cpu.x('a4'), R_OPS.sra(a, sh));
      }
    }
    cpu.load([enc('lui', 'a0', 0xfffff), enc('auipc', 'a1', 0x80000), enc('auipc', 'a2', 0), enc('wfi')]);
    cpu.hart.pc = 0x1000;
    cpu.runToWfi();
    assert.equal(cpu.x('a0'), 0xfffff000 | 0);
    assert.equal(cpu.x('a1'), (0x80000000 + 0x1004) | 0);
    assert.equal(cpu.x('a2'), 0x1008);
  });

  test(`${mode}: register shift amounts use only the low 5 bits`, () => {
    const cpu = new TestCpu(mode);
    cpu.load([enc('sll', 'a2', 'a0', 'a1'), enc('srl', 'a3', 'a0', 'a1'), enc('sra', 'a4', 'a0', 'a1'), enc('wfi')]);
    for (const amt of [32, 33, 63, -1, 0x7fffffe1]) {
      cpu.hart.pc = 0x1000;
      cpu.set('a0', -0x7ffffff0);
      cpu.set('a1', amt);
      cpu.runToWfi();
      const k = amt & 31;
      assert.equal(cpu.x('a2'), (-0x7ffffff0 << k) | 0, `sll by ${amt}`);
      assert.equal(cpu.x('a3'), (-0x7ffffff0 >>> k) | 0, `srl by ${amt}`);
      assert.equal(cpu.x('a4'), -0x7ffffff0 >> k, `sra by ${amt}`);
    }
  });

  test(`${mode}: writes to x0 are discarded, reads of x0 are zero`, () => {
    const cpu = new TestCpu(mode);
    cpu.load([
      enc('addi', 'zero', 'zero', 5),
      enc('lui', 'zero', 0x12345),
      enc('add', 'a0', 'zero', 'zero'),
      enc('jal', 'zero', 8), // no link written
      enc('addi', 'a0', 'a0', 1), // skipped
      enc('addi', 'a1', 'zero', 7),
      enc('wfi'),
    ]);
    cpu.set('a0', 99);
    cpu.runToWfi();
    assert.equal(cpu.x(0), 0);
    assert.equal(cpu.x('a0'), 0);
    assert.equal(cpu.x('a1'), 7);
  });

  test(`${mode}: branches take the right direction and target, including backwards`, () => {
    const cpu = new TestCpu(mode);
    const conds: [string, (a: number, b: number) => boolean][] = [
      ['beq', (a, b) => a === b],
      ['bne', (a, b) => a !== b],
      ['blt', (a, b) => a < b],
      ['bge', (a, b) => a >= b],
      ['bltu', (a, b) => a >>> 0 < b >>> 0],
      ['bgeu', (a, b) => a >>> 0 >= b >>> 0],
    ];
    for (const [name, ref] of conds) {
      // taken → skip to +12 (a2 = 2); not taken → a2 = 1
      cpu.load([enc(name, 'a0', 'a1', 12), enc('addi', 'a2', 'zero', 1), enc('wfi'), enc('addi', 'a2', 'zero', 2), enc('wfi')]);
      for (const [a, b] of [[0, 0], [1, 2], [2, 1], [-1, 1], [1, -1], [-0x80000000, 0x7fffffff], [5, 5]]) {
        cpu.hart.pc = 0x1000;
        cpu.set('a0', a);
        cpu.set('a1', b);
        cpu.runToWfi();
        assert.equal(cpu.x('a2'), ref(a, b) ? 2 : 1, `${name} ${a}, ${b}`);
      }
    }
    // A counted backward loop: sum 1..10.
    cpu.load([enc('addi', 'a0', 'zero', 10), enc('addi', 'a1', 'zero', 0), enc('add', 'a1', 'a1', 'a0'), enc('addi', 'a0', 'a0', -1), enc('bne', 'a0', 'zero', -8), enc('wfi')]);
    cpu.hart.pc = 0x1000;
    cpu.runToWfi();
    assert.equal(cpu.x('a1'), 55);
  });

  test(`${mode}: jal/jalr link and target (jalr clears bit 0, rd = rs1 works)`, () => {
    const cpu = new TestCpu(mode);
    cpu.load([
      enc('jal', 'ra', 12), // 0x1000 → 0x100c, ra = 0x1004
      enc('addi', 'a0', 'zero', 1), // 0x1004: returned here
      enc('wfi'), // 0x1008
      enc('lui', 't0', 1), // 0x100c
      enc('addi', 't0', 't0', 1), // t0 = 0x1001 (odd)
      enc('jalr', 't0', 't0', 0x1f), // 0x1014: → (0x1020 & ~1) = 0x1020, t0 = 0x1018
    ]);
    cpu.load([enc('add', 'a1', 't0', 'zero'), enc('jalr', 'zero', 'ra', 0)], 0x1020);
    cpu.runToWfi();
    assert.equal(cpu.x('a0'), 1);
    assert.equal(cpu.x('a1'), 0x1018); // the link, written after reading rs1 = rd
    assert.equal(cpu.x('ra'), 0x1004);
  });

  test(`${mode}: li helper builds any 32-bit constant`, () => {
    const cpu = new TestCpu(mode);
    for (const v of [0, 1, -1, 0x7ff, 0x800, -0x800, -0x801, 0x7fffffff, -0x80000000, 0x12345fff]) {
      cpu.load([...li('a0', v), enc('wfi')]);
      cpu.hart.pc = 0x1000;
      cpu.runToWfi();
      assert.equal(cpu.x('a0'), v | 0);
    }
  });
}
