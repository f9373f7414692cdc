// The page translator: the hot code of one physical page compiled into one JavaScript function,
// generated from the instruction table (decode.ts) with one template per kind.
//
// What goes in: the fast loop counts entries into every slot (jump targets and run starts);
// when a slot gets hot, its page is translated with every slot entered so far as an entry. From
// each entry the translator takes the straight-line code up to the first unconditional jump,
// system instruction or the page end (conditional branches fall through and stay in). The
// instructions are emitted once each, in address order, inside `for (;;) switch (s)`, with a
// `case` label at each entry and at each in-page target of an included jump: a jump inside the
// page continues the loop (blocks chained within the page, loops stay in the function, where
// V8 optimizes them on stack); anything else returns to the fast loop with h.pc set.
//
// The function is `page(h, s, vb, limit)`: s the entry slot, vb the page's virtual base (every
// pc is vb + constant, so the function serves every virtual alias of the page), and limit the
// instructions it may retire before it leaves at the next jump within the page. It returns the instructions
// retired. Registers stay in h.x (no copies in or out, so any exit is cheap); loads and stores
// inline the TLB check and take the hart's slow paths otherwise. A slow path that traps returns
// with h.trapped set and the faulting instruction not retired (its straight-line run recorded
// in the crash trace); one that changed interrupts, stopped the machine or wrote code returns
// after the instruction.

import { Cause } from './csr';
import { BY_OP, Op, SYSTEM, type InsnDef } from './decode';
import { build, fill } from './gen';
import type { Hart } from './hart';
import { TLB_MASK } from './mmu';
import { SLOT_WORDS } from './predecode';

/** A translated page: returns instructions retired; h.pc is where execution continues. */
export type PageFn = (h: Hart, s: number, vb: number, limit: number) => number;

const SLOTS = 1024;

export interface PageCode {
  fn: PageFn;
  /** 1 for each slot the function can be entered at. */
  labels: Uint8Array;
  /** Instructions translated. */
  length: number;
  /** Characters of generated source (the compile cost grows with it). */
  sourceSize: number;
}

const LOAD_VIEW = { '1s': 'i8', '1u': 'u8', '2s': 'i16', '2u': 'u16', '4s': 'm32', '4u': 'm32' } as const;
const STORE_VIEW = { 1: 'u8', 2: 'u16', 4: 'm32' } as const;
const SHIFT = { 1: '| 0', 2: '>> 1', 4: '>> 2' } as const;
const ALIGNED = { 1: '', 2: ' && (a & 1) === 0', 4: ' && (a & 3) === 0' } as const;
const EXTEND = { '1s': '(t << 24) >> 24', '1u': 't', '2s': '(t << 16) >> 16', '2u': 't', '4s': 't | 0', '4u': 't | 0' } as const;

/** Decoded operands of one slot (predecode.ts layout). */
interface Slot {
  op: Op;
  def: InsnDef;
  rd: number;
  rs1: number;
  rs2: number;
  imm: number;
}

function slotAt(d: Int32Array, s: number): Slot {
  const w = d[SLOT_WORDS * s];
  const op = (w & 0xff) as Op;
  const rd = (w >>> 8) & 0xff;
  return { op, def: BY_OP[op], rd: rd === 32 ? 0 : rd, rs1: (w >>> 16) & 0xff, rs2: w >>> 24, imm: d[SLOT_WORDS * s + 1] };
}

/** True when control never falls through to the next slot (the straight-line run ends). */
function unconditional(k: string): boolean {
  return k === 'jal' || k === 'jalr';
}

/** The slots to translate: straight-line runs from each entry (see the header). */
export function selectSlots(d: Int32Array, entries: readonly number[]): Uint8Array {
  const inc = new Uint8Array(SLOTS);
  for (const e of entries) {
    for (let s = e; s < SLOTS && inc[s] === 0; s++) {
      const op = d[SLOT_WORDS * s] & 0xff;
      if (SYSTEM[op] !== 0) break;
      inc[s] = 1;
      if (unconditional(BY_OP[op].sem.k)) break;
    }
  }
  return inc;
}

/** In-page static jump target of slot s (branch or jal), or -1. */
function staticTarget(sl: Slot, s: number): number {
  const k = sl.def.sem.k;
  if (k !== 'branch' && k !== 'jal') return -1;
  const t = 4 * s + sl.imm;
  return (sl.imm & 3) === 0 && t >= 0 && t < 4096 ? t >> 2 : -1;
}

/**
 * The source of a page function for decoded page `d` (RAM page `page`), entered at `entries`.
 * `ramBase`: the guest-physical address of RAM offset 0 (LR/SC reservations are physical).
 */
