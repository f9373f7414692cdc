// Sv32: walks, superpages, permissions (R/W/X, U, SUM, MXR), A/D updates, fault causes and
// stval, and TLB invalidation by sfence.vma and satp writes — in both execution modes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc, li } from '../../src/emulator/cpu/asm';
import { MODES, TestCpu, type Mode } from './harness';

const V = 1, R = 2, W = 4, X = 8, U = 16, G = 32, A = 64, D = 128;
const ROOT = 0x100000;
const HANDLER = 0x3000;
const SSTATUS = 0x100, SATP = 0x180;
const SUM = 1 << 18, MXR = 1 << 19;

class PageTables {
  private next = ROOT + 0x1000;
  constructor(readonly cpu: TestCpu) {}
  /** PTE address for `va` at level 0, allocating the level-1 pointer. */
  private leafSlot(va: number): number {
    const l1 = ROOT + (va >>> 22) * 4;
    let pte = this.cpu.ram.read32(l1);
    if ((pte & V) === 0) {
      const table = this.next;
      this.next += 0x1000;
      pte = ((table >>> 12) << 10) | V;
      this.cpu.ram.write32(l1, pte);
    }
    return ((pte >>> 10) << 12) + ((va >>> 12) & 0x3ff) * 4;
  }
  map(va: number, pa: number, flags: number): number {
    const slot = this.leafSlot(va);
    this.cpu.ram.write32(slot, ((pa >>> 12) << 10) | flags);
    return slot;
  }
  mapSuper(va: number, pa: number, flags: number): number {
    const slot = ROOT + (va >>> 22) * 4;
    this.cpu.ram.write32(slot, ((pa >>> 12) << 10) | flags);
    return slot;
  }
  pte(slot: number): number {
    return this.cpu.ram.read32(slot);
  }
}

/** A CPU with the MMU on: code (0x1000), handler (0x3000) identity-mapped R|X. */
function setup(mode: Mode): { cpu: TestCpu; pt: PageTables } {
  const cpu = new TestCpu(mode);
  const pt = new PageTables(cpu);
  pt.map(0x1000, 0x1000, V | R | X);
  pt.map(0x2000, 0x2000, V | R | X | U);
  pt.map(HANDLER, HANDLER, V | R | X);
  cpu.load([enc('csrrw', 'zero', 0x104, 'zero'), enc('wfi')], HANDLER);
  cpu.hart.stvec = HANDLER;
  cpu.hart.satp = (0x80000000 | (ROOT >>> 12)) | 0;
  return { cpu, pt };
}

function run(cpu: TestCpu, code: number[], at = 0x1000): void {
  cpu.load([...code, enc('wfi')], at);
  cpu.hart.pc = at;
  cpu.runToWfi();
}

const DATA_VA = 0x40001000;
const DATA_PA = 0x8000;

