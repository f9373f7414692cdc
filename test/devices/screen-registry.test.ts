// The screen devices through the device registry: the options (CLI flags and launch.json
// attributes), which devices they place at which of semu's slots, the kernel words, the notify
// filters and their condition fields through the worker's real matcher, the Devices scope nodes,
// and --screendump's last-frame file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, USAGE } from '../../src/host/cli-args';
import { checkLaunch } from '../../src/host/option-parse';
import { DEFAULT_BOOTARGS, machineOptionSpecs, UsageError, type MachineOptions } from '../../src/host/options';
import { deviceBootargs, placeDevices } from '../../src/devices/create';
import { bootargsFor, machineConfig } from '../../src/worker/load';
import { Machine } from '../../src/emulator/machine';
import { VIRTIO_SLOTS } from '../../src/emulator/devices/map';
import { descriptorOf, deviceNotifyFilters } from '../../src/devices/registry';
import { NOTIFY_FILTERS, CONDITION_FIELDS } from '../../src/host/notify-filter';
import { NotifyMatcher } from '../../src/worker/notify-matcher';
import { gpuStateNodes, parseScreenSize } from '../../src/devices/virtio-gpu';
import { inputStateNodes } from '../../src/devices/virtio-input';
import { ScreendumpFile } from '../../src/devices/virtio-gpu/screendump-file';
import * as P from '../../src/devices/virtio-gpu/protocol';
import * as IP from '../../src/devices/virtio-input/protocol';
import { InputSink } from '../../src/devices/virtio-input/events';
import { VirtioInput } from '../../src/devices/virtio-input/input';
import { VirtioMmio } from '../../src/emulator/virtio/mmio';
import { decodePng, pixel } from '../webview/png';
import { GpuDriver } from './gpu-driver';
import { FakeIrq, MmioDriver, R, makeBus } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'semu-screen-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const spin = join(dir, 'spin.bin');
writeFileSync(spin, Uint8Array.from([0x6f, 0x00, 0x00, 0x00])); // jal x0, 0

const SCREEN_DEVICES = ['virtio-keyboard', 'virtio-tablet', 'virtio-gpu'];

test('options: --screen, --gpu, --screen-size, --screendump on the CLI, with their checks', () => {
  assert.equal(parseArgs(['--screen']).options.screen, true);
  assert.equal(parseArgs(['--gpu']).options.screen, true);
  assert.equal(parseArgs(['--screen-size', '800x600']).options.screenSize, '800x600');
  assert.equal(parseArgs(['--screen-size=1280X720']).options.screenSize, '1280X720');
  assert.equal(parseArgs(['--screendump', 'shot.png']).options.screendump, resolve('shot.png'), 'relative to the working folder');
  assert.throws(() => parseArgs(['--screen-size', '10x10']), (e: Error) => e instanceof UsageError && /--screen-size must be WIDTHxHEIGHT from 320x192 to 3840x2400, e\.g\. 1024x768, got "10x10"/.test(e.message));
  assert.throws(() => parseArgs(['--screen-size', 'big']), UsageError);
  assert.throws(() => parseArgs(['--screendump']), /--screendump needs a value \(FILE\)/);
  assert.throws(() => parseArgs(['--screen=yes']), /--screen takes no value/);
  assert.equal(parseArgs(['-H']).headless, true, "-H stays semu's headless flag");
  assert.match(USAGE, /--screen, --gpu +a screen, a keyboard and a tablet/);
  assert.match(USAGE, /--screendump FILE/);
  assert.deepEqual(parseScreenSize('640x480'), { width: 640, height: 480 });
  assert.equal(parseScreenSize('4000x3000'), null);
});

test('options: launch.json attributes, validated with the same sentences, paths from the workspace', () => {
  const ws = '/work/space';
  const v = checkLaunch({ screen: true, screenSize: '800x600', screendump: 'out/screen.png' }, machineOptionSpecs(), ws);
  assert.deepEqual(v, { screen: true, screenSize: '800x600', screendump: '/work/space/out/screen.png' });
  assert.throws(() => checkLaunch({ screen: 'yes' }, machineOptionSpecs(), ws), /launch.json "screen" must be true or false, got "yes"/);
  assert.throws(() => checkLaunch({ screenSize: '1x1' }, machineOptionSpecs(), ws), /launch.json "screenSize" must be WIDTHxHEIGHT/);
  const screendump = machineOptionSpecs().find((s) => s.key === 'screendump');
  assert.equal(screendump?.hostAccess, true, 'writing a host file is host access');
});

