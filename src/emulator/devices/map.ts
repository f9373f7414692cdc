// semu's physical memory map (DESIGN.md §3), in one place for the machine, the device tree and
// the tests. Every device sits in its own 1 MiB window at 0xF000_0000 and above (the PLIC spans
// 64 MiB because its per-context registers start at +2 MiB).

export const RAM_BASE = 0x00000000;
export const RAM_SIZE = 512 * 1024 * 1024;

export const SOC_BASE = 0xf0000000;
export const SOC_SIZE = 0x10000000;

export const PLIC_BASE = 0xf0000000;
export const UART_BASE = 0xf4000000;
export const VIRTIO_NET_BASE = 0xf4100000;
export const VIRTIO_BLK_BASE = 0xf4200000;
export const MTIMER_BASE = 0xf4300000;
export const MSWI_BASE = 0xf4400000;
export const SSWI_BASE = 0xf4500000;
export const VIRTIO_RNG_BASE = 0xf4600000;
export const VIRTIO_SND_BASE = 0xf4700000;

/** PLIC source numbers. */
export const UART_IRQ = 1;
export const VIRTIO_NET_IRQ = 2;
export const VIRTIO_BLK_IRQ = 3;
export const VIRTIO_RNG_IRQ = 4;
export const VIRTIO_SND_IRQ = 5;

/** 65 MHz, as semu. */
export const TIMEBASE_HZ = 65000000;
/** The UART's nominal input clock for the DT (the divisor is accepted and ignored). */
export const UART_CLOCK_HZ = 5000000;
