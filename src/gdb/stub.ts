// A gdb remote stub on a MachineHost (semu's -g / --gdbstub; gdb manual, "Remote Protocol").
// It lives on the host side of the worker, next to the DAP session if there is one: both steer
// the same machine, with their own breakpoints and watchpoints (MachineHost owners 'gdb' and
// 'dap'). A stop from either side is a stop for both: gdb gets its stop reply whenever it is
// waiting for one (after c/s/vCont/?), the DAP its stopped event.
//
// Breakpoints (Z0/Z1) are pc breakpoints in the machine, never ebreak written into guest code,
// so they work at kernel virtual addresses before the MMU is on. Watchpoints (Z2-Z4) on an
// address mapped to RAM are set on its physical address (through the selected hart's satp), so
// the linear-map alias, every other alias and a device's DMA write all hit them.

import { createServer, type Server, type Socket } from 'node:net';
import type { MachineHost, StoppedEvent } from '../host/machine-host';
import type { HartState } from '../../debug-adapter/registers';
import { physicalRanges, readGuest, walkSv32 } from '../../debug-adapter/memory';
import { WATCH_ACCESS, WATCH_READ, WATCH_WRITE, type Watchpoint } from '../emulator/watch';
import { DEFAULT_GDB_PORT, RspDecoder, encodePacket, fromHex, le32, parseHex32, parseLe32, toHex, MAX_PACKET, hex2 } from './rsp';
import { CSRS, FIRST_CSR_REGNUM, PRIV_REGNUM, REG_PC, targetXml } from './target-xml';
import { logger } from '../log';

const log = logger('gdb');

export { DEFAULT_GDB_PORT };
const SIGINT = 2;
const SIGTRAP = 5;
/** Largest m/X transfer (half the packet: two hex digits per byte). */
const MAX_MEMORY = (MAX_PACKET - 32) >> 1;

export interface GdbStubOptions {
  /** TCP port (0: any free port; see GdbStub.port). */
  port: number;
  /** Address to listen on (default 127.0.0.1: the stub gives full control of the machine). */
  bind?: string;
  /** gdb's `kill`: what ending the machine means for the owner (default: only detach). */
  onKill?: () => void;
  /**
   * A gdb connection ended: gdb detached, killed, or hung up without either. The CLI's -g ends
   * the machine then, as semu does; the adapter's gdbPort lets it run on.
   */
  onDisconnect?: (how: GdbEnd) => void;
}

export type GdbEnd = 'detach' | 'kill' | 'hangup';

