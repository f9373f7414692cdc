import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SymbolTable, parseSystemMap, parseElfSymbols, ElfError } from '../../debug-adapter/symbols';

const MAP = `c0000000 T _start
c0000040 T relocate_enable_mmu
c0001000 T _stext
c0001000 t __pi_early_fn
c0001000 T early_fn
c0001080 T other_fn
c032e76c T start_kernel
c032e9f0 t local_helper
c0400000 D some_data
c0400000 d __alias_data
c0500000 B big_bss
         U undefined_thing
c0600000 a absolute_thing
`;

test('System.map: lookup by address gives symbol+offset within the symbol', () => {
  const t = new SymbolTable(parseSystemMap(MAP));
  assert.equal(t.describe(0xc032e76c), 'start_kernel');
  assert.equal(t.describe(0xc032e770), 'start_kernel+0x4');
  assert.equal(t.describe(0xc0000044), 'relocate_enable_mmu+0x4');
  assert.equal(t.describe(0xbfffffff), undefined, 'below every symbol');
  // U and a lines carry no location and are dropped.
  assert.equal(t.address('undefined_thing'), undefined);
  assert.equal(t.address('absolute_thing'), undefined);
});

test('System.map: aliases at one address prefer a global text name without "__"', () => {
  const t = new SymbolTable(parseSystemMap(MAP));
  assert.equal(t.describe(0xc0001000), 'early_fn');
  assert.equal(t.describe(0xc0001010), 'early_fn+0x10');
  assert.equal(t.describe(0xc0400000), 'some_data');
});

test('System.map: name lookups and completions', () => {
  const t = new SymbolTable(parseSystemMap(MAP));
  assert.equal(t.address('start_kernel'), 0xc032e76c);
  assert.equal(t.address('local_helper'), 0xc032e9f0);
  assert.deepEqual(t.complete('early'), ['early_fn']);
  assert.ok(t.complete('').length > 5);
});

test('System.map: the last symbol does not swallow everything above it', () => {
  const t = new SymbolTable(parseSystemMap('c0000000 T a\nc0000010 T b\n'));
  assert.equal(t.describe(0xc0000008), 'a+0x8');
  assert.equal(t.describe(0xc0000010), 'b');
  // b has no known size: only its exact address is named.
  assert.equal(t.describe(0xc0000014), undefined);
});

/** A minimal ELF32 LE with .symtab/.strtab and one text and one data section. */
function makeElf(syms: { name: string; value: number; size: number; info: number; shndx: number }[]): Uint8Array {
  const strtab = [0];
  const nameOff: number[] = [];
  for (const s of syms) {
    nameOff.push(strtab.length);
    for (const c of Buffer.from(s.name)) strtab.push(c);
    strtab.push(0);
  }
  const symtab = new Uint8Array(16 * (syms.length + 1));
  const sv = new DataView(symtab.buffer);
  syms.forEach((s, i) => {
    const o = 16 * (i + 1);
    sv.setUint32(o, nameOff[i], true);
    sv.setUint32(o + 4, s.value, true);
    sv.setUint32(o + 8, s.size, true);
    symtab[o + 12] = s.info;
    sv.setUint16(o + 14, s.shndx, true);
  });
  const ehsize = 52;
  const symOff = ehsize;
  const strOff = symOff + symtab.length;
  const shOff = (strOff + strtab.length + 3) & ~3;
  const nsec = 5; // null, .text, .data, .symtab, .strtab
  const out = new Uint8Array(shOff + nsec * 40);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  dv.setUint16(16, 2, true);
  dv.setUint16(18, 243, true); // EM_RISCV
  dv.setUint32(32, shOff, true);
  dv.setUint16(40, ehsize, true);
  dv.setUint16(46, 40, true);
  dv.setUint16(48, nsec, true);
  out.set(symtab, symOff);
  out.set(strtab, strOff);
  const sh = (i: number, type: number, flags: number, off: number, size: number, link: number, entsize: number) => {
    const o = shOff + i * 40;
    dv.setUint32(o + 4, type, true);
    dv.setUint32(o + 8, flags, true);
    dv.setUint32(o + 16, off, true);
    dv.setUint32(o + 20, size, true);
    dv.setUint32(o + 24, link, true);
    dv.setUint32(o + 36, entsize, true);
  };
  sh(1, 1, 6, 0, 0, 0, 0); // .text: ALLOC|EXECINSTR
  sh(2, 1, 3, 0, 0, 0, 0); // .data: WRITE|ALLOC
  sh(3, 2, 0, symOff, symtab.length, 4, 16);
  sh(4, 3, 0, strOff, strtab.length, 0, 0);
  return out;
}

test('ELF: reads FUNC/OBJECT symbols with sizes; skips mapping symbols, locals labels and undefined', () => {
  const GLOBAL_FUNC = (1 << 4) | 2;
  const LOCAL_FUNC = 2;
  const GLOBAL_OBJ = (1 << 4) | 1;
  const elf = makeElf([
    { name: 'start_kernel', value: 0xc032e76c, size: 0x100, info: GLOBAL_FUNC, shndx: 1 },
    { name: 'helper', value: 0xc032e86c, size: 0x20, info: LOCAL_FUNC, shndx: 1 },
    { name: 'jiffies', value: 0xc0400000, size: 4, info: GLOBAL_OBJ, shndx: 2 },
    { name: '$x', value: 0xc032e76c, size: 0, info: 0, shndx: 1 },
    { name: '.Ltmp1', value: 0xc032e770, size: 0, info: 0, shndx: 1 },
    { name: 'extern_fn', value: 0, size: 0, info: GLOBAL_FUNC, shndx: 0 },
  ]);
  const syms = parseElfSymbols(elf);
  assert.deepEqual(syms.map((s) => `${s.name}:${s.type}`).sort(), ['helper:t', 'jiffies:D', 'start_kernel:T']);
  const t = new SymbolTable(syms);
  assert.equal(t.describe(0xc032e76c + 0xfc), 'start_kernel+0xfc');
  // Past the ELF size of start_kernel but before helper: a gap, not start_kernel+0x100.
  assert.equal(t.describe(0xc032e86c), 'helper');
  assert.equal(t.describe(0xc032e86c + 0x20), undefined);
  assert.equal(t.describe(0xc0400003), 'jiffies+0x3');
});

test('ELF: a 64-bit or truncated file is refused with a reason', () => {
  const elf = makeElf([{ name: 'f', value: 0x1000, size: 4, info: 0x12, shndx: 1 }]);
  const e64 = elf.slice();
  e64[4] = 2;
  assert.throws(() => parseElfSymbols(e64), ElfError);
  assert.throws(() => parseElfSymbols(elf.subarray(0, 40)), /too short/);
  const noSyms = makeElf([]);
  assert.throws(() => parseElfSymbols(noSyms), /no symbol table/);
});
