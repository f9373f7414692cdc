// Every device in the registry (src/devices/registry.ts) is fuzzed, including each one added
// later: built from its descriptor as the worker builds it, driven with 10 000+ chains of
// anything (harness.ts anyChain) plus the harness's hostile chains, through every queue, with
// the event loop turning between steps (runFuzzAsync) for devices that finish work off-thread. This is
// the floor; a device's own fuzz test (blk.test.ts, snd.test.ts, ...) sends what its driver
// sends and checks the answers. A device that needs options to exist gets them in FUZZ_OPTIONS
// (the screen's devices come with `screen`): a new one that is not enabled fails here until added.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVICES } from '../../src/devices/registry';
import type { DeviceDescriptor } from '../../src/devices/descriptor';
import { setImmediate as turn } from 'node:timers/promises';
import { anyChain, deviceFrom, FuzzClock, type FuzzDriver, runFuzzAsync } from './harness';

const dir = mkdtempSync(join(tmpdir(), 'semu-fuzz-registry-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function disk(): string {
  const p = join(dir, `disk-${Date.now()}.img`);
  writeFileSync(p, new Uint8Array(64 * 512));
  return p;
}

/** Options that enable each device with nothing on the host but temp files (null audio). */
const FUZZ_OPTIONS: Record<string, () => object> = {
  'virtio-blk': () => ({ disk: disk() }),
  'virtio-fs': () => ({ sharedDir: mkdtempSync(join(dir, 'share-')) }),
  'virtio-snd': () => ({ audioOut: 'null', audioIn: 'null' }),
};
/** Without an entry: {} or, for the screen's devices (virtio-gpu, keyboard, tablet), `screen`. */
const DEFAULTS: readonly object[] = [{}, { screen: true }];

function optionsFor(desc: DeviceDescriptor<object>): object {
  const own = FUZZ_OPTIONS[desc.name];
  if (own) return own();
  return DEFAULTS.find((o) => desc.enabled(o)) ?? {};
}

const TOTAL = 10_000;

for (const desc of DEVICES as readonly DeviceDescriptor<object>[]) {
  test(`fuzz: ${desc.name} from its descriptor, ${TOTAL}+ chains of anything`, { timeout: 180_000 }, async (t) => {
    const options = optionsFor(desc);
    assert.ok(desc.enabled(options), `${desc.name} is not enabled by ${JSON.stringify(options)}: give it fuzz options in FUZZ_OPTIONS (test/fuzz/registry.test.ts)`);
    const clock = new FuzzClock();
    const device = deviceFrom(desc, options, clock);
    let drv: FuzzDriver | undefined;
    try {
      const r = await runFuzzAsync({
        name: desc.name,
        seed: 0x9e1 + desc.deviceId,
        chain: anyChain,
        chains: Math.ceil(TOTAL / desc.queueNames.length),
        target: () => ({
          device,
          attach: (d) => (drv = d),
          // No generic view of what a device holds: the transport's count (the lost-chain check,
          // driver = held + pending, still holds the device to account).
          held: (q) => drv!.inFlight(q),
          host: async (rng) => {
            clock.advance(rng.int(5) / 1000); // time passes: paced devices return what they hold
            device.poll?.();
            await turn(); // work a device finishes off the CPU thread (libuv's pool) lands
          },
        }),
      });
      t.diagnostic(JSON.stringify(r));
      assert.ok(r.chains >= TOTAL, `${r.chains} chains`);
    } finally {
      device.dispose?.();
    }
  });
}