export class GdbStub {
  private conn: GdbConnection | null = null;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static start(host: MachineHost, opts: GdbStubOptions): Promise<GdbStub> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', (e: NodeJS.ErrnoException) => {
        reject(new Error(e.code === 'EADDRINUSE' ? `gdb stub: port ${opts.port} is in use: choose another with gdbPort / -g PORT` : `gdb stub: ${e.message}`));
      });
      server.listen(opts.port, opts.bind ?? '127.0.0.1', () => {
        const addr = server.address();
        const stub = new GdbStub(server, typeof addr === 'object' && addr ? addr.port : opts.port);
        server.on('connection', (s) => stub.accept(s, host, opts));
        host.once('exited', () => void stub.close());
        log.info(`gdb stub listening on ${opts.bind ?? '127.0.0.1'}:${stub.port}`);
        resolve(stub);
      });
    });
  }

  private accept(socket: Socket, host: MachineHost, opts: GdbStubOptions): void {
    if (this.conn) {
      // One gdb at a time (as semu and QEMU): say so in the protocol, then hang up.
      socket.end(encodePacket('E.another gdb is already connected'));
      return;
    }
    const c = new GdbConnection(socket, host, opts);
    this.conn = c;
    socket.once('close', () => {
      c.detach();
      if (this.conn === c) this.conn = null;
      opts.onDisconnect?.(c.endedBy ?? 'hangup');
    });
  }

  get connected(): boolean {
    return this.conn !== null;
  }

  close(): Promise<void> {
    this.conn?.end();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Starts a gdb stub for `host` (the CLI's -g PORT and the adapter's gdbPort call this). */
export function startGdbStub(host: MachineHost, port = DEFAULT_GDB_PORT, opts: Omit<GdbStubOptions, 'port'> = {}): Promise<GdbStub> {
  return GdbStub.start(host, { ...opts, port });
}

interface GdbWatch {
  addr: number; // as gdb gave it
  len: number;
  kind: number;
}

class GdbConnection {
  private readonly decoder = new RspDecoder();
  private noAck = false;
  private lastSent: Buffer | null = null;
  /** gdb resumed the machine (or asked `?` while it ran) and waits for a stop reply. */
  private waiting = false;
  private lastStop: StoppedEvent | null = null;
  private gHart = 0;
  private cHart = -1;
  private swbreak = false;
  private hwbreak = false;
  private readonly breakpoints = new Map<number, 'sw' | 'hw'>();
  private readonly watches = new Map<number, GdbWatch>();
  private nextWatch = 1;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly onStopped = (e: StoppedEvent) => this.stopped(e);
  private readonly onExited = (e: { code: number }) => this.exited(e.code);
  /** How gdb ended the connection (unset: it hung up). */
  endedBy: GdbEnd | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly host: MachineHost,
    private readonly opts: GdbStubOptions,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.receive(d));
    socket.on('error', (e) => log.info(`gdb connection: ${e.message}`));
    host.on('stopped', this.onStopped);
    host.on('exited', this.onExited);
    log.info(`gdb connected from ${socket.remoteAddress}:${socket.remotePort}`);
    // As QEMU does, a debugger that attaches finds the machine stopped.
    host.pause();
  }

  end(): void {
    if (!this.closed) this.socket.end();
  }

  /** The connection is gone: remove gdb's breakpoints and watchpoints; the machine goes on. */
  detach(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.off('stopped', this.onStopped);
    this.host.off('exited', this.onExited);
    if (this.host.exited) return;
    this.host.setBreakpoints([], 'gdb');
    this.host.setWatchpoints([], 'gdb');
    log.info('gdb disconnected');
  }

  private receive(d: Buffer): void {
    for (const ev of this.decoder.push(d)) {
      switch (ev.k) {
        case 'interrupt':
          // Also while a stop is being decided (host state 'paused' but not shown yet).
          if (this.waiting) this.host.pause();
          break;
        case 'ack':
          if (!ev.ok && this.lastSent) this.socket.write(this.lastSent);
          break;
        case 'bad':
          log.info(`gdb sent a bad packet (${ev.why})`);
          if (!this.noAck) this.socket.write('-');
          break;
        case 'packet': {
          if (!this.noAck) this.socket.write('+');
          const text = Buffer.from(ev.data).toString('latin1');
          // In order: some commands wait for the worker.
          this.queue = this.queue.then(() => this.handle(text, ev.data)).catch((e: Error) => {
            log.warn(`gdb packet '${text.slice(0, 40)}' failed: ${e.message}`);
            this.send('E01');
          });
          break;
        }
      }
    }
  }

  private send(reply: string | Uint8Array): void {
    if (this.closed) return;
    const p = encodePacket(reply);
    this.lastSent = this.noAck ? null : p;
    this.socket.write(p);
  }

  // ---------------------------------------------------------------- stops

  private stopped(e: StoppedEvent): void {
    if (e.reason === 'entry' && this.lastStop) return;
    this.lastStop = e;
    if (!this.waiting) return;
    this.waiting = false;
    this.send(this.stopReply(e));
  }

  private exited(code: number): void {
    if (this.waiting) this.send(`W${hex2(code)}`);
    this.waiting = false;
    this.end();
  }

  private stopReply(e: StoppedEvent): string {
    const sig = e.reason === 'pause' ? SIGINT : SIGTRAP;
    let r = `T${hex2(sig)}thread:${hex2(e.hart + 1)};`;
    if (e.reason === 'breakpoint') {
      const kind = this.breakpoints.get(e.pc >>> 0);
      if (kind === 'sw' && this.swbreak) r += 'swbreak:;';
      else if (kind === 'hw' && this.hwbreak) r += 'hwbreak:;';
    } else if (e.reason === 'watch' && e.watch) {
      for (const id of this.host.watchIdsOf('gdb', e.watch)) {
        const w = this.watches.get(id);
        if (!w) continue;
        const name = w.kind === WATCH_WRITE ? 'watch' : w.kind === WATCH_READ ? 'rwatch' : 'awatch';
        r += `${name}:${(w.addr >>> 0).toString(16)};`;
        break;
      }
    }
    return r + `${hex2(REG_PC)}:${le32(e.pc)};`;
  }

  private resume(step: boolean, hart: number): void {
    this.waiting = true;
    if (step) this.host.step(hart, 1, 'gdb');
    else this.host.continue('gdb');
  }

  // ---------------------------------------------------------------- packets

  private async handle(p: string, raw: Uint8Array): Promise<void> {
    const c = p[0];
    switch (c) {
      case '?':
        if (this.host.running) {
          this.waiting = true;
          this.host.pause();
          return;
        }
        return this.send(this.lastStop ? this.stopReply(this.lastStop) : `T${hex2(SIGTRAP)}thread:01;`);
      case 'g':
        return this.send(await this.readAllRegisters());
      case 'G':
        return this.send(await this.writeAllRegisters(p.slice(1)));
      case 'p':
        return this.send(await this.readRegister(p.slice(1)));
      case 'P':
        return this.send(await this.writeRegister(p.slice(1)));
      case 'm':
        return this.send(await this.readMemory(p.slice(1)));
      case 'M':
        return this.send(await this.writeMemoryHex(p.slice(1)));
      case 'X':
        return this.send(await this.writeMemoryBinary(raw));
      case 'c':
      case 's':
        if (p.length > 1 && !(await this.setPc(p.slice(1)))) return this.send('E01');
        return this.resume(c === 's', this.cHart >= 0 ? this.cHart : this.gHart);
      case 'C':
      case 'S':
        return this.resume(c === 'S', this.cHart >= 0 ? this.cHart : this.gHart); // signals mean nothing to a machine
      case 'H':
        return this.send(this.selectThread(p.slice(1)));
      case 'T':
        return this.send(this.threadAlive(p.slice(1)) ? 'OK' : 'E01');
      case 'Z':
      case 'z':
        return this.send(await this.breakpoint(c === 'Z', p.slice(1)));
      case 'D':
        this.endedBy = 'detach';
        this.send('OK');
        this.detach();
        if (!this.host.exited && !this.host.running) this.host.continue('gdb');
        this.end();
        return;
      case 'k':
        this.endedBy = 'kill';
        this.detach();
        this.end();
        this.opts.onKill?.();
        return;
      case 'q':
        return this.send(this.query(p));
      case 'Q':
        if (p === 'QStartNoAckMode') {
          this.send('OK');
          this.noAck = true;
          return;
        }
        return this.send('');
      case 'v':
        return this.vPacket(p);
    }
    this.send(''); // unknown: the protocol's "not supported"
  }

  private query(p: string): string {
    if (p.startsWith('qSupported')) {
      const features = p.slice('qSupported:'.length).split(';');
      this.swbreak = features.includes('swbreak+');
      this.hwbreak = features.includes('hwbreak+');
      return `PacketSize=${MAX_PACKET.toString(16)};qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+`;
    }
    if (p.startsWith('qXfer:features:read:')) {
      const m = /^qXfer:features:read:([^:]+):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
      if (!m) return 'E00';
      if (m[1] !== 'target.xml') return 'E00';
      const xml = targetXml();
      const off = parseInt(m[2], 16);
      const len = Math.min(parseInt(m[3], 16), MAX_PACKET - 16);
      if (off > xml.length) return 'E00';
      const chunk = xml.slice(off, off + len);
      return (off + len >= xml.length ? 'l' : 'm') + chunk;
    }
    if (p === 'qfThreadInfo') return 'm' + Array.from({ length: Math.max(1, this.host.harts) }, (_, i) => hex2(i + 1)).join(',');
    if (p === 'qsThreadInfo') return 'l';
    if (p === 'qC') return `QC${hex2((this.lastStop?.hart ?? 0) + 1)}`;
    if (p === 'qAttached') return '1';
    if (p.startsWith('qThreadExtraInfo,')) {
      const t = parseHex32(p.slice('qThreadExtraInfo,'.length));
      if (t === undefined || !this.threadAlive(p.slice('qThreadExtraInfo,'.length))) return 'E01';
      return toHex(Buffer.from(`hart ${t - 1}`));
    }
    return '';
  }

  private vPacket(p: string): void {
    if (p === 'vCont?') return this.send('vCont;c;C;s;S;t');
    if (p.startsWith('vCont;')) {
      const actions = p.slice(6).split(';');
      for (const a of actions) {
        const [act, tid] = a.split(':');
        const hart = tid && tid !== '-1' ? (parseHex32(tid) ?? 1) - 1 : -1;
        if (act === 't') {
          if (!this.host.running) return this.send(this.lastStop ? this.stopReply(this.lastStop) : `T${hex2(SIGINT)}thread:01;`);
          this.waiting = true;
          this.host.pause();
          return;
        }
        if (act === 's' || act.startsWith('S')) return this.resume(true, hart >= 0 ? hart : this.gHart);
      }
      if (actions.some((a) => a === 'c' || a.startsWith('c:') || a.startsWith('C'))) return this.resume(false, 0);
      return this.send('E01');
    }
    if (p.startsWith('vKill')) {
      this.endedBy = 'kill';
      this.send('OK');
      this.detach();
      this.end();
      this.opts.onKill?.();
      return;
    }
    this.send('');
  }

  private threadAlive(tid: string): boolean {
    const t = tid === '-1' || tid === '0' ? 1 : parseHex32(tid);
    return t !== undefined && t >= 1 && t <= Math.max(1, this.host.harts);
  }

  private selectThread(arg: string): string {
    const op = arg[0];
    const tid = arg.slice(1);
    if ((op !== 'g' && op !== 'c') || !(tid === '-1' || tid === '0' || this.threadAlive(tid))) return 'E01';
    const hart = tid === '-1' || tid === '0' ? (op === 'g' ? 0 : -1) : parseHex32(tid)! - 1;
    if (op === 'g') this.gHart = Math.max(0, hart);
    else this.cHart = hart;
    return 'OK';
  }

  // ---------------------------------------------------------------- registers

  private async hart(): Promise<HartState> {
    const all = await this.host.request('harts');
    const s = all[this.gHart] ?? all[0];
    if (!s) throw new Error('the machine has no harts');
    return s;
  }

  private async readAllRegisters(): Promise<string> {
    const s = await this.hart();
    let r = '';
    for (let i = 0; i < 32; i++) r += le32(s.x[i]);
    return r + le32(s.pc);
  }

  private async writeAllRegisters(hex: string): Promise<string> {
    if (hex.length < 33 * 8) return 'E01';
    const s = await this.hart();
    for (let i = 1; i <= 32; i++) {
      const v = parseLe32(hex.slice(i * 8, i * 8 + 8));
      if (v === undefined) return 'E01';
      const old = i === 32 ? s.pc : s.x[i];
      if (v !== old >>> 0) await this.host.request('setRegister', { hart: this.gHart, name: i === 32 ? 'pc' : `x${i}`, value: v });
    }
    return 'OK';
  }

  private async readRegister(arg: string): Promise<string> {
    const n = parseHex32(arg);
    if (n === undefined) return 'E01';
    const s = await this.hart();
    if (n < 32) return le32(s.x[n]);
    if (n === REG_PC) return le32(s.pc);
    if (n === PRIV_REGNUM) return hex2(s.priv);
    const csr = CSRS.find((c) => FIRST_CSR_REGNUM + c.num === n);
    if (csr) return le32(s.csrs[csr.name] ?? 0);
    return 'E01';
  }

  private async writeRegister(arg: string): Promise<string> {
    const m = /^([0-9a-fA-F]+)=([0-9a-fA-F]+)$/.exec(arg);
    const n = m ? parseHex32(m[1]) : undefined;
    const v = m ? parseLe32(m[2]) : undefined;
    if (n === undefined || v === undefined) return 'E01';
    if (n === 0) return 'OK'; // x0 stays 0
    if (n < 32 || n === REG_PC) {
      await this.host.request('setRegister', { hart: this.gHart, name: n === REG_PC ? 'pc' : `x${n}`, value: v });
      return 'OK';
    }
    const csr = CSRS.find((c) => FIRST_CSR_REGNUM + c.num === n);
    if (!csr?.writable) return 'E01';
    await this.host.request('setCsr', { hart: this.gHart, name: csr.name, value: v });
    return 'OK';
  }

  private async setPc(hexAddr: string): Promise<boolean> {
    const a = parseHex32(hexAddr);
    if (a === undefined) return false;
    await this.host.request('setRegister', { hart: this.cHart >= 0 ? this.cHart : this.gHart, name: 'pc', value: a });
    return true;
  }

  // ---------------------------------------------------------------- memory

  private async satp(): Promise<number> {
    return (await this.hart()).csrs.satp ?? 0;
  }

  private async readMemory(arg: string): Promise<string> {
    const m = /^([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})$/.exec(arg);
    if (!m) return 'E01';
    const addr = parseInt(m[1], 16) >>> 0;
    const len = Math.min(parseInt(m[2], 16), MAX_MEMORY);
    const r = readGuest(this.host.ram, await this.satp(), addr, len, false);
    // Partial reads are allowed; nothing readable is an error (gdb: "Cannot access memory").
    return r.data.length === 0 && len > 0 ? 'E14' : toHex(r.data);
  }

  private async writeMemoryHex(arg: string): Promise<string> {
    const m = /^([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8}):([0-9a-fA-F]*)$/.exec(arg);
    if (!m) return 'E01';
    const bytes = fromHex(m[3]);
    if (!bytes || bytes.length !== parseInt(m[2], 16)) return 'E01';
    return this.writeBytes(parseInt(m[1], 16) >>> 0, bytes);
  }

  private async writeMemoryBinary(raw: Uint8Array): Promise<string> {
    const colon = raw.indexOf(0x3a);
    if (colon < 0) return 'E01';
    const m = /^X([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})$/.exec(Buffer.from(raw.subarray(0, colon)).toString('latin1'));
    if (!m) return 'E01';
    const data = raw.subarray(colon + 1);
    if (data.length !== parseInt(m[2], 16)) return 'E01';
    if (data.length === 0) return 'OK'; // gdb's probe for X support
    return this.writeBytes(parseInt(m[1], 16) >>> 0, data);
  }

  private async writeBytes(addr: number, bytes: Uint8Array): Promise<string> {
    let ranges: { pa: number; len: number }[];
    try {
      ranges = physicalRanges(this.host.ram, await this.satp(), addr, bytes.length, false);
    } catch {
      return 'E14';
    }
    let off = 0;
    for (const r of ranges) {
      await this.host.request('writeMemory', { paddr: r.pa, data: bytes.slice(off, off + r.len) });
      off += r.len;
    }
    return 'OK';
  }

  // ---------------------------------------------------------------- breakpoints, watchpoints

  private async breakpoint(insert: boolean, arg: string): Promise<string> {
    const m = /^([0-4]),([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})(;.*)?$/.exec(arg);
    if (!m) return 'E01';
    const type = Number(m[1]);
    const addr = parseInt(m[2], 16) >>> 0;
    const kind = parseInt(m[3], 16);
    if (type <= 1) {
      if (insert) this.breakpoints.set(addr, type === 0 ? 'sw' : 'hw');
      else this.breakpoints.delete(addr);
      this.host.setBreakpoints([...this.breakpoints.keys()], 'gdb');
      return 'OK';
    }
    const wkind = type === 2 ? WATCH_WRITE : type === 3 ? WATCH_READ : WATCH_ACCESS;
    if (kind < 1 || kind > 8) return 'E01';
    if (insert) {
      if (this.watches.size >= 16) return 'E01';
      this.watches.set(this.nextWatch++, { addr, len: kind, kind: wkind });
    } else {
      const id = [...this.watches].find(([, w]) => w.addr === addr && w.len === kind && w.kind === wkind)?.[0];
      if (id === undefined) return 'E01';
      this.watches.delete(id);
    }
    const satp = await this.satp();
    const list: Watchpoint[] = [];
    for (const [id, w] of this.watches) list.push({ id, ...this.placeWatch(w, satp) });
    this.host.setWatchpoints(list, 'gdb');
    return 'OK';
  }

  /** A watched range on one RAM page goes on its physical address (catches aliases and DMA). */
  private placeWatch(w: GdbWatch, satp: number): Omit<Watchpoint, 'id'> {
    const pa = walkSv32(this.host.ram, satp, w.addr);
    const samePage = (w.addr & 0xfff) + w.len <= 0x1000;
    if (typeof pa === 'number' && samePage && this.host.ram.contains(pa, w.len)) return { addr: pa, len: w.len, kind: w.kind, physical: true };
    return { addr: w.addr, len: w.len, kind: w.kind, physical: false };
  }
}
