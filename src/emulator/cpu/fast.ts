// The default engine: the fast loop over pre-decoded pages (predecode.ts), generated at start-up
// from the instruction table (decode.ts, one template per kind), handing hot code to the page
// translator (translate.ts).
//
// The outer loop checks interrupts, fetches (which may walk the page table or trap), and then
// either enters translated code (translate.ts), when the slot is an entry of its page's
// translation, or starts a "run": the decoded page and slot in locals, straight-line code and jumps followed directly
// while the target's page is known to the fetch TLB and decoded. Every jump target and run
// start counts an entry into its slot; at `hotThreshold` entries the page is translated and the
// run ends so the outer loop enters the new function. A run also ends on anything that can
// change what runs next or how: a system instruction (run by execute()), a trap, a slow-path
// access that raised an interrupt, stopped the machine or wrote code, or the budget.
// With a CPU area the run is made by the same loop in WebAssembly (wasm-loop.ts), which returns
// like translated code; the JavaScript run below is for RAM without one, and for a run whose
// first instruction the WebAssembly loop leaves alone.

import { Cause } from './csr';
import type { CodeCache } from './codecache';
import { BY_OP, Op, SYSTEM, type InsnDef } from './decode';
import { build } from './gen';
import { js, jsCond } from './ir';
import type { Hart } from './hart';
import { execute } from './interp';
import { dataKey, fetchIndex, TLB_MASK } from './mmu';
import { Exit, FLAGS, HOT_AT, PC as PC_CELL } from './layout';
import { inlineSystem } from './translate';

// Loop exits (the `next` values below zero).
const JUMP = -1; // to `t`, after retiring the instruction
const LEAVE = -2; // after retiring the instruction; h.pc already set
const TRAP = -3; // the instruction trapped: not retired; h.pc is the handler
const SYS = -4; // not executed: h.pc = its pc, execute() takes it

const LOAD_VIEW = { '1s': 'i8', '1u': 'u8', '2s': 'i16', '2u': 'u16', '4s': 'm32', '4u': 'm32' } as const;
const STORE_VIEW = { 1: 'u8', 2: 'u16', 4: 'm32' } as const;
const SHIFT = { 1: '| 0', 2: '>> 1', 4: '>> 2' } as const;
/** loadSlow's width argument: negative zero-extends (see loadSlow below). */
const SLOW_WIDTH = { '1s': 1, '1u': -1, '2s': 2, '2u': -2, '4s': 4, '4u': 4 } as const;

const PC = '(vbase + (s << 2)) | 0';

