// semu parity, as a person coming from semu meets it: semu's own command lines, device trees
// written for semu's whole memory map (all eight virtio slots, only some of them backed here),
// semu's external-root layout (ext4 on virtio-blk, no initrd), semu's shared folder (-s), and
// user-space counter reads.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { VIRTIO_SLOTS } from '../../src/emulator/devices/map';
import { findExecutable } from '../../src/devices/virtio-net/backend';
import { guestArtifacts, GUEST_READY_MARKER } from '../guest-artifacts/artifacts';
import { parseNewc, S_IFDIR, S_IFMT, S_IFREG } from '../guest-artifacts/cpio';
import { GuestSession } from '../helpers/guest-session';
import { Cli } from '../helpers/cli-session';

const dir = mkdtempSync(join(tmpdir(), 'semu-parity-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// ---- a device tree as semu's minimal.dts describes its machine (facts from semu's dts/dtsi) ----

const SEMU_REG_SIZE: Record<keyof typeof VIRTIO_SLOTS, number> = {
  net: 0x100000, blk: 0x200, rng: 0x200, snd: 0x200, fs: 0x1000, keyboard: 0x200, mouse: 0x200, gpu: 0x200,
};

function semuDts(chosen: string): string {
  const virtio = Object.entries(VIRTIO_SLOTS)
    .map(([name, s]) => `    ${name}0: virtio@${(s.base - 0xf0000000).toString(16)} { compatible = "virtio,mmio"; reg = <0x${(s.base - 0xf0000000).toString(16)} 0x${SEMU_REG_SIZE[name as keyof typeof VIRTIO_SLOTS].toString(16)}>; interrupts = <${s.irq}>; };`)
    .join('\n');
  return `/dts-v1/;
/ {
  #address-cells = <1>; #size-cells = <1>; model = "semu";
  aliases { serial0 = "/soc@F0000000/serial@4000000"; };
  chosen { ${chosen} stdout-path = "serial0"; };
  cpus {
    #address-cells = <1>; #size-cells = <0>; timebase-frequency = <65000000>;
    cpu0: cpu@0 { device_type = "cpu"; compatible = "riscv"; reg = <0>; riscv,isa = "rv32ima"; mmu-type = "riscv,sv32";
      cpu0_intc: interrupt-controller { #interrupt-cells = <1>; #address-cells = <0>; interrupt-controller; compatible = "riscv,cpu-intc"; }; };
  };
  sram: memory@0 { device_type = "memory"; reg = <0x00000000 0x20000000>; reg-names = "sram0"; };
  soc: soc@F0000000 {
    #address-cells = <1>; #size-cells = <1>; compatible = "simple-bus"; ranges = <0x0 0xF0000000 0x10000000>; interrupt-parent = <&plic0>;
    plic0: interrupt-controller@0 { #interrupt-cells = <1>; #address-cells = <0>; compatible = "sifive,plic-1.0.0"; reg = <0x0000000 0x4000000>;
      interrupt-controller; interrupts-extended = <&cpu0_intc 9>; riscv,ndev = <31>; };
    sswi0: sswi@4500000 { #interrupt-cells = <0>; #address-cells = <0>; interrupt-controller; interrupts-extended = <&cpu0_intc 1>; reg = <0x4500000 0x4000>; compatible = "riscv,aclint-sswi"; };
    mswi0: mswi@4400000 { #interrupt-cells = <0>; #address-cells = <0>; interrupt-controller; interrupts-extended = <&cpu0_intc 3>; reg = <0x4400000 0x4000>; compatible = "riscv,aclint-mswi"; };
    mtimer0: mtimer@4300000 { interrupts-extended = <&cpu0_intc 7>; reg = <0x4300000 0x8000>; compatible = "riscv,aclint-mtimer"; };
    serial@4000000 { compatible = "ns16550"; reg = <0x4000000 0x100000>; interrupts = <1>; no-loopback-test; clock-frequency = <5000000>; };
${virtio}
  };
};
`;
}

function dtb(name: string, chosen: string): string {
  const src = join(dir, `${name}.dts`);
  const out = join(dir, `${name}.dtb`);
  writeFileSync(src, semuDts(chosen));
  const r = spawnSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb', '-o', out, src], { encoding: 'utf8' });
  if (r.error) throw new Error(`dtc is missing (apt-get install device-tree-compiler): ${r.error.message}`);
  assert.equal(r.status, 0, r.stderr);
  return out;
}

/** semu's initrd layout: its fixed initrd window (403 MiB .. 511 MiB - 1). */
const initrdDtb = () => dtb('initrd', 'bootargs = "earlycon console=ttyS0"; linux,initrd-start = <0x1f700000>; linux,initrd-end = <0x1fefffff>;');
/** semu's external-root layout (ENABLE_EXTERNAL_ROOT): root on virtio-blk, no initrd. */
const rootDtb = () => dtb('extroot', 'bootargs = "earlycon console=ttyS0 root=/dev/vda rw rootwait quiet loglevel=3 lpj=260000";');

/** Boots, checks the shell answers, and returns the virtio device IDs the guest found. */
async function bootAndListVirtio(args: string[]): Promise<{ ids: string[]; cli: Cli }> {
  const cli = new Cli(args);
  try {
    const at = await cli.waitFor(GUEST_READY_MARKER, 0, 120_000);
    await cli.waitFor('\n# ', at, 60_000);
    await cli.run('dmesg -n 1');
    const ls = await cli.run('ls /sys/bus/virtio/devices');
    const names = [...ls.matchAll(/virtio\d+/g)].map((m) => m[0]);
    const ids: string[] = [];
    for (const n of names) ids.push((await cli.run(`cat /sys/bus/virtio/devices/${n}/device`)).match(/0x[0-9a-f]{4}/)?.[0] ?? '?');
    return { ids: ids.sort(), cli };
  } catch (e) {
    cli.kill();
    throw e;
  }
}

const RNG = '0x0004';
const SND = '0x0019';
const BLK = '0x0002';
/** virtio-net is there by default where passt is installed (netdev user). */
const NET = findExecutable('passt') !== null ? ['0x0001'] : [];
const FS = '0x001a';

test("semu's exact command line with semu's device tree (all eight slots) boots to the shell; only backed devices appear", { timeout: 240_000 }, async () => {
  const g = guestArtifacts();
  const { ids, cli } = await bootAndListVirtio(['-k', g.kernel, '-c', '1', '-b', initrdDtb(), '-H', '-i', g.initrd]);
  assert.deepEqual(ids, [...NET, RNG, SND]);
  assert.equal(await cli.poweroff(), 0, cli.ended());
  assert.doesNotMatch(cli.out, /Unable to handle kernel|Oops|panic/i);
});

test("semu's long options boot the same way", { timeout: 240_000 }, async () => {
  const g = guestArtifacts();
  const { ids, cli } = await bootAndListVirtio(['--kernel', g.kernel, '--smp', '1', '--dtb', initrdDtb(), '--headless', '--initrd', g.initrd]);
  assert.deepEqual(ids, [...NET, RNG, SND]);
  assert.equal(await cli.poweroff(), 0, cli.ended());
});

test("semu's -s DIR shares the folder over virtio-fs (tag myfs, semu's device tree too): /init mounts it on /mnt", { timeout: 240_000 }, async () => {
  const g = guestArtifacts();
  const share = join(dir, 'share');
  mkdirSync(share);
  writeFileSync(join(share, 'from-host.txt'), 'hello from the host\n');
  const { ids, cli } = await bootAndListVirtio(['-k', g.kernel, '-c', '1', '-b', initrdDtb(), '-H', '-i', g.initrd, '-s', share]);
  assert.deepEqual(ids, [...NET, RNG, SND, FS]);
  assert.match(await cli.run('mount'), /^myfs \/mnt virtiofs rw/m);
  assert.match(await cli.run('cat /mnt/from-host.txt'), /^hello from the host$/m);
  await cli.run('echo written in the guest > /mnt/from-guest.txt');
  assert.equal(readFileSync(join(share, 'from-guest.txt'), 'utf8'), 'written in the guest\n');
  assert.equal(await cli.poweroff(), 0, cli.ended());
});

/** An ext4 image holding the default guest's userland, /sbin/init being its /init. */
function rootImage(): string {
  const tree = join(dir, 'rootfs');
  for (const e of parseNewc(readFileSync(guestArtifacts().initrd))) {
    if (e.name === '.' || e.name === 'TRAILER!!!') continue;
    const p = join(tree, e.name);
    if ((e.mode & S_IFMT) === S_IFDIR) mkdirSync(p, { recursive: true });
    else if ((e.mode & S_IFMT) === S_IFREG) {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, e.data);
      chmodSync(p, e.mode & 0o7777);
    }
  }
  for (const d of ['dev', 'proc', 'sys', 'tmp', 'sbin']) mkdirSync(join(tree, d), { recursive: true });
  symlinkSync('/init', join(tree, 'sbin', 'init'));
  const img = join(dir, 'rootfs.ext4');
  const r = spawnSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', tree, img, '16M'], { encoding: 'utf8' });
  if (r.error) throw new Error(`mke2fs is missing (apt-get install e2fsprogs): ${r.error.message}`);
  assert.equal(r.status, 0, r.stderr);
  return img;
}

test("semu's external-root layout: root on virtio-blk (ext4, no initrd) with -d", { timeout: 240_000 }, async () => {
  const g = guestArtifacts();
  const { ids, cli } = await bootAndListVirtio(['-k', g.kernel, '-b', rootDtb(), '-d', rootImage(), '-H']);
  assert.deepEqual(ids, [...NET, BLK, RNG, SND]);
  assert.match(await cli.run('mount'), /\/dev\/(root|vda) \/ ext4 rw/);
  assert.equal(await cli.poweroff(), 0, cli.ended());
});

test('user space reads time, cycle and instret (scounteren = 7): time moves and agrees with clock_gettime; benchmarks count their instructions', { timeout: 240_000 }, async () => {
  const s = await GuestSession.boot({ audioOut: 'null', audioIn: 'null' });
  try {
    const r = await s.run('counters 2000000', { timeoutMs: 60_000 });
    assert.doesNotMatch(r.output, /SIGILL|killed by/, 'the counter reads did not trap');
    const v = Object.fromEntries([...r.output.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
    for (const k of ['time', 'cycle', 'instret']) assert.ok(v[`${k}1`] > v[`${k}0`], `${k} moves: ${r.output}`);
    assert.ok(v.instret1 - v.instret0 >= 2_000_000, 'the loop retired its instructions');
    const byTime = ((v.time1 - v.time0) / 65e6) * 1e9;
    const byClock = v.mono1 - v.mono0;
    // CLOCK_MONOTONIC is the same counter through the kernel: the intervals agree to well within
    // a scheduler tick (4 ms at HZ=250).
    assert.ok(Math.abs(byTime - byClock) < 4e6, `rdtime interval ${byTime} ns vs clock_gettime ${byClock} ns`);
    // The benchmarks report the instructions their loop retired (kbench.h), kernel work included:
    // 50 rounds of getpid + read + write of /dev/null are thousands of kernel instructions each.
    const b = await s.run('sysbench 50', { timeoutMs: 60_000 });
    const insns = /^sysbench: ns=\d+ iters=50 per_iter_ns=\d+ insns=(\d+)\r?$/m.exec(b.output);
    assert.ok(insns, `a sysbench result line with insns=: ${b.output}`);
    assert.ok(Number(insns[1]) > 50 * 3 * 200 && Number(insns[1]) < 50 * 100_000, `insns=${insns[1]}: kernel paths counted, nothing else`);
  } finally {
    await s.dispose();
  }
});
