// The unwinder without CFI: frame records (s0 as frame pointer, ra at fp-4, the caller's fp at
// fp-8) are followed while they look sane; otherwise the stack is the pc and ra, and says so.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unwind } from '../../debug-adapter/dwarf/unwind';

const CODE_LO = 0xc0000000;
const CODE_HI = 0xc0100000;
const isCode = (pc: number) => pc >= CODE_LO && pc < CODE_HI;

function regs(pc: number, ra: number, sp: number, fp: number): number[] {
  const x = new Array(32).fill(0);
  x[1] = ra;
  x[2] = sp;
  x[8] = fp;
  return x;
}

test('frame records: each frame\'s ra and caller fp are found below its fp', () => {
  const mem = new Map<number, number>();
  // Frames (innermost first): fp 0xd0001020 → 0xd0001060 → 0xd00010a0 → 0 (end).
  const chain = [
    { fp: 0xd0001020, ra: 0xc0000100, up: 0xd0001060 },
    { fp: 0xd0001060, ra: 0xc0000200, up: 0xd00010a0 },
    { fp: 0xd00010a0, ra: 0xc0000300, up: 0 },
  ];
  for (const f of chain) {
    mem.set(f.fp - 4, f.ra);
    mem.set(f.fp - 8, f.up);
  }
  const x = regs(0xc0000010, 0xc0000100, 0xd0001000, 0xd0001020);
  const u = unwind(null, 0xc0000010, x, { read32: (a) => mem.get(a), isCode });
  // pc, then ra (the record at fp holds the same ra: it is the innermost frame's own), then the chain.
  assert.deepEqual(u.frames.map((f) => f.pc.toString(16)), ['c0000010', 'c0000100', 'c0000200', 'c0000300']);
  assert.deepEqual(u.frames.map((f) => f.how), ['cfi', 'ra', 'frame-record', 'frame-record']);
  assert.equal(u.end, 'the end of the frame records');
});

test('no CFI and no sane frame records: pc and ra, and the stack says that is all', () => {
  const x = regs(0xc0000010, 0xc0000100, 0xd0001000, 0x12345); // s0 is not a frame pointer
  const u = unwind(null, 0xc0000010, x, { read32: () => undefined, isCode });
  assert.deepEqual(u.frames.map((f) => f.pc), [0xc0000010, 0xc0000100]);
  assert.match(u.end, /only pc and ra are known/);
  // A frame record pointing out of the code is not followed either.
  const mem = new Map([[0xd0001020 - 4, 0xc0000100], [0xd0001020 - 8, 0xd0001060], [0xd0001060 - 4, 0x1234], [0xd0001060 - 8, 0]]);
  const v = unwind(null, 0xc0000010, regs(0xc0000010, 0xc0000100, 0xd0001000, 0xd0001020), { read32: (a) => mem.get(a), isCode });
  assert.deepEqual(v.frames.map((f) => f.pc), [0xc0000010, 0xc0000100]);
});