/** One case of the loop's switch: the kind's template with the instruction's semantics. */
function caseOf(d: InsnDef): string {
  const sem = d.sem;
  const ops = { a: 'x[rs1]', b: 'x[rs2]', i: 'imm', pc: PC };
  // One compare checks page, privilege and alignment (mmu.ts tlbTag).
  const tlb = (tags: string, width: number) => `const a = ${sem.k === 'load' || sem.k === 'store' ? '(x[rs1] + imm) | 0' : 'x[rs1]'}; const e = (a >>> 12) & ${TLB_MASK}; if (${tags}[e] === ((a & ${-4096 | (width - 1)}) | kd))`;
  switch (sem.k) {
    case 'alu': return `x[rd] = ${js(sem.e, ops)};`;
    case 'branch': return `if (${jsCond(sem.e, ops)}) { t = (vbase + (s << 2) + imm) | 0; next = ${JUMP}; }`;
    case 'jal':
    case 'jalr': {
      const target = sem.k === 'jal' ? '(vbase + (s << 2) + imm) | 0' : '(x[rs1] + imm) & -2';
      return `t = ${target}; if ((t & 3) !== 0) { h.raise(${Cause.InsnMisaligned}, t, ${PC}); next = ${TRAP}; break; } x[rd] = (vbase + (s << 2) + 4) | 0; next = ${JUMP};`;
    }
    case 'load': {
      const key = `${sem.width}${sem.signed ? 's' : 'u'}` as const;
      return `{ ${tlb('ltag', sem.width)} x[rd] = ${LOAD_VIEW[key]}[(a + ldelta[e]) ${SHIFT[sem.width]}]; else next = loadSlow(h, a, ${SLOW_WIDTH[key]}, rd, vbase, s); }`;
    }
    case 'store':
      return `{ ${tlb('stag', sem.width)} ${STORE_VIEW[sem.width]}[(a + sdelta[e]) ${SHIFT[sem.width]}] = x[rs2]; else next = storeSlow(h, a, ${sem.width}, x[rs2], vbase, s); }`;
    case 'amo':
      return (
        `{ ${tlb('stag', 4)} { const o = (a + sdelta[e]) >> 2; const old = m32[o]; m32[o] = ${js(sem.e, { old: 'old', b: 'x[rs2]' })}; x[rd] = old; } ` +
        `else { const v = h.amo(${d.op}, a, x[rs2], ${PC}); if (h.trapped) next = ${TRAP}; else { x[rd] = v; next = afterSlowStore(h, vbase, s); } } }`
      );
    case 'lr':
      return (
        `{ ${tlb('ltag', 4)} { const o = (a + ldelta[e]) | 0; h.reservation = o + ramBase; x[rd] = m32[o >> 2]; } ` +
        `else { const v = h.loadReserved(a, ${PC}); if (h.trapped) next = ${TRAP}; else { x[rd] = v; next = afterSlowLoad(h, vbase, s); } } }`
      );
    case 'sc':
      return (
        `{ ${tlb('stag', 4)} { const o = (a + sdelta[e]) | 0; let r = 1; if (h.reservation === o + ramBase) { m32[o >> 2] = x[rs2]; r = 0; } h.reservation = -1; x[rd] = r; } ` +
        `else { const v = h.storeConditional(a, x[rs2], ${PC}); if (h.trapped) next = ${TRAP}; else { x[rd] = v; next = afterSlowStore(h, vbase, s); } } }`
      );
    case 'nop': return '';
    case 'csr':
    case 'sys': return ''; // not a case: the default leaves them to execute()
  }
}

