// The SBI as the kernel sees it, through ECALLs on a whole Machine (icount time, small RAM).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc, li, sbiCall, shutdown } from '../../src/emulator/cpu/asm';
import { Machine, StopReason, type MachineConfig } from '../../src/emulator/machine';

const MiB = 1 << 20;
const OUT = 0x10000; // results area
const EXT = { BASE: 0x10, TIME: 0x54494d45, IPI: 0x735049, RFENCE: 0x52464e43, HSM: 0x48534d, SRST: 0x53525354, DBCN: 0x4442434e };

function words(ws: number[]): Uint8Array {
  return new Uint8Array(Int32Array.from(ws).buffer);
}

function boot(code: number[], cfg: Partial<MachineConfig> = {}): { m: Machine; out: string[] } {
  const out: string[] = [];
  const m = new Machine({ kernel: words(code), ramSize: 8 * MiB, time: 'icount', ...cfg }, { consoleOut: (b, n) => out.push(Buffer.from(b.subarray(0, n)).toString('latin1')) });
  return { m, out };
}

function runToHalt(m: Machine, max = 1e6): StopReason {
  for (let i = 0; i < 100; i++) {
    const r = m.run(max);
    if (r !== StopReason.Budget && r !== StopReason.Idle) return r;
    if (r === StopReason.Idle && m.idleMilliseconds() === Infinity) return r;
  }
  return StopReason.Budget;
}

/** Stores a0 and a1 at OUT + 8k (after a call). */
function save(k: number): number[] {
  return [...li('s11', OUT + 8 * k), enc('sw', 'a0', 's11', 0), enc('sw', 'a1', 's11', 4)];
}

function results(m: Machine, n: number): [number, number][] {
  return Array.from({ length: n }, (_, k) => [m.ram.read32(OUT + 8 * k) | 0, m.ram.read32(OUT + 8 * k + 4) | 0] as [number, number]);
}

test('BASE: spec 2.0, implementation, probe, machine IDs; unknown extensions are not supported', () => {
  const call = (eid: number, fid: number, a0 = 0) => [...li('a0', a0), ...sbiCall(eid, fid)];
  const { m } = boot([
    ...call(EXT.BASE, 0), ...save(0),
    ...call(EXT.BASE, 1), ...save(1),
    ...call(EXT.BASE, 3, EXT.TIME), ...save(2),
    ...call(EXT.BASE, 3, EXT.HSM), ...save(3),
    ...call(EXT.BASE, 3, 0x12345), ...save(4),
    ...call(EXT.BASE, 4), ...save(5),
    ...call(EXT.BASE, 5), ...save(6),
    ...call(EXT.BASE, 6), ...save(7),
    ...call(0x0abcdef, 0), ...save(8),
    ...call(EXT.BASE, 99), ...save(9),
    ...shutdown(),
  ]);
  assert.equal(runToHalt(m), StopReason.Halted);
  const r = results(m, 10);
  assert.deepEqual(r[0], [0, 0x02000000]);
  assert.equal(r[1][0], 0);
  assert.deepEqual(r[2], [0, 1]);
  assert.deepEqual(r[3], [0, 1]);
  assert.deepEqual(r[4], [0, 0]);
  assert.deepEqual([r[5], r[6], r[7]], [[0, 0], [0, 0], [0, 0]]);
  assert.equal(r[8][0], -2);
  assert.equal(r[9][0], -2);
});

test('SRST: shutdown → exit 0, reboot → exit 0 with reason reboot, system failure → exit 1, bad type → INVALID_PARAM', () => {
  const srst = (type: number, reason: number) => [...li('a0', type), ...li('a1', reason), ...sbiCall(EXT.SRST, 0)];
  let { m } = boot(srst(0, 0));
  assert.equal(runToHalt(m), StopReason.Halted);
  assert.deepEqual([m.exitCode, m.haltReason], [0, 'poweroff']);
  ({ m } = boot(srst(1, 0)));
  assert.equal(runToHalt(m), StopReason.Halted);
  assert.deepEqual([m.exitCode, m.haltReason], [0, 'reboot']);
  ({ m } = boot(srst(2, 1)));
  assert.equal(runToHalt(m), StopReason.Halted);
  assert.deepEqual([m.exitCode, m.haltReason], [1, 'failure']);
  ({ m } = boot([...srst(7, 0), ...save(0), ...shutdown()]));
  assert.equal(runToHalt(m), StopReason.Halted);
  assert.equal(results(m, 1)[0][0], -3);
  assert.equal(m.run(100), StopReason.Halted, 'a halted machine stays halted');
});

