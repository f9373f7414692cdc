// Differential test: random instruction sequences run on the reference interpreter and on the
// engines generated from the same table — the fast loop alone, and the fast loop with every page
// translated to WebAssembly — must leave identical architectural state: registers, pc, retired
// instructions, the trap CSRs, the trap count and the data memory.
//
// The programs mix every ALU and M op, loads and stores of every width (aligned, misaligned:
// traps, and to MMIO), AMOs, LR/SC, forward branches and jumps, and a few counted loops; a trap
// handler skips the faulting instruction and counts. A fixed seed list keeps failures
// reproducible: the message names the seed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc, li } from '../../src/emulator/cpu/asm';
import { MMIO_BASE, TestCpu, type Mode } from './harness';

const HANDLER = 0x3000;
const DATA = 0x8000;
const DATA_WORDS = 256;
const SEEDS = Array.from({ length: 40 }, (_, i) => 0x5eed0000 + i * 7919);
const LENGTH = 300;

/** xorshift32: deterministic per seed. */
function rng(seed: number): (n: number) => number {
  let s = seed | 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

// Registers the programs use: s0 = DATA, s1 = MMIO, s2 = loop counter; a0..a5, t0..t2 are data.
const DATA_REGS = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 't0', 't1', 't2'];
const ALU_R = ['add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and', 'mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu'];
const ALU_I = ['addi', 'slti', 'sltiu', 'xori', 'ori', 'andi'];
const SHIFT_I = ['slli', 'srli', 'srai'];
const LOADS = ['lb', 'lh', 'lw', 'lbu', 'lhu'];
const STORES = ['sb', 'sh', 'sw'];
const AMOS = ['amoswap.w', 'amoadd.w', 'amoxor.w', 'amoand.w', 'amoor.w', 'amomin.w', 'amomax.w', 'amominu.w', 'amomaxu.w'];
const BRANCHES = ['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu'];

/** One random program (words), ending in WFI. */
function program(seed: number): number[] {
  const r = rng(seed);
  const reg = () => DATA_REGS[r(DATA_REGS.length)];
  const imm12 = () => r(4096) - 2048;
  const out: number[] = [...li('s0', DATA), ...li('s1', MMIO_BASE)];
  for (const x of DATA_REGS) out.push(...li(x, (r(0x10000) << 16) | r(0x10000)));
  while (out.length < LENGTH) {
    const k = r(100);
    if (k < 35) out.push(enc(ALU_R[r(ALU_R.length)], reg(), reg(), reg()));
    else if (k < 45) out.push(enc(ALU_I[r(ALU_I.length)], reg(), reg(), imm12()));
    else if (k < 50) out.push(enc(SHIFT_I[r(SHIFT_I.length)], reg(), reg(), r(32)));
    else if (k < 53) out.push(enc(r(2) ? 'lui' : 'auipc', reg(), r(0x100000)));
    else if (k < 63) {
      // Mostly aligned, sometimes misaligned (a trap the handler skips), sometimes MMIO.
      const width = [1, 2, 4, 1, 2][r(5)];
      const off = r(10) === 0 ? 1 : width * r(DATA_WORDS * 4 / width - 1);
      out.push(enc(LOADS[r(LOADS.length)], reg(), r(12) === 0 ? 's1' : 's0', off & 2047));
    } else if (k < 71) {
      const off = r(10) === 0 ? 3 : 4 * r(DATA_WORDS - 1);
      out.push(enc(STORES[r(STORES.length)], reg(), r(12) === 0 ? 's1' : 's0', off & 2047));
    } else if (k < 76) {
      // AMOs and LR/SC on an aligned data word (t2 as the address register keeps it simple).
      out.push(...li('t2', DATA + 4 * r(DATA_WORDS)));
      if (r(3) === 0) out.push(enc('lr.w', reg(), 't2'), enc('sc.w', reg(), reg(), 't2'));
      else out.push(enc(AMOS[r(AMOS.length)], reg(), reg(), 't2'));
    } else if (k < 88) {
      // A forward branch over 1..6 instructions.
      const skip = 1 + r(6);
      out.push(enc(BRANCHES[r(BRANCHES.length)], reg(), reg(), 4 * (skip + 1)));
      for (let i = 0; i < skip; i++) out.push(enc('addi', reg(), reg(), imm12()));
    } else if (k < 92) {
      // jal over a few instructions (linking into a data register), or jalr through auipc.
      const skip = 1 + r(4);
      if (r(2)) out.push(enc('jal', reg(), 4 * (skip + 1)));
      else out.push(enc('auipc', 't2', 0), enc('jalr', reg(), 't2', 4 * (skip + 1) + 4));
      for (let i = 0; i < skip; i++) out.push(enc('xori', reg(), reg(), imm12()));
    } else {
      // A counted loop of a few instructions (a backward branch: loops stay translated).
      out.push(...li('s2', 2 + r(20)));
      const body = 1 + r(4);
      for (let i = 0; i < body; i++) out.push(enc(ALU_R[r(10)], reg(), reg(), reg()));
      out.push(enc('addi', 's2', 's2', -1), enc('bne', 's2', 'zero', -4 * (body + 1)));
    }
  }
  out.push(enc('wfi'));
  return out;
}

