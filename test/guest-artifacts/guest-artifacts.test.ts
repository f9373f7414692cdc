// The default guest's artifacts, checked for real: the kernel Image header, its config and
// symbols, the initramfs contents, and every instruction of every userland binary (RV32IMA +
// Zicsr + Zifencei, all 32 bits wide). Nothing here boots: that is the emulator's tests' job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GUEST_BUILD_TIMEOUT_MS, guestArtifacts, repoRoot } from './artifacts';
import { parseNewc, S_IFCHR, S_IFDIR, S_IFMT, S_IFREG, type CpioEntry } from './cpio';

const BUILD = { timeout: GUEST_BUILD_TIMEOUT_MS };
const PROGRAMS = ['/init', '/bin/sh', '/bin/pcm', '/bin/cpubench', '/bin/forkbench', '/bin/pfbench', '/bin/pipebench', '/bin/sysbench'];

function initramfs(): Map<string, CpioEntry> {
  const entries = parseNewc(readFileSync(guestArtifacts().initrd));
  return new Map(entries.map((e) => [e.name, e]));
}

function kernelConfig(): Map<string, string> {
  // guest/lib/kernel.sh keeps the final .config next to the Image as "config"
  const text = readFileSync(join(dirname(guestArtifacts().kernel), 'config'), 'utf8');
  const cfg = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) cfg.set(m[1], m[2]);
  }
  return cfg;
}

test('the build prints absolute paths to existing files', BUILD, () => {
  const a = guestArtifacts();
  assert.match(a.kernel, /^\/.*\/Image$/);
  assert.match(a.initrd, /^\/.*\/initramfs\.cpio$/);
  assert.match(a.vmlinux, /^\/.*\/vmlinux$/);
  assert.match(a.systemMap, /^\/.*\/System\.map$/);
});

test('Image is a little-endian RISC-V Linux Image', BUILD, () => {
  const img = readFileSync(guestArtifacts().kernel);
  assert.ok(img.length > 1 << 20, `Image is only ${img.length} bytes`);
  assert.equal(img.toString('latin1', 0x38, 0x3c), 'RSC\x05', 'magic2 at 0x38');
  assert.equal(img.toString('latin1', 0x30, 0x35), 'RISCV', 'deprecated magic at 0x30');
  const imageSize = Number(img.readBigUInt64LE(0x10));
  assert.ok(imageSize >= img.length, `header image_size ${imageSize} < file size ${img.length}`);
  assert.equal(img.readBigUInt64LE(0x18) & 1n, 0n, 'flags: little endian');
});

test('vmlinux is ELF32 RISC-V, soft-float, without compressed code', BUILD, () => {
  const elf = readFileSync(guestArtifacts().vmlinux);
  assert.equal(elf.toString('latin1', 0, 4), '\x7fELF');
  assert.equal(elf[4], 1, 'ELFCLASS32');
  assert.equal(elf.readUInt16LE(18), 243, 'EM_RISCV');
  const flags = elf.readUInt32LE(36);
  assert.equal(flags & 1, 0, 'EF_RISCV_RVC: some object was built with the C extension');
  assert.equal(flags & 6, 0, 'float ABI is not soft');
});

test('System.map has the entry points and the drivers the machine needs', BUILD, () => {
  const syms = new Set<string>();
  for (const line of readFileSync(guestArtifacts().systemMap, 'utf8').split('\n')) {
    const parts = line.split(' ');
    if (parts.length === 3) syms.add(parts[2]);
  }
  for (const s of ['start_kernel', '_start', 'sbi_init', 'riscv_timer_init_dt', 'plic_probe', 'of_platform_serial_probe', 'virtio_mmio_probe', 'virtblk_probe', 'virtnet_probe', 'virtrng_probe', 'virtsnd_probe']) {
    assert.ok(syms.has(s), `System.map lacks ${s}`);
  }
  assert.ok(syms.size > 5000, `only ${syms.size} symbols`);
});

