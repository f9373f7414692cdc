// The Machine's contract: boot placement and boot errors, stop reasons (budget, idle,
// breakpoint, notify, halted, crashed), single-step, determinism of icount time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enc, li, sbiCall, shutdown } from '../../src/emulator/cpu/asm';
import { BootError, Machine, StopReason, type MachineConfig } from '../../src/emulator/machine';
import { parseFdt, findNode, propU32s } from '../../src/emulator/fdt';
import { setLogLevel } from '../../src/log';
import { VIRTIO_SLOTS } from '../../src/emulator/devices/map';
import { VirtioRng } from '../../src/devices/virtio-rng/rng';

const MiB = 1 << 20;

function words(ws: number[]): Uint8Array {
  return new Uint8Array(Int32Array.from(ws).buffer);
}
function machine(code: number[], cfg: Partial<MachineConfig> = {}): { m: Machine; out: string[] } {
  const out: string[] = [];
  const m = new Machine({ kernel: words(code), ramSize: 8 * MiB, time: 'icount', ...cfg }, { consoleOut: (b, n) => out.push(Buffer.from(b.subarray(0, n)).toString('latin1')) });
  return { m, out };
}

test('boot placement: kernel at 0, DTB in the last MiB, initrd below it; a0 = 0, a1 = DTB', () => {
  const initrd = new Uint8Array(3000).fill(7);
  const { m } = machine([enc('wfi')], { ramSize: 512 * MiB, initrd, bootargs: 'console=ttyS0 test' });
  const h = m.harts[0];
  assert.equal(h.pc, 0);
  assert.equal(h.priv, 1, 'S-mode');
  assert.equal(h.x[10], 0);
  assert.equal(h.x[11], 0x1ff00000);
  assert.equal(m.dtbAddr, 0x1ff00000);
  assert.equal(m.ram.read32(0x1ff00000), 0xedfe0dd0, 'FDT magic, big-endian in memory');
  assert.equal(m.ram.read8(0x1f700000), 7);
  assert.equal(m.ram.read8(0x1f700000 + 2999), 7);
  const fdt = parseFdt(m.dtb);
  const chosen = findNode(fdt.root, '/chosen')!;
  assert.deepEqual(propU32s(chosen, 'linux,initrd-start'), [0x1f700000]);
  assert.deepEqual(propU32s(chosen, 'linux,initrd-end'), [0x1f700000 + 3000]);
});

test('a large initrd goes lower; a provided DTB is used as is', () => {
  const initrd = new Uint8Array(9 * MiB);
  const { m } = machine([enc('wfi')], { ramSize: 64 * MiB, initrd });
  const fdt = parseFdt(m.dtb);
  const start = propU32s(findNode(fdt.root, '/chosen')!, 'linux,initrd-start')![0];
  assert.ok(start + 9 * MiB <= 63 * MiB && start < 63 * MiB - 8 * MiB, `initrd at 0x${start.toString(16)}`);
  const custom = machine([enc('wfi')], { dtb: m.dtb }).m;
  assert.deepEqual(custom.dtb, m.dtb);
});

test('boot errors are BootErrors with clear messages', () => {
  const cases: [Partial<MachineConfig>, RegExp][] = [
    [{ kernel: new Uint8Array(0) }, /empty/],
    [{ kernel: new Uint8Array(9 * MiB) }, /kernel image needs/],
    [{ initrd: new Uint8Array(7 * MiB + 512 * 1024) }, /initrd/],
    [{ dtb: new Uint8Array(64) }, /not an FDT/],
    [{ harts: 5 }, /harts must be 1\.\.4/],
    [{ harts: 0 }, /harts/],
  ];
  for (const [cfg, msg] of cases) {
    assert.throws(
      () => new Machine({ kernel: words([enc('wfi')]), ramSize: 8 * MiB, ...cfg }, { consoleOut() {} }),
      (e: unknown) => e instanceof BootError && msg.test((e as Error).message),
      String(msg),
    );
  }
});

test('a boot that fails after its devices were built frees what they hold', () => {
  let disposed = 0;
  const device = () => Object.assign(new VirtioRng(), { dispose: () => void disposed++ });
  assert.throws(
    () => new Machine({ kernel: new Uint8Array(9 * MiB), ramSize: 8 * MiB, virtio: [{ ...VIRTIO_SLOTS.rng, device }] }, { consoleOut() {} }),
    /kernel image needs/,
  );
  assert.equal(disposed, 1);
});

