// Data breakpoints (DAP dataBreakpointInfo / setDataBreakpoints): what can be watched and how
// it is named. A dataId is "0xADDR/LEN" (virtual, through the accessing hart's satp: catches the
// harts' accesses) or "p:0xADDR/LEN" (physical: also catches a device's DMA into that RAM).

import type { DebugProtocol } from '@vscode/debugprotocol';
import { evaluate, parseExpression, resultWidth, type EvalContext } from './expressions';
import { WATCH_ACCESS, WATCH_READ, WATCH_WRITE } from '../src/emulator/watch';
import type { SymbolTable } from './symbols';

export interface DataTarget {
  addr: number;
  len: number;
  physical: boolean;
}

export const ACCESS_TYPES: DebugProtocol.DataBreakpointAccessType[] = ['write', 'read', 'readWrite'];

export function formatDataId(t: DataTarget): string {
  return `${t.physical ? 'p:' : ''}0x${(t.addr >>> 0).toString(16).padStart(8, '0')}/${t.len}`;
}

export function parseDataId(id: string): DataTarget | undefined {
  const m = /^(p:)?0x([0-9a-fA-F]{1,8})\/([1-8])$/.exec(id);
  if (!m) return undefined;
  return { physical: !!m[1], addr: parseInt(m[2], 16) >>> 0, len: Number(m[3]) };
}

export function watchKind(access: DebugProtocol.DataBreakpointAccessType | undefined): number {
  return access === 'read' ? WATCH_READ : access === 'readWrite' ? WATCH_ACCESS : WATCH_WRITE;
}

export function describeTarget(t: DataTarget, symbols: SymbolTable | null): string {
  const where = t.physical ? `physical 0x${t.addr.toString(16)}` : `0x${t.addr.toString(16)}`;
  const sym = !t.physical ? symbols?.describe(t.addr) : undefined;
  return `${t.len} byte${t.len > 1 ? 's' : ''} at ${where}${sym ? ` <${sym}>` : ''}`;
}

/**
 * What an address expression names: "0x…", "p:0x…", "&jiffies", "sp + 8", "*(u32*)…"'s
 * address… `bytes` is the size asked by "Add Data Breakpoint at Address" (default 4).
 */
export async function addressTarget(expr: string, bytes: number | undefined, ctx: EvalContext): Promise<DataTarget> {
  let text = expr.trim();
  let physical = false;
  if (/^p(hys)?:/.test(text)) {
    physical = true;
    text = text.replace(/^p(hys)?:/, '');
  }
  const e = parseExpression(text);
  const addr = await evaluate(e, ctx);
  const len = bytes ?? 4;
  if (!Number.isInteger(len) || len < 1 || len > 8) throw new Error(`a data breakpoint watches 1 to 8 bytes, not ${len}`);
  return { addr: addr >>> 0, len, physical };
}

/**
 * What an expression (a Watch entry, a hover) names: a symbol watches its own bytes (its ELF
 * size, up to 8), a memory read `*(u16*)ADDR` watches those bytes; anything else has no address.
 */
export async function expressionTarget(expr: string, ctx: EvalContext, symbols: SymbolTable | null): Promise<DataTarget | string> {
  let e;
  try {
    e = parseExpression(expr);
  } catch (err) {
    return (err as Error).message;
  }
  if (e.k === 'sym') {
    const s = symbols?.symbol(e.name);
    if (!s) return `no symbol '${e.name}'`;
    const len = s.size >= 1 && s.size <= 8 ? s.size : 4;
    return { addr: s.addr, len, physical: false };
  }
  if (e.k === 'load') return { addr: (await evaluate(e.addr, ctx)) >>> 0, len: resultWidth(e), physical: e.physical };
  if (e.k === 'reg') return `${e.name} is a register: registers have no address (watch memory: *(u32*)ADDR, or Add Data Breakpoint at Address)`;
  return `'${expr}' has no address: watch a variable (a kernel symbol), *(u32*)ADDR, or use Add Data Breakpoint at Address`;
}
