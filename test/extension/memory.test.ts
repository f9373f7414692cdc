import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ram } from '../../src/emulator/ram';
import { walkSv32, readGuest, readWords, physicalRanges, parseMemoryReference, formatMemoryReference, MemoryRefError } from '../../debug-adapter/memory';
import { ConsoleText, consoleInputText, READY_MARKER } from '../../debug-adapter/console';

const ROOT = 0x10000; // root page table (4 KiB aligned)
const L0 = 0x11000; // a second-level table
const SATP = 0x80000000 | (ROOT >>> 12);

/**
 * Maps: 0xc0000000 (4 MiB superpage) → phys 0x400000; 0x00401000 (4 KiB page) → phys 0x20000;
 * 0x00402000 → not mapped; 0x00403000 → phys 0xf4000000 (MMIO: never read).
 */
function machineRam(): Ram {
  const ram = Ram.allocate(8 << 20);
  const V = 1, R = 2, W = 4, X = 8, A = 64, D = 128;
  ram.write32(ROOT + (0xc0000000 >>> 22) * 4, ((0x400000 >>> 12) << 10) | V | R | W | X | A | D);
  ram.write32(ROOT + (0x00401000 >>> 22) * 4, ((L0 >>> 12) << 10) | V);
  ram.write32(L0 + ((0x00401000 >>> 12) & 0x3ff) * 4, ((0x20000 >>> 12) << 10) | V | R | W | A | D);
  ram.write32(L0 + ((0x00403000 >>> 12) & 0x3ff) * 4, ((0xf4000000 >>> 12) << 10) | V | R | W | A | D);
  for (let i = 0; i < 16; i++) ram.write8(0x400000 + 0x1234 + i, i);
  for (let i = 0; i < 4096; i++) ram.write8(0x20000 + i, 0xa0 + (i & 7));
  return ram;
}

test('Sv32 walk: superpage, 4 KiB page, unmapped, bare mode', () => {
  const ram = machineRam();
  assert.equal(walkSv32(ram, SATP, 0xc0001234), 0x401234);
  assert.equal(walkSv32(ram, SATP, 0x00401ffc), 0x20ffc);
  const miss = walkSv32(ram, SATP, 0x00402000);
  assert.equal(typeof miss, 'object');
  assert.match((miss as { reason: string }).reason, /not mapped/);
  assert.equal(walkSv32(ram, 0, 0x1234), 0x1234, 'satp bare: identity');
  // A root table outside RAM is reported, not read.
  assert.match((walkSv32(ram, 0x80000000 | 0x3fffff, 0x1000) as { reason: string }).reason, /outside RAM/);
});

test('the walk has no side effects: A/D bits and RAM untouched', () => {
  const ram = machineRam();
  const before = ram.u8.slice(ROOT, L0 + 4096);
  walkSv32(ram, SATP, 0x00401000);
  assert.deepEqual(ram.u8.slice(ROOT, L0 + 4096), before);
});

test('readGuest: across pages, stops at unmapped pages and at MMIO with a reason', () => {
  const ram = machineRam();
  const a = readGuest(ram, SATP, 0xc0001234, 16, false);
  assert.deepEqual([...a.data], [...Array(16).keys()]);
  assert.equal(a.stoppedBecause, '');
  const b = readGuest(ram, SATP, 0x00401ff8, 16, false); // 8 bytes mapped, then an unmapped page
  assert.equal(b.data.length, 8);
  assert.match(b.stoppedBecause, /not mapped/);
  const c = readGuest(ram, SATP, 0x00403000, 4, false);
  assert.equal(c.data.length, 0);
  assert.match(c.stoppedBecause, /not RAM/);
  const p = readGuest(ram, SATP, 0x20000, 4, true);
  assert.deepEqual([...p.data], [0xa0, 0xa1, 0xa2, 0xa3]);
  const end = readGuest(ram, 0, ram.size - 2, 4, true);
  assert.equal(end.data.length, 2, 'RAM ends mid-read: the part that exists');
});

test('physicalRanges: contiguous pages merge; any hole refuses the whole write', () => {
  const ram = machineRam();
  assert.deepEqual(physicalRanges(ram, SATP, 0xc0000ffe, 4, false), [{ pa: 0x400ffe, len: 4 }]);
  assert.deepEqual(physicalRanges(ram, 0, 0x1000, 8, true), [{ pa: 0x1000, len: 8 }]);
  assert.throws(() => physicalRanges(ram, SATP, 0x00401ffe, 4, false), /not mapped/);
  assert.throws(() => physicalRanges(ram, SATP, 0x00403000, 4, false), /not RAM/);
});

test('memory references: virtual hex, p:/phys: physical, symbols, errors', () => {
  const sym = (n: string) => (n === 'start_kernel' ? 0xc032e76c : undefined);
  assert.deepEqual(parseMemoryReference('0xC0001000'), { address: 0xc0001000, physical: false });
  assert.deepEqual(parseMemoryReference('p:0x1000'), { address: 0x1000, physical: true });
  assert.deepEqual(parseMemoryReference('phys:0x00001000'), { address: 0x1000, physical: true });
  assert.deepEqual(parseMemoryReference('start_kernel', sym), { address: 0xc032e76c, physical: false });
  assert.throws(() => parseMemoryReference('nowhere', sym), MemoryRefError);
  assert.throws(() => parseMemoryReference('0x123456789'), MemoryRefError);
  assert.equal(formatMemoryReference(0x1000), '0x00001000');
  assert.equal(formatMemoryReference(0x1000, true), 'phys:0x00001000');
});

test('console: UTF-8 split across chunks, ready marker split across chunks fires once', () => {
  let fired = 0;
  const c = new ConsoleText(() => fired++);
  const bytes = Buffer.from(`boot…\n${READY_MARKER}\n`);
  const cut = bytes.indexOf(Buffer.from('…')) + 1; // inside the 3-byte character
  const mid = bytes.indexOf(Buffer.from('ready')) + 2; // inside the marker
  let text = c.push(bytes.subarray(0, cut));
  text += c.push(bytes.subarray(cut, mid));
  assert.equal(fired, 0);
  text += c.push(bytes.subarray(mid));
  assert.equal(text, `boot…\n${READY_MARKER}\n`);
  assert.equal(fired, 1);
  c.push(Buffer.from(READY_MARKER));
  assert.equal(fired, 1, 'only once');
  assert.equal(consoleInputText(['pcm play 440 1', 'ls\n']), 'pcm play 440 1\nls\n');
});

test('readWords: a hole before mapped code does not hide the code', () => {
  const ram = machineRam();
  // 0x00400ff8..0x00401007: the page at 0x00400000 is not mapped, 0x00401000 is.
  const w = readWords(ram, SATP, 0x00400ff8, 4, false);
  assert.deepEqual(w.slice(0, 2), [null, null]);
  assert.equal(w[2], 0xa3a2a1a0);
  assert.equal(w[3], 0xa7a6a5a4);
  // MMIO pages are unreadable too.
  assert.deepEqual(readWords(ram, SATP, 0x00403000, 2, false), [null, null]);
});