for (const engine of ['interp', 'fast', 'jit'] as const) {
  test(`${engine}: a trap with stvec = 0 stops with Crashed and a report of the last instructions`, () => {
    const { m } = machine([enc('addi', 'a0', 'zero', 1), enc('addi', 'a1', 'zero', 2), ...li('t0', 0x30000000), enc('lw', 'a2', 't0', 0)], { engine });
    assert.equal(m.run(1000), StopReason.Crashed);
    const c = m.crash!;
    assert.equal(c.cause, 5);
    assert.equal(c.pc, 16);
    assert.equal(c.tval, 0x30000000);
    assert.match(c.description, /stvec = 0/);
    assert.deepEqual(
      c.lastInstructions.map((i) => i.text),
      ['li a0, 1', 'li a1, 2', 'lui t0, 0x30000', 'mv t0, t0', 'lw a2, 0(t0)'],
    );
    assert.equal(m.run(10), StopReason.Crashed, 'stays crashed');
  });

  test(`${engine}: a trap vector that cannot be fetched is a crash, not a hang`, () => {
    const { m } = machine([...li('t0', 0x30000000), enc('csrrw', 'zero', 0x105, 't0'), enc('ebreak')], { engine });
    assert.equal(m.run(1e6), StopReason.Crashed);
    assert.match(m.crash!.reason, /trap vector/);
    assert.equal(m.crash!.cause, 1);
  });

  test(`${engine}: the same fault forever (a handler that returns to it) is a crash`, () => {
    const { m } = machine(
      [...li('t0', 0x100), enc('csrrw', 'zero', 0x105, 't0'), enc('ebreak')].concat(Array(64).fill(0)).slice(0, 64).concat([enc('sret')]),
      { engine },
    );
    assert.equal(m.run(1e6), StopReason.Crashed);
    assert.match(m.crash!.reason, /returned to the faulting instruction/);
    assert.equal(m.crash!.cause, 3);
  });
}

test('a system call loop (the same ecall over and over, handled) is not a crash', () => {
  // S: stvec = 0x100, enter U at 0x80: `ecall; j -4` forever; the handler skips the ecall.
  const code = [...li('t0', 0x100), enc('csrrw', 'zero', 0x105, 't0'), ...li('t0', 0x80), enc('csrrw', 'zero', 0x141, 't0'), enc('sret')]
    .concat(Array(32).fill(0)).slice(0, 32)
    .concat([enc('ecall'), enc('jal', 'zero', -4)])
    .concat(Array(30).fill(0)).slice(0, 64)
    .concat([enc('csrrs', 't1', 0x141, 'zero'), enc('addi', 't1', 't1', 4), enc('csrrw', 'zero', 0x141, 't1'), enc('addi', 's1', 's1', 1), enc('sret')]);
  for (const engine of ['interp', 'fast', 'jit'] as const) {
    const { m } = machine(code, { engine });
    assert.equal(m.run(100000), StopReason.Budget, engine);
    assert.ok(m.harts[0].x[9] > 5000, `${engine}: ${m.harts[0].x[9]} system calls`);
  }
});

test('a loop faulting on fresh pages at one pc (demand paging) is not a crash', () => {
  // Sv32 on, a loop storing to 0x4000_0000 + 4096 k; the handler maps the page and retries.
  const ROOT = 0x20000, L0 = 0x21000;
  const code = [
    ...li('t0', 0x100), enc('csrrw', 'zero', 0x105, 't0'),
    ...li('t0', (0x80000000 | (ROOT >>> 12)) | 0), enc('csrrw', 'zero', 0x180, 't0'),
    ...li('s0', 0x40000000), ...li('s2', 200),
    enc('sw', 's2', 's0', 0), enc('lui', 't1', 1), enc('add', 's0', 's0', 't1'), enc('addi', 's2', 's2', -1), enc('bne', 's2', 'zero', -16),
    ...shutdown(),
  ].concat(Array(64).fill(0)).slice(0, 64).concat([
    // 0x100: map stval's page (L0 slot) to physical 0x100000 + 4096 k, then retry.
    enc('csrrs', 't3', 0x143, 'zero'), enc('srli', 't4', 't3', 12), enc('andi', 't4', 't4', 0x3ff), enc('slli', 't5', 't4', 2),
    ...li('t6', L0), enc('add', 't6', 't6', 't5'),
    ...li('a5', 0x100), enc('add', 'a5', 'a5', 't4'), enc('slli', 'a5', 'a5', 10), enc('ori', 'a5', 'a5', 0xc7),
    enc('sw', 'a5', 't6', 0), enc('sfence.vma', 't3', 'zero'), enc('addi', 's3', 's3', 1), enc('sret'),
  ]);
  for (const engine of ['interp', 'fast'] as const) {
    const { m } = machine(code, { engine });
    // Identity superpage for the code at 0 and a level-0 table for 0x4000_0000.
    m.ram.write32(ROOT, 0xcf);
    m.ram.write32(ROOT + (0x40000000 >>> 22) * 4, ((L0 >>> 12) << 10) | 1);
    assert.equal(m.run(1e6), StopReason.Halted, engine + ' ' + m.crash?.description);
    assert.equal(m.harts[0].x[19], 200, `${engine}: one fault per page`);
  }
});

