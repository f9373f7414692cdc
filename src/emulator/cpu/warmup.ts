// Warms up the JavaScript engine before the first guest instruction runs.
//
// V8 optimizes the run loops from the type feedback they have gathered; a path first taken
// after optimization (the first MMIO load, the first AMO, the first misaligned store ...) throws
// the optimized code away, and the loop runs unoptimized until it is recompiled — over and over
// during a Linux boot, which reaches its instruction kinds one by one. That cost about as much
// as the boot itself. So each process first runs a small program on a scratch hart that takes
// every path of the loops once: every opcode, TLB hits and misses, MMIO, traps, interrupts,
// page crossings, code modification, the MMU on and off. It has no effect on any machine.

import { Bus } from '../bus';
import { Ram } from '../ram';
import { MIP_STIP, tickWord, type MmioDevice, type Width } from '../types';
import { enc, li } from './asm';
import { CodeCache } from './codecache';
import { runFast } from './fast';
import { Hart, type HartHost } from './hart';
import { interpret } from './run';

let warmed = false;

/**
 * Runs the warm-up once per process (60–90 ms on a 2-vCPU machine: its code runs unoptimized).
 *
 * Nothing in the emulator's thread may detach an ArrayBuffer (transfer one, or grow a
 * WebAssembly memory): until the first detach in a thread, V8 compiles typed-array accesses
 * without a detach check, behind a per-isolate assumption. The first detach throws away every
 * optimized function that touches a typed array — the whole engine, whose run loop takes
 * 50–200 ms to compile again — and from then on every access of guest RAM, the registers, the
 * TLBs and the decoded pages loads and tests the buffer's detached bit. Without those checks
 * the fast loop runs a boot 16 % faster (bench/RESULTS.md, 2026-12-07), so the worker copies
 * its console output instead of transferring it (worker/session.ts).
 */
export function warmUp(): void {
  if (warmed) return;
  warmed = true;
  runWarmUp();
}

/**
 * The engines, in round order: the fast loop alone (so every case of its switch gathers type
 * feedback: once pages are translated most code would run elsewhere), the fast loop with the
 * translator (calls into translated code, translation, exits), the reference interpreter, the
 * translator again on a second machine (see runWarmUp), and the fast loop again (V8 optimizes
 * it once more, now with every path seen).
 */
export type WarmUpEngine = 'fast' | 'translated' | 'reference';
const ROUNDS: readonly WarmUpEngine[] = ['fast', 'translated', 'reference', 'translated', 'fast'];

export interface WarmUpRound {
  engine: WarmUpEngine;
  iterations: number;
  finished: boolean;
  crashed: string | null;
  /** Page translations so far. */
  translated: number;
  /** The registers' sum at the end (the same program gives the same result on every engine). */
  checksum: number;
}

/**
 * Runs the warm-up program once per engine on a fresh scratch hart (for tests: what it did).
 * Each translated round after the first runs on a scratch machine of its own: every machine's
 * dispatcher is another function, and the fast loop's call into it must have seen more than one
 * (V8 inlined the only one it knew and threw the loop away at the real machine's first call).
 */
export function runWarmUp(rounds: readonly WarmUpEngine[] = ROUNDS): WarmUpRound[] {
  const w = new WarmMachine();
  let translatedRounds = 0;
  return rounds.map((e) => (e === 'translated' && translatedRounds++ > 0 ? new WarmMachine() : w).run(e));
}

class Scratch implements MmioDevice {
  readonly name = 'warmup';
  readonly size = 0x1000;
  private v = 0;
  constructor(readonly base: number) {}
  read(_offset: number, _width: Width): number {
    return this.v;
  }
  write(_offset: number, _width: Width, value: number): void {
    this.v = value;
  }
}

const CODE = 0x1000;
const FAR = 0x2000;
const HANDLER = 0x3000;
const PAGE_END = 0x4ff8;
const PATCHED = 0x6000;
const HOT_LOOP = 0x7000;
const DATA = 0x8000;
const ROOT = 0x10000;
const MMIO = 0xf8000000; // high, like the real devices: addresses above 2^31 are doubles to V8

