// CSR access rules, exceptions, interrupts (delegated to S-mode), SRET and WFI, in both modes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc, li } from '../../src/emulator/cpu/asm';
import { MODES, TestCpu } from './harness';
import { MIP_SEIP, MIP_SSIP, MIP_STIP } from '../../src/emulator/types';

const HANDLER = 0x3000;
const U_CODE = 0x2000;
const SSTATUS = 0x100, SIE = 0x104, STVEC = 0x105, SCOUNTEREN = 0x106, SENVCFG = 0x10a, SSCRATCH = 0x140;
const SEPC = 0x141, SCAUSE = 0x142, STVAL = 0x143, SIP = 0x144, SATP = 0x180;
const CYCLE = 0xc00, TIME = 0xc01, INSTRET = 0xc02, TIMEH = 0xc81;
const INT = 0x80000000 | 0;

function cpuWithHandler(mode: (typeof MODES)[number]): TestCpu {
  const cpu = new TestCpu(mode);
  cpu.hart.stvec = HANDLER;
  // Mask interrupts before waiting: a pending enabled interrupt would make the WFI fall through.
  cpu.load([enc('csrrw', 'zero', SIE, 'zero'), enc('wfi')], HANDLER);
  return cpu;
}

/** Makes the hart return to U-mode at U_CODE via SRET (the code at U_CODE is loaded by the caller). */
function enterUser(): number[] {
  return [...li('t6', U_CODE), enc('csrrw', 'zero', SEPC, 't6'), ...li('t6', 1 << 8), enc('csrrc', 'zero', SSTATUS, 't6'), enc('sret')];
}

