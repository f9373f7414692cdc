// virtio-fs in the device registry: when the options ask for it, what it builds and where, and
// what a person sees when it cannot start (a folder gone between the check and the boot).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEVICES, descriptorOf } from '../../../src/devices/registry';
import { placeDevices } from '../../../src/devices/create';
import { virtioFs } from '../../../src/devices/virtio-fs';
import { VirtioFs } from '../../../src/devices/virtio-fs/device';
import { VIRTIO_SLOTS } from '../../../src/emulator/devices/map';
import { machineOptionSpecs, UsageError } from '../../../src/host/options';
import type { MachineContext } from '../../../src/emulator/machine';
import { tempDir } from './driver';

const dir = tempDir('semu-fs-desc-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const ctx = (deterministic: boolean): MachineContext => ({ clock: { now: () => 1000 } as MachineContext['clock'], timebaseHz: 65_000_000, deterministic });

test('registered once, at semu\'s fs slot; -s, --shared_dir and --shared-ro are its options, none left pending', () => {
  assert.equal(DEVICES.filter((d) => d.name === 'virtio-fs').length, 1);
  assert.equal(descriptorOf('virtio-fs'), virtioFs);
  assert.equal(virtioFs.slot, 'fs');
  const specs = machineOptionSpecs().filter((s) => s.key === 'sharedDir' || s.key === 'sharedDirReadOnly');
  assert.deepEqual(specs.map((s) => [s.key, s.cli, s.unavailable]), [
    ['sharedDir', ['-s', '--shared_dir', '--shared-dir'], undefined],
    ['sharedDirReadOnly', ['--shared-ro'], undefined],
  ]);
  assert.equal(specs[0].hostAccess, true);
});

test('enabled by a folder, not by none or ""; the device sits at 0xF4800000 IRQ 6 with tag myfs', () => {
  assert.equal(virtioFs.enabled({}), false);
  assert.equal(virtioFs.enabled({ sharedDir: '' }), false);
  assert.equal(virtioFs.enabled({ sharedDir: dir }), true);
  const placed = placeDevices({ kernel: 'k', sharedDir: dir, sharedDirReadOnly: true, audioOut: 'null', audioIn: 'null' }).filter((p) => p.base === VIRTIO_SLOTS.fs.base);
  assert.equal(placed.length, 1);
  assert.equal(placed[0].irq, 6);
  const dev = (placed[0].device as (c: MachineContext) => VirtioFs)(ctx(false));
  try {
    assert.ok(dev instanceof VirtioFs);
    assert.equal(dev.tag, 'myfs');
    assert.equal(dev.server.readOnly, true);
    assert.deepEqual(dev.queueNames, virtioFs.queueNames);
  } finally {
    dev.dispose();
  }
  assert.equal(placeDevices({ kernel: 'k', audioOut: 'null', audioIn: 'null' }).some((p) => p.base === VIRTIO_SLOTS.fs.base), false);
});

test('a folder that is gone by boot time is a usage error naming the device and what to do', () => {
  const gone = path.join(dir, 'gone');
  const [p] = placeDevices({ kernel: 'k', sharedDir: gone }).filter((x) => x.base === VIRTIO_SLOTS.fs.base);
  assert.throws(
    () => (p.device as (c: MachineContext) => VirtioFs)(ctx(true)),
    (e: Error) => e instanceof UsageError && /^virtio-fs: shared folder .*gone: .*\(give an existing directory\)$/.test(e.message),
  );
});
