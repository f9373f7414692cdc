// Keyboard and pointer capture on the screen canvas. Keys go to the guest while the canvas has
// focus (a click on it gives focus); Ctrl+Alt+G gives the keyboard back, as in QEMU. While
// captured, key events stop here: neither the browser (Tab, Backspace) nor VS Code's keybindings
// (which the webview host forwards from keydown events that reach the window) see them.
// Autorepeat is the guest's (EV_REP): repeated keydowns are swallowed. Keys still held when focus
// leaves are released, so the guest never keeps a stuck key.

import { linuxKeyCode } from '../../src/devices/virtio-input/keymap';
import type { FromScreenPanel } from '../../src/devices/virtio-gpu/screen-messages';

export interface InputHost {
  post(msg: FromScreenPanel): void;
  /** False while the machine is paused or there is no screen: input is dropped. */
  live(): boolean;
  /** Scanout size in guest pixels. */
  size(): { width: number; height: number };
  /** The capture state changed (for the hint). */
  captured(on: boolean): void;
}

/** DOM deltaMode → wheel clicks: one click per 100 px, per 3 lines, per page. */
function wheelClicks(delta: number, mode: number): number {
  if (delta === 0) return 0;
  const clicks = mode === 0 ? delta / 100 : mode === 1 ? delta / 3 : delta;
  return Math.sign(delta) * Math.max(1, Math.min(10, Math.round(Math.abs(clicks))));
}

export function attachInput(canvas: HTMLCanvasElement, host: InputHost): { releaseAll(): void } {
  const held = new Set<number>();
  let pending: { x: number; y: number } | null = null;
  let scheduled = false;

  const releaseAll = () => {
    for (const code of held) host.post({ type: 'key', code, down: false });
    held.clear();
  };

  const toGuest = (e: MouseEvent) => {
    const r = canvas.getBoundingClientRect();
    const { width, height } = host.size();
    const x = ((e.clientX - r.left) * width) / Math.max(1, r.width);
    const y = ((e.clientY - r.top) * height) / Math.max(1, r.height);
    return { x: Math.max(0, Math.min(width - 1, x)), y: Math.max(0, Math.min(height - 1, y)) };
  };

  // Pointer moves go out at most once per animation frame; buttons flush the position first.
  const flushMove = () => {
    scheduled = false;
    if (pending === null) return;
    const p = pending;
    pending = null;
    if (host.live()) host.post({ type: 'pointer', x: p.x, y: p.y });
  };

  canvas.addEventListener('keydown', (e) => {
    if (e.ctrlKey && e.altKey && e.code === 'KeyG') {
      e.preventDefault();
      e.stopPropagation();
      canvas.blur();
      return;
    }
    e.preventDefault();
    e.stopPropagation();
    const code = linuxKeyCode(e.code);
    if (code === 0 || e.repeat || held.has(code) || !host.live()) return;
    held.add(code);
    host.post({ type: 'key', code, down: true });
  });
  canvas.addEventListener('keyup', (e) => {
    e.preventDefault();
    e.stopPropagation();
    const code = linuxKeyCode(e.code);
    if (!held.delete(code)) return;
    host.post({ type: 'key', code, down: false });
  });
  canvas.addEventListener('focus', () => host.captured(true));
  canvas.addEventListener('blur', () => {
    releaseAll();
    host.captured(false);
  });

  canvas.addEventListener('pointermove', (e) => {
    pending = toGuest(e);
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(flushMove);
    }
  });
  canvas.addEventListener('pointerdown', (e) => {
    canvas.focus();
    if (e.button > 4) return;
    canvas.setPointerCapture(e.pointerId);
    pending = toGuest(e);
    flushMove();
    if (host.live()) host.post({ type: 'button', button: e.button, down: true });
    e.preventDefault();
  });
  canvas.addEventListener('pointerup', (e) => {
    if (e.button > 4) return;
    pending = toGuest(e);
    flushMove();
    if (host.live()) host.post({ type: 'button', button: e.button, down: false });
    e.preventDefault();
  });
  canvas.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      const dy = -wheelClicks(e.deltaY, e.deltaMode); // DOM: positive scrolls down; REL_WHEEL: positive is up
      const dx = wheelClicks(e.deltaX, e.deltaMode);
      if ((dx !== 0 || dy !== 0) && host.live()) host.post({ type: 'wheel', dx, dy });
    },
    { passive: false },
  );
  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  return { releaseAll };
}