test('an exception inside the emulator stops the machine with a crash report, not a throw', () => {
  const { m } = machine([...li('s0', 0xf4000000), enc('addi', 't0', 'zero', 65), enc('sb', 't0', 's0', 0), enc('wfi')]);
  m.uart.write = () => {
    throw new Error('device bug');
  };
  setLogLevel('silent'); // the machine logs the internal error; expected here
  try {
    assert.equal(m.run(1000), StopReason.Crashed);
  } finally {
    setLogLevel('warn');
  }
  assert.match(m.crash!.reason, /internal error: device bug/);
  assert.equal(m.crash!.cause, -1);
  assert.equal(m.run(1000), StopReason.Crashed);
});

test('breakpoints stop before the instruction; run() again continues past it', () => {
  const { m } = machine([enc('addi', 'a0', 'zero', 1), enc('addi', 'a0', 'a0', 1), enc('addi', 'a0', 'a0', 1), enc('jal', 'zero', -8)]);
  m.breakpoints.add(8);
  assert.equal(m.run(1000), StopReason.Breakpoint);
  assert.equal(m.stopHart, 0);
  assert.equal(m.harts[0].pc, 8);
  assert.equal(m.harts[0].x[10], 2);
  assert.equal(m.run(1000), StopReason.Breakpoint);
  assert.equal(m.harts[0].pc, 8);
  assert.equal(m.harts[0].x[10], 4, 'resumed past the breakpoint and came back around');
  m.breakpoints.clear();
  assert.equal(m.run(1000), StopReason.Budget);
});

test('step() executes exactly one instruction of the given hart, breakpoint or not', () => {
  const { m } = machine([enc('addi', 'a0', 'zero', 1), enc('addi', 'a0', 'a0', 1), enc('addi', 'a0', 'a0', 1)]);
  m.breakpoints.add(4);
  assert.equal(m.step(0), StopReason.Budget);
  assert.equal(m.harts[0].pc, 4);
  assert.equal(m.step(0), StopReason.Budget);
  assert.equal(m.harts[0].pc, 8);
  assert.equal(m.harts[0].x[10], 2);
  assert.equal(m.instret(), 2);
});

test('the notify hook stops the machine right after the kick; the device sees it on the next run', () => {
  // virtio-rng at 0xF460_0000: QueueNotify is at +0x50.
  const rng = { ...VIRTIO_SLOTS.rng, device: () => new VirtioRng() };
  const { m } = machine([...li('s0', 0xf4600000), enc('sw', 'zero', 's0', 0x50), enc('addi', 'a0', 'zero', 5), enc('wfi')], { virtio: [rng] });
  const seen: number[] = [];
  m.notifyHook = (t, q) => {
    seen.push(q);
    assert.equal(t.base, 0xf4600000);
    return true;
  };
  assert.equal(m.run(1000), StopReason.Notify);
  assert.equal(m.harts[0].pc, 12, 'stopped after the store');
  assert.equal(m.harts[0].x[10], 0);
  assert.deepEqual(m.lastNotify && [m.lastNotify.queue, m.lastNotify.transport.base], [0, 0xf4600000]);
  assert.equal(m.run(1000), StopReason.Idle);
  assert.equal(m.harts[0].x[10], 5);
  assert.deepEqual(seen, [0]);
});

