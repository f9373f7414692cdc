// Loads, stores, MMIO, alignment and access faults, LR/SC and AMOs, in both execution modes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc, li } from '../../src/emulator/cpu/asm';
import { MMIO_BASE, MODES, TestCpu } from './harness';

const DATA = 0x8000;
const HANDLER = 0x3000;

/** A CPU whose trap handler is a WFI at HANDLER (the test then reads scause/sepc/stval). */
function withHandler(mode: (typeof MODES)[number]): TestCpu {
  const cpu = new TestCpu(mode);
  cpu.hart.stvec = HANDLER;
  cpu.load([enc('wfi')], HANDLER);
  return cpu;
}

for (const mode of MODES) {
  test(`${mode}: loads sign- or zero-extend, stores write only their width`, () => {
    const cpu = withHandler(mode);
    cpu.load([0x80ff7f81 | 0, 0x00000000], DATA);
    cpu.load([
      ...li('s0', DATA),
      enc('lb', 'a0', 's0', 0), // 0x81 → -127
      enc('lbu', 'a1', 's0', 0), // 0x81
      enc('lb', 'a2', 's0', 1), // 0x7f
      enc('lh', 'a3', 's0', 2), // 0x80ff → -32513
      enc('lhu', 'a4', 's0', 2), // 0x80ff
      enc('lw', 'a5', 's0', 0),
      ...li('t0', 0x11223344),
      enc('sb', 't0', 's0', 4), // byte 0x44 at +4
      enc('sh', 't0', 's0', 6), // 0x3344 at +6
      enc('sw', 't0', 's0', 8),
      enc('sw', 't0', 's0', -4), // negative offset
      enc('wfi'),
    ]);
    cpu.runToWfi();
    assert.equal(cpu.x('a0'), -127);
    assert.equal(cpu.x('a1'), 0x81);
    assert.equal(cpu.x('a2'), 0x7f);
    assert.equal(cpu.x('a3'), -32513);
    assert.equal(cpu.x('a4'), 0x80ff);
    assert.equal(cpu.x('a5'), 0x80ff7f81 | 0);
    assert.equal(cpu.ram.read32(DATA + 4), 0x33440044);
    assert.equal(cpu.ram.read32(DATA + 8), 0x11223344);
    assert.equal(cpu.ram.read32(DATA - 4), 0x11223344);
    assert.equal(cpu.hart.scause, 0, 'no trap');
  });

  for (const [name, width, cause] of [
    ['lh', 2, 4],
    ['lhu', 2, 4],
    ['lw', 4, 4],
    ['sh', 2, 6],
    ['sw', 4, 6],
  ] as const) {
    test(`${mode}: misaligned ${name} traps with cause ${cause}, stval = address, rd untouched`, () => {
      for (const mis of width === 2 ? [1, 3] : [1, 2, 3]) {
        const cpu = withHandler(mode);
        const store = name.startsWith('s');
        cpu.load([...li('s0', DATA), store ? enc(name, 'a1', 's0', mis) : enc(name, 'a0', 's0', mis), enc('addi', 'a2', 'zero', 1), enc('wfi')]);
        cpu.set('a0', 1234);
        cpu.runToWfi();
        assert.equal(cpu.hart.pc, HANDLER + 4);
        assert.equal(cpu.hart.scause, cause);
        assert.equal(cpu.hart.stval, DATA + mis);
        assert.equal(cpu.hart.sepc, 0x1008);
        assert.equal(cpu.x('a0'), 1234);
        assert.equal(cpu.x('a2'), 0, 'the next instruction did not run');
      }
    });
  }

  test(`${mode}: unmapped physical addresses raise access faults 5 and 7; instruction fetch 1`, () => {
    for (const [insn, cause] of [
      [enc('lw', 'a0', 's0', 0), 5],
      [enc('sw', 'a0', 's0', 0), 7],
      [enc('jalr', 'zero', 's0', 0), 1],
    ] as const) {
      const cpu = withHandler(mode);
      cpu.load([...li('s0', 0x20000000), insn, enc('wfi')]);
      cpu.runToWfi();
      assert.equal(cpu.hart.scause, cause);
      assert.equal(cpu.hart.stval, 0x20000000);
      assert.equal(cpu.hart.sepc, cause === 1 ? 0x20000000 : 0x1008);
    }
  });

  test(`${mode}: MMIO loads and stores reach the device with their width`, () => {
    const cpu = withHandler(mode);
    cpu.dev.regs[1] = 0xdeadbeef;
    cpu.load([
      ...li('s0', MMIO_BASE),
      enc('lw', 'a0', 's0', 4),
      enc('lbu', 'a1', 's0', 5),
      enc('lh', 'a2', 's0', 6),
      ...li('t0', 0x1234abcd),
      enc('sw', 't0', 's0', 8),
      enc('sb', 't0', 's0', 12),
      enc('sh', 't0', 's0', 14),
      enc('wfi'),
    ]);
    cpu.runToWfi();
    assert.equal(cpu.x('a0'), 0xdeadbeef | 0);
    assert.equal(cpu.x('a1'), 0xbe);
    assert.equal(cpu.x('a2'), (0xdead << 16) >> 16);
    assert.deepEqual(cpu.dev.log, ['r4@4', 'r1@5', 'r2@6', 'w4@8=1234abcd', 'w1@c=cd', 'w2@e=abcd']);
  });

  test(`${mode}: LR/SC in a hot loop (translated code takes both through the TLB)`, () => {
    const cpu = withHandler(mode);
    cpu.load([0, 0], DATA);
    const loop = [
      enc('lr.w', 'a0', 's0'),
      enc('addi', 'a0', 'a0', 1),
      enc('sc.w', 'a1', 'a0', 's0'), // reserved: succeeds
      enc('add', 's2', 's2', 'a1'), // failures of the paired SC (0)
      enc('sc.w', 'a2', 's1', 's3'), // no reservation (the SC above dropped it): fails, no store
      enc('add', 's4', 's4', 'a2'), // failures of the stray SC (every pass)
      enc('addi', 's1', 's1', -1),
    ];
    cpu.load([...li('s0', DATA), ...li('s3', DATA + 4), ...li('s1', 3000), ...loop, enc('bne', 's1', 'zero', -4 * loop.length), enc('wfi')]);
    cpu.runToWfi();
    assert.equal(cpu.ram.read32(DATA), 3000, 'every paired SC stored');
    assert.equal(cpu.x('s2'), 0, 'no paired SC failed');
    assert.equal(cpu.x('s4'), 3000, 'every stray SC failed');
    assert.equal(cpu.ram.read32(DATA + 4), 0, 'and stored nothing');
    assert.equal(cpu.hart.reservation, -1);
  });

  test(`${mode}: a hot loop whose loads and stores take the slow path (MMIO) keeps its registers right`, () => {
    // Translated, this loop keeps its registers in locals: the slow-path load writes a0 in the
    // hart's state and the loop must see it; the store must send the current s2.
    const cpu = withHandler(mode);
    cpu.dev.regs[0] = 7;
    const loop = [
      enc('lw', 'a0', 's0', 0), // MMIO: the slow path every pass
      enc('add', 's2', 's2', 'a0'),
      enc('sw', 's2', 's0', 4), // MMIO
      enc('addi', 's1', 's1', -1),
    ];
    cpu.load([...li('s0', MMIO_BASE), ...li('s1', 200), ...loop, enc('bne', 's1', 'zero', -4 * loop.length), enc('wfi')]);
    cpu.runToWfi();
    assert.equal(cpu.x('s2'), 1400);
    assert.equal(cpu.x('a0'), 7);
    assert.equal(cpu.dev.regs[1], 1400, 'the last store sent the running sum');
    assert.equal(cpu.dev.log.filter((l) => l === 'w4@4=e').length, 1, 'the second pass stored 14');
  });

  test(`${mode}: LR/SC succeeds with a reservation, fails without or after SC/trap`, () => {
    const cpu = withHandler(mode);
    cpu.load([5], DATA);
    cpu.load([
      ...li('s0', DATA),
      ...li('t0', 77),
      enc('lr.w', 'a0', 's0'), // a0 = 5, reserve
      enc('sc.w', 'a1', 't0', 's0'), // succeeds: a1 = 0, mem = 77
      enc('sc.w', 'a2', 'a0', 's0'), // no reservation any more: a2 = 1, mem unchanged
      enc('lr.w.aq', 'a3', 's0'), // a3 = 77
      enc('sc.w.rl', 'a4', 'zero', 's0'), // succeeds: mem = 0
      enc('wfi'),
    ]);
    cpu.runToWfi();
    assert.equal(cpu.x('a0'), 5);
    assert.equal(cpu.x('a1'), 0);
    assert.equal(cpu.x('a2'), 1);
    assert.equal(cpu.x('a3'), 77);
    assert.equal(cpu.x('a4'), 0);
    assert.equal(cpu.ram.read32(DATA), 0);
    // A trap between LR and SC drops the reservation (the handler returns past the ecall).
    const cpu2 = withHandler(mode);
    cpu2.load([5], DATA);
    cpu2.load([enc('csrrs', 't1', 0x141, 'zero'), enc('addi', 't1', 't1', 4), enc('csrrw', 'zero', 0x141, 't1'), enc('sret')], HANDLER);
    cpu2.load([...li('s0', DATA), enc('lr.w', 'a0', 's0'), enc('ebreak'), enc('sc.w', 'a1', 'a0', 's0'), enc('wfi')]);
    cpu2.runToWfi();
    assert.equal(cpu2.x('a1'), 1, 'SC after a trap fails');
  });

  test(`${mode}: SC to a different address than the reservation fails`, () => {
    const cpu = withHandler(mode);
    cpu.load([...li('s0', DATA), enc('lr.w', 'a0', 's0'), enc('sc.w', 'a1', 'a0', 's0', 0), enc('wfi')]);
    // sc.w has no offset: use s1 = DATA + 4
    cpu.load([...li('s0', DATA), ...li('s1', DATA + 4), enc('lr.w', 'a0', 's0'), enc('sc.w', 'a1', 'a0', 's1'), enc('wfi')]);
    cpu.runToWfi();
    assert.equal(cpu.x('a1'), 1);
  });

  test(`${mode}: every AMO returns the old value and stores the right result`, () => {
    const cases: [string, (m: number, v: number) => number][] = [
      ['amoswap.w', (_m, v) => v],
      ['amoadd.w', (m, v) => (m + v) | 0],
      ['amoxor.w', (m, v) => m ^ v],
      ['amoand.w', (m, v) => m & v],
      ['amoor.w', (m, v) => m | v],
      ['amomin.w', (m, v) => Math.min(m, v)],
      ['amomax.w', (m, v) => Math.max(m, v)],
      ['amominu.w', (m, v) => (m >>> 0 < v >>> 0 ? m : v)],
      ['amomaxu.w', (m, v) => (m >>> 0 > v >>> 0 ? m : v)],
    ];
    const values = [0, 1, -1, 5, -5, 0x7fffffff, -0x80000000];
    for (const [name, f] of cases) {
      const cpu = withHandler(mode);
      for (const suffix of ['', '.aq', '.rl', '.aqrl']) {
        cpu.load([...li('s0', DATA), enc(name + suffix, 'a0', 'a1', 's0'), enc('wfi')]);
        for (const m of values)
          for (const v of values) {
            cpu.ram.write32(DATA, m);
            cpu.hart.pc = 0x1000;
            cpu.set('a1', v);
            cpu.runToWfi();
            assert.equal(cpu.x('a0'), m, `${name}${suffix} old`);
            assert.equal(cpu.ram.read32(DATA) | 0, f(m, v), `${name}${suffix} ${m}, ${v}`);
          }
      }
    }
  });

  test(`${mode}: misaligned AMO and SC raise store/AMO misaligned (6), LR load misaligned (4)`, () => {
    for (const [insn, cause] of [
      [enc('amoadd.w', 'a0', 'a1', 's0'), 6],
      [enc('sc.w', 'a0', 'a1', 's0'), 6],
      [enc('lr.w', 'a0', 's0'), 4],
    ] as const) {
      const cpu = withHandler(mode);
      cpu.load([...li('s0', DATA + 2), insn, enc('wfi')]);
      cpu.runToWfi();
      assert.equal(cpu.hart.scause, cause);
      assert.equal(cpu.hart.stval, DATA + 2);
    }
  });
}
