// Data watchpoints in the machine (src/emulator/watch.ts): every engine stops right after the
// access that touches a watched byte (read, write, AMO), neighbours of a watched range do not
// stop, a device's write into RAM (DMA) fires a physical write watchpoint, and clearing the
// watchpoints removes every hook.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc, li } from '../../src/emulator/cpu/asm';
import { Machine, StopReason, type MachineConfig } from '../../src/emulator/machine';
import { WATCH_ACCESS, WATCH_READ, WATCH_WRITE } from '../../src/emulator/watch';
import type { MmioDevice, Width } from '../../src/emulator/types';

const MiB = 1 << 20;
const DATA = 0x10000; // physical = virtual (satp Bare)

function words(ws: number[]): Uint8Array {
  return new Uint8Array(Int32Array.from(ws).buffer);
}
function machine(code: number[], cfg: Partial<MachineConfig> = {}): Machine {
  return new Machine({ kernel: words(code), ramSize: 8 * MiB, time: 'icount', ...cfg }, { consoleOut: () => {} });
}

/** A loop: t0 = DATA; forever { a1 = lw 8(t0); sw a2, 4(t0); amoadd a3, a2, (t0+12); a2++ } */
function loop(): { code: number[]; load: number; store: number; amo: number } {
  const code = [...li('t0', DATA), ...li('t1', DATA + 12), enc('addi', 'a2', 'zero', 1)];
  const load = code.length * 4;
  code.push(enc('lw', 'a1', 't0', 8));
  const store = code.length * 4;
  code.push(enc('sw', 'a2', 't0', 4));
  const amo = code.length * 4;
  code.push(enc('amoadd.w', 'a3', 'a2', 't1'));
  code.push(enc('addi', 'a2', 'a2', 1));
  code.push(enc('jal', 'zero', -16));
  return { code, load, store, amo };
}

for (const engine of ['interp', 'fast', 'jit'] as const) {
  test(`${engine}: a write watchpoint stops after the store, with its pc and address`, () => {
    const p = loop();
    const m = machine(p.code, { engine });
    assert.equal(m.run(10_000), StopReason.Budget, 'runs freely before any watchpoint');
    m.setWatchpoints([{ id: 7, addr: DATA + 4, len: 4, kind: WATCH_WRITE, physical: false }]);
    assert.equal(m.run(10_000), StopReason.Watch);
    const hit = m.watch.hit!;
    assert.deepEqual(hit.ids, [7]);
    assert.equal(hit.access, WATCH_WRITE);
    assert.equal(hit.pc, p.store);
    assert.equal(hit.addr, DATA + 4);
    assert.equal(m.harts[0].pc, p.store + 4, 'the store retired: the hart is at the next instruction');
    assert.equal(m.ram.read32(DATA + 4), m.harts[0].x[12], 'the value is in memory');
    // Continuing stops at the next store (one loop iteration later).
    const before = m.harts[0].x[12];
    assert.equal(m.run(10_000), StopReason.Watch);
    assert.equal(m.harts[0].x[12], before + 1);
  });

  test(`${engine}: read and access watchpoints; a neighbouring byte does not stop`, () => {
    const p = loop();
    const m = machine(p.code, { engine });
    m.setWatchpoints([{ id: 1, addr: DATA + 7, len: 1, kind: WATCH_READ, physical: true }]);
    assert.equal(m.run(20_000), StopReason.Budget, 'byte 7 is next to the word at 8 that is read, and the store to 4..7 is no read');
    m.setWatchpoints([{ id: 2, addr: DATA + 10, len: 2, kind: WATCH_READ, physical: true }]);
    assert.equal(m.run(20_000), StopReason.Watch);
    assert.equal(m.watch.hit!.pc, p.load);
    assert.equal(m.watch.hit!.access, WATCH_READ);
    m.setWatchpoints([{ id: 3, addr: DATA + 12, len: 4, kind: WATCH_READ, physical: false }]);
    assert.equal(m.run(20_000), StopReason.Watch, 'an AMO reads');
    assert.equal(m.watch.hit!.pc, p.amo);
    m.setWatchpoints([{ id: 4, addr: DATA + 8, len: 8, kind: WATCH_ACCESS, physical: false }]);
    assert.equal(m.run(20_000), StopReason.Watch);
    assert.equal(m.watch.hit!.pc, p.load, 'the load comes first in the loop');
  });
}

