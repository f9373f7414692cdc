// What every part of the DAP session shares: the machine, what is known about its code
// (symbols, DWARF, source paths), the breakpoints, and the per-stop caches — hart states,
// stacks and the frame ids handed out for them. Frame ids and variable references belong to
// one stop: the next run or step forgets them, and an unknown id is an error, not a guess.

import { DebugSession } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { MachineHost } from '../src/host/machine-host';
import type { SymbolTable } from './symbols';
import type { DebugInfo } from './dwarf/index';
import { SourcePaths } from './source-paths';
import { Breakpoints } from './breakpoints';
import { VariableStore } from './variables';
import { registerIndex, hex32, type HartState } from './registers';
import { ExpressionError, type EvalContext } from './expressions';
import { physicalRanges, readGuest, readWords } from './memory';
import { buildStack, type FrameInfo, type StackInfo } from './stack';
import { disassemblyListing } from './disasm';

export interface FrameRef {
  frame: FrameInfo;
  /** Index among the hart's frames (0 = innermost). */
  index: number;
}

export abstract class SessionCore extends DebugSession {
  protected host: MachineHost | null = null;
  protected symbols: SymbolTable | null = null;
  protected debug: DebugInfo | null = null;
  protected paths = new SourcePaths([]);
  protected readonly bps = new Breakpoints();
  protected readonly vars = new VariableStore();
  protected running = false;
  protected launched = false;
  private hartCache: Promise<HartState[]> | null = null;
  private readonly stacks = new Map<number, StackInfo>();
  private readonly frameIds = new Map<number, FrameRef>();
  private nextFrameId = 1;
  /** Disassembly listings handed out as frame sources (sourceReference → text); the newest few. */
  private readonly listings = new Map<number, string>();
  private nextListing = 1;

  protected requireHost(): MachineHost {
    if (!this.host) throw new Error(this.launched ? 'the machine has exited' : 'the machine is not running: launch it first');
    return this.host;
  }

  /** The machine must be stopped for this request (stack, scopes, steps...). */
  protected requirePaused(what: string): MachineHost {
    const host = this.requireHost();
    if (this.running) throw new Error(`${what}: the machine is running (pause it first)`);
    return host;
  }

  /** Every cached value belongs to one stop. */
  protected invalidate(): void {
    this.hartCache = null;
    this.stacks.clear();
    this.frameIds.clear();
    this.vars.reset();
    this.onInvalidate();
  }

  protected onInvalidate(): void {}

  protected dropHartCache(): void {
    this.hartCache = null;
    this.stacks.clear();
  }

  protected harts(): Promise<HartState[]> {
    const host = this.host;
    if (!host) return Promise.reject(new Error('the machine is not running'));
    if (!this.hartCache || this.running) {
      const p = host.request('harts');
      this.hartCache = p;
      p.catch(() => {
        if (this.hartCache === p) this.hartCache = null;
      });
    }
    return this.hartCache;
  }

  protected threadCount(): number {
    return Math.max(1, this.host?.harts ?? 1);
  }

  /** The hart of a DAP thread id; an unknown id is an error naming the threads there are. */
  protected hartOfThread(threadId: unknown, command: string): number {
    const n = this.threadCount();
    if (typeof threadId !== 'number' || !Number.isInteger(threadId) || threadId < 1 || threadId > n) {
      throw new Error(`${command}: unknown threadId ${JSON.stringify(threadId)} (threads are 1${n > 1 ? `-${n}` : ''}: the harts)`);
    }
    return threadId - 1;
  }

  // ---------------- stacks and frames ----------------

  protected async stackOf(hart: number): Promise<StackInfo> {
    const cached = this.stacks.get(hart);
    if (cached) return cached;
    const host = this.requireHost();
    const s = (await this.harts())[hart];
    if (!s) throw new Error(`no hart ${hart}`);
    const satp = s.csrs.satp ?? 0;
    const stack = buildStack(s, {
      debug: this.debug,
      symbols: this.symbols,
      paths: this.paths,
      read32: (a) => {
        const r = readGuest(host.ram, satp, a, 4, false);
        return r.data.length === 4 ? (r.data[0] | (r.data[1] << 8) | (r.data[2] << 16) | (r.data[3] << 24)) >>> 0 : undefined;
      },
    });
    this.stacks.set(hart, stack);
    return stack;
  }