for (const mode of MODES) {
  test(`${mode}: 4 KiB pages translate loads, stores and fetches; A and D are set by the walker`, () => {
    const { cpu, pt } = setup(mode);
    const slot = pt.map(DATA_VA, DATA_PA, V | R | W);
    cpu.ram.write32(DATA_PA + 8, 0x600df00d);
    run(cpu, [...li('s0', DATA_VA), enc('lw', 'a0', 's0', 8)]);
    assert.equal(cpu.x('a0'), 0x600df00d);
    assert.equal(pt.pte(slot) & (A | D), A, 'load sets A only');
    run(cpu, [...li('s0', DATA_VA), ...li('t0', 77), enc('sw', 't0', 's0', 12)]);
    assert.equal(cpu.ram.read32(DATA_PA + 12), 77);
    assert.equal(pt.pte(slot) & (A | D), A | D, 'store sets D');
    assert.equal(cpu.hart.scause, 0);
    // Code executing from a page mapped at a different virtual address.
    pt.map(0x50000000, 0x5000, V | X);
    cpu.load([enc('addi', 'a1', 'zero', 5), enc('wfi')], 0x5000);
    cpu.hart.pc = 0x50000000;
    cpu.runToWfi();
    assert.equal(cpu.x('a1'), 5);
  });

  test(`${mode}: 4 MiB superpages translate; a misaligned superpage faults`, () => {
    const { cpu, pt } = setup(mode);
    pt.mapSuper(0x80000000, 0, V | R | W);
    cpu.ram.write32(0x8000, 1234);
    run(cpu, [...li('s0', 0x80008000), enc('lw', 'a0', 's0', 0), ...li('s1', 0x803ffffc), ...li('t0', 99), enc('sw', 't0', 's1', 0)]);
    assert.equal(cpu.x('a0'), 1234);
    assert.equal(cpu.ram.read32(0x3ffffc), 99);
    pt.mapSuper(0xc0000000, 0x1000, V | R | W); // PPN[0] != 0
    run(cpu, [enc('sfence.vma'), ...li('s0', 0xc0000010), enc('lw', 'a0', 's0', 0)]);
    assert.equal(cpu.hart.scause, 13);
    assert.equal(cpu.hart.stval, 0xc0000010 | 0);
  });

  test(`${mode}: invalid and malformed PTEs raise the page fault of the access type`, () => {
    for (const [flags, super_] of [
      [0, false], // V = 0
      [V | W, false], // W without R is reserved
      [V | W | X, false],
      [V, true], // pointer at level 1 → level 0 entry is V=0 (fresh table) — and a pointer at level 0 is invalid below
    ] as const) {
      for (const [insn, cause] of [
        [enc('lw', 'a0', 's0', 0), 13],
        [enc('sw', 'a0', 's0', 0), 15],
        [enc('jalr', 'zero', 's0', 0), 12],
      ] as const) {
        const { cpu, pt } = setup(mode);
        if (super_) {
          // A level-0 "leaf" with no R/X is a pointer: there is no level below 0.
          pt.map(DATA_VA, 0x9000, V);
        } else pt.map(DATA_VA, DATA_PA, flags);
        run(cpu, [...li('s0', DATA_VA), insn]);
        assert.equal(cpu.hart.scause, cause, `flags ${flags} insn ${(insn >>> 0).toString(16)}`);
        assert.equal(cpu.hart.stval, DATA_VA);
      }
    }
  });

  test(`${mode}: R/W/X permissions and MXR`, () => {
    const { cpu, pt } = setup(mode);
    pt.map(DATA_VA, DATA_PA, V | X); // execute-only
    pt.map(DATA_VA + 0x1000, DATA_PA, V | R); // read-only
    pt.map(DATA_VA + 0x2000, DATA_PA, V | R | W); // no X
    cpu.ram.write32(DATA_PA, 42);
    run(cpu, [...li('s0', DATA_VA), enc('lw', 'a0', 's0', 0)]);
    assert.equal(cpu.hart.scause, 13, 'load from execute-only');
    cpu.hart.scause = 0;
    run(cpu, [...li('t0', MXR), enc('csrrs', 'zero', SSTATUS, 't0'), ...li('s0', DATA_VA), enc('lw', 'a0', 's0', 0)]);
    assert.equal(cpu.hart.scause, 0);
    assert.equal(cpu.x('a0'), 42, 'MXR makes executable pages readable');
    run(cpu, [...li('t0', MXR), enc('csrrc', 'zero', SSTATUS, 't0'), ...li('s0', DATA_VA), enc('lw', 'a0', 's0', 0)]);
    assert.equal(cpu.hart.scause, 13, 'clearing MXR takes it back (cached translations included)');
    cpu.hart.scause = 0;
    run(cpu, [...li('s0', DATA_VA + 0x1000), enc('sw', 'a0', 's0', 0)]);
    assert.equal(cpu.hart.scause, 15, 'store to read-only');
    cpu.hart.scause = 0;
    run(cpu, [...li('s0', DATA_VA + 0x2000), enc('jalr', 'zero', 's0', 0)]);
    assert.equal(cpu.hart.scause, 12, 'fetch from non-executable');
    assert.equal(cpu.hart.stval, DATA_VA + 0x2000);
  });

  test(`${mode}: U pages: S-mode needs SUM for data and never executes them; U-mode cannot touch S pages`, () => {
    const { cpu, pt } = setup(mode);
    pt.map(DATA_VA, DATA_PA, V | R | W | X | U);
    cpu.ram.write32(DATA_PA, 7);
    run(cpu, [...li('s0', DATA_VA), enc('lw', 'a0', 's0', 0)]);
    assert.equal(cpu.hart.scause, 13, 'S load from U page without SUM');
    cpu.hart.scause = 0;
    run(cpu, [...li('t0', SUM), enc('csrrs', 'zero', SSTATUS, 't0'), ...li('s0', DATA_VA), enc('lw', 'a0', 's0', 0), enc('sw', 'a0', 's0', 4)]);
    assert.equal(cpu.hart.scause, 0);
    assert.equal(cpu.x('a0'), 7);
    assert.equal(cpu.ram.read32(DATA_PA + 4), 7);
    run(cpu, [...li('t0', SUM), enc('csrrc', 'zero', SSTATUS, 't0'), ...li('s0', DATA_VA), enc('lw', 'a1', 's0', 0)]);
    assert.equal(cpu.hart.scause, 13, 'clearing SUM revokes the cached access');
    cpu.hart.scause = 0;
    run(cpu, [...li('t0', SUM), enc('csrrs', 'zero', SSTATUS, 't0'), ...li('s0', DATA_VA), enc('jalr', 'zero', 's0', 0)]);
    assert.equal(cpu.hart.scause, 12, 'S never executes U pages, SUM or not');
    // U-mode: runs the U page at 0x2000, touches the S data page → fault.
    pt.map(DATA_VA + 0x1000, DATA_PA, V | R | W);
    cpu.load([...li('s0', DATA_VA), enc('lw', 'a2', 's0', 0), ...li('s1', DATA_VA + 0x1000), enc('lw', 'a3', 's1', 0), enc('ecall')], 0x2000);
    run(cpu, [...li('t6', 0x2000), enc('csrrw', 'zero', 0x141, 't6'), ...li('t6', 1 << 8), enc('csrrc', 'zero', SSTATUS, 't6'), enc('sret')]);
    assert.equal(cpu.x('a2'), 7, 'U loads from its U page');
    assert.equal(cpu.hart.scause, 13, 'U load from an S page faults');
    assert.equal(cpu.hart.stval, DATA_VA + 0x1000);
    assert.equal(cpu.hart.sepc, 0x2000 + 4 * 5);
  });

  test(`${mode}: page tables outside RAM and physical addresses beyond 32 bits are access faults`, () => {
    const { cpu, pt } = setup(mode);
    // Level-1 pointer to a table at 0x2000_0000 (nothing there).
    cpu.ram.write32(ROOT + (0x70000000 >>> 22) * 4, ((0x20000000 >>> 12) << 10) | V);
    run(cpu, [...li('s0', 0x70000000), enc('lw', 'a0', 's0', 0)]);
    assert.equal(cpu.hart.scause, 5);
    assert.equal(cpu.hart.stval, 0x70000000);
    cpu.hart.scause = 0;
    // PPN with bit 21 set → 0x2_0000_0000 + ...: beyond the 32-bit bus.
    const slot = pt.map(DATA_VA, 0, V | R | W);
    cpu.ram.write32(slot, (1 << 31) | (0 << 10) | V | R | W);
    run(cpu, [enc('sfence.vma'), ...li('s0', DATA_VA), enc('sw', 'a0', 's0', 0)]);
    assert.equal(cpu.hart.scause, 7);
  });

  test(`${mode}: probe() translates for the debugger without touching A/D bits or the TLB`, () => {
    const { cpu, pt } = setup(mode);
    const slot = pt.map(DATA_VA, DATA_PA, V | R | W | U);
    const h = cpu.hart;
    assert.equal(h.probe(DATA_VA + 0x123, 1, 0), DATA_PA + 0x123, 'as U-mode');
    assert.equal(h.probe(DATA_VA, 1), -1, 'S-mode without SUM cannot read a U page');
    assert.equal(h.probe(DATA_VA + 4, 2, 0), DATA_PA + 4, 'U-mode store');
    assert.equal(h.probe(0x1000, 0), 0x1000, 'S-mode fetch of its code');
    assert.equal(h.probe(0x7000_0000, 1), -1);
    assert.equal(pt.pte(slot) & (A | D), 0, 'no A/D update');
    assert.equal(h.ltag.filter((t) => t !== -1).length, 0, 'no TLB fill');
    h.satp = 0;
    assert.equal(h.probe(0x1234, 0), 0x1234, 'bare mode: identity');
  });

  test(`${mode}: stale translations go away on sfence.vma (all or one page) and satp writes`, () => {
    const { cpu, pt } = setup(mode);
    const slot = pt.map(DATA_VA, 0x8000, V | R | W | A | D);
    const slot2 = pt.map(DATA_VA + 0x1000, 0x8000, V | R | W | A | D);
    cpu.ram.write32(0x8000, 1);
    cpu.ram.write32(0x9000, 2);
    const load = [...li('s0', DATA_VA), enc('lw', 'a0', 's0', 0), ...li('s1', DATA_VA + 0x1000), enc('lw', 'a1', 's1', 0)];
    run(cpu, load);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1')], [1, 1]);
    // Remap both pages to 0x9000 in memory only: the TLB may (and here does) keep the old ones.
    cpu.ram.write32(slot, ((0x9000 >>> 12) << 10) | V | R | W | A | D);
    cpu.ram.write32(slot2, ((0x9000 >>> 12) << 10) | V | R | W | A | D);
    run(cpu, load);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1')], [1, 1], 'cached until a fence');
    run(cpu, [...li('t0', DATA_VA), enc('sfence.vma', 't0', 'zero'), ...load]);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1')], [2, 1], 'sfence.vma addr flushes that page only');
    run(cpu, [enc('sfence.vma', 'zero', 'zero'), ...load]);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1')], [2, 2]);
    // Writing satp is no fence (§4.1.11): rewriting the same value keeps the translations.
    cpu.ram.write32(slot, ((0x8000 >>> 12) << 10) | V | R | W | A | D);
    run(cpu, [enc('csrrs', 't0', SATP, 'zero'), enc('csrrw', 'zero', SATP, 't0'), ...load]);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1')], [2, 2], 'a satp write is not a fence');
    run(cpu, [enc('sfence.vma', 'zero', 'zero'), ...load]);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1')], [1, 2]);
  });

  test(`${mode}: one data walk fills both data TLBs when the PTE allows both accesses (W with D for a store)`, () => {
    const { cpu, pt } = setup(mode);
    const dirty = pt.map(DATA_VA, 0x8000, V | R | W | A | D);
    const clean = pt.map(DATA_VA + 0x1000, 0x9000, V | R | W | A);
    const readOnly = pt.map(DATA_VA + 0x2000, 0xa000, V | R | A | D);
    // A load of each page, then every PTE made invalid in memory only (no fence): an access that
    // walks again now faults, one the load's walk filled for does not.
    run(cpu, [...li('s0', DATA_VA), ...li('s1', DATA_VA + 0x1000), ...li('s2', DATA_VA + 0x2000), enc('lw', 'a0', 's0', 0), enc('lw', 'a0', 's1', 0), enc('lw', 'a0', 's2', 0)]);
    for (const slot of [dirty, clean, readOnly]) cpu.ram.write32(slot, 0);
    run(cpu, [...li('s0', DATA_VA), ...li('t0', 5), enc('sw', 't0', 's0', 4)]);
    assert.equal(cpu.hart.scause, 0, 'the load of a writable dirty page filled its store entry too');
    assert.equal(cpu.ram.read32(0x8004), 5);
    run(cpu, [...li('s0', DATA_VA + 0x1000), ...li('t0', 6), enc('sw', 't0', 's0', 4)]);
    assert.equal(cpu.hart.scause, 15, 'a clean page: the store walks (to set D) and finds the PTE gone');
    assert.equal(cpu.ram.read32(0x9004), 0);
    cpu.hart.scause = 0;
    // (one instruction further on: the same fault at the same pc twice would read as a handler faulting on itself)
    run(cpu, [...li('s0', DATA_VA + 0x2000), ...li('t0', 7), enc('addi', 'zero', 'zero', 0), enc('sw', 't0', 's0', 4)]);
    assert.equal(cpu.hart.scause, 15, 'a read-only page: no store entry');
    // The other way: a store's walk fills the load entry (W implies R).
    cpu.hart.scause = 0;
    const fresh = pt.map(DATA_VA + 0x3000, 0xb000, V | R | W);
    run(cpu, [...li('s0', DATA_VA + 0x3000), ...li('t0', 8), enc('sw', 't0', 's0', 0)]);
    cpu.ram.write32(fresh, 0);
    run(cpu, [...li('s0', DATA_VA + 0x3000), enc('lw', 'a0', 's0', 0)]);
    assert.equal(cpu.hart.scause, 0);
    assert.equal(cpu.x('a0'), 8);
  });

  test(`${mode}: ASIDs: a context switch keeps each address space's translations; sfence.vma by ASID drops only that one`, () => {
    const { cpu, pt } = setup(mode);
    // A second address space: a copy of the root (same code mappings), its data page elsewhere.
    const ROOT_B = 0x200000;
    for (let i = 0; i < 1024; i++) cpu.ram.write32(ROOT_B + 4 * i, cpu.ram.read32(ROOT + 4 * i));
    const slotA = pt.map(DATA_VA, 0x8000, V | R | W | A | D); // allocates A's level-0 table for DATA_VA
    const l0B = 0x300000;
    cpu.ram.write32(ROOT_B + (DATA_VA >>> 22) * 4, ((l0B >>> 12) << 10) | V);
    const slotB = l0B + ((DATA_VA >>> 12) & 0x3ff) * 4;
    cpu.ram.write32(slotB, ((0x9000 >>> 12) << 10) | V | R | W | A | D);
    cpu.ram.write32(0x8000, 1);
    cpu.ram.write32(0x9000, 2);
    cpu.ram.write32(0xa000, 3);
    const satpA = (0x80000000 | (1 << 22) | (ROOT >>> 12)) | 0;
    const satpB = (0x80000000 | (2 << 22) | (ROOT_B >>> 12)) | 0;
    cpu.hart.satp = satpA;
    const switchTo = (satp: number) => [...li('t0', satp), enc('csrrw', 'zero', SATP, 't0')];
    const load = [...li('s0', DATA_VA), enc('lw', 'a0', 's0', 0)];
    const both = [...load, ...switchTo(satpB), enc('lw', 'a1', 's0', 0), ...switchTo(satpA)];
    run(cpu, both);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1')], [1, 2], 'each address space translates through its own tables');
    // Both leaves now point at 0xa000, in memory only: both address spaces keep their entries.
    cpu.ram.write32(slotA, ((0xa000 >>> 12) << 10) | V | R | W | A | D);
    cpu.ram.write32(slotB, ((0xa000 >>> 12) << 10) | V | R | W | A | D);
    run(cpu, both);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1')], [1, 2], 'switching back and forth flushed nothing');
    // sfence.vma x0, asid(B): B reloads, A keeps its stale entry.
    run(cpu, [...li('t1', 2), enc('sfence.vma', 'zero', 't1'), ...both]);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1')], [1, 3], 'only ASID 2 was fenced');
    // sfence.vma va, x0 names every address space.
    run(cpu, [...li('t1', DATA_VA), enc('sfence.vma', 't1', 'zero'), ...load]);
    assert.equal(cpu.x('a0'), 3);
  });

  test(`${mode}: a new address space inherits the global (kernel) translations, not the others`, () => {
    const { cpu, pt } = setup(mode);
    const GLOBAL_VA = 0x50002000, LOCAL_VA = 0x50003000;
    const gslot = pt.map(GLOBAL_VA, 0x8000, V | R | W | G | A | D);
    const lslot = pt.map(LOCAL_VA, 0x9000, V | R | W | A | D);
    cpu.ram.write32(0x8000, 1);
    cpu.ram.write32(0x9000, 2);
    cpu.ram.write32(0xa000, 3);
    // Address space B: another ASID, a copy of the root (the same mappings).
    const ROOT_B = 0x200000;
    for (let i = 0; i < 1024; i++) cpu.ram.write32(ROOT_B + 4 * i, cpu.ram.read32(ROOT + 4 * i));
    cpu.hart.satp = (0x80000000 | (1 << 22) | (ROOT >>> 12)) | 0;
    const load = [...li('s0', GLOBAL_VA), enc('lw', 'a0', 's0', 0), ...li('s1', LOCAL_VA), enc('lw', 'a1', 's1', 0)];
    run(cpu, load);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1')], [1, 2]);
    // Both leaves now point at 0xa000 in memory; B has never run, so whatever it has cached came from A.
    cpu.ram.write32(gslot, ((0xa000 >>> 12) << 10) | V | R | W | G | A | D);
    cpu.ram.write32(lslot, ((0xa000 >>> 12) << 10) | V | R | W | A | D);
    run(cpu, [...li('t0', (0x80000000 | (2 << 22) | (ROOT_B >>> 12)) | 0), enc('csrrw', 'zero', SATP, 't0'), ...load]);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1')], [1, 3], 'the global entry came along, the other was walked afresh');
    run(cpu, [enc('sfence.vma', 'zero', 'zero'), ...load]);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1')], [3, 3], 'a full fence drops inherited entries too');
  });

  test(`${mode}: sfence.vma by ASID keeps global translations (§4.2.1); sfence.vma without one drops them`, () => {
    const { cpu, pt } = setup(mode);
    const GLOBAL_VA = 0x50002000, LOCAL_VA = 0x50003000, GLOBAL_CODE = 0x50004000;
    const gslot = pt.map(GLOBAL_VA, 0x8000, V | R | W | G | A | D);
    const lslot = pt.map(LOCAL_VA, 0x9000, V | R | W | A | D);
    // A global code page: a function returning 1 in a0 (and, where the leaf will point, 2).
    const cslot = pt.map(GLOBAL_CODE, 0xb000, V | R | X | G | A);
    cpu.load([enc('addi', 'a2', 'zero', 1), enc('jalr', 'zero', 'ra', 0)], 0xb000);
    cpu.load([enc('addi', 'a2', 'zero', 2), enc('jalr', 'zero', 'ra', 0)], 0xc000);
    cpu.ram.write32(0x8000, 1);
    cpu.ram.write32(0x9000, 2);
    cpu.ram.write32(0xa000, 3);
    cpu.hart.satp = (0x80000000 | (1 << 22) | (ROOT >>> 12)) | 0;
    const work = [...li('s0', GLOBAL_VA), enc('lw', 'a0', 's0', 0), ...li('s1', LOCAL_VA), enc('lw', 'a1', 's1', 0), ...li('t2', GLOBAL_CODE), enc('jalr', 'ra', 't2', 0)];
    run(cpu, work);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1'), cpu.x('a2')], [1, 2, 1]);
    // Every leaf now points elsewhere, in memory only.
    cpu.ram.write32(gslot, ((0xa000 >>> 12) << 10) | V | R | W | G | A | D);
    cpu.ram.write32(lslot, ((0xa000 >>> 12) << 10) | V | R | W | A | D);
    cpu.ram.write32(cslot, ((0xc000 >>> 12) << 10) | V | R | X | G | A);
    run(cpu, [...li('t1', 1), enc('sfence.vma', 'zero', 't1'), ...work]);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1'), cpu.x('a2')], [1, 3, 1], 'the ASID fence dropped the local entry only: global data and code kept');
    run(cpu, [enc('sfence.vma', 'zero', 'zero'), ...work]);
    assert.deepEqual([cpu.x('a0'), cpu.x('a1'), cpu.x('a2')], [3, 3, 2], 'a fence of every address space drops global entries too');
  });

  test(`${mode}: sfence.vma of an address inside a superpage drops the whole superpage`, () => {
    const { cpu, pt } = setup(mode);
    const slot = pt.mapSuper(0x80000000, 0, V | R | W | A | D);
    cpu.ram.write32(0x8000, 5);
    const load = [...li('s0', 0x80008000), enc('lw', 'a0', 's0', 0)];
    run(cpu, load);
    assert.equal(cpu.x('a0'), 5);
    cpu.ram.write32(slot, 0); // unmap
    run(cpu, [...li('t0', 0x80100000), enc('sfence.vma', 't0', 'zero'), ...load]);
    assert.equal(cpu.hart.scause, 13, 'another 4 KiB piece of the superpage was named, the whole leaf is gone');
  });

  test(`${mode}: a fetch running off the end of a mapped page into an unmapped one faults at the new page`, () => {
    const { cpu, pt } = setup(mode);
    pt.map(0x60000000, 0x6000, V | R | X);
    cpu.load([enc('addi', 'a0', 'zero', 1)], 0x6ffc);
    cpu.hart.pc = 0x60000ffc;
    cpu.runToWfi();
    assert.equal(cpu.x('a0'), 1);
    assert.equal(cpu.hart.scause, 12);
    assert.equal(cpu.hart.stval, 0x60001000);
    assert.equal(cpu.hart.sepc, 0x60001000);
  });

  test(`${mode}: sstatus.SUM toggled in a hot loop: each access sees the SUM of its moment`, () => {
    // Translated code keeps the load/store key (privilege and SUM) fixed: a CSR write that
    // changes SUM must leave it. The handler turns SUM back on, so translated code is entered
    // with SUM set; a clear that did not leave would let the next load use the SUM entry.
    const { cpu, pt } = setup(mode);
    pt.map(DATA_VA, DATA_PA, V | R | W | U);
    cpu.ram.write32(DATA_PA, 7);
    // The handler: SUM on, skip the faulting load, count it.
    cpu.load([enc('csrrs', 'zero', SSTATUS, 't0'), enc('csrrs', 't5', 0x141, 'zero'), enc('addi', 't5', 't5', 4), enc('csrrw', 'zero', 0x141, 't5'), enc('addi', 's5', 's5', 1), enc('sret')], HANDLER);
    const loop = [
      enc('csrrs', 'zero', SSTATUS, 't0'),
      enc('lw', 'a0', 's0', 0), // SUM set: reads the U page
      enc('add', 's2', 's2', 'a0'),
      enc('csrrc', 'zero', SSTATUS, 't0'),
      enc('lw', 'a1', 's0', 0), // SUM clear: faults
      enc('addi', 's1', 's1', -1),
    ];
    run(cpu, [...li('t0', SUM), ...li('s0', DATA_VA), ...li('s1', 3000), ...loop, enc('bne', 's1', 'zero', -4 * loop.length)]);
    assert.equal(cpu.x('s2'), 7 * 3000, 'every load with SUM set read the U page');
    assert.equal(cpu.x('s5'), 3000, 'every load after the clear faulted');
    assert.equal(cpu.x('a1'), 0);
    assert.equal(cpu.hart.scause, 13);
  });

  test(`${mode}: a SUM change is seen by loads in the next page translated code runs`, () => {
    // The key changes inside a block; the function it calls in another page must see it.
    const { cpu, pt } = setup(mode);
    pt.map(DATA_VA, DATA_PA, V | R | W | U);
    pt.map(0x4000, 0x4000, V | R | X);
    cpu.ram.write32(DATA_PA, 7);
    // The handler: SUM on, skip the faulting load, count it.
    cpu.load([enc('csrrs', 'zero', SSTATUS, 't0'), enc('csrrs', 't5', 0x141, 'zero'), enc('addi', 't5', 't5', 4), enc('csrrw', 'zero', 0x141, 't5'), enc('addi', 's5', 's5', 1), enc('sret')], HANDLER);
    cpu.load([enc('lw', 'a0', 's0', 0), enc('jalr', 'zero', 'ra', 0)], 0x4000); // the callee
    const head = [...li('t0', SUM), ...li('s0', DATA_VA), ...li('s1', 3000)];
    const at = (i: number) => 0x1000 + 4 * (head.length + i);
    const loop = [
      enc('csrrs', 'zero', SSTATUS, 't0'),
      enc('jal', 'ra', 0x4000 - at(1)), // SUM set: the load reads the U page
      enc('add', 's2', 's2', 'a0'),
      enc('csrrc', 'zero', SSTATUS, 't0'),
      enc('addi', 'a0', 'zero', 0),
      enc('jal', 'ra', 0x4000 - at(5)), // SUM clear: the load faults
      enc('add', 's3', 's3', 'a0'),
      enc('addi', 's1', 's1', -1),
    ];
    run(cpu, [...head, ...loop, enc('bne', 's1', 'zero', -4 * loop.length)]);
    assert.equal(cpu.x('s2'), 7 * 3000, 'every load with SUM set read the U page');
    assert.equal(cpu.x('s5'), 3000, 'every load after the clear faulted');
    assert.equal(cpu.x('s3'), 0, 'and read nothing');
  });
}