/** A device at 0x3000_0000 whose register write copies a word into RAM (a DMA write). */
class DmaDevice implements MmioDevice {
  readonly name = 'dma';
  readonly base = 0x30000000;
  readonly size = 0x1000;
  constructor(private readonly m: () => Machine) {}
  read(): number {
    return 0;
  }
  write(_off: number, _w: Width, value: number): void {
    const ram = this.m().ram;
    ram.write32(DATA + 0x100, value);
    ram.noteWrite(DATA + 0x100, 4);
  }
}

test('a device write into RAM fires a physical write watchpoint; clearing removes every hook', () => {
  const code = [...li('t0', 0x30000000), enc('addi', 'a2', 'zero', 5), enc('sw', 'a2', 't0', 0), enc('addi', 'a2', 'a2', 1), enc('jal', 'zero', -8)];
  let mm: Machine | null = null;
  const m = machine(code);
  mm = m;
  m.bus.add(new DmaDevice(() => mm!));
  const codeHook = m.ram.onExternalWrite;
  m.setWatchpoints([{ id: 9, addr: DATA + 0x102, len: 1, kind: WATCH_WRITE, physical: true }]);
  assert.notEqual(m.ram.onExternalWrite, codeHook, 'RAM writes are watched');
  assert.equal(m.harts[0].watch, m.watch);
  assert.equal(m.run(10_000), StopReason.Watch);
  const hit = m.watch.hit!;
  assert.equal(hit.hart, -1, 'a device, not a hart');
  assert.equal(hit.addr, DATA + 0x102);
  assert.deepEqual(hit.ids, [9]);
  assert.equal(m.ram.read32(DATA + 0x100), 5);
  // The debugger's own writes (between runs) never fire.
  m.ram.noteWrite(DATA + 0x100, 4);
  assert.equal(m.watch.hit, hit);
  m.setWatchpoints([]);
  assert.equal(m.ram.onExternalWrite, codeHook, 'the write hook is the code cache\'s again');
  assert.equal(m.harts[0].watch, null, 'the harts hold no table');
  assert.equal(m.run(10_000), StopReason.Budget);
});

test('bad watchpoints are refused and leave the old ones', () => {
  const m = machine(loop().code);
  m.setWatchpoints([{ id: 1, addr: DATA, len: 4, kind: WATCH_WRITE, physical: false }]);
  assert.throws(() => m.setWatchpoints([{ id: 2, addr: DATA, len: 16, kind: WATCH_WRITE, physical: false }]), /1 to 8 bytes/);
  assert.throws(() => m.setWatchpoints(Array.from({ length: 33 }, (_, i) => ({ id: i, addr: DATA, len: 4, kind: WATCH_WRITE, physical: false }))), /at most 32/);
  assert.equal(m.watch.watchpoints.length, 1);
});

for (const engine of ['interp', 'fast', 'jit'] as const) {
  test(`${engine}: a watched page's translation follows the page table across sfence.vma`, () => {
    // Sv32: root table at 0x200000, leaf table at 0x201000; va 0x40000000 → pa 0x300000, later 0x301000.
    const ROOT = 0x200000, LEAF = 0x201000, VA = 0x40000000;
    const code = [
      ...li('t0', (ROOT >>> 12) | 0x80000000), enc('csrrw', 'zero', 0x180, 't0'), // satp
      ...li('t1', VA),
      enc('lw', 'a1', 't1', 0), // 0x14: read through the first mapping
      ...li('t2', ((0x301000 >>> 12) << 10) | 0xcf), ...li('t3', LEAF), enc('sw', 't2', 't3', 0), // remap
      enc('sfence.vma', 't1', 'zero'),
      enc('lw', 'a2', 't1', 0), // read through the new mapping
      enc('sw', 'a2', 't1', 4), // a store next to the watched word: no stop
      enc('jal', 'zero', 0),
    ];
    const m = machine(code, { engine });
    // Identity-map the code (superpage 0) and map VA's page through the leaf table.
    m.ram.write32(ROOT + 0, 0xcf); // V R W X A D, ppn 0 (superpage)
    m.ram.write32(ROOT + (VA >>> 22) * 4, ((LEAF >>> 12) << 10) | 1);
    m.ram.write32(LEAF, ((0x300000 >>> 12) << 10) | 0xcf);
    m.ram.write32(0x300000, 111);
    m.ram.write32(0x301000, 222);
    m.setWatchpoints([{ id: 1, addr: VA + 8, len: 4, kind: WATCH_WRITE, physical: false }]);
    assert.equal(m.run(1000), StopReason.Budget, 'nothing touches the watched word');
    const h = m.harts[0];
    assert.equal(h.x[11], 111);
    assert.equal(h.x[12], 222, 'after sfence.vma the watched page reads the new mapping');
    assert.equal(m.ram.read32(0x301004), 222, 'the store went through the new mapping');
  });
}