test('TIME: set_timer raises STIP when time reaches it and clears it when moved to the future', () => {
  const SIP = 0x144;
  const { m } = boot([
    // stimecmp = 0 (the past): STIP pending at once (interrupts are not enabled).
    ...li('a0', 0), ...li('a1', 0), ...sbiCall(EXT.TIME, 0),
    enc('csrrs', 'a0', SIP, 'zero'), enc('csrrs', 'a1', 0xc01, 'zero'), ...save(0),
    // Far future: STIP clears.
    ...li('a0', -1), ...li('a1', 0x7fffffff), ...sbiCall(EXT.TIME, 0),
    enc('csrrs', 'a0', SIP, 'zero'), ...save(1),
    // now + 5000 ticks, then spin reading time until STIP shows.
    enc('csrrs', 't0', 0xc01, 'zero'), ...li('t1', 5000), enc('add', 'a0', 't0', 't1'), enc('add', 's2', 'a0', 'zero'), ...li('a1', 0), ...sbiCall(EXT.TIME, 0),
    enc('csrrs', 'a0', SIP, 'zero'), enc('andi', 'a0', 'a0', 32), enc('beq', 'a0', 'zero', -8),
    enc('csrrs', 'a1', 0xc01, 'zero'), enc('add', 'a0', 's2', 'zero'), ...save(2),
    ...shutdown(),
  ]);
  assert.equal(runToHalt(m), StopReason.Halted);
  const r = results(m, 3);
  assert.equal(r[0][0] & 32, 32, 'STIP set for a compare value in the past');
  assert.equal(r[1][0] & 32, 0, 'STIP cleared by a compare value in the future');
  assert.ok(r[2][1] >= r[2][0], `time ${r[2][1]} reached the compare value ${r[2][0]}`);
  assert.ok(r[2][1] - r[2][0] < 100, 'STIP shows within a few instructions of the deadline (icount)');
});

test('TIME: a timer interrupt wakes a WFI and is delivered to stvec', () => {
  const { m } = boot([
    ...li('t0', 0x200), enc('csrrw', 'zero', 0x105, 't0'), // stvec = 0x200
    ...li('t0', 32), enc('csrrw', 'zero', 0x104, 't0'), // sie.STIE
    enc('csrrs', 't0', 0xc01, 'zero'), ...li('t1', 100000), enc('add', 'a0', 't0', 't1'), ...li('a1', 0), ...sbiCall(EXT.TIME, 0),
    enc('csrrsi', 'zero', 0x100, 2), // SIE
    enc('wfi'),
    enc('jal', 'zero', -4),
  ].concat(Array(128).fill(0)).slice(0, 128).concat([
    // 0x200: handler
    enc('csrrs', 'a0', 0x142, 'zero'), enc('csrrs', 'a1', 0xc01, 'zero'), ...save(0), ...shutdown(),
  ]));
  assert.equal(runToHalt(m), StopReason.Halted);
  const [[cause, time]] = results(m, 1);
  assert.equal(cause >>> 0, 0x80000005);
  assert.ok(time >= 100000 && time < 100100, `woke at ${time}`);
});

test('IPI: send_ipi sets SSIP on the named harts; bad masks are INVALID_PARAM', () => {
  const { m } = boot([
    ...li('a0', 1), ...li('a1', 0), ...sbiCall(EXT.IPI, 0), ...save(0),
    enc('csrrs', 'a0', 0x144, 'zero'), ...save(1),
    ...li('a0', 4), ...li('a1', 0), ...sbiCall(EXT.IPI, 0), ...save(2), // hart 2 does not exist
    ...li('a0', 0), ...li('a1', -1), ...sbiCall(EXT.IPI, 0), ...save(3), // base -1: all harts
    ...shutdown(),
  ]);
  assert.equal(runToHalt(m), StopReason.Halted);
  const r = results(m, 4);
  assert.equal(r[0][0], 0);
  assert.equal(r[1][0] & 2, 2);
  assert.equal(r[2][0], -3);
  assert.equal(r[3][0], 0);
});

test('RFENCE: remote fences succeed for valid harts and flush', () => {
  const { m } = boot([
    ...li('a0', 1), ...li('a1', 0), ...sbiCall(EXT.RFENCE, 0), ...save(0),
    ...li('a0', 1), ...li('a1', 0), ...li('a2', 0), ...li('a3', 0), ...sbiCall(EXT.RFENCE, 1), ...save(1),
    ...li('a0', 1), ...li('a1', 0), ...li('a2', 0x1000), ...li('a3', 0x2000), ...li('a4', 1), ...sbiCall(EXT.RFENCE, 2), ...save(2),
    ...li('a0', 2), ...li('a1', 0), ...sbiCall(EXT.RFENCE, 0), ...save(3),
    ...sbiCall(EXT.RFENCE, 3), ...save(4), // hypervisor fence: no H extension
    ...shutdown(),
  ]);
  assert.equal(runToHalt(m), StopReason.Halted);
  assert.deepEqual(results(m, 5).map((r) => r[0]), [0, 0, 0, -3, -2]);
});

