// Kernel and initrd files go straight into guest RAM (src/worker/load.ts imageFile, the
// emulator's ImageFile): the same bytes land where they did as byte arrays, the Image header is
// read from the file, and a file that changes between the check and the read is a UsageError
// that says so, not a machine booting half an image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../src/emulator/machine';
import { imageSize } from '../../src/emulator/boot';
import { parseFdt } from '../../src/emulator/fdt';
import { imageFile } from '../../src/worker/load';

const dir = mkdtempSync(join(tmpdir(), 'semu-image-file-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const RAM = 64 << 20;
const io = { consoleOut: () => undefined };

/** Bytes that differ at every offset (a misplaced or short copy shows). */
function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed + (i >>> 8)) & 0xff;
  return b;
}

/** A RISC-V Image header (boot-image-header.rst) claiming `footprint` bytes, then filler. */
function riscvImage(n: number, footprint: number): Uint8Array {
  const b = pattern(n, 7);
  const dv = new DataView(b.buffer);
  dv.setUint32(16, footprint, true);
  dv.setUint32(20, 0, true);
  dv.setUint32(56, 0x05435352, true); // "RSC\x05"
  return b;
}

function initrdStart(m: Machine): number {
  const chosen = parseFdt(m.dtb).root.children.find((c) => c.name === 'chosen');
  const p = chosen?.props.get('linux,initrd-start');
  assert.ok(p, 'the device tree names the initrd');
  return new DataView(p.buffer, p.byteOffset).getUint32(0);
}

test('a kernel and an initrd read from their files land byte for byte where byte arrays do', { timeout: 60_000 }, () => {
  const kernel = riscvImage(300_001, 2 << 20);
  const initrd = pattern(123_457, 3);
  writeFileSync(join(dir, 'Image'), kernel);
  writeFileSync(join(dir, 'initrd'), initrd);
  const k = imageFile(join(dir, 'Image'), 'kernel image', '-k');
  assert.equal(imageSize(k), 2 << 20, 'the header is read from the file');
  const fromFiles = new Machine({ ramSize: RAM, kernel: k, initrd: imageFile(join(dir, 'initrd'), 'initrd', '-i') }, io);
  const fromBytes = new Machine({ ramSize: RAM, kernel, initrd }, io);
  try {
    const at = initrdStart(fromFiles);
    assert.equal(at, initrdStart(fromBytes), 'the same layout');
    const ram = fromFiles.ram;
    assert.deepEqual(ram.u8.subarray(0, kernel.length), kernel, 'the kernel at the start of RAM');
    assert.deepEqual(ram.u8.subarray(at - ram.base, at - ram.base + initrd.length), initrd, 'the initrd where the device tree says');
  } finally {
    fromFiles.shutdown();
    fromBytes.shutdown();
  }
});

test('a kernel file that grows, shrinks or goes away before it is read: a UsageError saying so', { timeout: 60_000 }, () => {
  const path = join(dir, 'moving');
  for (const [change, said] of [
    [() => writeFileSync(path, pattern(8192, 1)), /it had 4096 bytes and has 8192/],
    [() => writeFileSync(path, pattern(100, 1)), /it had 4096 bytes and has 100/],
    [() => rmSync(path), /cannot read the kernel image .*moving|it had 4096 bytes and is gone/],
  ] as const) {
    writeFileSync(path, pattern(4096, 2));
    const k = imageFile(path, 'kernel image', '-k');
    change();
    assert.throws(
      () => new Machine({ ramSize: RAM, kernel: k }, io),
      (e: Error) => e.name === 'UsageError' && said.test(e.message) && /[( ]-k\b/.test(e.message),
    );
  }
});