test('registry: the screen places a keyboard, a tablet and a GPU at semu’s slots; the console goes to tty0 too', () => {
  const base: MachineOptions = { kernel: spin };
  const names = (o: MachineOptions) => placeDevices(o).map((p) => p.base);
  const without = names(base);
  for (const slot of ['keyboard', 'mouse', 'gpu'] as const) assert.ok(!without.includes(VIRTIO_SLOTS[slot].base), `no ${slot} without a screen`);
  for (const o of [{ screen: true }, { screenSize: '800x600' }, { screendump: join(dir, 'x.png') }]) {
    const placed = names({ ...base, ...o });
    for (const slot of ['keyboard', 'mouse', 'gpu'] as const) assert.ok(placed.includes(VIRTIO_SLOTS[slot].base), `${JSON.stringify(o)}: ${slot}`);
  }
  assert.equal(deviceBootargs({ ...base, screen: true }), 'console=tty0');
  assert.equal(bootargsFor({ ...base, screen: true }), `console=tty0 ${DEFAULT_BOOTARGS}`, 'tty0 first, the serial console last: /dev/console stays serial');
  assert.equal(bootargsFor({ ...base, screen: true, bootargs: 'console=ttyS0' }), 'console=ttyS0', 'a command line given is used as it is');
  assert.equal(bootargsFor(base), DEFAULT_BOOTARGS);
});

test('registry: the machine built from the options has the three devices, named apart, and they reach their descriptors', () => {
  const o: MachineOptions = { kernel: spin, screenSize: '800x600' };
  const ram = { buffer: new SharedArrayBuffer(64 << 20), size: 64 << 20, memory: null };
  const m = new Machine(machineConfig({ ...o, ramMiB: 64 }, ram), { consoleOut: () => undefined });
  try {
    const got = m.virtio.filter((t) => SCREEN_DEVICES.includes(t.device.name)).map((t) => [t.device.name, t.base, t.irq, t.device.deviceId]);
    assert.deepEqual(got, [
      ['virtio-keyboard', 0xf4900000, 7, 18],
      ['virtio-tablet', 0xf4a00000, 8, 18],
      ['virtio-gpu', 0xf4b00000, 9, 16],
    ]);
    for (const name of SCREEN_DEVICES) {
      const t = m.virtio.find((x) => x.device.name === name)!;
      const d = descriptorOf(name)!;
      assert.ok(t.device.sharedState instanceof SharedArrayBuffer, `${name} shares its state`);
      assert.ok(d.readState!(t.device.sharedState!).length > 0, `${name}: Devices scope nodes`);
      assert.deepEqual([...t.device.queueNames], [...d.queueNames]);
    }
    const gpu = m.virtio.find((x) => x.device.name === 'virtio-gpu')!;
    const scanout = gpuStateNodes(gpu.device.sharedState!)[0];
    assert.equal(scanout.value, 'off');
    assert.equal(scanout.children?.find((c) => c.name === 'size')?.value, '0×0 (max 800×600)', '--screen-size reached the device');
  } finally {
    m.shutdown();
  }
});

test('notify filters: virtio-gpu and one per input device, in the Breakpoints list, with their condition fields', () => {
  const ids = deviceNotifyFilters().map((f) => `${f.device}:${f.filter.id}`);
  for (const want of ['virtio-gpu:virtio-gpu', 'virtio-keyboard:virtio-input-keyboard', 'virtio-tablet:virtio-input-tablet']) assert.ok(ids.includes(want), want);
  assert.ok(NOTIFY_FILTERS.some((f) => f.id === 'virtio-gpu' && f.label === 'virtio-gpu notify'));
  for (const f of ['command', 'resource', 'type', 'code', 'value']) assert.ok(CONDITION_FIELDS.includes(f), f);
});

test('notify: `command == 0x104 && resource == 7` stops on the GPU’s RESOURCE_FLUSH of resource 7 only', () => {
  const d = new GpuDriver();
  const m = new NotifyMatcher();
  m.setFilters([{ id: 'virtio-gpu', condition: 'command == 0x104 && resource == 7' }]);
  const CMD = 0x200000;
  const pend = (type: number, words: number[]) => {
    d.ram.u8.fill(0, CMD, CMD + 64);
    d.ram.write32(CMD, type);
    words.forEach((w, i) => d.ram.write32(CMD + 24 + 4 * i, w));
    d.ctrl.add([{ addr: CMD, len: 48 }, { addr: CMD + 0x100, len: 24, write: true }]);
  };
  pend(P.CMD_RESOURCE_FLUSH, [0, 0, 8, 8, 7, 0]);
  assert.equal(m.shouldStop(d.t, P.CONTROLQ), true);
  assert.match(m.lastStop!.description, /virtio-gpu controlq \(queue 0\) notify: .* command 260, resource 7 \[command == 0x104 && resource == 7\]/);
  d.drv.kick(P.CONTROLQ); // the device answers it
  d.ctrl.takeUsed();
  pend(P.CMD_RESOURCE_FLUSH, [0, 0, 8, 8, 3, 0]);
  assert.equal(m.shouldStop(d.t, P.CONTROLQ), false, 'another resource');
  d.drv.kick(P.CONTROLQ);
  d.ctrl.takeUsed();
  pend(P.CMD_TRANSFER_TO_HOST_2D, [0, 0, 8, 8, 0, 0, 7, 0]);
  assert.equal(m.shouldStop(d.t, P.CONTROLQ), false, 'another command');
  m.setFilters([{ id: 'virtio-input-keyboard' }]);
  assert.equal(m.shouldStop(d.t, P.CONTROLQ), false, 'an input filter never stops on the GPU');
});