export function pageSource(d: Int32Array, page: number, entries: readonly number[], ramBase: number): { src: string; labels: Uint8Array; length: number } {
  const inc = selectSlots(d, entries);
  const labels = new Uint8Array(SLOTS);
  for (const e of entries) if (inc[e]) labels[e] = 1;
  for (let s = 0; s < SLOTS; s++) {
    if (!inc[s]) continue;
    const t = staticTarget(slotAt(d, s), s);
    if (t >= 0 && inc[t]) labels[t] = 1;
  }
  const out: string[] = [];
  let length = 0;
  let p = 0; // instructions since the last label (retired when execution passes them)
  let seg = 0; // the slot of the last label: where the current straight-line run began
  let open = false; // the previous slot falls through to this one
  for (let s = 0; s < SLOTS; s++) {
    if (!inc[s]) {
      if (open) out.push(`h.pc = ${pc(s)}; return n + ${p};`);
      open = false;
      continue;
    }
    if (labels[s]) {
      if (open && p > 0) out.push(`n += ${p};`);
      out.push(`case ${s}:`);
      p = 0;
      seg = s;
    } else if (!open) {
      throw new Error(`translate: slot ${s} is reached by nothing`); // selectSlots starts runs at labels
    }
    const sl = slotAt(d, s);
    const ctx: Ctx = { s, p, seg, page, labels, ramBase };
    out.push(emit(sl, ctx));
    length++;
    p++;
    open = !unconditional(sl.def.sem.k);
    if (open && s === SLOTS - 1) out.push(`h.pc = ${pc(SLOTS)}; return n + ${p};`);
  }
  const src = `return function page_${page.toString(16)}(h, s, vb, limit) {
  const x = h.x, k = h.priv, ltag = h.ltag, ldelta = h.ldelta, stag = h.stag, sdelta = h.sdelta;
  let n = 0, a = 0, v = 0, e = 0, t = 0;
  for (;;) {
    switch (s) {
${out.join('\n')}
    }
    h.pc = (vb + (s << 2)) | 0;
    return n;
  }
};`;
  return { src, labels, length };
}

/** Compiles the translation of decoded page `d` (RAM page `page`) entered at `entries`. */
export function translatePage(h: Hart, d: Int32Array, page: number, entries: readonly number[]): PageCode {
  const { src, labels, length } = pageSource(d, page, entries, h.ramBase);
  const fn = build<PageFn>(['m32', 'u16', 'i16', 'u8', 'i8', 'labels'], [h.m32, h.u16, h.i16, h.u8, h.i8, labels], src);
  return { fn, labels, length, sourceSize: src.length };
}

// ---------------------------------------------------------------- templates

interface Ctx {
  s: number;
  /** Instructions of the current run before this one. */
  p: number;
  seg: number;
  page: number;
  labels: Uint8Array;
  ramBase: number;
}

const pc = (s: number) => `(vb + ${4 * s}) | 0`;
const reg = (r: number) => (r === 0 ? '0' : `x[${r}]`);
/** The destination of rd (x0: computed for its side effects, then dropped). */
const dest = (r: number) => (r === 0 ? 't' : `x[${r}]`);

/** Leave with the instruction trapped (not retired); its run goes to the crash trace. */
function trapExit(c: Ctx): string {
  const count = c.s - c.seg + 1;
  return `{ h.record(${pc(c.seg)}, ${(c.page << 12) + 4 * c.seg}, ${count}); return n + ${c.p}; }`;
}
/** Leave after retiring the instruction (a slow path changed what the loop must see). */
const leaveAfter = (c: Ctx) => `{ h.pc = ${pc(c.s + 1)}; return n + ${c.p + 1}; }`;
const afterLoad = (c: Ctx) => `if (h.stop || (h.mip & h.sie) !== 0) ${leaveAfter(c)}`;
const afterStore = (c: Ctx) => `if (h.stop || h.codeChanged || (h.mip & h.sie) !== 0) ${leaveAfter(c)}`;

/** Go to slot `t` of this page (a label) or leave for `target`, after retiring this instruction. */
function jumpTo(c: Ctx, t: number): string {
  if (t >= 0 && c.labels[t]) return `{ n += ${c.p + 1}; s = ${t}; if (n >= limit) { h.pc = ${pc(t)}; return n; } continue; }`;
  return '';
}

