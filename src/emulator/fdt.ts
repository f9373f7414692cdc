// Flattened device tree (Devicetree Specification v0.4, chapter 5; FDT version 17): a small
// writer, the machine's device tree built from its configuration, and a reader that validates a
// blob (ours in tests, or a user-supplied DTB before we hand it to the kernel).
//
// Blob layout written here: header (40 bytes) | memory reservation map (8-aligned, pairs of
// big-endian u64 ending with 0,0) | structure block | strings block. All integers big-endian.

import {
  MSWI_BASE,
  MTIMER_BASE,
  PLIC_BASE,
  SOC_BASE,
  SOC_SIZE,
  SSWI_BASE,
  TIMEBASE_HZ,
  UART_BASE,
  UART_CLOCK_HZ,
  UART_IRQ,
} from './devices/map';
import { MSWI_SIZE, MTIMER_SIZE, SSWI_SIZE } from './devices/aclint';

export const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;
const HEADER_SIZE = 40;
const VERSION = 17;
const LAST_COMP_VERSION = 16;
const TWO32 = 4294967296;
const PLIC_DT_SIZE = 0x400000;

// ---------------------------------------------------------------------------------------------
// Writer

/** Builds a blob node by node: beginNode, props, endNode ... then finish(). */
export class FdtWriter {
  private struct: number[] = [];
  private strings: number[] = [];
  private readonly stringOffsets = new Map<string, number>();
  private depth = 0;
  private readonly reserved: { address: number; size: number }[] = [];

  beginNode(name: string): this {
    this.u32(FDT_BEGIN_NODE);
    this.bytes(utf8z(name));
    this.pad();
    this.depth++;
    return this;
  }

  endNode(): this {
    if (this.depth === 0) throw new Error('fdt: endNode without beginNode');
    this.u32(FDT_END_NODE);
    this.depth--;
    return this;
  }

  prop(name: string, value: Uint8Array): this {
    if (this.depth === 0) throw new Error(`fdt: property ${name} outside any node`);
    this.u32(FDT_PROP);
    this.u32(value.length);
    this.u32(this.stringOffset(name));
    this.bytes(value);
    this.pad();
    return this;
  }

  propEmpty(name: string): this {
    return this.prop(name, new Uint8Array(0));
  }

  propU32(name: string, ...cells: number[]): this {
    const v = new Uint8Array(cells.length * 4);
    const dv = new DataView(v.buffer);
    cells.forEach((c, i) => dv.setUint32(i * 4, c >>> 0));
    return this.prop(name, v);
  }

  propString(name: string, s: string): this {
    return this.prop(name, utf8z(s));
  }

  propStrings(name: string, ...list: string[]): this {
    const parts = list.map(utf8z);
    const v = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      v.set(p, o);
      o += p.length;
    }
    return this.prop(name, v);
  }

  /** A /memreserve/ entry (the kernel will not touch [address, address+size)). */
  reserve(address: number, size: number): this {
    this.reserved.push({ address, size });
    return this;
  }

  finish(bootCpu = 0): Uint8Array {
    if (this.depth !== 0) throw new Error(`fdt: ${this.depth} node(s) left open`);
    this.u32(FDT_END);
    const rsvOff = HEADER_SIZE; // already 8-aligned
    const rsvSize = (this.reserved.length + 1) * 16;
    const structOff = rsvOff + rsvSize;
    const structSize = this.struct.length;
    const stringsOff = structOff + structSize;
    const stringsSize = this.strings.length;
    const total = stringsOff + stringsSize;
    const out = new Uint8Array(total);
    const dv = new DataView(out.buffer);
    const header = [FDT_MAGIC, total, structOff, stringsOff, rsvOff, VERSION, LAST_COMP_VERSION, bootCpu, stringsSize, structSize];
    header.forEach((v, i) => dv.setUint32(i * 4, v >>> 0));
    let o = rsvOff;
    for (const r of this.reserved) {
      setU64(dv, o, r.address);
      setU64(dv, o + 8, r.size);
      o += 16;
    }
    out.set(this.struct, structOff);
    out.set(this.strings, stringsOff);
    return out;
  }

  private stringOffset(name: string): number {
    let off = this.stringOffsets.get(name);
    if (off === undefined) {
      off = this.strings.length;
      this.stringOffsets.set(name, off);
      for (const b of utf8z(name)) this.strings.push(b);
    }
    return off;
  }

  private u32(v: number): void {
    this.struct.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }

  private bytes(b: Uint8Array): void {
    for (let i = 0; i < b.length; i++) this.struct.push(b[i]);
  }

  private pad(): void {
    while (this.struct.length & 3) this.struct.push(0);
  }
}

