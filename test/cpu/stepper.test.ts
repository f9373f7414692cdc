// Source-line stepping in the worker (src/host/stepper.ts) on a Machine: step over a call,
// into it, out of it; recursion does not stop early; an interrupt taken inside the line runs
// its handler and comes back; a user breakpoint inside a stepped-over call ends the step.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc, li } from '../../src/emulator/cpu/asm';
import { Machine, StopReason } from '../../src/emulator/machine';
import { LineStepper, STEP_DONE, type StepRequest } from '../../src/worker/stepper';

function words(ws: number[]): Uint8Array {
  return new Uint8Array(Int32Array.from(ws).buffer);
}

function runStep(m: Machine, req: StepRequest): number {
  const s = new LineStepper(m, req);
  for (let i = 0; i < 1000; i++) {
    const r = s.run(10_000);
    if (r !== StopReason.Budget) return r;
  }
  throw new Error('the step never ended');
}

// main: sp = 0x100000; a0 = 0; call func; a0 += 1; a1 = 7; spin.   func: a0 += 5 (with a frame).
const MAIN = { line1: 0x08, call: 0x0c, after: 0x10, line2: 0x14, spin: 0x18, func: 0x1c };
const code1 = [
  ...li('sp', 0x100000),
  enc('addi', 'a0', 'zero', 0), // 0x08 line 1
  enc('jal', 'ra', MAIN.func - MAIN.call), // 0x0c
  enc('addi', 'a0', 'a0', 1), // 0x10
  enc('addi', 'a1', 'zero', 7), // 0x14 line 2
  enc('jal', 'zero', 0), // 0x18 spin
  enc('addi', 'sp', 'sp', -16), // 0x1c func
  enc('sw', 'ra', 'sp', 12),
  enc('addi', 'a0', 'a0', 5),
  enc('lw', 'ra', 'sp', 12),
  enc('addi', 'sp', 'sp', 16),
  enc('jalr', 'zero', 'ra', 0),
];

function machineAt(code: number[], pc: number): Machine {
  const m = new Machine({ kernel: words(code), ramSize: 8 << 20, time: 'icount' }, { consoleOut: () => {} });
  m.breakpoints.add(pc);
  assert.equal(m.run(1000), StopReason.Breakpoint);
  m.breakpoints.delete(pc);
  return m;
}

test('step over a line with a call: the call runs, the step ends on the next line', () => {
  const m = machineAt(code1, MAIN.line1);
  assert.equal(runStep(m, { hart: 0, ranges: [[MAIN.line1, MAIN.line2]], over: true }), STEP_DONE);
  assert.equal(m.harts[0].pc, MAIN.line2);
  assert.equal(m.harts[0].x[10], 6, 'func ran (a0 += 5) and so did the rest of the line');
});

test('step into: the step ends at the callee; step out returns to the call site', () => {
  const m = machineAt(code1, MAIN.line1);
  assert.equal(runStep(m, { hart: 0, ranges: [[MAIN.line1, MAIN.line2]], over: false }), STEP_DONE);
  assert.equal(m.harts[0].pc, MAIN.func);
  const sp = m.harts[0].x[2] >>> 0;
  assert.equal(runStep(m, { hart: 0, ranges: [], over: true, until: { pc: MAIN.after, minSp: sp } }), STEP_DONE);
  assert.equal(m.harts[0].pc, MAIN.after);
  assert.equal(m.harts[0].x[10], 5);
});

test('a user breakpoint inside a stepped-over call ends the step there', () => {
  const m = machineAt(code1, MAIN.line1);
  m.breakpoints.add(MAIN.func + 8);
  assert.equal(runStep(m, { hart: 0, ranges: [[MAIN.line1, MAIN.line2]], over: true }), StopReason.Breakpoint);
  assert.equal(m.harts[0].pc, MAIN.func + 8);
  assert.equal(m.breakpoints.has(MAIN.after), false, 'the temporary breakpoint is gone');
});

test('step over a recursive call stops only when the outer activation returns', () => {
  // main: sp = 0x100000; a0 = 3; a1 = 0; [call rec]; spin.   rec: frame; if a0 == 0 goto out; a0--; call rec; RET: a1++; out: unframe; ret
  const L = { call: 0x10, after: 0x14, rec: 0x18, ret: 0x2c, out: 0x30 };
  const code = [
    ...li('sp', 0x100000),
    enc('addi', 'a0', 'zero', 3), // 0x08
    enc('addi', 'a1', 'zero', 0), // 0x0c
    enc('jal', 'ra', L.rec - L.call), // 0x10
    enc('jal', 'zero', 0), // 0x14
    enc('addi', 'sp', 'sp', -16), // 0x18 rec
    enc('sw', 'ra', 'sp', 12), // 0x1c
    enc('beq', 'a0', 'zero', L.out - 0x20), // 0x20
    enc('addi', 'a0', 'a0', -1), // 0x24
    enc('jal', 'ra', L.rec - 0x28), // 0x28
    enc('addi', 'a1', 'a1', 1), // 0x2c RET
    enc('lw', 'ra', 'sp', 12), // 0x30 out
    enc('addi', 'sp', 'sp', 16), // 0x34
    enc('jalr', 'zero', 'ra', 0), // 0x38
  ];
  // Stop in the outermost activation of rec at its recursive call (a0 is 2 there).
  const m = machineAt(code, 0x28);
  assert.equal(m.harts[0].x[10], 2);
  assert.equal(runStep(m, { hart: 0, ranges: [[0x28, 0x2c]], over: true }), STEP_DONE);
  assert.equal(m.harts[0].pc, L.ret);
  assert.equal(m.harts[0].x[11], 2, 'the two inner activations returned through RET first');
  assert.equal(m.harts[0].x[2] >>> 0, 0x100000 - 16, 'the outermost frame');
});

test('an interrupt taken inside the line runs its handler, then the step goes on', () => {
  // stvec = handler; sie.SSIE; sstatus.SIE; line: set sip.SSIP (the interrupt comes right after), a3 = 1; next line.
  const H = 0x40;
  const code = [
    ...li('sp', 0x100000), // 0x00
    ...li('t0', H), // 0x08
    enc('csrrw', 'zero', 0x105, 't0'), // 0x10 stvec
    enc('csrrsi', 'zero', 0x104, 2), // 0x14 sie.SSIE
    enc('csrrsi', 'zero', 0x100, 2), // 0x18 sstatus.SIE
    enc('csrrsi', 'zero', 0x144, 2), // 0x1c line: sip.SSIP
    enc('addi', 'a3', 'zero', 1), // 0x20
    enc('addi', 'a4', 'zero', 1), // 0x24 next line
    enc('jal', 'zero', 0), // 0x28
    0, 0, 0, 0, 0, // to 0x40
    enc('csrrci', 'zero', 0x144, 2), // 0x40 handler: clear SSIP
    enc('addi', 'a2', 'a2', 1),
    enc('sret'),
  ];
  const m = machineAt(code, 0x1c);
  assert.equal(runStep(m, { hart: 0, ranges: [[0x1c, 0x24]], over: true }), STEP_DONE);
  assert.equal(m.harts[0].pc, 0x24);
  assert.equal(m.harts[0].x[12], 1, 'the handler ran once');
  assert.equal(m.harts[0].x[13], 1, 'the rest of the line ran');
});
