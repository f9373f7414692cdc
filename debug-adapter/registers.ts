// RISC-V integer register names (the psABI's calling-convention names) and the CSRs the
// debugger shows. One table, used by the Registers scope, setVariable and the evaluator.

export const REGISTER_NAMES: readonly string[] = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2',
  's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7',
  's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];

/** Index 0-31 for an ABI name, `fp` (= s0) or `xN`; -1 otherwise. */
export function registerIndex(name: string): number {
  const n = name.toLowerCase();
  const m = /^x(\d{1,2})$/.exec(n);
  if (m) {
    const i = Number(m[1]);
    return i < 32 ? i : -1;
  }
  if (n === 'fp') return 8;
  return REGISTER_NAMES.indexOf(n);
}

/** The label the Registers scope shows: "a0 (x10)". */
export function registerLabel(i: number): string {
  return `${REGISTER_NAMES[i]} (x${i})`;
}

/** A hart's state as the worker reports it (src/host/worker-requests.ts `hart`). */
export interface HartState {
  hart: number;
  pc: number;
  /** x0-x31 as uint32. */
  x: number[];
  /** 0 U, 1 S (3 M would be shown too, though these harts have none). */
  priv: number;
  /** CSR name → uint32 value (64-bit counters as their low word; `*h` holds the high word). */
  csrs: Record<string, number>;
  /** Why the hart is waiting, if it is: 'wfi', 'stopped' (HSM), or ''. */
  wait: string;
}

export const PRIV_NAMES: Record<number, string> = { 0: 'U (user)', 1: 'S (supervisor)', 3: 'M (machine)' };

/** The CSRs of the CSRs scope, in the order shown. 64-bit counters are shown as one value. */
export const CSR_SCOPE: readonly { name: string; wide?: boolean; address?: boolean }[] = [
  { name: 'sstatus' },
  { name: 'sie' },
  { name: 'sip' },
  { name: 'stvec', address: true },
  { name: 'sscratch' },
  { name: 'sepc', address: true },
  { name: 'scause' },
  { name: 'stval', address: true },
  { name: 'satp' },
  { name: 'scounteren' },
  { name: 'time', wide: true },
  { name: 'cycle', wide: true },
  { name: 'instret', wide: true },
];

// ---- decoders for the Variables view (privileged spec §4.1) ----

export function decodeSstatus(v: number): string {
  const f: string[] = [];
  if (v & (1 << 1)) f.push('SIE');
  if (v & (1 << 5)) f.push('SPIE');
  f.push(`SPP=${v & (1 << 8) ? 'S' : 'U'}`);
  if (v & (1 << 18)) f.push('SUM');
  if (v & (1 << 19)) f.push('MXR');
  return f.join(' ');
}

export function decodeInterruptBits(v: number): string {
  const f: string[] = [];
  if (v & (1 << 1)) f.push('SSI');
  if (v & (1 << 5)) f.push('STI');
  if (v & (1 << 9)) f.push('SEI');
  return f.length ? f.join(' ') : 'none';
}

const EXC_NAMES: Record<number, string> = {
  0: 'instruction address misaligned', 1: 'instruction access fault', 2: 'illegal instruction',
  3: 'breakpoint', 4: 'load address misaligned', 5: 'load access fault',
  6: 'store/AMO address misaligned', 7: 'store/AMO access fault', 8: 'ecall from U-mode',
  9: 'ecall from S-mode', 12: 'instruction page fault', 13: 'load page fault', 15: 'store/AMO page fault',
};
const IRQ_NAMES: Record<number, string> = { 1: 'supervisor software interrupt', 5: 'supervisor timer interrupt', 9: 'supervisor external interrupt' };

export function decodeScause(v: number): string {
  const code = v & 0x7fffffff;
  if (v & 0x80000000) return `interrupt ${code}: ${IRQ_NAMES[code] ?? 'reserved'}`;
  return `exception ${code}: ${EXC_NAMES[code] ?? 'reserved'}`;
}

export function decodeSatp(v: number): string {
  if ((v & 0x80000000) === 0) return 'Bare (no translation)';
  const asid = (v >>> 22) & 0x1ff;
  const root = (v & 0x3fffff) * 4096;
  return `Sv32, ASID ${asid}, root table 0x${root.toString(16).padStart(8, '0')}`;
}

export function decodeStvec(v: number): string {
  const base = (v & ~3) >>> 0;
  return `${(v & 3) === 1 ? 'vectored' : 'direct'}, base 0x${base.toString(16).padStart(8, '0')}`;
}

export function hex32(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}
