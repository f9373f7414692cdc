// The default guest with virtio-gpu and virtio-input at semu's slots, in-process, for the tests
// and the bench: the devices, the boot arguments, the kernel's console font to check text on a
// screen (vga-font.ts), and a wall-clock run loop.

import { GuestRun } from '../boot/guest';
import { linuxTree } from '../guest-artifacts/artifacts';
import { VirtioGpu } from '../../src/devices/virtio-gpu/gpu';
import { VirtioInput } from '../../src/devices/virtio-input/input';
import { StopReason, type PlacedVirtio } from '../../src/emulator/machine';
import { VIRTIO_SLOTS } from '../../src/emulator/devices/map';
import { bootargsFor } from '../../src/worker/load';
import { DEFAULT_BOOTARGS } from '../../src/host/options';
import { matchGlyphs, vgaFontFrom } from './vga-font';

/**
 * The kernel command line a machine with a screen gets (the descriptors' words before the
 * default): the console also on the screen (tty0), the serial console last, so it is /dev/console.
 */
export const GPU_BOOTARGS = bootargsFor({ kernel: '', screen: true });
export const PLAIN_BOOTARGS = DEFAULT_BOOTARGS;

/** semu's slots: keyboard 0xF490_0000 IRQ 7, tablet (mouse slot) 0xF4A0_0000 IRQ 8, GPU 0xF4B0_0000 IRQ 9. */
export function screenDevices() {
  const gpu = new VirtioGpu();
  const keyboard = new VirtioInput('keyboard');
  const tablet = new VirtioInput('tablet');
  const virtio: PlacedVirtio[] = [
    { ...VIRTIO_SLOTS.keyboard, device: keyboard },
    { ...VIRTIO_SLOTS.mouse, device: tablet },
    { ...VIRTIO_SLOTS.gpu, device: gpu },
  ];
  return { gpu, keyboard, tablet, virtio };
}

/** The VGA 8×16 font fbcon uses at 1024×768, from the guest's own kernel tree. */
export function vgaFont(): Uint8Array {
  return vgaFontFrom(linuxTree());
}

export { matchGlyphs };

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs the machine until `ok()` holds or `ms` of wall time pass. By time, not instructions: an
 * idle guest retires few instructions while its kernel threads (fbcon's flush, the VT's LED
 * work) wait on timers.
 */
export function runWhile(g: GuestRun, ok: () => boolean, ms = 60_000): boolean {
  const end = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > end) return false;
    const r = g.m.run(1 << 20);
    if (r === StopReason.Halted || r === StopReason.Crashed) return ok();
    if (r === StopReason.Idle) Atomics.wait(sleeper, 0, 0, Math.min(g.m.idleMilliseconds(), 5));
  }
  return true;
}
