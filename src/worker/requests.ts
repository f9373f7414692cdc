// Debugger requests answered inside the emulator worker, between run slices (MachineHost.request),
// one handler per method of the typed map in protocol.ts (WorkerRequests). Only what needs the
// harts' private state lives here — registers, CSRs, privilege — and writes that must invalidate
// the harts' decoded-code caches. Every argument is checked: a bad one is an error answer.

import type { Hart } from '../emulator/cpu/hart';
import { CSR_NAMES, SUPERVISOR_CSRS } from '../emulator/cpu/csr';
import type { HartState } from '../../debug-adapter/registers';
import { registerIndex } from '../../debug-adapter/registers';
import type { WorkerArgs, WorkerMethod, WorkerResult } from './protocol';

/** What the requests need of the Machine. */
export interface DebuggableMachine {
  readonly harts: readonly Hart[];
}

const TWO32 = 4294967296;
const CSR_NUMBERS = new Map<string, number>(Object.entries(CSR_NAMES).map(([n, name]) => [name, Number(n)]));
/** Harts' HSM state values (cpu/hart.ts HartState) that mean "not running". */
const HSM_STOPPED = 1;
const HSM_SUSPENDED = 4;

type Handlers = { [M in WorkerMethod]: (m: DebuggableMachine, a: Partial<WorkerArgs<M>>) => WorkerResult<M> };

const handlers: Handlers = {
  harts: (m) => m.harts.map((h, i) => hartState(h, i)),
  setRegister: (m, a) => setRegister(hartArg(m, a.hart), strArg(a.name), numArg(a.value)),
  setCsr: (m, a) => setCsr(hartArg(m, a.hart), strArg(a.name), numArg(a.value)),
  writeMemory: (m, a) => writeMemory(m, numArg(a.paddr), a.data),
  sync: () => null,
};

export function handleRequest(machine: DebuggableMachine, method: string, args: unknown): unknown {
  if (!Object.hasOwn(handlers, method)) throw new Error(`unknown debugger request '${method}'`);
  const a = (typeof args === 'object' && args !== null ? args : {}) as Record<string, never>;
  return handlers[method as WorkerMethod](machine, a);
}

function hartArg(m: DebuggableMachine, v: unknown): Hart {
  const i = typeof v === 'number' ? v : 0;
  const h = m.harts[i];
  if (!Number.isInteger(i) || h === undefined) throw new Error(`no hart ${String(v)} (the machine has ${m.harts.length})`);
  return h;
}

function strArg(v: unknown): string {
  if (typeof v !== 'string') throw new Error(`expected a name, got ${String(v)}`);
  return v;
}

function numArg(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`expected a number, got ${String(v)}`);
  return v;
}

export function hartState(h: Hart, index: number): HartState {
  const x: number[] = new Array(32);
  for (let i = 0; i < 32; i++) x[i] = h.x[i] >>> 0;
  const csrs: Record<string, number> = {};
  for (const n of [0x100, 0x104, 0x105, 0x106, 0x10a, 0x140, 0x141, 0x142, 0x143, 0x144, 0x180]) {
    const v = h.csrRead(n);
    if (v !== undefined) csrs[CSR_NAMES[n]] = v >>> 0;
  }
  // Counters straight from the hart, whatever scounteren says: the debugger is not U-mode.
  const time = Math.floor(h.host.clock.now());
  split(csrs, 'time', time);
  split(csrs, 'cycle', h.instret);
  split(csrs, 'instret', h.instret);
  const hsm = h.state as number;
  return {
    hart: index,
    pc: h.pc >>> 0,
    x,
    priv: h.priv,
    csrs,
    wait: hsm === HSM_STOPPED ? 'stopped' : hsm === HSM_SUSPENDED ? 'suspended' : h.idle ? 'wfi' : '',
  };
}

function split(csrs: Record<string, number>, name: string, v: number): void {
  csrs[name] = v % TWO32 >>> 0;
  csrs[name + 'h'] = Math.floor(v / TWO32) >>> 0;
}

function setRegister(h: Hart, name: string, value: number): { value: number } {
  if (name.toLowerCase() === 'pc') {
    if ((value & 3) !== 0) throw new Error(`pc must be 4-byte aligned (RV32I without C), got 0x${(value >>> 0).toString(16)}`);
    h.pc = value | 0;
    return { value: h.pc >>> 0 };
  }
  const i = registerIndex(name);
  if (i < 0) throw new Error(`'${name}' is not a register`);
  if (i === 0) throw new Error('x0 (zero) is hard-wired to 0');
  h.x[i] = value | 0;
  return { value: h.x[i] >>> 0 };
}

function setCsr(h: Hart, name: string, value: number): { value: number } {
  const n = CSR_NUMBERS.get(name.toLowerCase());
  if (n === undefined || h.csrRead(n) === undefined || !WRITABLE_CSRS.has(n)) {
    throw new Error(`'${name}' is not a writable supervisor CSR`);
  }
  h.csrWrite(n, value | 0);
  return { value: (h.csrRead(n) ?? 0) >>> 0 };
}

/** The CSRs a person may change from the debugger (counters and time are not writable). */
const WRITABLE_CSRS = new Set<number>(SUPERVISOR_CSRS);

function writeMemory(m: DebuggableMachine, paddr: number, data: unknown): { written: number } {
  if (!(data instanceof Uint8Array)) throw new Error('writeMemory needs the bytes as a Uint8Array');
  const h = m.harts[0];
  if (!h) throw new Error('the machine has no harts');
  const ram = h.ram;
  paddr >>>= 0;
  if (!ram.contains(paddr, data.length)) {
    throw new Error(`0x${paddr.toString(16)}+${data.length} is not guest RAM (device registers are not written by the debugger)`);
  }
  ram.u8.set(data, paddr - ram.base);
  // Decoded/translated code of those pages must be dropped, as for any write a hart did not do.
  ram.noteWrite(paddr, data.length);
  return { written: data.length };
}
