import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AclintMswi, AclintMtimer, AclintSswi } from '../../src/emulator/devices/aclint';
import { MSWI_BASE, MTIMER_BASE, SSWI_BASE } from '../../src/emulator/devices/map';
import { MIP_SSIP, MIP_STIP } from '../../src/emulator/types';
import { FakeHart, makeBus } from './helpers';

const TWO32 = 4294967296;

function setup(harts = 2) {
  const bus = makeBus(1 << 20);
  const hs = Array.from({ length: harts }, () => new FakeHart());
  const clock = { t: 0, now() { return this.t; } };
  const mtimer = new AclintMtimer(MTIMER_BASE, clock, hs);
  const mswi = new AclintMswi(MSWI_BASE, hs);
  const sswi = new AclintSswi(SSWI_BASE, hs);
  bus.add(mtimer);
  bus.add(mswi);
  bus.add(sswi);
  return { bus, hs, clock, mtimer, mswi, sswi };
}

test('mtime reads the clock as two 32-bit halves at 0x7FF8', () => {
  const { bus, clock } = setup();
  clock.t = 5 * TWO32 + 1234;
  assert.equal(bus.read(MTIMER_BASE + 0x7ff8, 4), 1234);
  assert.equal(bus.read(MTIMER_BASE + 0x7ffc, 4), 5);
  bus.write(MTIMER_BASE + 0x7ff8, 4, 0);
  assert.equal(bus.read(MTIMER_BASE + 0x7ff8, 4), 1234, 'mtime is the machine clock: writes ignored');
});

test('mtimecmp per hart at 8*h: STIP rises when mtime ≥ mtimecmp and falls when moved ahead', () => {
  const { bus, hs, clock, mtimer } = setup();
  assert.equal(mtimer.nextDeadline(), Infinity, 'reset value: all ones, nothing armed');
  mtimer.update();
  assert.equal(hs[0].mip & MIP_STIP, 0);
  // hart 1: compare at 1000 (write high then low, as a 32-bit kernel does)
  bus.write(MTIMER_BASE + 8 + 4, 4, 0);
  bus.write(MTIMER_BASE + 8, 4, 1000);
  assert.equal(bus.read(MTIMER_BASE + 8, 4), 1000);
  assert.equal(bus.read(MTIMER_BASE + 12, 4), 0);
  assert.equal(bus.read(MTIMER_BASE + 4, 4) >>> 0, 0xffffffff, "hart 0's compare untouched");
  assert.equal(mtimer.nextDeadline(), 1000);
  clock.t = 999;
  mtimer.update();
  assert.equal(hs[1].mip & MIP_STIP, 0);
  clock.t = 1000;
  mtimer.update();
  assert.ok(hs[1].mip & MIP_STIP);
  assert.equal(hs[0].mip & MIP_STIP, 0);
  bus.write(MTIMER_BASE + 8, 4, 5000);
  assert.equal(hs[1].mip & MIP_STIP, 0, 'a later compare clears STIP at once');
});

test('setTimecmp (SBI set_timer) above 2^32 and the all-ones value', () => {
  const { bus, hs, clock, mtimer } = setup();
  mtimer.setTimecmp(0, 3 * TWO32 + 7);
  assert.equal(bus.read(MTIMER_BASE + 0, 4), 7);
  assert.equal(bus.read(MTIMER_BASE + 4, 4), 3);
  clock.t = 3 * TWO32 + 6;
  mtimer.update();
  assert.equal(hs[0].mip & MIP_STIP, 0);
  clock.t = 3 * TWO32 + 7;
  mtimer.update();
  assert.ok(hs[0].mip & MIP_STIP);
  mtimer.setTimecmp(0, Infinity);
  assert.equal(hs[0].mip & MIP_STIP, 0);
  assert.equal(bus.read(MTIMER_BASE + 4, 4) >>> 0, 0xffffffff);
  mtimer.setTimecmp(0, 0);
  assert.ok(hs[0].mip & MIP_STIP, 'a compare in the past fires immediately');
});

test('MSWI msip is a level on SSIP; SSWI setssip sends an edge and reads 0', () => {
  const { bus, hs, sswi } = setup();
  bus.write(MSWI_BASE + 4, 4, 1);
  assert.ok(hs[1].mip & MIP_SSIP);
  assert.equal(bus.read(MSWI_BASE + 4, 4), 1);
  bus.write(MSWI_BASE + 4, 4, 0);
  assert.equal(hs[1].mip & MIP_SSIP, 0);

  bus.write(SSWI_BASE + 0, 4, 1);
  assert.ok(hs[0].mip & MIP_SSIP);
  assert.equal(bus.read(SSWI_BASE, 4), 0);
  bus.write(SSWI_BASE + 0, 4, 0);
  assert.ok(hs[0].mip & MIP_SSIP, 'writing 0 does not clear: the hart clears sip.SSIP');
  hs[0].setPending(MIP_SSIP, false);
  sswi.send(1);
  assert.ok(hs[1].mip & MIP_SSIP);
  sswi.send(7); // no such hart
  bus.write(SSWI_BASE + 0x100, 4, 1); // hart 64
  assert.equal(bus.fault, false);
});