test('kernel config: RV32IMA, Sv32, SBI, semu devices, ALSA virtio-snd with debug procfs', BUILD, () => {
  const cfg = kernelConfig();
  const want: Record<string, string> = {
    CONFIG_32BIT: 'y',
    CONFIG_ARCH_RV32I: 'y',
    CONFIG_MMU: 'y',
    CONFIG_RISCV_SBI: 'y',
    CONFIG_SMP: 'y',
    CONFIG_SERIAL_8250: 'y',
    CONFIG_SERIAL_8250_CONSOLE: 'y',
    CONFIG_SERIAL_OF_PLATFORM: 'y',
    CONFIG_SERIAL_EARLYCON: 'y',
    CONFIG_SERIAL_EARLYCON_RISCV_SBI: 'y',
    CONFIG_SIFIVE_PLIC: 'y',
    CONFIG_VIRTIO_MMIO: 'y',
    CONFIG_VIRTIO_BLK: 'y',
    CONFIG_VIRTIO_NET: 'y',
    CONFIG_HW_RANDOM_VIRTIO: 'y',
    CONFIG_SND: 'y',
    CONFIG_SND_VIRTIO: 'y',
    CONFIG_SND_PROC_FS: 'y',
    CONFIG_SND_VERBOSE_PROCFS: 'y',
    CONFIG_SND_DEBUG: 'y',
    CONFIG_SND_PCM_XRUN_DEBUG: 'y',
    CONFIG_DEVTMPFS: 'y',
    CONFIG_PROC_FS: 'y',
    CONFIG_SYSFS: 'y',
    CONFIG_TMPFS: 'y',
    CONFIG_PRINTK_TIME: 'y',
    CONFIG_KALLSYMS: 'y',
    CONFIG_BLK_DEV_INITRD: 'y',
  };
  for (const [k, v] of Object.entries(want)) assert.equal(cfg.get(k), v, k);
  for (const k of ['CONFIG_64BIT', 'CONFIG_RISCV_ISA_C', 'CONFIG_FPU', 'CONFIG_RISCV_ISA_V', 'CONFIG_MODULES', 'CONFIG_EFI']) {
    assert.equal(cfg.get(k), undefined, `${k} must be off`);
  }
});

test('every line of guest/kernel.config survived into the final config', BUILD, () => {
  const cfg = kernelConfig();
  const fragment = readFileSync(join(repoRoot(), 'guest', 'kernel.config'), 'utf8').split('\n');
  let checked = 0;
  for (const line of fragment) {
    const on = /^(CONFIG_\w+)=(.*)$/.exec(line);
    const off = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (on) assert.equal(cfg.get(on[1]), on[2], on[1]);
    else if (off) assert.equal(cfg.get(off[1]), undefined, `${off[1]} should be unset`);
    else continue;
    checked++;
  }
  assert.ok(checked > 50, `only ${checked} fragment lines`);
});

test('initramfs holds the programs, device nodes and mount points', BUILD, () => {
  const files = initramfs();
  for (const p of PROGRAMS) {
    const e = files.get(p);
    assert.ok(e, `${p} missing from the initramfs`);
    assert.equal(e.mode & S_IFMT, S_IFREG, `${p} is not a regular file`);
    assert.equal(e.mode & 0o111, 0o111, `${p} is not executable`);
    assert.equal(e.data.toString('latin1', 0, 4), '\x7fELF', `${p} is not ELF`);
  }
  for (const d of ['/dev', '/proc', '/sys', '/tmp', '/bin']) {
    assert.equal((files.get(d)?.mode ?? 0) & S_IFMT, S_IFDIR, `${d} is not a directory`);
  }
  const nodes: [string, number, number][] = [['/dev/console', 5, 1], ['/dev/null', 1, 3]];
  for (const [name, major, minor] of nodes) {
    const e = files.get(name);
    assert.ok(e, `${name} missing`);
    assert.equal(e.mode & S_IFMT, S_IFCHR, `${name} is not a character device`);
    assert.deepEqual([e.rdevMajor, e.rdevMinor], [major, minor], name);
  }
  assert.equal((files.get('/tmp')?.mode ?? 0) & 0o1777, 0o1777, '/tmp is not sticky and world-writable');
});

