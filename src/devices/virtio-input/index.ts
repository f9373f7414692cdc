// virtio-input, declared for the registry: two devices at semu's two input slots, both present
// whenever the screen is (`--screen`, see virtio-gpu/index.ts): a keyboard at the keyboard slot
// (0xF490_0000, IRQ 7) and an absolute tablet at the mouse slot (0xF4A0_0000, IRQ 8), so the
// Screen panel's pointer maps 1:1 onto the guest's screen. Each has its own name, so notify
// filters, the Devices scope and the inspector tell them apart. The model is input.ts; the host
// writes events into its shared ring (events.ts).

import type { DeviceDescriptor, StateNode } from '../descriptor';
import { screenEnabled, type ScreenOptions } from '../virtio-gpu';
import { readInputState } from './events';
import { describeInputChain, inputConditionFields } from './inspect';
import { INPUT_DEVICE_NAMES, VirtioInput, type InputProfile } from './input';
import { STATUSQ, VIRTIO_ID_INPUT } from './protocol';

function inputDescriptor(kind: InputProfile, slot: 'keyboard' | 'mouse', summary: string, filterHelp: string): DeviceDescriptor<ScreenOptions> {
  const name = INPUT_DEVICE_NAMES[kind];
  return {
    name,
    summary,
    deviceId: VIRTIO_ID_INPUT,
    slot,
    queueNames: ['eventq', 'statusq'],
    options: [], // the screen's options (virtio-gpu) turn it on
    enabled: screenEnabled,
    create: () => new VirtioInput(kind),
    notifyFilters: [{ id: `virtio-input-${kind}`, label: `virtio-input ${kind} notify`, queue: null, description: filterHelp }],
    conditionFields: [
      { name: 'type', description: 'virtio-input: the event type of the first pending status event (17 = EV_LED)', queues: [STATUSQ], bytes: 8, read: (p) => inputConditionFields(STATUSQ, p).type },
      { name: 'code', description: 'virtio-input: its code (LED_NUML 0, LED_CAPSL 1, LED_SCROLLL 2)', queues: [STATUSQ], bytes: 8, read: (p) => inputConditionFields(STATUSQ, p).code },
      { name: 'value', description: 'virtio-input: its value', queues: [STATUSQ], bytes: 8, read: (p) => inputConditionFields(STATUSQ, p).value },
    ],
    decodeChain: describeInputChain,
    readState: inputStateNodes,
  };
}

export const virtioKeyboard = inputDescriptor(
  'keyboard',
  'keyboard',
  'a keyboard (EV_KEY, EV_REP, LEDs) fed by the Screen panel',
  'Stop when the guest queues keyboard event buffers (eventq) or sets an LED (statusq; condition e.g. `queue == 1 && code == 1` for Caps Lock).',
);

export const virtioTablet = inputDescriptor(
  'tablet',
  'mouse',
  'an absolute tablet (5 buttons, 2 wheels) fed by the Screen panel',
  'Stop when the guest queues tablet event buffers (eventq).',
);

/** The Devices scope under a virtio-input device: the event ring and its counters, the LEDs. */
export function inputStateNodes(state: SharedArrayBuffer): StateNode[] {
  const s = readInputState(state);
  if (s === null) return [];
  const leds = [s.leds.numLock && 'Num Lock', s.leds.capsLock && 'Caps Lock', s.leds.scrollLock && 'Scroll Lock'].filter(Boolean).join(', ');
  return [
    { name: 'events', value: `${s.delivered} delivered, ${s.pending} waiting`, children: [
      { name: 'from the host', value: s.injected },
      { name: 'delivered to the guest', value: s.delivered },
      { name: 'waiting for guest buffers', value: s.pending },
      { name: 'times the guest had no buffer', value: s.waitsForBuffers },
      { name: 'reports dropped (ring full)', value: s.droppedReports },
    ] },
    { name: 'status events', value: `${s.statusEvents} (${s.malformedStatus} malformed)` },
    { name: 'LEDs', value: leds || 'off' },
  ];
}
