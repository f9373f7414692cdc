// ELF32 little-endian section headers (System V gABI, "Sections"): enough to find vmlinux's
// .symtab and its DWARF sections by name. Every offset is checked against the file, so a
// truncated file is an ElfError, never an out-of-range read.

export class ElfError extends Error {
  override name = 'ElfError';
}

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

export const SHT_SYMTAB = 2;
export const SHT_NOBITS = 8;
export const SHF_WRITE = 1;
export const SHF_EXECINSTR = 4;
const SHF_COMPRESSED = 0x800;
const EM_RISCV = 243;

export function isElf(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

export class ElfFile {
  readonly sections: ElfSection[] = [];
  readonly machine: number;
  private readonly byName = new Map<string, ElfSection>();

  constructor(readonly bytes: Uint8Array) {
    const b = bytes;
    if (!isElf(b)) throw new ElfError('not an ELF file');
    if (b.length < 52) throw new ElfError('ELF file too short');
    if (b[4] !== 1) throw new ElfError('not a 32-bit ELF (the harts are RV32)');
    if (b[5] !== 1) throw new ElfError('not a little-endian ELF');
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.machine = dv.getUint16(18, true);
    const shoff = dv.getUint32(32, true);
    const shentsize = dv.getUint16(46, true);
    const shnum = dv.getUint16(48, true);
    const shstrndx = dv.getUint16(50, true);
    if (shnum === 0) return;
    if (shentsize < 40 || shoff + shnum * shentsize > b.length) throw new ElfError('ELF section headers out of range');
    const nameOffs: number[] = [];
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      nameOffs.push(dv.getUint32(o, true));
      this.sections.push({
        index: i,
        name: '',
        type: dv.getUint32(o + 4, true),
        flags: dv.getUint32(o + 8, true),
        addr: dv.getUint32(o + 12, true),
        offset: dv.getUint32(o + 16, true),
        size: dv.getUint32(o + 20, true),
        link: dv.getUint32(o + 24, true),
        entsize: dv.getUint32(o + 36, true),
      });
    }
    const strtab = shstrndx < shnum ? this.sections[shstrndx] : undefined;
    for (const s of this.sections) {
      const nameOff = nameOffs[s.index];
      if (!strtab || strtab.type === SHT_NOBITS || nameOff >= strtab.size || strtab.offset + strtab.size > b.length) continue;
      let end = strtab.offset + nameOff;
      while (end < strtab.offset + strtab.size && b[end] !== 0) end++;
      s.name = String.fromCharCode(...b.subarray(strtab.offset + nameOff, end));
      if (!this.byName.has(s.name)) this.byName.set(s.name, s);
    }
  }

  get isRiscv(): boolean {
    return this.machine === EM_RISCV;
  }

  header(name: string): ElfSection | undefined {
    return this.byName.get(name);
  }

  /** A section's bytes (a view, no copy), or null when absent or empty. */
  section(name: string): Uint8Array | null {
    const s = this.byName.get(name);
    if (!s || s.type === SHT_NOBITS || s.size === 0) return null;
    return this.data(s);
  }

  data(s: ElfSection): Uint8Array {
    if (s.offset + s.size > this.bytes.length) throw new ElfError(`section ${s.name || s.index} extends past the end of the file`);
    if (s.flags & SHF_COMPRESSED) throw new ElfError(`section ${s.name} is compressed (SHF_COMPRESSED): not supported; build without --compress-debug-sections`);
    return this.bytes.subarray(s.offset, s.offset + s.size);
  }
}
