// The instruction table against GNU binutils: every line of fixtures/corpus.S is assembled by
// GNU as; our decoder/disassembler must print what objdump prints, and the test encoder must
// produce the words GNU as produced.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { disassemble } from '../../src/emulator/cpu/disasm';
import { decodeOp, Op, TABLE } from '../../src/emulator/cpu/decode';
import { enc } from '../../src/emulator/cpu/asm';
import { extensionRoot } from '../../src/paths';

const CORPUS = join(extensionRoot(), 'test', 'cpu', 'fixtures', 'corpus.S');

interface Line {
  addr: number;
  word: number;
  text: string;
}

function objdump(aliases: boolean): Line[] {
  const dir = mkdtempSync(join(tmpdir(), 'semu-disasm-'));
  try {
    const obj = join(dir, 'c.o');
    execFileSync('riscv64-linux-gnu-as', ['-march=rv32ima_zicsr_zifencei_zihintpause', '-mabi=ilp32', CORPUS, '-o', obj]);
    const out = execFileSync('riscv64-linux-gnu-objdump', ['-d', ...(aliases ? [] : ['-M', 'no-aliases']), obj], { encoding: 'utf8' });
    const lines: Line[] = [];
    for (const l of out.split('\n')) {
      const m = /^\s*([0-9a-f]+):\s+([0-9a-f]{8})\s+(.*)$/.exec(l);
      if (m) lines.push({ addr: parseInt(m[1], 16), word: parseInt(m[2], 16) | 0, text: m[3] });
    }
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** objdump and we differ only in spacing, symbol annotations and the 0x on branch targets. */
function norm(s: string): string {
  return s
    .replace(/<[^>]*>/g, '')
    .replace(/\s+/g, ' ')
    .replace(/, /g, ',')
    .trim()
    // objdump prints immediate forms with the register mnemonic (csrrw a0,stval,5; add a0,a1,-5;
    // sll a0,a1,0x1f): we print the real mnemonic, with the i.
    .replace(/^(csrr[wsc]|csr[wsc]|add|xor|or|and|sll|srl|sra) (.*),(-?\d+|0x[0-9a-f]+)$/, '$1i $2,$3')
    // binutils 2.40 has no name for senvcfg yet.
    .replace(/^(csr\w*) (\w+,)?0x10a\b/, '$1 $2senvcfg');
}

function ours(l: Line, aliases: boolean): string {
  let t = disassemble(l.word, l.addr, { aliases });
  // Branch/jump targets: objdump prints bare hex.
  t = t.replace(/(\b(?:b\w+|jal?|j)\b.*[ ,])0x([0-9a-f]+)$/, '$1$2');
  return norm(t);
}

test('every corpus instruction decodes (except the two .word lines) and covers every op', () => {
  const lines = objdump(false);
  assert.ok(lines.length > 90, `objdump gave ${lines.length} lines`);
  const seen = new Set<Op>();
  for (const l of lines) seen.add(decodeOp(l.word));
  for (const d of TABLE) assert.ok(seen.has(d.op), `corpus lacks ${d.name}`);
  assert.equal(lines.filter((l) => decodeOp(l.word) === Op.ILLEGAL).length, 2);
});

test('disassembly without aliases matches objdump -M no-aliases', () => {
  for (const l of objdump(false)) assert.equal(ours(l, false), norm(l.text), `0x${(l.word >>> 0).toString(16)}`);
});

test('disassembly with aliases matches objdump', () => {
  for (const l of objdump(true)) assert.equal(ours(l, true), norm(l.text), `0x${(l.word >>> 0).toString(16)}`);
});

test('the test encoder produces the words GNU as produces', () => {
  const words = new Map(objdump(false).map((l) => [norm(l.text), l.word]));
  const check = (text: string, w: number) => assert.equal(w, words.get(text), text);
  check('lui a0,0x12345', enc('lui', 'a0', 0x12345));
  check('jalr a1,-4(a2)', enc('jalr', 'a1', 'a2', -4));
  check('lw a2,-2048(s1)', enc('lw', 'a2', 's1', -2048));
  check('sh a1,2047(s0)', enc('sh', 'a1', 's0', 2047));
  check('srai a0,a1,0x11', enc('srai', 'a0', 'a1', 17));
  check('sub a0,a1,a2', enc('sub', 'a0', 'a1', 'a2'));
  check('csrrc a0,sepc,a1', enc('csrrc', 'a0', 0x141, 'a1'));
  check('csrrwi a0,stval,5', enc('csrrwi', 'a0', 0x143, 5));
  check('amoadd.w.aqrl a0,a2,(a1)', enc('amoadd.w.aqrl', 'a0', 'a2', 'a1'));
  check('lr.w.aq a0,(a1)', enc('lr.w.aq', 'a0', 'a1'));
  check('sfence.vma a0,a1', enc('sfence.vma', 'a0', 'a1'));
  check('fence iorw,iorw', enc('fence'));
  // Branch/jump offsets (the corpus branches back to L at 0).
  const beq = objdump(false).find((l) => l.text.startsWith('beq'))!;
  assert.equal(enc('beq', 'a0', 'a1', -beq.addr), beq.word);
  const jal = objdump(false).find((l) => l.text.startsWith('jal\tra'))!;
  assert.equal(enc('jal', 'ra', -jal.addr), jal.word);
  assert.ok(readFileSync(CORPUS, 'utf8').length > 0);
});