/** The handler: counts in s3, skips the faulting instruction, returns. */
const handler = [
  enc('addi', 's3', 's3', 1),
  enc('csrrs', 's4', 0x141, 'zero'),
  enc('addi', 's4', 's4', 4),
  enc('csrrw', 'zero', 0x141, 's4'),
  enc('sret'),
];

interface State {
  regs: number[];
  pc: number;
  instret: number;
  csrs: number[];
  data: number[];
  mmio: number[];
}

function runOn(mode: Mode, code: number[], seed: number): State {
  const cpu = new TestCpu(mode);
  cpu.load(handler, HANDLER);
  const r = rng(seed ^ 0x1234567);
  cpu.load(Array.from({ length: DATA_WORDS }, () => (r(0x10000) << 16) | r(0x10000)), DATA);
  cpu.load(code);
  cpu.hart.stvec = HANDLER;
  cpu.runToWfi(200_000);
  const h = cpu.hart;
  return {
    regs: Array.from(h.x.subarray(0, 32)),
    pc: h.pc >>> 0,
    instret: h.instret,
    csrs: [h.scause, h.sepc, h.stval, h.status],
    data: Array.from(cpu.ram.i32.subarray(DATA >> 2, (DATA >> 2) + DATA_WORDS)),
    mmio: Array.from(cpu.dev.regs.subarray(0, 8)),
  };
}

test('random programs leave the same architectural state on every engine as on the reference', () => {
  for (const seed of SEEDS) {
    const code = program(seed);
    const reference = runOn('interp', code, seed);
    for (const mode of ['fast', 'hybrid', 'jit'] as const) {
      const got = runOn(mode, code, seed);
      assert.deepEqual(got, reference, `seed 0x${seed.toString(16)}: ${mode} differs from the reference interpreter`);
    }
  }
});

test('the random programs exercise what they claim: traps, MMIO, loops and translated code', () => {
  let traps = 0;
  let mmio = 0;
  let translated = 0;
  for (const seed of SEEDS.slice(0, 10)) {
    const code = program(seed);
    const cpu = new TestCpu('jit');
    cpu.load(handler, HANDLER);
    cpu.load(code);
    cpu.hart.stvec = HANDLER;
    cpu.runToWfi(200_000);
    traps += cpu.hart.x[19]; // s3: the handler's count
    mmio += cpu.dev.log.length;
    translated += cpu.cache.translatedInsns;
  }
  assert.ok(traps > 10, `${traps} traps`);
  assert.ok(mmio > 10, `${mmio} MMIO accesses`);
  assert.ok(translated > 1000, `${translated} instructions translated`);
});