// RV32I base + M + A (every ordering suffix) + Zicsr + Zifencei, as objdump -M no-aliases spells them.
const RV32I = 'lui auipc jal jalr beq bne blt bge bltu bgeu lb lh lw lbu lhu sb sh sw addi slti sltiu xori ori andi slli srli srai add sub sll slt sltu xor srl sra or and fence fence.tso ecall ebreak';
const M = 'mul mulh mulhsu mulhu div divu rem remu';
const ZICSR = 'csrrw csrrs csrrc csrrwi csrrsi csrrci';
const ZIFENCEI = 'fence.i';
const A = ['lr.w', 'sc.w', ...'swap add xor and or min max minu maxu'.split(' ').map((o) => `amo${o}.w`)].flatMap((m) => ['', '.aq', '.rl', '.aqrl'].map((s) => m + s));
const ALLOWED = new Set([...`${RV32I} ${M} ${ZICSR} ${ZIFENCEI}`.split(' '), ...A]);

function checkBinary(name: string, elf: Buffer, dir: string): number {
  assert.equal(elf[4], 1, `${name}: not ELFCLASS32`);
  assert.equal(elf.readUInt16LE(18), 243, `${name}: not EM_RISCV`);
  assert.equal(elf.readUInt32LE(36) & 7, 0, `${name}: e_flags say RVC or a hardware float ABI`);
  const file = join(dir, name.replace(/\//g, '_'));
  writeFileSync(file, elf);
  const headers = execFileSync('riscv64-linux-gnu-readelf', ['-l', '-W', file], { encoding: 'utf8' });
  assert.doesNotMatch(headers, /INTERP/, `${name}: dynamically linked`);
  const dis = execFileSync('riscv64-linux-gnu-objdump', ['-d', '-M', 'no-aliases', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  let count = 0;
  for (const line of dis.split('\n')) {
    const m = /^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(\S+)/.exec(line);
    if (!m) continue;
    count++;
    const hex = m[2].replace(/ /g, '');
    assert.equal(hex.length, 8, `${name}: ${m[1]}: not a 32-bit instruction: ${line.trim()}`);
    assert.ok(ALLOWED.has(m[3]), `${name}: ${m[1]}: '${m[3]}' is outside RV32IMA+Zicsr+Zifencei: ${line.trim()}`);
  }
  return count;
}

test('every userland instruction is 32 bits wide and within RV32IMA + Zicsr + Zifencei', BUILD, () => {
  const files = initramfs();
  const dir = mkdtempSync(join(tmpdir(), 'guest-insn-'));
  try {
    for (const p of PROGRAMS) {
      const count = checkBinary(p, files.get(p)!.data, dir);
      assert.ok(count > 200, `${p}: only ${count} instructions disassembled`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the instruction check rejects compressed and floating-point code', () => {
  // the checker itself must be able to fail: assemble a tiny object with C and F instructions
  const dir = mkdtempSync(join(tmpdir(), 'guest-insn-neg-'));
  try {
    const src = join(dir, 'bad.s');
    writeFileSync(src, '.text\n.globl _start\n_start:\n c.addi a0, 1\n fadd.s fa0, fa0, fa1\n');
    const obj = join(dir, 'bad.o');
    execFileSync('riscv64-linux-gnu-as', ['-march=rv32imafc', '-mabi=ilp32', src, '-o', obj]);
    const elf = readFileSync(obj);
    // relocatable objects keep EF_RISCV_RVC set: clear it so the disassembly check is what trips
    elf.writeUInt32LE(elf.readUInt32LE(36) & ~7, 36);
    assert.throws(() => checkBinary('bad', elf, dir), /not a 32-bit instruction|outside RV32IMA/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