/** A tiny assembler with labels for branch and jump targets. */
class Builder {
  readonly words = new Map<number, number>();
  private readonly labels = new Map<string, number>();
  private readonly fixups: { at: number; make: (off: number) => number; label: string }[] = [];
  at = 0;
  org(addr: number): this {
    this.at = addr;
    return this;
  }
  label(name: string): this {
    this.labels.set(name, this.at);
    return this;
  }
  emit(...ws: number[]): this {
    for (const w of ws) {
      this.words.set(this.at, w);
      this.at += 4;
    }
    return this;
  }
  /** A branch or jal to a label: `make` gets the byte offset. */
  to(label: string, make: (off: number) => number): this {
    this.fixups.push({ at: this.at, make, label });
    return this.emit(0);
  }
  link(): Map<number, number> {
    for (const f of this.fixups) this.words.set(f.at, f.make(this.labels.get(f.label)! - f.at));
    return this.words;
  }
}

function program(): Map<number, number> {
  const b = new Builder();
  const alu = ['add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and', 'mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu'];
  const imm = ['addi', 'slti', 'sltiu', 'xori', 'ori', 'andi'];
  const amos = ['amoswap.w', 'amoadd.w', 'amoxor.w', 'amoand.w', 'amoor.w', 'amomin.w', 'amomax.w', 'amominu.w', 'amomaxu.w'];
  const branches = ['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu'];
  b.org(CODE);
  b.emit(...li('sp', 0x9000), ...li('t0', HANDLER), enc('csrrw', 'zero', 0x105, 't0'), enc('csrrsi', 'zero', 0x100, 2));
  // The main loop runs 6 times, then 3 more with the MMU on: enough for each path's type feedback
  // and for the translated rounds' threshold (4). Every further pass is unoptimized code the boot
  // waits for: 40 and 10 passes took 140–200 ms in a fresh process, 6 and 3 take 60–90.
  b.emit(...li('s0', DATA), ...li('s1', MMIO), ...li('s2', 6), ...li('a1', 7), ...li('a2', -3));
  // A prelude that reaches every case of the fast loop within its first few hundred
  // instructions: V8 optimizes the loop that early, from the feedback seen so far, and every
  // case first reached later would throw the optimized loop away again (a deoptimization of the
  // whole engine, and seconds of recompiling on a busy machine).
  b.emit(enc('sw', 'a1', 's0', 0), enc('lw', 'a0', 's0', 0)); // fill the store and load TLBs
  for (const op of ['lb', 'lh', 'lw', 'lbu', 'lhu']) b.emit(enc(op, 'a0', 's0', 8));
  for (const op of ['sb', 'sh', 'sw']) b.emit(enc(op, 'a1', 's0', 12));
  for (const op of amos) b.emit(enc(op, 'a0', 'a1', 's0'));
  b.emit(enc('lr.w', 'a0', 's0'), enc('sc.w', 'a3', 'a1', 's0'), enc('sc.w', 'a3', 'a1', 's0'));
  for (const op of ['lb', 'lh', 'lw', 'lbu', 'lhu']) b.emit(enc(op, 'a0', 's1', 4));
  for (const op of ['sb', 'sh', 'sw']) b.emit(enc(op, 'a1', 's1', 4));
  for (const op of amos) b.emit(enc(op, 'a0', 'a1', 's1')); // each AMO's slow path too
  b.emit(enc('lr.w', 'a0', 's1'), enc('sc.w', 'a3', 'a1', 's1'));
  for (const op of alu) b.emit(enc(op, 'a0', 'a1', 'a2'));
  for (const op of imm) b.emit(enc(op, 'a0', 'a1', -5));
  b.emit(enc('slli', 'a0', 'a1', 3), enc('srli', 'a0', 'a2', 3), enc('srai', 'a0', 'a2', 3), enc('lui', 'a0', 0x12345), enc('auipc', 'a0', 1), enc('fence'));
  for (const op of branches) b.emit(enc(op, 'a1', 'a2', 8), enc('addi', 'a0', 'a0', 1), enc(op, 'a2', 'a1', 8), enc('addi', 'a0', 'a0', 1));
  b.emit(enc('jal', 'ra', 4), enc('auipc', 't0', 0), enc('jalr', 'ra', 't0', 8), enc('addi', 'a0', 'a0', 1));
  b.label('loop');
  for (const op of alu) b.emit(enc(op, 'a0', 'a1', 'a2'), enc(op, 'a3', 'a2', 'zero'));
  for (const op of imm) b.emit(enc(op, 'a0', 'a1', -5));
  b.emit(enc('slli', 'a0', 'a1', 3), enc('srli', 'a0', 'a2', 3), enc('srai', 'a0', 'a2', 3), enc('lui', 'a0', 0x12345), enc('auipc', 'a0', 1));
  // RAM loads and stores (TLB hits after the first round), then misaligned ones (traps).
  for (const op of ['lb', 'lh', 'lw', 'lbu', 'lhu']) b.emit(enc(op, 'a0', 's0', 8));
  for (const op of ['sb', 'sh', 'sw']) b.emit(enc(op, 'a1', 's0', 12));
  for (const op of ['lh', 'lw', 'lhu']) b.emit(enc(op, 'a0', 's0', 1));
  for (const op of ['sh', 'sw']) b.emit(enc(op, 'a0', 's0', 1));
  // MMIO (slow paths every time).
  for (const op of ['lb', 'lh', 'lw', 'lbu', 'lhu']) b.emit(enc(op, 'a0', 's1', 4));
  for (const op of ['sb', 'sh', 'sw']) b.emit(enc(op, 'a1', 's1', 4));
  // Atomics.
  b.emit(enc('lr.w', 'a0', 's0'), enc('sc.w', 'a3', 'a1', 's0'), enc('sc.w', 'a3', 'a1', 's0'));
  for (const op of amos) b.emit(enc(op, 'a0', 'a1', 's0'));
  b.emit(enc('amoadd.w', 'a0', 'a1', 's1')); // AMO on MMIO
  // Branches, taken and not.
  for (const op of branches) {
    b.emit(enc(op, 'a1', 'a2', 8), enc('addi', 'a0', 'a0', 1));
    b.emit(enc(op, 'a2', 'a1', 8), enc('addi', 'a0', 'a0', 1));
    b.emit(enc(op, 'a1', 'a1', 8), enc('addi', 'a0', 'a0', 1));
  }
  // Calls across pages, into code running off its page's end, into code that gets patched.
  b.to('far', (o) => enc('jal', 'ra', o));
  b.to('pageEnd', (o) => enc('jal', 'ra', o));
  b.to('patched', (o) => enc('jal', 'ra', o));
  b.to('hotLoop', (o) => enc('jal', 'ra', o));
  b.emit(...li('t1', PATCHED + 4), ...li('t2', enc('jalr', 'zero', 'ra', 0)), enc('sw', 't2', 't1', 0));
  // System instructions, CSRs, traps and SBI.
  b.emit(enc('csrrs', 'a0', 0x100, 'zero'), enc('csrrw', 'zero', 0x140, 'a0'), enc('csrrs', 'a0', 0xc01, 'zero'), enc('csrrs', 'a0', 0xc02, 'zero'));
  b.emit(enc('ecall'), enc('fence'), enc('fence.i'), enc('sfence.vma'), enc('sfence.vma', 's0', 'zero'), enc('ebreak'), 0, enc('csrrs', 'a0', 0x300, 'zero'));
  b.emit(enc('csrrwi', 'a0', 0x140, 3), enc('csrrsi', 'a0', 0x140, 4), enc('csrrci', 'a0', 0x140, 1), enc('csrrc', 'a0', 0x140, 'a1'));
  b.emit(enc('csrrs', 'a0', 0xc00, 'zero'), enc('csrrs', 'a0', 0xc81, 'zero'), enc('csrrw', 'zero', 0xc00, 'a0')); // the last is illegal
  b.emit(enc('csrrs', 'a0', 0x144, 'zero'), enc('jalr', 'zero', 'zero', 2)); // misaligned jump: trap, skipped
  b.emit(enc('addi', 'a0', 'a0', 1), enc('jal', 'zero', 6), enc('beq', 'zero', 'zero', 6)); // misaligned targets inside a run
  b.emit(...li('t1', 0x20000000), enc('jalr', 'ra', 't1', 0)); // fetch fault (access, then page): back at ra
  // A loop on itself: hot enough to become a translated block (the scratch threshold is low).
  b.emit(...li('t3', 30), enc('addi', 't3', 't3', -1), enc('add', 'a0', 'a0', 't3'), enc('bne', 't3', 'zero', -8));
  b.emit(enc('addi', 's2', 's2', -1));
  b.to('loop', (o) => enc('bne', 's2', 'zero', o));
  // Turn the MMU on (identity superpages) and go around once more, then stop.
  b.emit(...li('t0', 0x80000000 | (ROOT >>> 12)), enc('csrrw', 'a4', 0x180, 't0'), enc('bne', 'a4', 'zero', 16));
  b.emit(...li('s2', 3));
  b.to('loop', (o) => enc('jal', 'zero', o));
  b.emit(enc('wfi'));
  b.emit(enc('jal', 'zero', -4));

  b.org(FAR).label('far').emit(enc('addi', 'a0', 'a0', 1), enc('jalr', 'zero', 'ra', 0));
  b.org(PAGE_END).label('pageEnd').emit(enc('addi', 'a0', 'a0', 1), enc('addi', 'a0', 'a0', 1), enc('jalr', 'zero', 'ra', 0));
  b.org(PATCHED).label('patched').emit(enc('addi', 'a0', 'a0', 1), enc('jalr', 'zero', 'ra', 0));
  // A loop on a page of its own, entered by a jump: its back-edge target gets hot inside a run
  // of the fast loop, which translates the page from there (the loop's other translate call).
  b.org(HOT_LOOP).label('hotLoop').emit(...li('t4', 12), enc('addi', 't4', 't4', -1), enc('bne', 't4', 'zero', -4), enc('jalr', 'zero', 'ra', 0));
  // Trap handler: exceptions resume after the faulting instruction (fetch faults at ra);
  // interrupts mask themselves.
  b.org(HANDLER).emit(enc('csrrs', 't0', 0x142, 'zero'));
  b.to('irq', (o) => enc('blt', 't0', 'zero', o));
  b.emit(enc('addi', 't0', 't0', -1));
  b.to('fetchFault', (o) => enc('beq', 't0', 'zero', o));
  b.emit(enc('addi', 't0', 't0', -11));
  b.to('fetchFault', (o) => enc('beq', 't0', 'zero', o));
  b.emit(enc('csrrs', 't0', 0x141, 'zero'), enc('addi', 't0', 't0', 4), enc('csrrw', 'zero', 0x141, 't0'), enc('sret'));
  b.label('fetchFault').emit(enc('csrrw', 'zero', 0x141, 'ra'), enc('sret'));
  b.label('irq').emit(enc('csrrw', 'zero', 0x104, 'zero'), enc('sret'));
  // Sv32 root: identity 4 MiB superpages for RAM and the scratch device.
  b.org(ROOT).emit(0xcf);
  b.org(ROOT + (MMIO >>> 22) * 4).emit((((MMIO >>> 12) << 10) | 0xc7) | 0);
  return b.link();
}