test('HSM: secondary harts start stopped; hart_start runs them with a0 = hartid, a1 = opaque; hart_stop', () => {
  const SECONDARY = 0x800;
  const main = [
    ...li('a0', 1), ...sbiCall(EXT.HSM, 2), ...save(0), // status of hart 1: STOPPED (1)
    ...li('a0', 1), ...li('a1', SECONDARY), ...li('a2', 0x5eed), ...sbiCall(EXT.HSM, 0), ...save(1),
    ...li('a0', 1), ...li('a1', SECONDARY), ...li('a2', 0), ...sbiCall(EXT.HSM, 0), ...save(2), // again: ALREADY_AVAILABLE
    ...li('a0', 7), ...li('a1', SECONDARY), ...sbiCall(EXT.HSM, 0), ...save(3), // no such hart
    ...li('a0', 1), ...li('a1', 0x10000002), ...sbiCall(EXT.HSM, 0), // (started already; address not checked)
    // wait for hart 1 to write its flag and stop
    ...li('s3', OUT + 0x100), enc('lw', 't0', 's3', 0), enc('beq', 't0', 'zero', -4),
    ...li('a0', 1), ...sbiCall(EXT.HSM, 2), enc('add', 's4', 'a0', 'zero'), enc('add', 's5', 'a1', 'zero'),
    enc('bne', 's5', 'zero', -16), // until hart 1 reports STOPPED... (a1 = 1 when stopped)
    ...save(4),
    ...shutdown(),
  ];
  const secondary = [
    ...li('s3', OUT + 0x104), enc('sw', 'a0', 's3', 0), enc('sw', 'a1', 's3', 4), enc('csrrs', 't0', 0x180, 'zero'), enc('sw', 't0', 's3', 8),
    ...li('s3', OUT + 0x100), ...li('t0', 1), enc('sw', 't0', 's3', 0),
    ...sbiCall(EXT.HSM, 1), // hart_stop: does not return
    enc('sw', 't0', 's3', 16), // never reached
  ];
  const code = main.concat(Array(512).fill(0)).slice(0, SECONDARY / 4).concat(secondary);
  const { m } = boot(code, { harts: 2 });
  assert.equal(m.harts[1].state, 1, 'hart 1 starts stopped');
  assert.equal(runToHalt(m, 1e5), StopReason.Halted);
  const r = results(m, 5);
  assert.deepEqual(r[0], [0, 1]);
  assert.equal(r[1][0], 0);
  assert.equal(r[2][0], -6);
  assert.equal(r[3][0], -3);
  assert.equal(m.ram.read32(OUT + 0x104), 1, 'a0 = hartid');
  assert.equal(m.ram.read32(OUT + 0x108), 0x5eed, 'a1 = opaque');
  assert.equal(m.ram.read32(OUT + 0x10c), 0, 'satp = 0');
  assert.equal(m.ram.read32(OUT + 0x110), 0, 'hart_stop does not return');
  assert.equal(m.harts[1].state, 1);
});

test('console: legacy putchar/getchar and DBCN write reach the UART stream', () => {
  const msg = 'hi!\n';
  const code = [
    ...li('a0', 0x41), ...sbiCall(0x01, 0),
    ...sbiCall(0x02, 0), ...save(0), // no input yet: -1
    // wait for input via getchar
    ...sbiCall(0x02, 0), enc('blt', 'a0', 'zero', -4 * 5), ...save(1),
    ...li('a0', msg.length), ...li('a1', OUT + 0x200), ...li('a2', 0), ...sbiCall(EXT.DBCN, 0), ...save(2),
    ...li('a0', 0x5a), ...sbiCall(EXT.DBCN, 2),
    ...shutdown(),
  ];
  const { m, out } = boot(code);
  m.ram.u8.set(Buffer.from(msg), OUT + 0x200);
  assert.equal(m.run(2000), StopReason.Budget);
  m.consoleIn(Buffer.from('x'));
  assert.equal(runToHalt(m), StopReason.Halted);
  const r = results(m, 3);
  assert.equal(r[0][0], -1);
  assert.equal(r[1][0], 0x78);
  assert.deepEqual(r[2], [0, msg.length]);
  assert.equal(out.join(''), 'A' + msg + 'Z');
});