// Banked TLBs (one bank per satp value) and translated code: a watched page's entries never
// match a fast path in any bank, so a store made from translated code, in an address space
// left and re-entered (its bank kept), still stops; the neighbouring page keeps its fast path.
for (const engine of ['fast', 'jit'] as const) {
  test(`${engine}: a watchpoint stops translated code in every address space (banked TLBs)`, () => {
    const ROOT = 0x200000, LEAF = 0x201000, VA = 0x40000000;
    const SATP_A = (ROOT >>> 12) | 0x80000000 | (1 << 22); // ASID 1
    const SATP_B = (ROOT >>> 12) | 0x80000000 | (2 << 22); // ASID 2, same tables
    const code = [
      ...li('t0', SATP_A), ...li('t4', SATP_B),
      ...li('t1', VA), enc('addi', 'a2', 'zero', 0), ...li('a4', 300),
    ];
    const loopAt = code.length * 4;
    code.push(
      enc('csrrw', 'zero', 0x180, 't0'), // address space A
      enc('sw', 'a2', 't1', 0x1000), // the page next to the watched one
      enc('lw', 'a3', 't1', 0),
      enc('csrrw', 'zero', 0x180, 't4'), // address space B
      enc('sw', 'a2', 't1', 0x1004),
      enc('addi', 'a2', 'a2', 1),
      enc('blt', 'a2', 'a4', loopAt - (loopAt + 6 * 4)), // warm-up: 300 rounds, no watchpoint yet
    );
    const storeAt = code.length * 4;
    code.push(
      enc('csrrw', 'zero', 0x180, 't0'),
      enc('sw', 'a2', 't1', 8), // the watched word, from address space A
      enc('addi', 'a2', 'a2', 1),
      enc('csrrw', 'zero', 0x180, 't4'),
      enc('jal', 'zero', -16),
    );
    const m = machine(code, { engine });
    m.ram.write32(ROOT + 0, 0xcf); // code: superpage 0, identity
    m.ram.write32(ROOT + (VA >>> 22) * 4, ((LEAF >>> 12) << 10) | 1);
    m.ram.write32(LEAF, ((0x300000 >>> 12) << 10) | 0xcf);
    m.ram.write32(LEAF + 4, ((0x301000 >>> 12) << 10) | 0xcf);
    // Run into the second loop (it spins forever) with no watchpoint: its code gets hot.
    assert.equal(m.run(20_000), StopReason.Budget);
    const h = m.harts[0];
    assert.ok(h.x[12] > 300, 'the warm-up rounds ran and the second loop is spinning');
    if (engine === 'jit') assert.ok(m.code.translated > 0, 'the loops run as translated code');
    m.setWatchpoints([{ id: 5, addr: VA + 8, len: 4, kind: WATCH_WRITE, physical: false }]);
    let last = -1;
    for (let round = 0; round < 3; round++) {
      assert.equal(m.run(10_000), StopReason.Watch, `round ${round}: the store to the watched word stops`);
      assert.equal(m.watch.hit!.pc, storeAt + 4);
      assert.equal(h.pc, storeAt + 8, 'the store retired, the next instruction did not run');
      assert.equal(m.ram.read32(0x300008), h.x[12], 'the stored value is in memory');
      if (last >= 0) assert.equal(h.x[12], last + 1, 'one loop round between stops: no store was missed');
      last = h.x[12];
    }
    m.setWatchpoints([]);
    assert.equal(m.run(10_000), StopReason.Budget, 'cleared: runs freely again');
  });
}
