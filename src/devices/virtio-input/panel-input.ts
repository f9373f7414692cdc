// The Screen panel's input messages (already checked by parseFromScreenPanel) as reports on the
// keyboard's and the tablet's event rings. Pure: no Node imports.

import type { FromScreenPanel } from '../virtio-gpu/screen-messages';
import type { InputSink } from './events';
import { ABS_MAX, BTN_EXTRA, BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE } from './protocol';

/** DOM MouseEvent.button → Linux button code. */
const BUTTONS = [BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, BTN_EXTRA];

/**
 * A scanout pixel coordinate (fractions allowed) on an axis of `size` pixels → 0..ABS_MAX, so
 * that pixel 0 is 0 and pixel size-1 is ABS_MAX (what a guest scaling back with
 * value × (size − 1) / ABS_MAX gets exactly).
 */
export function toAbs(px: number, size: number): number {
  if (size <= 1) return 0;
  return Math.max(0, Math.min(ABS_MAX, Math.round((px * ABS_MAX) / (size - 1))));
}

/**
 * Queues what `msg` means on the right device; false when it is not input, the device is
 * missing, or its ring was full (the report is dropped and counted there).
 */
export function applyPanelInput(msg: FromScreenPanel, screen: { width: number; height: number }, keyboard: InputSink | null, tablet: InputSink | null): boolean {
  switch (msg.type) {
    case 'key':
      return keyboard !== null && keyboard.key(msg.code, msg.down);
    case 'pointer':
      return tablet !== null && tablet.moveTo(toAbs(msg.x, screen.width), toAbs(msg.y, screen.height));
    case 'button':
      return tablet !== null && tablet.button(BUTTONS[msg.button], msg.down);
    case 'wheel':
      return tablet !== null && tablet.wheel(msg.dy, msg.dx);
    default:
      return false;
  }
}
