// Looking at a stopped machine: scopes and variables (a frame's registers, the CSRs, the
// devices), setVariable, evaluate and completions, memory reads and writes, disassembly and
// the frames' disassembly listings. Memory, devices and disassembly come from shared memory;
// registers and CSRs from the worker once per stop.

import { InvalidatedEvent, MemoryEvent, Scope } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { SessionCore } from './session-core';
import { Checker, base64Bytes } from './args';
import { leaf, type VarNode } from './variables';
import { CSR_SCOPE, PRIV_NAMES, REGISTER_NAMES, decodeInterruptBits, decodeSatp, decodeScause, decodeSstatus, decodeStvec, hex32 } from './registers';
import { deviceNodes, snapshotDevices } from './devices';
import { formatMemoryReference, offsetAddress, parseMemoryReference, readGuest, readWords } from './memory';
import { CSR_EXPRESSION_NAMES, ExpressionError, evaluate, formatValue, parseAssignment, parseExpression, resultWidth, type EvalContext } from './expressions';
import { disassembleAt } from './disasm';
import { symbolize } from './stack';
import type { FrameInfo } from './stack';

/** Largest readMemory answered at once (the memory view asks for pages). */
const MAX_READ = 1 << 20;

export abstract class InspectSession extends SessionCore {
  private deviceCache: VarNode[] | null = null;

