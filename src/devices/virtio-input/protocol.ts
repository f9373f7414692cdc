// virtio-input wire format (VirtIO 1.2 §5.8; include/uapi/linux/virtio_input.h) and the Linux
// input event codes it carries (include/uapi/linux/input-event-codes.h). Pure constants.

export const VIRTIO_ID_INPUT = 18;

export const EVENTQ = 0;
export const STATUSQ = 1;
/** struct virtio_input_event: le16 type, le16 code, le32 value. */
export const EVENT_SIZE = 8;

// virtio_input_config_select
export const CFG_UNSET = 0x00;
export const CFG_ID_NAME = 0x01;
export const CFG_ID_SERIAL = 0x02;
export const CFG_ID_DEVIDS = 0x03;
export const CFG_PROP_BITS = 0x10;
export const CFG_EV_BITS = 0x11;
export const CFG_ABS_INFO = 0x12;

// struct virtio_input_config: select, subsel, size, reserved[5], then a 128-byte union.
export const CFG_SELECT = 0;
export const CFG_SUBSEL = 1;
export const CFG_SIZE = 2;
export const CFG_UNION = 8;
export const CFG_UNION_BYTES = 128;
export const CONFIG_SIZE = CFG_UNION + CFG_UNION_BYTES;

// Event types
export const EV_SYN = 0x00;
export const EV_KEY = 0x01;
export const EV_REL = 0x02;
export const EV_ABS = 0x03;
export const EV_MSC = 0x04;
export const EV_LED = 0x11;
export const EV_REP = 0x14;
export const EV_MAX = 0x1f;

export const SYN_REPORT = 0;
export const SYN_DROPPED = 3;

export const REL_HWHEEL = 0x06;
export const REL_WHEEL = 0x08;
export const ABS_X = 0x00;
export const ABS_Y = 0x01;

export const BTN_LEFT = 0x110;
export const BTN_RIGHT = 0x111;
export const BTN_MIDDLE = 0x112;
export const BTN_SIDE = 0x113;
export const BTN_EXTRA = 0x114;

export const LED_NUML = 0;
export const LED_CAPSL = 1;
export const LED_SCROLLL = 2;

export const INPUT_PROP_POINTER = 0;
export const BUS_VIRTUAL = 0x06;

/** The tablet's axes run 0..ABS_MAX whatever the screen size (as QEMU's tablet). */
export const ABS_MAX = 0x7fff;

const TYPE_NAMES: Readonly<Record<number, string>> = {
  [EV_SYN]: 'EV_SYN',
  [EV_KEY]: 'EV_KEY',
  [EV_REL]: 'EV_REL',
  [EV_ABS]: 'EV_ABS',
  [EV_MSC]: 'EV_MSC',
  [EV_LED]: 'EV_LED',
  [EV_REP]: 'EV_REP',
  0x12: 'EV_SND',
  0x15: 'EV_FF',
  0x05: 'EV_SW',
};

export function eventTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

const CODE_NAMES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  [EV_SYN]: { [SYN_REPORT]: 'SYN_REPORT', [SYN_DROPPED]: 'SYN_DROPPED' },
  [EV_REL]: { [REL_WHEEL]: 'REL_WHEEL', [REL_HWHEEL]: 'REL_HWHEEL' },
  [EV_ABS]: { [ABS_X]: 'ABS_X', [ABS_Y]: 'ABS_Y' },
  [EV_LED]: { [LED_NUML]: 'LED_NUML', [LED_CAPSL]: 'LED_CAPSL', [LED_SCROLLL]: 'LED_SCROLLL' },
  [EV_KEY]: { [BTN_LEFT]: 'BTN_LEFT', [BTN_RIGHT]: 'BTN_RIGHT', [BTN_MIDDLE]: 'BTN_MIDDLE', [BTN_SIDE]: 'BTN_SIDE', [BTN_EXTRA]: 'BTN_EXTRA' },
};

export function eventCodeName(type: number, code: number): string {
  return CODE_NAMES[type]?.[code] ?? `${code}`;
}
