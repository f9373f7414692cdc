// semu's physical memory map (DESIGN.md §3), in one place for the machine, the device tree, the
// device registry and the tests. Every device sits in its own 1 MiB window at 0xF000_0000 and
// above (the PLIC spans 64 MiB because its per-context registers start at +2 MiB).
//
// The virtio slots are semu's (its minimal.dts and device.h): a device tree written for semu
// names all of them, so the machine answers at every slot — with the device when it has one,
// and as an empty virtio-mmio transport (DeviceID 0, "no device") otherwise.

export const RAM_BASE = 0x00000000;
export const RAM_SIZE = 512 * 1024 * 1024;

export const SOC_BASE = 0xf0000000;
export const SOC_SIZE = 0x10000000;

export const PLIC_BASE = 0xf0000000;
export const UART_BASE = 0xf4000000;
export const MTIMER_BASE = 0xf4300000;
export const MSWI_BASE = 0xf4400000;
export const SSWI_BASE = 0xf4500000;

/** PLIC source of the UART. */
export const UART_IRQ = 1;

/** A virtio-mmio slot of semu's map: its window and its PLIC source. */
export interface VirtioSlot {
  readonly base: number;
  readonly irq: number;
}

/** semu's virtio slots by the name its device tree labels them with (net0, blk0, ...). */
export const VIRTIO_SLOTS = {
  net: { base: 0xf4100000, irq: 2 },
  blk: { base: 0xf4200000, irq: 3 },
  rng: { base: 0xf4600000, irq: 4 },
  snd: { base: 0xf4700000, irq: 5 },
  fs: { base: 0xf4800000, irq: 6 },
  keyboard: { base: 0xf4900000, irq: 7 },
  mouse: { base: 0xf4a00000, irq: 8 },
  gpu: { base: 0xf4b00000, irq: 9 },
} as const satisfies Record<string, VirtioSlot>;

export type VirtioSlotName = keyof typeof VIRTIO_SLOTS;

/** 65 MHz, as semu. */
export const TIMEBASE_HZ = 65000000;
/** The UART's nominal input clock for the DT (the divisor is accepted and ignored). */
export const UART_CLOCK_HZ = 5000000;