function source(): string {
  const cases: string[] = [];
  for (let op = 1; op < Op.COUNT; op++) {
    if (SYSTEM[op] !== 0) continue;
    cases.push(`        case ${op}: ${caseOf(BY_OP[op])} break; // ${BY_OP[op].name}`);
  }
  return `return function runFast(h, cache, budget) {
  const x = h.x, m32 = h.m32, u16 = h.u16, i16 = h.i16, u8 = h.u8, i8 = h.i8;
  const pages = cache.decodedPages, heats = cache.heatPages, labelPages = cache.labelPages;
  const hotAt = cache.hotThreshold, ramBase = h.ramBase, cells = h.cells, hs = h.region.offset;
  // Runs go to WebAssembly (wasm-loop.ts) when the CPU area holds this hart and the decoded pages.
  const loop = cache.loopFor(h);
  cells[${HOT_AT >> 2}] = hotAt === 0 ? 0x10001 : hotAt;
  let iter = 0;
  while (iter < budget && !h.stop) {
    // Between runs: interrupts, then the fetch (which may walk the page table or trap).
    if ((h.mip & h.sie) !== 0 && h.checkInterrupt()) { iter++; continue; }
    const pc0 = h.pc;
    const off0 = h.fetchOffset(pc0);
    if (off0 < 0) { h.trapped = false; iter++; continue; }
    const page0 = off0 >>> 12;
    let s = (off0 >>> 2) & 1023;
    const labels = labelPages[page0];
    if (labels !== null && labels[s] !== 0) {
      // Translated code from here on, until something needs this loop (layout.ts, Exit).
      h.codeChanged = false;
      cells[${PC_CELL >> 2}] = pc0;
      cells[${FLAGS >> 2}] = 0;
      const r = cache.enter(hs, dataKey(h.priv, h.status), budget - iter);
      h.instret += r;
      iter += r;
      // A trap left h.pc at the handler; otherwise translated code says where it stopped.
      if (cells[${FLAGS >> 2}] === ${Exit.Trap}) { h.trapped = false; iter++; }
      else h.pc = cells[${PC_CELL >> 2}];
      continue;
    }
    let d = pages[page0];
    if (d === null) d = cache.decode(page0);
    let hot = heats[page0];
    if (SYSTEM[d[2 * s] & 0xff] !== 0) {
      // One that translated code runs inline counts its entries (then it is entered there).
      if (hotAt !== 0 && inlineSystem(d[2 * s] & 0xff, d[2 * s + 1])) {
        const c = hot[s] + 1;
        if (c < hotAt) hot[s] = c;
        else if (cache.translate(h, page0, s)) continue;
      }
      h.codeChanged = false;
      execute(h, m32[off0 >> 2], pc0);
      h.record(pc0, off0, 1);
      if (h.trapped) h.trapped = false;
      else h.instret++;
      iter++;
      continue;
    }
    if (hotAt !== 0) {
      const c = hot[s] + 1;
      if (c < hotAt) hot[s] = c;
      else if (cache.translate(h, page0, s)) continue;
    }
    h.codeChanged = false;
    if (loop !== null) {
      const r = loop(hs, dataKey(h.priv, h.status), budget - iter, pc0, off0);
      const f = cells[${FLAGS >> 2}];
      if (r !== 0 || f === ${Exit.Trap}) {
        h.instret += r;
        iter += r;
        if (f === ${Exit.Trap}) { h.trapped = false; iter++; }
        else h.pc = cells[${PC_CELL >> 2}];
        continue;
      }
      // Nothing ran: the first instruction is one the WebAssembly loop leaves to this one.
    }
    // The current address space's TLBs (a satp write, always outside a run, swaps them).
    const ltag = h.ltag, ldelta = h.ldelta, stag = h.stag, sdelta = h.sdelta, ftag = h.ftag, fdelta = h.fdelta;
    // Fixed until the run ends: privilege changes only through traps and SRET, SUM only through
    // a CSR instruction (a system instruction: execute() runs it outside any run).
    const k11 = h.priv << 11; // fetch tags
    const kd = dataKey(h.priv, h.status); // load/store tags (mmu.ts dataKey)
    const limit = budget - iter;
    let vbase = pc0 - (pc0 & 4095);
    let obase = off0 - (off0 & 4095);
    let runStart = s;
    let n = 0, t = 0, next = 0;
    for (;;) {
      const w = d[2 * s];
      const imm = d[2 * s + 1];
      const rd = (w >>> 8) & 0xff;
      const rs1 = (w >>> 16) & 0xff;
      const rs2 = w >>> 24;
      next = s + 1;
      switch (w & 0xff) {
${cases.join('\n')}
        default: h.pc = ${PC}; next = ${SYS}; break; // system: execute() runs it
      }
      if (next < 0) {
        if (next === ${JUMP}) {
          if ((t & 3) !== 0) {
            // A branch to a misaligned target (JAL/JALR checked theirs before writing rd).
            h.raise(${Cause.InsnMisaligned}, t, ${PC});
            next = ${TRAP};
          } else {
            n++;
            h.record((vbase + (runStart << 2)) | 0, obase + (runStart << 2), s - runStart + 1);
            // Follow the target in this run when its page is known to the fetch TLB, decoded,
            // not translated at that slot, and the slot not a system instruction.
            let off = 0, nd = d;
            if (((t ^ vbase) & -4096) === 0) off = obase + (t & 4095);
            else {
              const e = fetchIndex(t);
              nd = ftag[e] === ((t & -4093) | k11) ? pages[(off = (t + fdelta[e]) | 0) >>> 12] : null;
            }
            const slot = (off >>> 2) & 1023;
            if (n >= limit || nd === null || SYSTEM[nd[2 * slot] & 0xff] !== 0) { h.pc = t; break; }
            const tp = off >>> 12;
            const tl = labelPages[tp];
            if (tl !== null && tl[slot] !== 0) { h.pc = t; break; }
            if (nd !== d) hot = heats[tp];
            if (hotAt !== 0) {
              const c = hot[slot] + 1;
              if (c < hotAt) hot[slot] = c;
              else if (cache.translate(h, tp, slot)) { h.pc = t; break; }
            }
            d = nd;
            vbase = t - (t & 4095);
            obase = off - (off & 4095);
            s = runStart = slot;
            continue;
          }
        }
        if (next === ${TRAP}) {
          h.trapped = false;
          iter++; // the trap costs an iteration; nothing retired
        } else if (next === ${LEAVE}) n++;
        else s--; // SYS: not executed here
        h.record((vbase + (runStart << 2)) | 0, obase + (runStart << 2), s - runStart + 1);
        break;
      }
      n++;
      s = next;
      if (s === 1024 || n >= limit) {
        h.pc = ${PC};
        h.record((vbase + (runStart << 2)) | 0, obase + (runStart << 2), s - runStart);
        break;
      }
    }
    h.instret += n;
    iter += n;
  }
  return iter;
};`;
}