for (const mode of MODES) {
  test(`${mode}: S CSRs read back with their WARL rules`, () => {
    const cpu = cpuWithHandler(mode);
    const writes: [number, number, number][] = [
      [SSTATUS, ~2, (1 << 5) | (1 << 8) | (1 << 18) | (1 << 19)], // only SIE SPIE SPP SUM MXR (SIE kept 0 here)
      [SIE, -1, (1 << 1) | (1 << 5) | (1 << 9)],
      [STVEC, 0x12345677, 0x12345675], // mode 3 is reserved: bit 1 cleared
      [SCOUNTEREN, -1, 7],
      [SENVCFG, -1, 1],
      [SSCRATCH, 0x5a5a5a5a, 0x5a5a5a5a],
      [SEPC, 0x12345677, 0x12345674], // IALIGN = 32
      [SCAUSE, 0x8000000f | 0, 0x8000000f | 0],
      [STVAL, -2, -2],
      [SIP, -1, 1 << 1], // only SSIP is writable
      [SATP, 0x7fffffff, 0x7fffffff], // bare mode (MODE = 0): ASID and PPN read back
    ];
    const prog: number[] = [];
    writes.forEach(([csr, v]) => prog.push(...li('t0', v), enc('csrrw', 'zero', csr, 't0')));
    const prog2: number[] = [];
    prog2.push(...li('s0', 0x7000));
    writes.forEach(([csr], i) => prog2.push(enc('csrrs', 't1', csr, 'zero'), enc('sw', 't1', 's0', 4 * i)));
    // SSIP is now pending and enabled: mask it so the final WFI waits.
    cpu.load([...prog, ...prog2, enc('csrrw', 'zero', SIE, 'zero'), enc('wfi')]);
    cpu.runToWfi(10000);
    assert.equal(cpu.hart.pc, 0x1000 + 4 * (prog.length + prog2.length + 2), 'no trap');
    writes.forEach(([csr, , want], i) => assert.equal(cpu.ram.read32(0x7000 + 4 * i) | 0, want, `csr 0x${csr.toString(16)}`));
  });

  test(`${mode}: unknown, M-mode and read-only CSR writes are illegal with stval = the instruction`, () => {
    const bad = [
      enc('csrrs', 'a0', 0x300, 'zero'), // mstatus: M-mode only
      enc('csrrs', 'a0', 0xf14, 'zero'), // mhartid
      enc('csrrs', 'a0', 0x7c0, 'zero'), // nothing
      enc('csrrs', 'a0', 0x14d, 'zero'), // stimecmp: no Sstc
      enc('csrrw', 'zero', CYCLE, 'a0'), // read-only
      enc('csrrs', 'a0', TIME, 'a1'), // set with rs1 != x0 writes: read-only
      enc('csrrwi', 'zero', INSTRET, 0),
      enc('csrrs', 'a0', 0xc03, 'zero'), // hpmcounter3: not implemented
    ];
    for (const insn of bad) {
      const cpu = cpuWithHandler(mode);
      cpu.load([insn, enc('wfi')]);
      cpu.set('a1', 1);
      cpu.set('a0', 99);
      cpu.runToWfi();
      assert.equal(cpu.hart.scause, 2, `0x${(insn >>> 0).toString(16)}`);
      assert.equal(cpu.hart.stval, insn);
      assert.equal(cpu.hart.sepc, 0x1000);
      assert.equal(cpu.x('a0'), 99, 'rd not written');
    }
    // Reading a read-only CSR without writing is fine (csrrs/csrrsi with x0 / 0).
    const cpu = cpuWithHandler(mode);
    cpu.time = 0x123456789;
    cpu.load([enc('csrrs', 'a0', TIME, 'zero'), enc('csrrsi', 'a1', TIMEH, 0), enc('csrrci', 'a2', CYCLE, 0), enc('wfi')]);
    cpu.runToWfi();
    assert.equal(cpu.hart.scause, 0);
    assert.equal(cpu.x('a0'), 0x23456789);
    assert.equal(cpu.x('a1'), 1);
  });

  test(`${mode}: instret and cycle count retired instructions`, () => {
    const cpu = cpuWithHandler(mode);
    cpu.load([enc('addi', 'a0', 'zero', 1), enc('addi', 'a0', 'zero', 2), enc('csrrs', 'a1', INSTRET, 'zero'), enc('csrrs', 'a2', CYCLE, 'zero'), enc('wfi')]);
    cpu.runToWfi();
    assert.equal(cpu.x('a1'), 2);
    assert.equal(cpu.x('a2'), 3);
  });

  test(`${mode}: U-mode: S CSRs and privileged instructions are illegal; counters follow scounteren`, () => {
    for (const [insn, ok] of [
      [enc('csrrs', 'a0', SSTATUS, 'zero'), false],
      [enc('csrrw', 'zero', SSCRATCH, 'a0'), false],
      [enc('sret'), false],
      [enc('wfi'), false],
      [enc('sfence.vma', 'zero', 'zero'), false],
      [enc('csrrs', 'a0', TIME, 'zero'), true], // scounteren.TM = 1 below
      [enc('csrrs', 'a0', CYCLE, 'zero'), false], // CY = 0
    ] as const) {
      const cpu = cpuWithHandler(mode);
      cpu.load([...li('t0', 2), enc('csrrw', 'zero', SCOUNTEREN, 't0'), ...enterUser()]);
      cpu.load([insn, enc('ecall')], U_CODE);
      cpu.time = 42;
      cpu.runToWfi();
      assert.equal(cpu.hart.scause, ok ? 8 : 2, `0x${(insn >>> 0).toString(16)}`);
      assert.equal(cpu.hart.sepc, ok ? U_CODE + 4 : U_CODE);
      assert.equal(cpu.hart.stval, ok ? 0 : insn);
      assert.equal(cpu.hart.status & (1 << 8), 0, 'SPP = U');
      if (ok) assert.equal(cpu.x('a0'), 42);
    }
  });

  test(`${mode}: at entry scounteren is 7, as OpenSBI leaves it: U-mode reads every counter and its high half`, () => {
    const cpu = cpuWithHandler(mode);
    assert.equal(cpu.hart.csrRead(SCOUNTEREN), 7);
    cpu.load(enterUser());
    const reads = [CYCLE, TIME, INSTRET, 0xc80, TIMEH, 0xc82].map((c, i) => enc('csrrs', `s${i + 2}`, c, 'zero'));
    cpu.load([...reads, enc('ecall')], U_CODE);
    cpu.time = 0x1_2345_6789;
    cpu.runToWfi();
    assert.equal(cpu.hart.scause, 8, 'the reads retired and the ecall trapped (no illegal instruction)');
    assert.equal(cpu.x('s3') >>> 0, 0x2345_6789, 'time');
    assert.equal(cpu.x('s6'), 1, 'timeh');
  });

  test(`${mode}: ecall from S goes to the SBI host, from U traps with cause 8`, () => {
    const cpu = cpuWithHandler(mode);
    cpu.onEcall = (h) => {
      h.x[10] = 0;
      h.x[11] = 1234;
    };
    cpu.load([...li('a7', 0x10), enc('ecall'), enc('add', 's1', 'a1', 'zero'), ...enterUser()]);
    cpu.load([enc('ecall')], U_CODE);
    cpu.runToWfi();
    assert.deepEqual(cpu.ecalls, [0x10]);
    assert.equal(cpu.x('s1'), 1234);
    assert.equal(cpu.hart.scause, 8);
    assert.equal(cpu.hart.sepc, U_CODE);
    assert.equal(cpu.userEntered, 1);
  });

  test(`${mode}: ebreak, illegal words and misaligned jump targets`, () => {
    const cases: [number[], number, (c: TestCpu) => number][] = [
      [[enc('ebreak')], 3, () => 0x1000],
      [[0x00000000], 2, () => 0],
      [[0x12345672 | 0], 2, () => 0x12345672], // bits [1:0] != 3: no C extension
      [[-1], 2, () => -1],
      [[enc('jal', 'ra', 6)], 0, () => 0x1006],
      [[enc('addi', 't0', 'zero', 0x102), enc('jalr', 'ra', 't0', 0)], 0, () => 0x102],
      [[enc('beq', 'zero', 'zero', 6)], 0, () => 0x1006],
    ];
    for (const [code, cause, tval] of cases) {
      const cpu = cpuWithHandler(mode);
      cpu.load([...code, enc('wfi')]);
      cpu.runToWfi();
      assert.equal(cpu.hart.scause, cause, `${code.map((w) => (w >>> 0).toString(16))}`);
      assert.equal(cpu.hart.stval, tval(cpu));
      assert.equal(cpu.hart.sepc, 0x1000 + 4 * (code.length - 1));
      if (cause === 0) assert.equal(cpu.x('ra'), 0, 'no link on a faulting jump');
    }
  });

  test(`${mode}: trap entry and SRET maintain SPP/SPIE/SIE`, () => {
    const cpu = new TestCpu(mode);
    cpu.hart.stvec = HANDLER;
    // Handler: record sstatus, advance sepc, return.
    cpu.load([enc('csrrs', 's2', SSTATUS, 'zero'), enc('csrrs', 't1', SEPC, 'zero'), enc('addi', 't1', 't1', 4), enc('csrrw', 'zero', SEPC, 't1'), enc('sret')], HANDLER);
    cpu.load([enc('csrrsi', 'zero', SSTATUS, 2), enc('ebreak'), enc('csrrs', 's3', SSTATUS, 'zero'), enc('wfi')]);
    cpu.runToWfi();
    const s2 = cpu.x('s2');
    assert.equal(s2 & 2, 0, 'SIE cleared in the handler');
    assert.equal(s2 & 0x20, 0x20, 'SPIE = old SIE');
    assert.equal(s2 & 0x100, 0x100, 'SPP = S');
    const s3 = cpu.x('s3');
    assert.equal(s3 & 2, 2, 'SIE restored from SPIE');
    assert.equal(s3 & 0x20, 0x20, 'SPIE set by SRET');
    assert.equal(s3 & 0x100, 0, 'SPP cleared by SRET');
  });

  test(`${mode}: interrupts: priority SEI > SSI > STI, masking by sie and sstatus.SIE, vectored stvec`, () => {
    for (const [pending, enabled, sieOn, want] of [
      [MIP_SEIP | MIP_SSIP | MIP_STIP, MIP_SEIP | MIP_SSIP | MIP_STIP, true, INT | 9],
      [MIP_SSIP | MIP_STIP, MIP_SEIP | MIP_SSIP | MIP_STIP, true, INT | 1],
      [MIP_STIP, MIP_SEIP | MIP_SSIP | MIP_STIP, true, INT | 5],
      [MIP_SEIP | MIP_STIP, MIP_STIP, true, INT | 5], // SEI masked by sie
      [MIP_STIP, MIP_STIP, false, 0], // S-mode with SIE = 0: not taken
    ] as const) {
      const cpu = new TestCpu(mode);
      const h = cpu.hart;
      // Vectored: interrupts land at base + 4 * cause; every slot holds a WFI.
      const base = 0x3000;
      const common = 0x3100;
      cpu.load(Array.from({ length: 16 }, (_, i) => enc('jal', 'zero', common - (base + 4 * i))), base);
      cpu.load([enc('auipc', 's4', 0), enc('csrrw', 'zero', SIE, 'zero'), enc('wfi')], common);
      cpu.load([...li('t0', base | 1), enc('csrrw', 'zero', STVEC, 't0'), ...li('t0', enabled), enc('csrrw', 'zero', SIE, 't0'), enc('csrrsi', 'zero', SSTATUS, sieOn ? 2 : 0), enc('addi', 'a0', 'zero', 1), enc('wfi'), enc('addi', 'a0', 'zero', 2), enc('csrrw', 'zero', SIE, 'zero'), enc('wfi')]);
      h.setPending(pending, true);
      cpu.runToWfi();
      assert.equal(h.scause, want, `pending ${pending} enabled ${enabled} SIE ${sieOn}`);
      if (want !== 0) {
        assert.equal(h.pc, common + 12);
        assert.equal(cpu.x('s4'), common, 'reached through the vector slot');
        assert.equal(h.stval, 0);
      } else {
        assert.equal(cpu.x('a0'), 2, 'WFI with an enabled pending interrupt does not wait, even with SIE = 0');
      }
    }
  });

  test(`${mode}: U-mode takes enabled interrupts whatever sstatus.SIE says`, () => {
    const cpu = cpuWithHandler(mode);
    cpu.load([...li('t0', MIP_STIP), enc('csrrw', 'zero', SIE, 't0'), ...enterUser()]);
    cpu.load([enc('addi', 'a0', 'a0', 1), enc('jal', 'zero', -4)], U_CODE);
    cpu.step(200);
    assert.equal(cpu.hart.priv, 0);
    assert.ok(cpu.x('a0') > 10);
    cpu.hart.setPending(MIP_STIP, true);
    cpu.runToWfi();
    assert.equal(cpu.hart.scause, INT | 5);
    assert.equal(cpu.hart.status & 0x100, 0, 'SPP = U');
  });

  test(`${mode}: WFI idles until an enabled interrupt is pending; sip.SSIP written by software`, () => {
    const cpu = new TestCpu(mode);
    const h = cpu.hart;
    cpu.load([...li('t0', MIP_SSIP), enc('csrrw', 'zero', SIE, 't0'), enc('wfi'), enc('addi', 'a0', 'zero', 1), enc('csrrsi', 'zero', SIP, 2), enc('wfi'), enc('addi', 'a1', 'zero', 1), enc('csrrw', 'zero', SIE, 'zero'), enc('wfi')]);
    cpu.runToWfi();
    assert.equal(h.idle, true);
    assert.equal(cpu.x('a0'), 0);
    h.setPending(MIP_STIP, true); // not enabled in sie: stays idle
    assert.equal(h.idle, true);
    h.setPending(MIP_SSIP, true);
    assert.equal(h.idle, false, 'an enabled pending interrupt wakes the hart');
    h.setPending(MIP_SSIP, false);
    cpu.runToWfi(); // a0 = 1, then sets SSIP by software: WFI falls through
    assert.equal(cpu.x('a0'), 1);
    assert.equal(cpu.x('a1'), 1);
    assert.equal(h.mip & MIP_SSIP, MIP_SSIP);
  });

  test(`${mode}: the trap CSRs and sstatus in a hot loop read and write as the reference does`, () => {
    // Translated code accesses sscratch, sepc, scause, stval and sstatus inline.
    const cpu = cpuWithHandler(mode);
    const loop = [
      enc('csrrw', 't0', SSCRATCH, 's1'), // t0 = the previous pass's s1
      enc('add', 's2', 's2', 't0'),
      enc('csrrsi', 'zero', SSTATUS, 2), // SIE on: nothing is pending
      enc('csrrci', 't1', SSTATUS, 2), // t1 has SIE; SIE off
      enc('andi', 't1', 't1', 2),
      enc('add', 's3', 's3', 't1'),
      enc('addi', 't2', 's1', 5),
      enc('csrrw', 'zero', SEPC, 't2'), // WARL: bits 1:0 read as 0
      enc('csrrs', 't3', SEPC, 'zero'),
      enc('csrrw', 'zero', STVAL, 't2'),
      enc('csrrci', 't4', STVAL, 1),
      enc('csrrw', 'zero', SCAUSE, 't3'),
      enc('addi', 's1', 's1', -1),
    ];
    cpu.load([...li('s1', 3000), ...loop, enc('bne', 's1', 'zero', -4 * loop.length), enc('wfi')]);
    cpu.runToWfi();
    const h = cpu.hart;
    assert.equal(cpu.x('s2'), (3000 * 3001) / 2 - 1, 'each swap read the value the pass before wrote');
    assert.equal(cpu.x('s3'), 2 * 3000, 'sstatus.SIE read back set on every pass');
    assert.equal(h.status & 2, 0);
    assert.equal(h.sscratch, 1);
    assert.equal(cpu.x('t3'), 4, 'sepc = 6 & ~3');
    assert.equal(h.sepc, 4);
    assert.equal(cpu.x('t4'), 6, 'csrrci returned the old stval');
    assert.equal(h.stval, 6, 'and cleared bit 0');
    assert.equal(h.scause, 4);
  });

  test(`${mode}: setting sstatus.SIE in a hot loop takes a pending interrupt right after the CSR instruction`, () => {
    const cpu = cpuWithHandler(mode);
    const loop = [enc('csrrsi', 'zero', SSTATUS, 2), enc('csrrci', 'zero', SSTATUS, 2), enc('addi', 's2', 's2', 1)];
    const prologue = [...li('t0', MIP_STIP), enc('csrrw', 'zero', SIE, 't0')];
    cpu.load([...prologue, ...loop, enc('jal', 'zero', -4 * loop.length)]);
    cpu.step(5000); // hot by now, nothing pending
    assert.ok(cpu.x('s2') > 100);
    cpu.hart.setPending(MIP_STIP, true);
    cpu.runToWfi(20000);
    assert.equal(cpu.hart.scause, INT | 5);
    assert.equal(cpu.hart.sepc, 0x1000 + 4 * prologue.length + 4, 'taken before the instruction after the csrrsi');
  });
}