class WarmMachine implements HartHost {
  readonly clock = { now: () => this.ticks, word: (high: boolean) => tickWord(this.ticks, high) };
  private ticks = 0;
  private readonly ram = Ram.allocate(1 << 20);
  private readonly cache = new CodeCache(this.ram);
  private readonly hart: Hart;

  constructor() {
    const bus = new Bus(this.ram);
    bus.add(new Scratch(MMIO));
    this.hart = new Hart(0, this.ram, bus, this.cache, this);
    this.cache.addHart(this.hart);
    for (const [addr, word] of program()) this.ram.i32[addr >> 2] = word;
  }

  ecall(h: Hart): void {
    h.x[10] = 0;
  }
  enteredUserMode(): void {}

  /** Runs the program to its final WFI on one engine. */
  run(engine: WarmUpEngine): WarmUpRound {
    const h = this.hart;
    // Every round counts from zero on fresh pages, so each of the loop's places that count
    // entries reaches the threshold and calls the translator (counts left by an earlier round
    // made the pages hot at their first entry, and the count inside a run was never taken).
    // The fast rounds count too, with a threshold they never reach.
    this.cache.invalidateAll();
    this.cache.hotThreshold = engine === 'translated' ? 4 : 65535;
    h.reset(CODE, 0, 0);
    h.sie = MIP_STIP;
    let iterations = 0;
    for (let i = 0; i < 200 && !h.idle && h.crashed === null; i++) {
      this.ticks += 1000;
      // An interrupt on the way (the program runs with SIE set): taken by the outer loop.
      if (i === 3) h.setPending(MIP_STIP, true);
      h.stop = false;
      iterations += engine === 'reference' ? interpret(h, 500, null, false) : runFast(h, this.cache, 500);
    }
    h.setPending(MIP_STIP, false);
    let checksum = 0;
    for (let r = 1; r < 32; r++) checksum = (checksum + h.x[r]) | 0;
    return { engine, iterations, finished: h.idle, crashed: h.crashed?.reason ?? null, translated: this.cache.translated, checksum };
  }
}