test('notify: the keyboard filter stops on a Caps Lock status event; the tablet’s does not see the keyboard', () => {
  const bus = makeBus();
  const dev = new VirtioInput('keyboard');
  const t = new VirtioMmio(dev.name, 0xf4900000, new FakeIrq(), 7, dev, bus.ram);
  bus.add(t);
  const drv = new MmioDriver(bus, 0xf4900000);
  const [, stq] = drv.init(2);
  const EV = 0x300000;
  bus.ram.write16(EV, IP.EV_LED);
  bus.ram.write16(EV + 2, IP.LED_CAPSL);
  bus.ram.write32(EV + 4, 1);
  stq.add([{ addr: EV, len: 8 }]);
  const m = new NotifyMatcher();
  m.setFilters([{ id: 'virtio-input-tablet' }]);
  assert.equal(m.shouldStop(t, IP.STATUSQ), false);
  m.setFilters([{ id: 'virtio-input-keyboard', condition: 'queue == 1 && type == 17 && code == 1 && value == 1' }]);
  assert.equal(m.shouldStop(t, IP.STATUSQ), true);
  assert.match(m.lastStop!.description, /virtio-keyboard statusq \(queue 1\) notify: .* type 17, code 1, value 1/);
});

test('Devices scope: the GPU’s scanout, memory and errors; an input device’s events and LEDs', () => {
  const d = new GpuDriver({ width: 320, height: 200 });
  d.framebuffer(1, 0x400000, 64, 48);
  d.flush(1, 0, 0, 64, 48);
  d.send(P.CMD_RESOURCE_FLUSH, [0, 0, 8, 8, 99, 0]); // no such resource
  const nodes = gpuStateNodes(d.gpu.screen);
  const by = (n: string) => nodes.find((x) => x.name === n)!;
  assert.equal(by('scanout 0').value, '64×48 B8G8R8X8, resource 1');
  assert.match(String(by('resources').value), /^1, host memory 0\.0 of 64 MiB$/);
  assert.equal(by('error responses').value, 1);
  assert.equal(by('error responses').children![0].value, 'ERR_INVALID_RESOURCE_ID for RESOURCE_FLUSH');
  assert.deepEqual(gpuStateNodes(new SharedArrayBuffer(64)), [], 'not a screen: nothing, no throw');

  const kbd = new VirtioInput('keyboard');
  new InputSink(kbd.events).key(30, true);
  const inodes = inputStateNodes(kbd.events);
  assert.equal(inodes[0].value, '0 delivered, 2 waiting', 'a key and its SYN_REPORT wait for guest buffers');
  assert.equal(inodes.find((n) => n.name === 'LEDs')!.value, 'off');
  assert.deepEqual(inputStateNodes(new SharedArrayBuffer(8)), []);
});

test('--screendump: the last frame the screen showed, kept when the guest turns it off or resets, written at dispose', () => {
  const out = join(dir, 'dump.png');
  const d = new GpuDriver({ width: 320, height: 200, frameKeeper: new ScreendumpFile(out) });
  d.fill(0x400000, 64, 48, (x) => (x < 32 ? 0x00ff0000 : 0x000000ff)); // B8G8R8X8 words: red | blue
  d.framebuffer(1, 0x400000, 64, 48);
  d.transfer(1, 0, 0, 64, 48);
  d.flush(1, 0, 0, 64, 48);
  d.drv.w(R.STATUS, 0); // the guest resets the device (Linux does at poweroff): the screen goes dark
  assert.equal(readScreenEnabled(d), false);
  d.gpu.reset(); // the machine's own shutdown reset: nothing new to keep
  assert.equal(existsSync(out), false, 'nothing written while the machine runs');
  d.gpu.dispose();
  const png = decodePng(readFileSync(out));
  assert.deepEqual([png.width, png.height], [64, 48]);
  assert.deepEqual(pixel(png, 0, 0), [255, 0, 0]);
  assert.deepEqual(pixel(png, 63, 47), [0, 0, 255]);
});

test('--screendump: a folder that does not exist fails at start; a screen never turned on writes nothing', () => {
  assert.throws(() => new ScreendumpFile(join(dir, 'no', 'such', 'x.png')), /--screendump .*x\.png: the folder .*such does not exist/);
  assert.throws(() => new ScreendumpFile(join(spin, 'x.png')), /spin\.bin is not a folder|cannot write/);
  const never = join(dir, 'never.png');
  const k = new ScreendumpFile(never);
  k.dispose();
  assert.equal(existsSync(never), false);
  // Through the machine: the device's create() says which flag and what to do.
  assert.throws(
    () => new Machine(machineConfig({ kernel: spin, ramMiB: 64, screendump: join(dir, 'missing', 'a.png') }, { buffer: new SharedArrayBuffer(64 << 20), size: 64 << 20, memory: null }), { consoleOut: () => undefined }),
    (e: Error) => e instanceof UsageError && /^virtio-gpu: --screendump .*a\.png: the folder .*missing does not exist$/.test(e.message),
  );
});

function readScreenEnabled(d: GpuDriver): boolean {
  return gpuStateNodes(d.gpu.screen)[0].value !== 'off';
}
