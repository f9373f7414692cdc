// virtio-gpu, declared for the registry: the 2D GPU at semu's gpu slot (0xF4B0_0000, IRQ 9). Its
// options are the screen's: `--screen` turns on the GPU and, with it, the virtio-input keyboard
// and tablet (virtio-input/index.ts reads the same options), `--screen-size WxH` sets the
// scanout, `--screendump FILE.png` keeps the last frame the screen showed. The device model is
// gpu.ts; its pixels are a shared screen (screen.ts) the Screen panel reads.

import type { DeviceDescriptor, StateNode } from '../descriptor';
import type { OptionSpec } from '../../host/option-spec';
import { DEFAULT_HEIGHT, DEFAULT_WIDTH, VirtioGpu, checkGpuOptions } from './gpu';
import { describeGpuChain, gpuConditionFields } from './inspect';
import { CONTROLQ, CURSORQ, VIRTIO_ID_GPU, commandName, responseName } from './protocol';
import { readGpuState } from './screen';
import { ScreendumpFile } from './screendump-file';

export interface ScreenOptions {
  /** virtio-gpu with a virtio-input keyboard and tablet (--screen). */
  screen?: boolean;
  /** The scanout size, 'WIDTHxHEIGHT' (--screen-size; default 1024x768). */
  screenSize?: string;
  /** A PNG file the last frame on the screen is written to when the machine stops (--screendump). */
  screendump?: string;
}

/** Whether these options ask for a screen (any of the three does). */
export function screenEnabled(o: Partial<ScreenOptions>): boolean {
  return o.screen === true || o.screenSize !== undefined || o.screendump !== undefined;
}

/** '800x600' → { width, height }; null when it is not WIDTHxHEIGHT or out of range. */
export function parseScreenSize(v: string): { width: number; height: number } | null {
  const m = /^(\d{2,5})[xX](\d{2,5})$/.exec(v.trim());
  if (!m) return null;
  const size = { width: Number(m[1]), height: Number(m[2]) };
  return checkGpuOptions(size) === null ? size : null;
}

const SCREEN_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'screen', cli: ['--screen', '--gpu'], type: 'boolean', default: false,
    help: 'a screen, a keyboard and a tablet: virtio-gpu (0xF4B00000, IRQ 9) and virtio-input (0xF4900000, 0xF4A00000); the kernel console shows on it too',
    detail: 'Plug in a screen, a keyboard and a tablet: virtio-gpu (2D, 0xF4B00000, IRQ 9) and virtio-input (0xF4900000 / 0xF4A00000). The kernel console also shows on the screen (console=tty0); "semu: Show Screen" opens it. Off by default: the framebuffer console makes the boot slower.',
  },
  {
    key: 'screenSize', cli: ['--screen-size'], type: 'string', arg: 'WxH',
    help: `the screen's size (default ${DEFAULT_WIDTH}x${DEFAULT_HEIGHT}); implies --screen`,
    detail: `The screen's size as WIDTHxHEIGHT, from 320x192 to 3840x2400 (default ${DEFAULT_WIDTH}x${DEFAULT_HEIGHT}). Implies "screen".`,
    check: (v: string) => (parseScreenSize(v) === null ? 'WIDTHxHEIGHT from 320x192 to 3840x2400, e.g. 1024x768' : undefined),
  },
  {
    key: 'screendump', cli: ['--screendump'], type: 'string', arg: 'FILE', hostAccess: true,
    help: 'write the last frame on the screen to FILE as PNG when the machine stops; implies --screen',
    detail: 'A PNG file the last frame on the screen is written to when the machine stops (a relative path is relative to the workspace folder). Implies "screen".',
    mapPath: (v, resolve) => resolve(v),
  },
];

export const virtioGpu: DeviceDescriptor<ScreenOptions> = {
  name: 'virtio-gpu',
  summary: 'a 2D GPU with one scanout (the Screen panel)',
  deviceId: VIRTIO_ID_GPU,
  slot: 'gpu',
  queueNames: ['controlq', 'cursorq'],
  options: SCREEN_OPTIONS,
  enabled: screenEnabled,
  create(o) {
    const size = o.screenSize === undefined ? { width: DEFAULT_WIDTH, height: DEFAULT_HEIGHT } : parseScreenSize(o.screenSize);
    if (size === null) throw new Error(`--screen-size ${o.screenSize}: use WIDTHxHEIGHT from 320x192 to 3840x2400`);
    const frameKeeper = o.screendump === undefined ? undefined : new ScreendumpFile(o.screendump);
    return new VirtioGpu({ ...size, frameKeeper });
  },
  // tty0 first, the serial port last: /dev/console (the shell, the ready marker) stays serial.
  bootargs: () => 'console=tty0',
  notifyFilters: [
    {
      id: 'virtio-gpu', label: 'virtio-gpu notify', queue: null,
      description: 'Stop when the guest kicks the GPU’s control or cursor queue (condition e.g. `command == 0x104` for RESOURCE_FLUSH, `resource == 2`).',
    },
  ],
  conditionFields: [
    {
      name: 'command',
      description: 'virtio-gpu: the type of the first pending request (0x100 GET_DISPLAY_INFO … 0x10a GET_EDID, 0x300 UPDATE_CURSOR, 0x301 MOVE_CURSOR)',
      queues: [CONTROLQ, CURSORQ],
      bytes: 4,
      read: (prefix) => gpuConditionFields(prefix).command,
    },
    {
      name: 'resource',
      description: 'virtio-gpu: the resource id the first pending request names (-1 when it names none)',
      queues: [CONTROLQ, CURSORQ],
      bytes: 4,
      read: (prefix) => gpuConditionFields(prefix).resource,
    },
  ],
  decodeChain: describeGpuChain,
  readState: gpuStateNodes,
};

const MiB = 1024 * 1024;

/** The Devices scope under virtio-gpu: the scanout, the cursor, the host memory, the counters. */
export function gpuStateNodes(state: SharedArrayBuffer): StateNode[] {
  const s = readGpuState(state);
  if (s === null) return [];
  const sc = s.scanout;
  const c = s.cursor;
  const lastError = s.lastError ? `${responseName(s.lastError.response)} for ${commandName(s.lastError.command)}` : 'none';
  return [
    {
      name: 'scanout 0',
      value: sc.enabled ? `${sc.width}×${sc.height} ${sc.format}, resource ${sc.resource}` : 'off',
      children: [
        { name: 'resource', value: sc.resource },
        { name: 'size', value: `${sc.width}×${sc.height} (max ${s.maxWidth}×${s.maxHeight})` },
        { name: 'format', value: sc.format ?? '(none)' },
        { name: 'flushes', value: sc.flushes },
      ],
    },
    { name: 'cursor', value: c.visible ? `at ${c.x},${c.y} (hot spot ${c.hotX},${c.hotY})` : 'hidden' },
    { name: 'resources', value: `${s.resources}, host memory ${(s.hostBytes / MiB).toFixed(1)} of ${(s.hostLimit / MiB).toFixed(0)} MiB` },
    { name: 'commands', value: `${s.commands} control, ${s.cursorCommands} cursor` },
    { name: 'transfers', value: `${s.transfers} (${s.transferredKiB} KiB from guest memory)` },
    { name: 'error responses', value: s.errors, children: [{ name: 'last', value: lastError }] },
  ];
}
