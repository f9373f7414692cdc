import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Plic } from '../../src/emulator/devices/plic';
import { PLIC_BASE } from '../../src/emulator/devices/map';
import { MIP_SEIP } from '../../src/emulator/types';
import { FakeHart, makeBus } from './helpers';

const PRIO = (s: number) => PLIC_BASE + 4 * s;
const PENDING = PLIC_BASE + 0x1000;
const ENABLE = (ctx: number) => PLIC_BASE + 0x2000 + 0x80 * ctx;
const THRESHOLD = (ctx: number) => PLIC_BASE + 0x200000 + 0x1000 * ctx;
const CLAIM = (ctx: number) => THRESHOLD(ctx) + 4;

function setup(harts = 1) {
  const bus = makeBus(1 << 20);
  const hs = Array.from({ length: harts }, () => new FakeHart());
  const plic = new Plic(PLIC_BASE, hs);
  bus.add(plic);
  const rd = (a: number) => bus.read(a, 4);
  const wr = (a: number, v: number) => bus.write(a, 4, v);
  return { bus, plic, hs, rd, wr };
}

/** What Linux's plic_init + irq unmask do for the given sources on context 0. */
function linuxEnable(wr: (a: number, v: number) => void, sources: number[], ctx = 0) {
  let mask = 0;
  for (const s of sources) {
    wr(PRIO(s), 1);
    mask |= 1 << s;
  }
  wr(ENABLE(ctx), mask);
  wr(THRESHOLD(ctx), 0);
}

test('claim/complete: a level source pends, is claimed, and pends again only if still high', () => {
  const { plic, hs, rd, wr } = setup();
  linuxEnable(wr, [3]);
  plic.setIrq(3, true);
  assert.equal(rd(PENDING), 1 << 3);
  assert.ok(hs[0].mip & MIP_SEIP);
  assert.equal(rd(CLAIM(0)), 3);
  assert.equal(rd(PENDING), 0);
  assert.equal(hs[0].mip & MIP_SEIP, 0, 'claimed: no longer signalled');
  assert.equal(rd(CLAIM(0)), 0, 'nothing else to claim');
  wr(CLAIM(0), 3); // complete while the line is still high
  assert.equal(rd(PENDING), 1 << 3);
  assert.ok(hs[0].mip & MIP_SEIP);
  assert.equal(rd(CLAIM(0)), 3);
  plic.setIrq(3, false); // device acknowledged
  wr(CLAIM(0), 3);
  assert.equal(rd(PENDING), 0);
  assert.equal(hs[0].mip & MIP_SEIP, 0);
});

test('while claimed, a source does not pend again until completion', () => {
  const { plic, rd, wr } = setup();
  linuxEnable(wr, [1]);
  plic.setIrq(1, true);
  assert.equal(rd(CLAIM(0)), 1);
  plic.setIrq(1, false);
  plic.setIrq(1, true);
  assert.equal(rd(PENDING), 0, 'gateway closed while in service');
  wr(CLAIM(0), 1);
  assert.equal(rd(PENDING), 1 << 1);
});

test('priority picks the winner; ties go to the lowest ID; priority 0 never interrupts', () => {
  const { plic, hs, rd, wr } = setup();
  wr(ENABLE(0), (1 << 2) | (1 << 4) | (1 << 5) | (1 << 6));
  wr(PRIO(2), 1);
  wr(PRIO(4), 3);
  wr(PRIO(5), 3);
  wr(PRIO(6), 0);
  for (const s of [2, 4, 5, 6]) plic.setIrq(s, true);
  assert.equal(rd(CLAIM(0)), 4);
  assert.equal(rd(CLAIM(0)), 5);
  assert.equal(rd(CLAIM(0)), 2);
  assert.equal(rd(CLAIM(0)), 0, 'source 6 has priority 0');
  assert.equal(hs[0].mip & MIP_SEIP, 0);
  assert.equal(rd(PENDING) & (1 << 6), 1 << 6, 'yet it is pending');
});

test('threshold masks sources whose priority does not exceed it', () => {
  const { plic, hs, rd, wr } = setup();
  linuxEnable(wr, [7]);
  wr(PRIO(7), 2);
  wr(THRESHOLD(0), 2);
  plic.setIrq(7, true);
  assert.equal(hs[0].mip & MIP_SEIP, 0);
  assert.equal(rd(CLAIM(0)), 0);
  wr(THRESHOLD(0), 1);
  assert.ok(hs[0].mip & MIP_SEIP);
  wr(THRESHOLD(0), 7); // Linux's PLIC_DISABLE_THRESHOLD
  assert.equal(hs[0].mip & MIP_SEIP, 0);
  assert.equal(rd(THRESHOLD(0)), 7);
});

test('registers read back: priorities are 3 bits, enable bit 0 is hardwired to 0', () => {
  const { rd, wr } = setup();
  wr(PRIO(9), 0xff);
  assert.equal(rd(PRIO(9)), 7);
  wr(ENABLE(0), 0xffffffff);
  assert.equal(rd(ENABLE(0)) >>> 0, 0xfffffffe);
  wr(PRIO(0), 5);
  assert.equal(rd(PRIO(0)), 0, 'source 0 does not exist');
});

test('disabling a source withdraws SEIP; a completion for a source not enabled is ignored (spec)', () => {
  const { plic, hs, rd, wr } = setup();
  linuxEnable(wr, [3]);
  plic.setIrq(3, true);
  assert.equal(rd(CLAIM(0)), 3);
  wr(ENABLE(0), 0); // masked while in service
  wr(CLAIM(0), 3);
  assert.equal(plic.claimedBits, 1 << 3, 'completion ignored');
  // Linux's plic_irq_eoi: enable, complete, disable
  wr(ENABLE(0), 1 << 3);
  wr(CLAIM(0), 3);
  wr(ENABLE(0), 0);
  assert.equal(plic.claimedBits, 0);
  assert.equal(hs[0].mip & MIP_SEIP, 0);
});

test('one context per hart: each hart gets SEIP for what its context enables', () => {
  const { plic, hs, rd, wr } = setup(2);
  linuxEnable(wr, [1], 0);
  linuxEnable(wr, [2], 1);
  plic.setIrq(2, true);
  assert.equal(hs[0].mip & MIP_SEIP, 0);
  assert.ok(hs[1].mip & MIP_SEIP);
  assert.equal(rd(CLAIM(0)), 0);
  assert.equal(rd(CLAIM(1)), 2);
  // A source enabled on both: the first claim wins.
  wr(ENABLE(0), (1 << 1) | (1 << 5));
  wr(ENABLE(1), (1 << 2) | (1 << 5));
  wr(PRIO(5), 1);
  plic.setIrq(5, true);
  assert.ok(hs[0].mip & MIP_SEIP && hs[1].mip & MIP_SEIP);
  assert.equal(rd(CLAIM(1)), 5);
  assert.equal(rd(CLAIM(0)), 0);
  assert.equal(hs[0].mip & MIP_SEIP, 0);
});

test('out-of-range sources, contexts and narrow writes are harmless', () => {
  const { plic, bus, rd } = setup();
  plic.setIrq(0, true);
  plic.setIrq(32, true);
  plic.setIrq(-1, true);
  assert.equal(rd(PENDING), 0);
  assert.equal(rd(CLAIM(5)), 0, 'context 5 does not exist');
  bus.write(PRIO(3), 1, 5);
  assert.equal(rd(PRIO(3)), 0);
  assert.equal(bus.fault, false);
});