function utf8z(s: string): Uint8Array {
  const b = Buffer.from(s, 'utf8');
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

function setU64(dv: DataView, off: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  dv.setUint32(off, hi >>> 0);
  dv.setUint32(off + 4, (v - hi * TWO32) >>> 0);
}

// ---------------------------------------------------------------------------------------------
// The machine's device tree

export type DtDeviceKind = 'plic' | 'uart' | 'mtimer' | 'mswi' | 'sswi' | 'virtio';

/** One device as the DT should describe it (absolute guest-physical base, PLIC source). */
export interface DtDevice {
  kind: DtDeviceKind;
  base: number;
  size: number;
  irq?: number;
}

export interface DtConfig {
  ramBase: number;
  ramSize: number;
  harts: number;
  timebase?: number;
  bootargs: string;
  /** Initial ramdisk placement: [start, end) guest-physical. */
  initrd?: { start: number; end: number };
  devices: DtDevice[];
  model?: string;
}

/** semu's platform devices at semu's addresses (the machine adds a node per virtio device it has). */
export function semuDevices(): DtDevice[] {
  return [
    // The PLIC answers semu's whole 64 MiB window, but the tree declares the 4 MiB its
    // registers need (contexts end at 0x20_0000 + 0x1000 * harts): the kernel ioremaps what the
    // tree says, and vmalloc space on rv32 is scarce. Same for the UART's 1 MiB window.
    { kind: 'plic', base: PLIC_BASE, size: PLIC_DT_SIZE },
    { kind: 'uart', base: UART_BASE, size: 0x1000, irq: UART_IRQ },
    { kind: 'mtimer', base: MTIMER_BASE, size: MTIMER_SIZE },
    { kind: 'mswi', base: MSWI_BASE, size: MSWI_SIZE },
    { kind: 'sswi', base: SSWI_BASE, size: SSWI_SIZE },
  ];
}

/** What the ISA strings say: RV32IMA with Zicsr, Zifencei and the base counters. */
export const RISCV_ISA = 'rv32ima_zicsr_zifencei_zicntr';
const ISA_EXTENSIONS = ['i', 'm', 'a', 'zicsr', 'zifencei', 'zicntr'];

// Interrupt numbers on each hart's local controller (mip bit positions).
const IRQ_S_SOFT = 1;
const IRQ_M_SOFT = 3;
const IRQ_M_TIMER = 7;
const IRQ_S_EXT = 9;

const hex = (n: number) => (n >>> 0).toString(16);

/**
 * The device tree for a semu-shaped machine. Device nodes live under /soc at semu's unit
 * addresses (the soc bus maps 0 → 0xF000_0000), so paths match what semu's own DTB shows.
 */
export function buildDeviceTree(cfg: DtConfig): Uint8Array {
  const harts = cfg.harts;
  if (!(harts >= 1 && harts <= 32)) throw new Error(`fdt: ${harts} harts (1..32 supported)`);
  const plic = cfg.devices.find((d) => d.kind === 'plic');
  const uart = cfg.devices.find((d) => d.kind === 'uart');
  if (plic && plic.size < 0x200000 + 0x1000 * harts) throw new Error(`fdt: a ${plic.size}-byte PLIC window has no room for ${harts} contexts`);
  for (const d of cfg.devices) {
    if (d.base < SOC_BASE || d.base + d.size > SOC_BASE + SOC_SIZE) {
      throw new Error(`fdt: ${d.kind} at 0x${hex(d.base)} is outside the soc window 0x${hex(SOC_BASE)}..`);
    }
    if (d.kind === 'uart' || d.kind === 'virtio') {
      if (!plic) throw new Error(`fdt: ${d.kind} at 0x${hex(d.base)} has an IRQ but there is no PLIC`);
      if (!(d.irq !== undefined && d.irq >= 1 && d.irq <= 31)) throw new Error(`fdt: ${d.kind} at 0x${hex(d.base)} needs an IRQ 1..31`);
    }
  }

  // phandles: each hart's intc = 1 + hart, the PLIC after them.
  const intc = (h: number) => 1 + h;
  const plicPhandle = 1 + harts;
  const perHart = (irq: number) => Array.from({ length: harts }, (_, h) => [intc(h), irq]).flat();
  const rel = (d: DtDevice) => d.base - SOC_BASE;
  const socName = `soc@${hex(SOC_BASE)}`;

  const w = new FdtWriter();
  w.beginNode('');
  w.propU32('#address-cells', 1).propU32('#size-cells', 1);
  w.propString('model', cfg.model ?? 'semu');
  w.propString('compatible', 'semu,rv32');

  if (uart) {
    w.beginNode('aliases');
    w.propString('serial0', `/${socName}/serial@${hex(rel(uart))}`);
    w.endNode();
  }

  w.beginNode('chosen');
  w.propString('bootargs', cfg.bootargs);
  if (uart) w.propString('stdout-path', 'serial0');
  if (cfg.initrd) {
    if (!(cfg.initrd.end > cfg.initrd.start)) throw new Error('fdt: initrd end must be above its start');
    w.propU32('linux,initrd-start', cfg.initrd.start);
    w.propU32('linux,initrd-end', cfg.initrd.end);
  }
  w.endNode();

  w.beginNode('cpus');
  w.propU32('#address-cells', 1).propU32('#size-cells', 0);
  w.propU32('timebase-frequency', cfg.timebase ?? TIMEBASE_HZ);
  for (let h = 0; h < harts; h++) {
    w.beginNode(`cpu@${h}`);
    w.propString('device_type', 'cpu');
    w.propString('compatible', 'riscv');
    w.propU32('reg', h);
    w.propString('status', 'okay');
    w.propString('riscv,isa', RISCV_ISA);
    w.propString('riscv,isa-base', 'rv32i');
    w.propStrings('riscv,isa-extensions', ...ISA_EXTENSIONS);
    w.propString('mmu-type', 'riscv,sv32');
    w.beginNode('interrupt-controller');
    w.propU32('#interrupt-cells', 1);
    w.propU32('#address-cells', 0);
    w.propEmpty('interrupt-controller');
    w.propString('compatible', 'riscv,cpu-intc');
    w.propU32('phandle', intc(h));
    w.endNode();
    w.endNode();
  }
  w.endNode();

  w.beginNode(`memory@${hex(cfg.ramBase)}`);
  w.propString('device_type', 'memory');
  w.propU32('reg', cfg.ramBase, cfg.ramSize);
  w.endNode();

  w.beginNode(socName);
  w.propU32('#address-cells', 1).propU32('#size-cells', 1);
  w.propString('compatible', 'simple-bus');
  w.propU32('ranges', 0, SOC_BASE, SOC_SIZE);
  if (plic) w.propU32('interrupt-parent', plicPhandle);
  for (const d of cfg.devices) writeDevice(w, d, rel(d), { harts, perHart, plicPhandle });
  w.endNode();

  w.endNode();
  return w.finish(0);
}

function writeDevice(
  w: FdtWriter,
  d: DtDevice,
  off: number,
  ctx: { harts: number; perHart: (irq: number) => number[]; plicPhandle: number },
): void {
  switch (d.kind) {
    case 'plic':
      w.beginNode(`interrupt-controller@${hex(off)}`);
      w.propU32('#interrupt-cells', 1);
      w.propU32('#address-cells', 0);
      w.propStrings('compatible', 'sifive,plic-1.0.0', 'riscv,plic0');
      w.propU32('reg', off, d.size);
      w.propEmpty('interrupt-controller');
      // One context per hart: its S-mode external interrupt (context n = hart n).
      w.propU32('interrupts-extended', ...ctx.perHart(IRQ_S_EXT));
      w.propU32('riscv,ndev', 31);
      w.propU32('phandle', ctx.plicPhandle);
      break;
    case 'uart':
      w.beginNode(`serial@${hex(off)}`);
      w.propString('compatible', 'ns16550a');
      w.propU32('reg', off, d.size);
      w.propU32('interrupts', d.irq!);
      w.propU32('clock-frequency', UART_CLOCK_HZ);
      w.propU32('reg-shift', 0);
      w.propU32('reg-io-width', 1);
      break;
    case 'mtimer':
      w.beginNode(`mtimer@${hex(off)}`);
      w.propString('compatible', 'riscv,aclint-mtimer');
      w.propU32('reg', off, d.size);
      w.propU32('interrupts-extended', ...ctx.perHart(IRQ_M_TIMER));
      break;
    case 'mswi':
      w.beginNode(`mswi@${hex(off)}`);
      w.propU32('#interrupt-cells', 0);
      w.propU32('#address-cells', 0);
      w.propEmpty('interrupt-controller');
      w.propString('compatible', 'riscv,aclint-mswi');
      w.propU32('reg', off, d.size);
      w.propU32('interrupts-extended', ...ctx.perHart(IRQ_M_SOFT));
      break;
    case 'sswi':
      w.beginNode(`sswi@${hex(off)}`);
      w.propU32('#interrupt-cells', 0);
      w.propU32('#address-cells', 0);
      w.propEmpty('interrupt-controller');
      w.propString('compatible', 'riscv,aclint-sswi');
      w.propU32('reg', off, d.size);
      w.propU32('interrupts-extended', ...ctx.perHart(IRQ_S_SOFT));
      break;
    case 'virtio':
      w.beginNode(`virtio@${hex(off)}`);
      w.propString('compatible', 'virtio,mmio');
      w.propU32('reg', off, d.size);
      w.propU32('interrupts', d.irq!);
      break;
  }
  w.endNode();
}

// ---------------------------------------------------------------------------------------------
// Reader

export interface FdtNode {
  name: string;
  props: Map<string, Uint8Array>;
  children: FdtNode[];
}

export interface Fdt {
  version: number;
  bootCpu: number;
  reserved: { address: number; size: number }[];
  root: FdtNode;
}

export class FdtError extends Error {}

const MAX_DEPTH = 64;

/** Parses and validates a blob; throws FdtError saying what is wrong and where. */
export function parseFdt(blob: Uint8Array): Fdt {
  if (blob.length < HEADER_SIZE) throw new FdtError(`not a device tree: ${blob.length} bytes is shorter than the 40-byte header`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const h = (i: number) => dv.getUint32(i * 4);
  if (h(0) !== FDT_MAGIC) throw new FdtError(`not a device tree: magic 0x${hex(h(0))}, expected 0xd00dfeed`);
  const total = h(1);
  const structOff = h(2);
  const stringsOff = h(3);
  const rsvOff = h(4);
  const version = h(5);
  const lastComp = h(6);
  const stringsSize = h(8);
  const structSize = h(9);
  if (total > blob.length) throw new FdtError(`truncated device tree: header says ${total} bytes, have ${blob.length}`);
  if (version < 16 || lastComp > 17) throw new FdtError(`unsupported FDT version ${version} (last compatible ${lastComp}); need 16 or 17`);
  const inside = (off: number, len: number) => off >= HEADER_SIZE && off + len <= total;
  if (!inside(structOff, structSize)) throw new FdtError('structure block lies outside the blob');
  if (!inside(stringsOff, stringsSize)) throw new FdtError('strings block lies outside the blob');
  if (rsvOff & 7 || !inside(rsvOff, 16)) throw new FdtError('memory reservation map misplaced');

  const reserved: { address: number; size: number }[] = [];
  for (let o = rsvOff; ; o += 16) {
    if (!inside(o, 16)) throw new FdtError('memory reservation map has no terminating entry');
    const address = dv.getUint32(o) * TWO32 + dv.getUint32(o + 4);
    const size = dv.getUint32(o + 8) * TWO32 + dv.getUint32(o + 12);
    if (address === 0 && size === 0) break;
    reserved.push({ address, size });
  }

  const end = structOff + structSize;
  let p = structOff;
  const word = () => {
    if (p + 4 > end) throw new FdtError(`structure block ends inside a token at offset ${p}`);
    const v = dv.getUint32(p);
    p += 4;
    return v;
  };
  const cstring = (from: number, limit: number, what: string) => {
    let q = from;
    while (q < limit && blob[q] !== 0) q++;
    if (q >= limit) throw new FdtError(`unterminated ${what} at offset ${from}`);
    return { s: Buffer.from(blob.subarray(from, q)).toString('utf8'), next: q + 1 };
  };

  const stack: FdtNode[] = [];
  let root: FdtNode | null = null;
  for (;;) {
    const tok = word();
    if (tok === FDT_BEGIN_NODE) {
      const { s, next } = cstring(p, end, 'node name');
      p = (next + 3) & ~3;
      const node: FdtNode = { name: s, props: new Map(), children: [] };
      if (stack.length === 0) {
        if (root) throw new FdtError('more than one root node');
        root = node;
      } else stack[stack.length - 1].children.push(node);
      if (stack.length >= MAX_DEPTH) throw new FdtError(`nodes nested deeper than ${MAX_DEPTH}`);
      stack.push(node);
    } else if (tok === FDT_END_NODE) {
      if (!stack.pop()) throw new FdtError(`END_NODE without a node at offset ${p - 4}`);
    } else if (tok === FDT_PROP) {
      const len = word();
      const nameoff = word();
      if (stack.length === 0) throw new FdtError(`property outside any node at offset ${p - 12}`);
      if (p + len > end) throw new FdtError(`property value overruns the structure block at offset ${p}`);
      if (nameoff >= stringsSize) throw new FdtError(`property name offset ${nameoff} outside the strings block`);
      const name = cstring(stringsOff + nameoff, stringsOff + stringsSize, 'property name').s;
      stack[stack.length - 1].props.set(name, blob.slice(p, p + len));
      p = (p + len + 3) & ~3;
    } else if (tok === FDT_NOP) {
      continue;
    } else if (tok === FDT_END) {
      break;
    } else {
      throw new FdtError(`unknown structure token 0x${hex(tok)} at offset ${p - 4}`);
    }
  }
  if (!root) throw new FdtError('no root node');
  if (stack.length !== 0) throw new FdtError(`${stack.length} node(s) not closed before FDT_END`);
  return { version, bootCpu: h(7), reserved, root };
}

/** Finds a node by path ('/soc@f0000000/serial@4000000'); a component without '@' matches the name before it. */
export function findNode(root: FdtNode, path: string): FdtNode | null {
  let node: FdtNode | undefined = root;
  for (const part of path.split('/').filter((s) => s.length > 0)) {
    node = node.children.find((c) => c.name === part) ?? (part.includes('@') ? undefined : node.children.find((c) => c.name.split('@')[0] === part));
    if (!node) return null;
  }
  return node;
}

export function propU32s(node: FdtNode, name: string): number[] | null {
  const v = node.props.get(name);
  if (!v || v.length % 4 !== 0) return null;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return Array.from({ length: v.length / 4 }, (_, i) => dv.getUint32(i * 4));
}

export function propStrings(node: FdtNode, name: string): string[] | null {
  const v = node.props.get(name);
  if (!v || v.length === 0 || v[v.length - 1] !== 0) return null;
  return Buffer.from(v.subarray(0, v.length - 1)).toString('utf8').split('\0');
}

export function propString(node: FdtNode, name: string): string | null {
  const s = propStrings(node, name);
  return s ? s[0] : null;
}