/**
 * A load that missed the TLB or is misaligned: `width` 1/2/4 signed-extends (1, 2) or plain
 * word, -1/-2 zero-extends. Returns the loop's next step: the next slot, or TRAP / LEAVE (an
 * MMIO read that changed the interrupt lines or stopped the machine).
 */
function loadSlow(h: Hart, a: number, width: number, rd: number, vbase: number, s: number): number {
  const pc = (vbase + (s << 2)) | 0;
  const w = width < 0 ? -width : width;
  let v = h.loadSlow(a, w as 1 | 2 | 4, pc);
  if (h.trapped) return TRAP;
  if (width === 1) v = (v << 24) >> 24;
  else if (width === 2) v = (v << 16) >> 16;
  h.x[rd] = v | 0;
  return afterSlowLoad(h, vbase, s);
}

function storeSlow(h: Hart, a: number, width: 1 | 2 | 4, v: number, vbase: number, s: number): number {
  h.storeSlow(a, width, v, (vbase + (s << 2)) | 0);
  if (h.trapped) return TRAP;
  return afterSlowStore(h, vbase, s);
}

/** After a slow-path load: leave the loop if it raised an interrupt or stopped the machine. */
function afterSlowLoad(h: Hart, vbase: number, s: number): number {
  if (h.stop || (h.mip & h.sie) !== 0) {
    h.pc = (vbase + (s << 2) + 4) | 0;
    return LEAVE;
  }
  return s + 1;
}

/** After a store that took the slow path: leave the loop if it changed code, interrupts or stopped. */
function afterSlowStore(h: Hart, vbase: number, s: number): number {
  if (h.stop || h.codeChanged || (h.mip & h.sie) !== 0) {
    h.pc = (vbase + (s << 2) + 4) | 0;
    return LEAVE;
  }
  return s + 1;
}

/**
 * Runs `h` for about `budget` iterations. Returns iterations used: instructions retired plus
 * one per trap or interrupt taken.
 */
export const runFast: (h: Hart, cache: CodeCache, budget: number) => number = build(
  ['SYSTEM', 'execute', 'inlineSystem', 'loadSlow', 'storeSlow', 'afterSlowLoad', 'afterSlowStore', 'dataKey', 'fetchIndex'],
  [SYSTEM, execute, inlineSystem, loadSlow, storeSlow, afterSlowLoad, afterSlowStore, dataKey, fetchIndex],
  source(),
);
