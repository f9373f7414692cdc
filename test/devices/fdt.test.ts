import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FdtError, FdtWriter, buildDeviceTree, findNode, parseFdt, propString, propStrings, propU32s, semuDevices, type DtConfig, type DtDevice } from '../../src/emulator/fdt';
import { VIRTIO_SLOTS, type VirtioSlotName } from '../../src/emulator/devices/map';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semu-fdt-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** semu's platform devices plus virtio nodes at the named slots. */
function devices(...slots: VirtioSlotName[]): DtDevice[] {
  return [...semuDevices(), ...slots.map((s) => ({ kind: 'virtio' as const, base: VIRTIO_SLOTS[s].base, size: 0x1000, irq: VIRTIO_SLOTS[s].irq }))];
}

function config(harts = 1): DtConfig {
  return {
    ramBase: 0,
    ramSize: 512 * 1024 * 1024,
    harts,
    timebase: 65000000,
    bootargs: 'earlycon console=ttyS0',
    initrd: { start: 0x1f700000, end: 0x1fe00000 },
    devices: devices('blk', 'rng', 'snd'),
  };
}

function dtc(blob: Uint8Array): { status: number | null; stdout: string; stderr: string } {
  const file = path.join(dir, `t${Math.random().toString(36).slice(2)}.dtb`);
  fs.writeFileSync(file, blob);
  const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', file], { encoding: 'utf8' });
  if (r.error) throw new Error(`dtc not runnable (apt-get install device-tree-compiler): ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('dtc decompiles the generated tree without warnings and sees every node', () => {
  const out = dtc(buildDeviceTree(config(2)));
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stderr.trim(), '', 'no dtc warnings');
  for (const node of [
    'aliases {',
    'chosen {',
    'cpus {',
    'cpu@0 {',
    'cpu@1 {',
    'interrupt-controller {',
    'memory@0 {',
    'soc@f0000000 {',
    'interrupt-controller@0 {',
    'serial@4000000 {',
    'mtimer@4300000 {',
    'mswi@4400000 {',
    'sswi@4500000 {',
    'virtio@4200000 {',
    'virtio@4600000 {',
    'virtio@4700000 {',
  ]) {
    assert.ok(out.stdout.includes(node), `missing ${node}`);
  }
  assert.match(out.stdout, /riscv,isa = "rv32ima_zicsr_zifencei_zicntr";/);
  assert.match(out.stdout, /riscv,isa-extensions = "i\\0m\\0a\\0zicsr\\0zifencei\\0zicntr";/);
  assert.match(out.stdout, /compatible = "sifive,plic-1.0.0\\0riscv,plic0";/);
  assert.match(out.stdout, /linux,initrd-start = <0x1f700000>;/);
  assert.match(out.stdout, /timebase-frequency = <0x3dfd240>;/);
});

test('parseFdt reads back what Linux needs: memory, chosen, harts, PLIC contexts, device IRQs', () => {
  const fdt = parseFdt(buildDeviceTree(config(2)));
  assert.equal(fdt.version, 17);
  const root = fdt.root;
  assert.deepEqual(propU32s(findNode(root, '/memory@0')!, 'reg'), [0, 0x20000000]);
  const chosen = findNode(root, '/chosen')!;
  assert.equal(propString(chosen, 'bootargs'), 'earlycon console=ttyS0');
  assert.equal(propString(chosen, 'stdout-path'), 'serial0');
  assert.deepEqual(propU32s(chosen, 'linux,initrd-end'), [0x1fe00000]);
  const alias = propString(findNode(root, '/aliases')!, 'serial0')!;
  assert.ok(findNode(root, alias), `alias ${alias} resolves`);

  const cpus = findNode(root, '/cpus')!;
  assert.deepEqual(propU32s(cpus, 'timebase-frequency'), [65000000]);
  const intcPhandles = [0, 1].map((h) => {
    const cpu = findNode(root, `/cpus/cpu@${h}`)!;
    assert.deepEqual(propU32s(cpu, 'reg'), [h]);
    assert.equal(propString(cpu, 'mmu-type'), 'riscv,sv32');
    assert.equal(propString(cpu, 'riscv,isa-base'), 'rv32i');
    assert.deepEqual(propStrings(cpu, 'riscv,isa-extensions'), ['i', 'm', 'a', 'zicsr', 'zifencei', 'zicntr']);
    const intc = findNode(cpu, 'interrupt-controller')!;
    assert.equal(propString(intc, 'compatible'), 'riscv,cpu-intc');
    assert.ok(intc.props.has('interrupt-controller'));
    return propU32s(intc, 'phandle')![0];
  });
  const soc = findNode(root, '/soc@f0000000')!;
  assert.deepEqual(propU32s(soc, 'ranges'), [0, 0xf0000000, 0x10000000]);
  const plic = findNode(soc, 'interrupt-controller@0')!;
  assert.deepEqual(propStrings(plic, 'compatible'), ['sifive,plic-1.0.0', 'riscv,plic0']);
  assert.deepEqual(propU32s(plic, 'interrupts-extended'), [intcPhandles[0], 9, intcPhandles[1], 9], 'context n = hart n, S-external');
  assert.deepEqual(propU32s(plic, 'riscv,ndev'), [31]);
  assert.deepEqual(propU32s(plic, 'reg'), [0, 0x400000], 'room for every context at 0x200000 + 0x1000 * n');
  assert.deepEqual(propU32s(soc, 'interrupt-parent'), propU32s(plic, 'phandle'));
  const uart = findNode(soc, 'serial@4000000')!;
  assert.equal(propString(uart, 'compatible'), 'ns16550a');
  assert.deepEqual(propU32s(uart, 'interrupts'), [1]);
  assert.deepEqual(propU32s(uart, 'reg-io-width'), [1]);
  const irqs = soc.children.filter((c) => propString(c, 'compatible') === 'virtio,mmio').map((c) => [c.name, propU32s(c, 'interrupts')![0]]);
  assert.deepEqual(irqs, [
    ['virtio@4200000', 3],
    ['virtio@4600000', 4],
    ['virtio@4700000', 5],
  ]);
  assert.deepEqual(propU32s(findNode(soc, 'mtimer@4300000')!, 'reg'), [0x4300000, 0x8000]);
});

test('only present virtio devices get nodes; no initrd → no initrd properties', () => {
  const cfg = config();
  cfg.devices = devices('rng');
  delete cfg.initrd;
  const fdt = parseFdt(buildDeviceTree(cfg));
  const soc = findNode(fdt.root, '/soc')!;
  assert.deepEqual(soc.children.filter((c) => c.name.startsWith('virtio@')).map((c) => c.name), ['virtio@4600000']);
  assert.equal(findNode(fdt.root, '/chosen')!.props.has('linux,initrd-start'), false);
});

test('bad configurations are refused with a reason', () => {
  assert.throws(() => buildDeviceTree({ ...config(), harts: 0 }), /harts/);
  assert.throws(() => buildDeviceTree({ ...config(), devices: [{ kind: 'virtio', base: 0x10000000, size: 0x1000, irq: 3 }] }), /outside the soc window/);
  assert.throws(() => buildDeviceTree({ ...config(), devices: [...semuDevices(), { kind: 'virtio', base: 0xf4800000, size: 0x1000, irq: 40 }] }), /IRQ 1..31/);
  assert.throws(() => buildDeviceTree({ ...config(), initrd: { start: 10, end: 10 } }), /initrd/);
  assert.throws(() => buildDeviceTree({ ...config(), devices: [{ kind: 'plic', base: 0xf0000000, size: 0x1000 }] }), /no room/);
});

test('writer: memory reservations, string dedup, and dtc agrees with the reader', () => {
  const w = new FdtWriter();
  w.reserve(0x1ff00000, 0x100000);
  w.beginNode('').propU32('#address-cells', 1).propU32('#size-cells', 1);
  w.beginNode('a').propString('compatible', 'x').endNode();
  w.beginNode('b').propString('compatible', 'y').propEmpty('flag').endNode();
  w.endNode();
  const blob = w.finish();
  const fdt = parseFdt(blob);
  assert.deepEqual(fdt.reserved, [{ address: 0x1ff00000, size: 0x100000 }]);
  assert.equal(fdt.root.children.length, 2);
  assert.equal(Buffer.from(blob).toString('latin1').split('compatible').length - 1, 1, "'compatible' stored once");
  const out = dtc(blob);
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /\/memreserve\/\s+0x0*1ff00000 0x0*100000;/);
  assert.throws(() => new FdtWriter().endNode(), /endNode/);
  assert.throws(() => new FdtWriter().beginNode('').finish(), /left open/);
});

test('parseFdt rejects malformed blobs with a clear FdtError, never anything else', () => {
  const good = buildDeviceTree(config());
  const mutate = (f: (b: Uint8Array, dv: DataView) => void) => {
    const b = good.slice();
    f(b, new DataView(b.buffer));
    return b;
  };
  const bad: [string, Uint8Array, RegExp][] = [
    ['short', good.subarray(0, 20), /header/],
    ['magic', mutate((_, dv) => dv.setUint32(0, 0x12345678)), /magic/],
    ['truncated', good.subarray(0, good.length - 8), /truncated/],
    ['version', mutate((_, dv) => dv.setUint32(20, 3)), /version/],
    ['struct offset', mutate((_, dv) => dv.setUint32(8, 0xfffffff0)), /structure block/],
    ['bad token', mutate((_, dv) => dv.setUint32(dv.getUint32(8), 0x77)), /token/],
  ];
  for (const [what, blob, re] of bad) {
    assert.throws(() => parseFdt(blob), (e: unknown) => e instanceof FdtError && re.test(e.message), what);
  }
  // Random corruption of the structure block: always an FdtError or a successful parse.
  let seed = 1;
  for (let i = 0; i < 300; i++) {
    const b = good.slice();
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const at = 40 + (seed % (b.length - 40));
    b[at] ^= 1 + (seed >>> 24);
    try {
      parseFdt(b);
    } catch (e) {
      assert.ok(e instanceof FdtError, `corruption at ${at}: ${(e as Error).message}`);
    }
  }
});