  protected override onInvalidate(): void {
    this.deviceCache = null;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    try {
      this.requireHost();
      const { frame } = this.frameRef(new Checker('scopes', args as unknown as Record<string, unknown>).int('frameId'), 'scopes');
      const caller = frame.depth > 0;
      response.body = {
        scopes: [
          { ...new Scope(caller ? 'Registers (as unwound)' : 'Registers', this.vars.add(() => this.registerNodes(frame)), false), presentationHint: 'registers' },
          new Scope('CSRs', this.vars.add(() => this.csrNodes(frame.hart)), false),
          new Scope('Devices', this.vars.add(() => this.deviceNodesCached()), false),
        ],
      };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  private annotate(v: number, satp: number): string {
    const name = this.symbols && v !== 0 ? symbolize(this.symbols, v, satp) : undefined;
    return name ? `${hex32(v)} <${name}>` : hex32(v);
  }

  private async registerNodes(frame: FrameInfo): Promise<VarNode[]> {
    const s = (await this.harts())[frame.hart];
    if (!s) return [];
    const satp = s.csrs.satp ?? 0;
    const hart = frame.hart;
    if (frame.depth > 0) {
      // A caller's registers as the unwinder restored them: read-only, unknown ones said so.
      const nodes: VarNode[] = [leaf('pc', this.annotate(frame.pc, satp), { memoryReference: formatMemoryReference(frame.pc), readOnly: true })];
      for (let i = 0; i < 32; i++) {
        const v = frame.regs[i];
        nodes.push(leaf(REGISTER_NAMES[i], v === undefined ? '<not saved>' : this.annotate(v, satp), { type: `x${i}`, readOnly: true, memoryReference: v ? formatMemoryReference(v) : undefined }));
      }
      return nodes;
    }
    const nodes: VarNode[] = [
      leaf('pc', this.annotate(s.pc, satp), { memoryReference: formatMemoryReference(s.pc), evaluateName: '$pc', set: (t) => this.setRegister(hart, 'pc', t) }),
    ];
    for (let i = 0; i < 32; i++) {
      const v = s.x[i];
      nodes.push(leaf(REGISTER_NAMES[i], this.annotate(v, satp), {
        type: `x${i}`,
        evaluateName: `$${REGISTER_NAMES[i]}`,
        memoryReference: v !== 0 ? formatMemoryReference(v) : undefined,
        set: i === 0 ? undefined : (t) => this.setRegister(hart, REGISTER_NAMES[i], t),
        readOnly: i === 0,
      }));
    }
    return nodes;
  }

  private async csrNodes(hart: number): Promise<VarNode[]> {
    const s = (await this.harts())[hart];
    if (!s) return [];
    const nodes: VarNode[] = [leaf('privilege', PRIV_NAMES[s.priv] ?? String(s.priv), { evaluateName: '$priv' })];
    if (s.wait) nodes.push(leaf('waiting', s.wait === 'wfi' ? 'in WFI (no enabled interrupt pending)' : `HSM ${s.wait}`));
    for (const c of CSR_SCOPE) {
      const lo = s.csrs[c.name];
      if (lo === undefined) continue;
      if (c.wide) {
        const v = (s.csrs[c.name + 'h'] ?? 0) * 4294967296 + lo;
        nodes.push(leaf(c.name, `${v} (0x${v.toString(16)})`, { evaluateName: `$${c.name}`, readOnly: true }));
        continue;
      }
      let value = hex32(lo);
      if (c.name === 'sstatus') value += ` ${decodeSstatus(lo)}`;
      else if (c.name === 'sie' || c.name === 'sip') value += ` ${decodeInterruptBits(lo)}`;
      else if (c.name === 'scause') value += ` ${decodeScause(lo)}`;
      else if (c.name === 'satp') value += ` ${decodeSatp(lo)}`;
      else if (c.name === 'stvec') value += ` ${decodeStvec(lo)}`;
      if (c.address && lo !== 0) {
        const sym = symbolize(this.symbols, c.name === 'stvec' ? lo & ~3 : lo, s.csrs.satp ?? 0);
        if (sym) value += ` <${sym}>`;
      }
      nodes.push(leaf(c.name, value, {
        evaluateName: `$${c.name}`,
        memoryReference: c.address && lo !== 0 ? formatMemoryReference(c.name === 'stvec' ? lo & ~3 : lo) : undefined,
        set: (t) => this.setCsr(hart, c.name, t),
      }));
    }
    return nodes;
  }

  private deviceNodesCached(): VarNode[] {
    const host = this.host;
    if (!host) return [];
    if (!this.deviceCache || this.running) {
      this.deviceCache = deviceNodes(snapshotDevices(host), host.ram, host.virtio);
    }
    return this.deviceCache;
  }

  protected override async variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): Promise<void> {
    try {
      const c = new Checker('variables', args as unknown as Record<string, unknown>);
      const ref = c.int('variablesReference', { min: 1 })!;
      const start = c.int('start', { optional: true, min: 0 });
      const count = c.int('count', { optional: true, min: 0 });
      response.body = { variables: await this.vars.list(ref, start, count) };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  protected override async setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): Promise<void> {
    try {
      const c = new Checker('setVariable', args as unknown as Record<string, unknown>);
      const ref = c.int('variablesReference', { min: 1 })!;
      const name = c.str('name')!;
      const text = c.str('value')!;
      if (!this.vars.has(ref)) throw new Error(`setVariable: unknown variablesReference ${ref}`);
      const node = await this.vars.find(ref, name);
      if (!node?.set) throw new Error(`${name} cannot be changed`);
      const value = await node.set(text);
      response.body = { value };
      this.sendResponse(response);
      this.sendEvent(new InvalidatedEvent(['variables']));
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  private async setRegister(hart: number, name: string, text: string): Promise<string> {
    const host = this.requireHost();
    const v = await evaluate(parseExpression(text), await this.evalContext(undefined, hart));
    const r = await host.request('setRegister', { hart, name, value: v });
    this.dropHartCache();
    return hex32(r.value);
  }

  private async setCsr(hart: number, name: string, text: string): Promise<string> {
    const host = this.requireHost();
    const v = await evaluate(parseExpression(text), await this.evalContext(undefined, hart));
    const r = await host.request('setCsr', { hart, name, value: v });
    this.dropHartCache();
    return hex32(r.value);
  }

  // ---------------- evaluate ----------------

  protected override async evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): Promise<void> {
    try {
      const c = new Checker('evaluate', args as unknown as Record<string, unknown>);
      const text = c.str('expression')!;
      const frameId = c.int('frameId', { optional: true });
      const ctx = await this.evalContext(frameId);
      const hart = frameId !== undefined ? this.frameRef(frameId, 'evaluate').frame.hart : this.defaultHart();
      const assign = args.context === 'repl' ? parseAssignment(text) : undefined;
      if (assign) {
        response.body = { result: await this.assign(assign.target, assign.value, ctx, hart), variablesReference: 0 };
        this.sendResponse(response);
        this.sendEvent(new InvalidatedEvent(['variables']));
        return;
      }
      const expr = parseExpression(text);
      const v = await evaluate(expr, ctx);
      let result = formatValue(v, resultWidth(expr));
      const sym = expr.k !== 'num' && this.symbols && v >= 0x1000 ? this.symbols.describe(v) : undefined;
      if (sym && !(expr.k === 'sym' && sym === expr.name)) result += ` <${sym}>`;
      response.body = { result, variablesReference: 0, memoryReference: formatMemoryReference(v), type: expr.k === 'load' ? expr.type : 'u32' };
      this.sendResponse(response);
    } catch (e) {
      // Hovering over arbitrary words must stay silent.
      if (args?.context === 'hover') return this.fail(response, '', false);
      this.fail(response, (e as Error).message);
    }
  }

  private async assign(target: ReturnType<typeof parseExpression>, valueExpr: ReturnType<typeof parseExpression>, ctx: EvalContext, hart: number): Promise<string> {
    const host = this.requireHost();
    const value = await evaluate(valueExpr, ctx);
    if (target.k === 'reg') {
      const isCsr = CSR_EXPRESSION_NAMES.includes(target.name) && target.name !== 'priv';
      if (target.name === 'priv') throw new ExpressionError('the privilege mode cannot be set from the debugger');
      const r = await host.request(isCsr ? 'setCsr' : 'setRegister', { hart, name: target.name, value });
      this.dropHartCache();
      return `${target.name} = ${formatValue(r.value)}`;
    }
    if (target.k !== 'load') throw new ExpressionError('can only assign to a register, a CSR or memory');
    const addr = await evaluate(target.addr, ctx);
    const width = resultWidth(target);
    const s = (await this.harts())[hart];
    const bytes = new Uint8Array(width);
    for (let i = 0; i < width; i++) bytes[i] = (value >>> (8 * i)) & 0xff;
    await this.writeBytes(addr, bytes, target.physical, s?.csrs.satp ?? 0);
    this.onInvalidate();
    return `${target.physical ? 'p:' : ''}${hex32(addr)} = ${formatValue(value, width)}`;
  }

  protected override completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): void {
    try {
      const c = new Checker('completions', args as unknown as Record<string, unknown>);
      const text = c.str('text')!;
      const column = c.int('column', { min: 0 })!;
      const before = text.slice(0, Math.max(0, column - 1));
      const m = /\$?[A-Za-z_][A-Za-z0-9_.]*$/.exec(before);
      const word = m ? m[0] : '';
      const bare = word.replace(/^\$/, '');
      const names = new Set<string>();
      for (const r of [...REGISTER_NAMES, 'pc', ...CSR_EXPRESSION_NAMES]) if (r.startsWith(bare)) names.add(word.startsWith('$') ? `$${r}` : r);
      if (!word.startsWith('$') && bare.length >= 2 && this.symbols) for (const s of this.symbols.complete(bare, 100)) names.add(s);
      response.body = {
        targets: [...names].slice(0, 200).map((label) => ({ label, start: before.length - word.length, length: word.length })),
      };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  // ---------------- memory and disassembly ----------------

  protected override async readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): Promise<void> {
    try {
      const c = new Checker('readMemory', args as unknown as Record<string, unknown>);
      const refText = c.str('memoryReference')!;
      const offset = c.int('offset', { optional: true });
      const count = Math.min(c.int('count', { min: 0 })!, MAX_READ);
      const host = this.requireHost();
      const ref = parseMemoryReference(refText, (n) => this.symbols?.address(n));
      const address = offsetAddress(ref.address, offset);
      const satp = ref.physical ? 0 : await this.currentSatp();
      const r = readGuest(host.ram, satp, address, count, ref.physical);
      response.body = {
        address: formatMemoryReference(address, ref.physical),
        unreadableBytes: count - r.data.length,
      };
      if (r.data.length) response.body.data = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.length).toString('base64');
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  protected override async writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): Promise<void> {
    try {
      const c = new Checker('writeMemory', args as unknown as Record<string, unknown>);
      const refText = c.str('memoryReference')!;
      const offset = c.int('offset', { optional: true });
      c.bool('allowPartial');
      const bytes = base64Bytes('writeMemory', 'data', args.data);
      this.requireHost();
      const ref = parseMemoryReference(refText, (n) => this.symbols?.address(n));
      const address = offsetAddress(ref.address, offset);
      const satp = ref.physical ? 0 : await this.currentSatp();
      await this.writeBytes(address, bytes, ref.physical, satp);
      this.onInvalidate();
      response.body = { bytesWritten: bytes.length };
      this.sendResponse(response);
      this.sendEvent(new MemoryEvent(refText, offset ?? 0, bytes.length));
      this.sendEvent(new InvalidatedEvent(['variables']));
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  protected override async disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): Promise<void> {
    try {
      const c = new Checker('disassemble', args as unknown as Record<string, unknown>);
      const refText = c.str('memoryReference')!;
      const offset = c.int('offset', { optional: true }) ?? 0;
      const insnOffset = c.int('instructionOffset', { optional: true }) ?? 0;
      const count = Math.min(c.int('instructionCount', { min: 0 })!, 4096);
      const host = this.requireHost();
      const ref = parseMemoryReference(refText, (n) => this.symbols?.address(n));
      // RV32IMA without C: every instruction is 4 bytes, so instruction offsets are exact.
      const start = (offsetAddress(ref.address, offset + insnOffset * 4) & ~3) >>> 0;
      const satp = ref.physical ? 0 : await this.currentSatp();
      const words = readWords(host.ram, satp, start, count, ref.physical);
      const symbols = args.resolveSymbols === false ? null : this.symbols;
      const out: DebugProtocol.DisassembledInstruction[] = [];
      let lastLine = '';
      for (let i = 0; i < count; i++) {
        const pc = (start + i * 4) >>> 0;
        const ins: DebugProtocol.DisassembledInstruction = { address: formatMemoryReference(pc, ref.physical), instruction: '' };
        const word = words[i];
        if (word !== null) {
          ins.instructionBytes = [0, 8, 16, 24].map((sh) => ((word >>> sh) & 0xff).toString(16).padStart(2, '0')).join(' ');
          ins.instruction = disassembleAt(word, pc, symbols);
        } else {
          ins.instruction = '??';
          ins.presentationHint = 'invalid';
        }
        if (symbols) {
          const hit = symbols.lookup(pc);
          if (hit && hit.offset === 0) ins.symbol = hit.symbol.name;
          else if (i === 0 && hit) ins.symbol = symbols.describe(pc);
        }
        // Source lines interleaved in the Disassembly view.
        const pos = !ref.physical ? this.debug?.position(pc) : undefined;
        if (pos) {
          const key = `${pos.file}:${pos.line}`;
          if (key !== lastLine) {
            const path = this.paths.toLocal(pos.file);
            ins.location = { name: path.split('/').pop(), path };
            ins.line = pos.line;
            lastLine = key;
          }
        }
        out.push(ins);
      }
      response.body = { instructions: out };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  protected override sourceRequest(response: DebugProtocol.SourceResponse, args: DebugProtocol.SourceArguments): void {
    const ref = args?.source?.sourceReference ?? args?.sourceReference;
    const text = typeof ref === 'number' ? this.listing(ref) : undefined;
    if (text === undefined) return this.fail(response, `no disassembly listing ${JSON.stringify(ref)}: it was replaced by a newer stop`);
    response.body = { content: text, mimeType: 'text/x-asm' };
    this.sendResponse(response);
  }
}