test("every slot of semu's map answers: a device where there is one, an empty transport (DeviceID 0) elsewhere", () => {
  const rng = { ...VIRTIO_SLOTS.rng, device: () => new VirtioRng() };
  const { m } = machine([enc('wfi')], { virtio: [rng] });
  for (const [name, slot] of Object.entries(VIRTIO_SLOTS)) {
    assert.equal(m.bus.read(slot.base, 4), 0x74726976, `${name}: magic 'virt'`);
    assert.equal(m.bus.read(slot.base + 4, 4), 2, `${name}: version 2`);
    assert.equal(m.bus.read(slot.base + 8, 4), name === 'rng' ? 4 : 0, `${name}: device id`);
    m.bus.write(slot.base + 0x70, 4, 1); // ACKNOWLEDGE: an empty slot ignores it
    assert.equal(m.bus.read(slot.base + 0x70, 4), name === 'rng' ? 1 : 0);
    assert.equal(m.bus.fault, false);
  }
  // The generated tree names only the devices the machine has.
  const soc = findNode(parseFdt(m.dtb).root, '/soc')!;
  assert.deepEqual(soc.children.filter((c) => c.name.startsWith('virtio@')).map((c) => c.name), ['virtio@4600000']);
});

test('idle: WFI with no timer returns Idle (forever); icount skips time to the next timer', () => {
  const { m } = machine([enc('wfi'), enc('jal', 'zero', -4)]);
  assert.equal(m.run(1000), StopReason.Idle);
  assert.equal(m.idleMilliseconds(), Infinity);
  const timer = machine([
    ...li('t0', 32), enc('csrrw', 'zero', 0x104, 't0'),
    ...li('a0', 50_000_000), ...li('a1', 0), ...sbiCall(0x54494d45, 0),
    enc('wfi'), enc('csrrs', 's1', 0xc01, 'zero'), ...shutdown(),
  ]).m;
  assert.equal(timer.run(1e6), StopReason.Halted);
  const t = timer.harts[0].x[9];
  assert.ok(t >= 50_000_000 && t < 50_000_100, `time jumped to the deadline while idle (${t})`);
  assert.ok(timer.instret() < 1000, 'without executing the wait');
});

test('host time: idle after user mode reports the time to the next timer', () => {
  // Enter U-mode (sret) so the host clock follows the host; U code ecalls back; the S handler sleeps.
  const code = [
    ...li('t0', 0x100), enc('csrrw', 'zero', 0x105, 't0'),
    ...li('t0', 0x80), enc('csrrw', 'zero', 0x141, 't0'), enc('sret'),
  ].concat(Array(32).fill(0)).slice(0, 32).concat([enc('ecall')]).concat(Array(31).fill(0)).slice(0, 64).concat([
    // 0x100: S handler: timer in 0.5 s (32.5M ticks), wait.
    ...li('t0', 32), enc('csrrw', 'zero', 0x104, 't0'),
    enc('csrrs', 't0', 0xc01, 'zero'), ...li('t1', 32_500_000), enc('add', 'a0', 't0', 't1'), ...li('a1', 0), ...sbiCall(0x54494d45, 0),
    enc('wfi'), enc('jal', 'zero', -4),
  ]);
  const { m } = machine(code, { time: 'host' });
  assert.equal(m.run(1e5), StopReason.Idle);
  const ms = m.idleMilliseconds();
  assert.ok(ms > 300 && ms <= 500, `idle for ${ms} ms`);
});

test('icount runs are deterministic: same instruction count at the same event', () => {
  const prog = [
    ...li('t0', 32), enc('csrrw', 'zero', 0x104, 't0'),
    ...li('t0', 0x200), enc('csrrw', 'zero', 0x105, 't0'),
    enc('csrrs', 't0', 0xc01, 'zero'), ...li('t1', 30000), enc('add', 'a0', 't0', 't1'), ...li('a1', 0), ...sbiCall(0x54494d45, 0),
    enc('csrrsi', 'zero', 0x100, 2),
    enc('addi', 's1', 's1', 1), enc('jal', 'zero', -4),
  ].concat(Array(128).fill(0)).slice(0, 128).concat([enc('csrrs', 'a0', 0xc02, 'zero'), enc('add', 's2', 's1', 'zero'), ...shutdown()]);
  const runs = (['interp', 'fast', 'jit', 'jit'] as const).map((engine) => {
    const { m } = machine(prog, { engine });
    assert.equal(m.run(1e6), StopReason.Halted);
    return [m.harts[0].x[18], m.instret()];
  });
  assert.deepEqual(runs[2], runs[3]);
  assert.ok(runs[1][0] > 1000);
  assert.deepEqual(runs[0], runs[1], 'the engines agree on icount');
  assert.deepEqual(runs[0], runs[2], 'the engines agree on icount');
});