  protected frameId(frame: FrameInfo, index: number): number {
    const id = this.nextFrameId++;
    this.frameIds.set(id, { frame, index });
    return id;
  }

  /** A frame of this stop; unknown ids are an error (ids do not survive a run or a step). */
  protected frameRef(frameId: unknown, command: string): FrameRef {
    const f = typeof frameId === 'number' ? this.frameIds.get(frameId) : undefined;
    if (!f) throw new Error(`${command}: unknown frameId ${JSON.stringify(frameId)} (frame ids last until the machine runs again; ask stackTrace)`);
    return f;
  }

  protected listingFor(pc: number, satp: number, name: string): { source: DebugProtocol.Source; line: number } {
    const host = this.requireHost();
    const l = disassemblyListing(pc, (start, count) => readWords(host.ram, satp, start, count, false), this.symbols);
    const ref = this.nextListing++;
    this.listings.set(ref, l.text);
    if (this.listings.size > 32) this.listings.delete(this.listings.keys().next().value!);
    const source: DebugProtocol.Source = { name: `${name.replace(/[^\w.+-]/g, '_')}.s`, sourceReference: ref, origin: 'disassembly' };
    return { source, line: l.line };
  }

  protected listing(ref: number): string | undefined {
    return this.listings.get(ref);
  }

  // ---------------- evaluation ----------------

  /**
   * The expression context of a frame (the hart's registers for frame 0, the unwound ones for
   * callers), or of the stopped hart when no frame is given.
   */
  async evalContext(frameId?: number, hartIndex?: number): Promise<EvalContext> {
    const host = this.requireHost();
    let hart = hartIndex ?? this.defaultHart();
    let regs: (number | undefined)[] | null = null;
    let pc: number | undefined;
    if (frameId !== undefined) {
      const f = this.frameRef(frameId, 'evaluate').frame;
      hart = f.hart;
      if (f.depth > 0) {
        regs = f.regs;
        pc = f.pc;
      }
    }
    const s = (await this.harts())[hart];
    const satp = s?.csrs.satp ?? 0;
    return {
      register: (name) => {
        if (!s) return undefined;
        if (name === 'pc') return pc ?? s.pc;
        if (name === 'priv') return s.priv;
        const i = registerIndex(name);
        if (i >= 0) {
          if (!regs) return s.x[i];
          const v = regs[i];
          if (v === undefined) throw new ExpressionError(`${name} is not known in this caller's frame (not saved by its callee)`);
          return v;
        }
        return s.csrs[name];
      },
      symbol: (name) => this.symbols?.address(name),
      load: async (addr, width, physical) => {
        const r = readGuest(host.ram, satp, addr, width, physical);
        if (r.data.length < width) throw new ExpressionError(`cannot read ${width} byte${width > 1 ? 's' : ''} at ${physical ? 'p:' : ''}${hex32(addr)}: ${r.stoppedBecause}`);
        let v = 0;
        for (let i = width - 1; i >= 0; i--) v = (v * 256 + r.data[i]) >>> 0;
        return v;
      },
    };
  }

  protected abstract defaultHart(): number;

  /** satp for memory references: the stopped hart's, or hart 0's. */
  protected async currentSatp(): Promise<number> {
    const s = await this.harts();
    return s[this.defaultHart()]?.csrs.satp ?? s[0]?.csrs.satp ?? 0;
  }

  /** Writes through the worker (so decoded code of those pages is dropped). */
  protected async writeBytes(address: number, bytes: Uint8Array, physical: boolean, satp: number): Promise<void> {
    const host = this.requireHost();
    const ranges = physicalRanges(host.ram, satp, address, bytes.length, physical);
    let off = 0;
    for (const r of ranges) {
      await host.request('writeMemory', { paddr: r.pa, data: bytes.slice(off, off + r.len) });
      off += r.len;
    }
  }

  protected fail(response: DebugProtocol.Response, message: string, showUser = false): void {
    this.sendErrorResponse(response, { id: 1002, format: message.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')), showUser });
  }
}
