// A hart on a small bus for instruction-level tests, in each execution mode: the reference
// interpreter, the fast loop alone, and the fast loop with the page translator.

import { Bus } from '../../src/emulator/bus';
import { Ram } from '../../src/emulator/ram';
import { tickWord, type MmioDevice, type Width } from '../../src/emulator/types';
import { Hart, type HartHost } from '../../src/emulator/cpu/hart';
import { CodeCache } from '../../src/emulator/cpu/codecache';
import { interpret } from '../../src/emulator/cpu/run';
import { runFast } from '../../src/emulator/cpu/fast';
import { reg } from '../../src/emulator/cpu/asm';

/**
 * 'fast' is the fast loop alone, 'hybrid' the fast loop translating a page on the second entry
 * into a slot (code runs both ways, and passes between them), 'jit' translating every page on
 * its first entry (nearly everything runs translated).
 */
export type Mode = 'interp' | 'fast' | 'hybrid' | 'jit';
export const MODES: readonly Mode[] = ['interp', 'fast', 'hybrid', 'jit'];

/** A 4 KiB MMIO device that remembers every access (at 0x1000_0000 in TestCpu). */
export class RecordingDevice implements MmioDevice {
  readonly name = 'recorder';
  readonly size = 0x1000;
  readonly log: string[] = [];
  readonly regs = new Uint32Array(1024);
  constructor(readonly base: number) {}
  read(offset: number, width: Width): number {
    this.log.push(`r${width}@${offset.toString(16)}`);
    const v = this.regs[offset >> 2] >>> ((offset & 3) * 8);
    return width === 4 ? v >>> 0 : width === 2 ? v & 0xffff : v & 0xff;
  }
  write(offset: number, width: Width, value: number): void {
    this.log.push(`w${width}@${offset.toString(16)}=${value.toString(16)}`);
    if (width === 4) this.regs[offset >> 2] = value;
    else {
      const sh = (offset & 3) * 8;
      const mask = (width === 2 ? 0xffff : 0xff) << sh;
      this.regs[offset >> 2] = (this.regs[offset >> 2] & ~mask) | ((value << sh) & mask);
    }
  }
}

export const MMIO_BASE = 0x10000000;
export const CODE = 0x1000;

export class TestCpu implements HartHost {
  readonly ram: Ram;
  readonly bus: Bus;
  readonly cache: CodeCache;
  readonly hart: Hart;
  readonly dev = new RecordingDevice(MMIO_BASE);
  /** The fake guest clock (ticks). */
  time = 0;
  readonly clock = { now: () => this.time, word: (high: boolean) => tickWord(this.time, high) };
  readonly ecalls: number[] = [];
  userEntered = 0;
  onEcall: ((h: Hart) => void) | null = null;

  constructor(
    readonly mode: Mode,
    ramSize = 4 << 20,
  ) {
    this.ram = Ram.allocate(ramSize);
    this.bus = new Bus(this.ram);
    this.bus.add(this.dev);
    this.cache = new CodeCache(this.ram);
    this.cache.hotThreshold = mode === 'hybrid' ? 2 : mode === 'jit' ? 1 : 0;
    this.hart = new Hart(0, this.ram, this.bus, this.cache, this);
    this.cache.addHart(this.hart);
    this.hart.reset(CODE, 0, 0);
  }

  ecall(h: Hart): void {
    this.ecalls.push(h.x[17]);
    this.onEcall?.(h);
  }
  enteredUserMode(): void {
    this.userEntered++;
  }

  /** Writes instruction words (or data) at physical `at` as a loader would. */
  load(words: readonly number[], at = CODE): void {
    for (let i = 0; i < words.length; i++) this.ram.i32[(at >> 2) + i] = words[i];
    this.ram.noteWrite(at, words.length * 4);
  }

  x(r: string | number): number {
    return this.hart.x[reg(r)];
  }
  set(r: string | number, v: number): void {
    this.hart.x[reg(r)] = v;
  }

  /** Runs `budget` iterations in this mode (the hart may stop earlier: WFI, SBI, crash). */
  step(budget: number): number {
    const h = this.hart;
    h.stop = false;
    if (this.mode === 'interp') return interpret(h, budget, null, false);
    return runFast(h, this.cache, budget);
  }

  /** Runs until the hart executes WFI with nothing pending (or stops), at most `max` iterations. */
  runToWfi(max = 100000): void {
    const h = this.hart;
    let n = 0;
    h.idle = false;
    while (!h.idle && n < max) {
      n += this.step(Math.min(1000, max - n));
      if (h.crashed) throw new Error(`crashed: ${h.crashed.reason}`);
    }
    if (!h.idle) throw new Error(`no WFI after ${max} iterations (pc 0x${(h.pc >>> 0).toString(16)})`);
  }
}