function emit(sl: Slot, c: Ctx): string {
  const sem = sl.def.sem;
  const at = pc(c.s);
  const ops = { a: reg(sl.rs1), b: reg(sl.rs2), i: String(sl.imm), pc: at };
  const tlb = (tags: string, check: string) => `v = a >>> 12; e = v & ${TLB_MASK}; if (${tags}[e] === ((v << 1) | k)${check})`;
  switch (sem.k) {
    case 'alu':
      return sl.rd === 0 ? '' : `x[${sl.rd}] = ${fill(sem.e, ops)};`;
    case 'branch': {
      const target = 4 * c.s + sl.imm;
      let taken: string;
      if ((sl.imm & 3) !== 0) taken = `{ h.raise(${Cause.InsnMisaligned}, (vb + ${target}) | 0, ${at}); ${trapExit(c)} }`;
      else taken = jumpTo(c, staticTargetOf(c.s, sl.imm)) || `{ h.pc = (vb + ${target}) | 0; return n + ${c.p + 1}; }`;
      return `if (${fill(sem.e, ops)}) ${taken}`;
    }
    case 'jal': {
      const target = 4 * c.s + sl.imm;
      if ((sl.imm & 3) !== 0) return `h.raise(${Cause.InsnMisaligned}, (vb + ${target}) | 0, ${at}); ${trapExit(c)}`;
      const link = sl.rd === 0 ? '' : `x[${sl.rd}] = ${pc(c.s + 1)}; `;
      return link + (jumpTo(c, staticTargetOf(c.s, sl.imm)) || `h.pc = (vb + ${target}) | 0; return n + ${c.p + 1};`);
    }
    case 'jalr': {
      const link = sl.rd === 0 ? '' : `x[${sl.rd}] = ${pc(c.s + 1)}; `;
      return (
        `t = (${reg(sl.rs1)} + ${sl.imm}) & -2; if ((t & 2) !== 0) { h.raise(${Cause.InsnMisaligned}, t, ${at}); ${trapExit(c)} } ${link}` +
        `if (((t ^ vb) & -4096) === 0 && labels[(t >>> 2) & 1023] !== 0) { n += ${c.p + 1}; s = (t >>> 2) & 1023; if (n >= limit) { h.pc = t; return n; } continue; } ` +
        `h.pc = t; return n + ${c.p + 1};`
      );
    }
    case 'load': {
      const key = `${sem.width}${sem.signed ? 's' : 'u'}` as const;
      return (
        `a = (${reg(sl.rs1)} + ${sl.imm}) | 0; ${tlb('ltag', ALIGNED[sem.width])} ${dest(sl.rd)} = ${LOAD_VIEW[key]}[(a + ldelta[e]) ${SHIFT[sem.width]}]; ` +
        `else { t = h.loadSlow(a, ${sem.width}, ${at}); if (h.trapped) ${trapExit(c)} ${dest(sl.rd)} = ${EXTEND[key]}; ${afterLoad(c)} }`
      );
    }
    case 'store':
      return (
        `a = (${reg(sl.rs1)} + ${sl.imm}) | 0; ${tlb('stag', ALIGNED[sem.width])} ${STORE_VIEW[sem.width]}[(a + sdelta[e]) ${SHIFT[sem.width]}] = ${reg(sl.rs2)}; ` +
        `else { h.storeSlow(a, ${sem.width}, ${reg(sl.rs2)}, ${at}); if (h.trapped) ${trapExit(c)} ${afterStore(c)} }`
      );
    case 'amo':
      // A RAM word through the store TLB (write permission, D set, not code): read, combine, write.
      return (
        `a = ${reg(sl.rs1)}; ${tlb('stag', ALIGNED[4])} { e = (a + sdelta[e]) >> 2; t = m32[e]; m32[e] = ${fill(sem.e, { old: 't', b: reg(sl.rs2) })}; ${dest(sl.rd)} = t; } ` +
        `else { t = h.amo(${sl.op}, a, ${reg(sl.rs2)}, ${at}); if (h.trapped) ${trapExit(c)} ${dest(sl.rd)} = t; ${afterStore(c)} }`
      );
    case 'lr':
      return (
        `a = ${reg(sl.rs1)}; ${tlb('ltag', ALIGNED[4])} { e = (a + ldelta[e]) | 0; h.reservation = e + ${c.ramBase}; ${dest(sl.rd)} = m32[e >> 2]; } ` +
        `else { t = h.loadReserved(a, ${at}); if (h.trapped) ${trapExit(c)} ${dest(sl.rd)} = t; ${afterLoad(c)} }`
      );
    case 'sc':
      return (
        `a = ${reg(sl.rs1)}; ${tlb('stag', ALIGNED[4])} { e = (a + sdelta[e]) | 0; if (h.reservation === e + ${c.ramBase}) { m32[e >> 2] = ${reg(sl.rs2)}; t = 0; } else t = 1; h.reservation = -1; ${dest(sl.rd)} = t; } ` +
        `else { t = h.storeConditional(a, ${reg(sl.rs2)}, ${at}); if (h.trapped) ${trapExit(c)} ${dest(sl.rd)} = t; ${afterStore(c)} }`
      );
    case 'nop':
      return '';
    case 'csr':
    case 'sys':
      throw new Error(`translate: ${sl.def.name} is a system instruction`); // never selected
  }
}

function staticTargetOf(s: number, imm: number): number {
  const t = 4 * s + imm;
  return t >= 0 && t < 4096 ? t >> 2 : -1;
}
