// Browser KeyboardEvent.code (UI Events KeyboardEvent code values: the physical key, whatever the
// layout) → Linux key code (input-event-codes.h). The guest applies its own keymap, so a US
// layout in the guest sees the keys where a US keyboard has them. Pure: the Screen panel's
// webview and the device's tests both use it.

const LETTERS: Readonly<Record<string, number>> = {
  A: 30, B: 48, C: 46, D: 32, E: 18, F: 33, G: 34, H: 35, I: 23, J: 36, K: 37, L: 38, M: 50,
  N: 49, O: 24, P: 25, Q: 16, R: 19, S: 31, T: 20, U: 22, V: 47, W: 17, X: 45, Y: 21, Z: 44,
};

const OTHERS: Readonly<Record<string, number>> = {
  Escape: 1, Minus: 12, Equal: 13, Backspace: 14, Tab: 15, BracketLeft: 26, BracketRight: 27,
  Enter: 28, ControlLeft: 29, Semicolon: 39, Quote: 40, Backquote: 41, ShiftLeft: 42,
  Backslash: 43, Comma: 51, Period: 52, Slash: 53, ShiftRight: 54, NumpadMultiply: 55,
  AltLeft: 56, Space: 57, CapsLock: 58, NumLock: 69, ScrollLock: 70,
  Numpad7: 71, Numpad8: 72, Numpad9: 73, NumpadSubtract: 74, Numpad4: 75, Numpad5: 76,
  Numpad6: 77, NumpadAdd: 78, Numpad1: 79, Numpad2: 80, Numpad3: 81, Numpad0: 82,
  NumpadDecimal: 83, IntlBackslash: 86, F11: 87, F12: 88, IntlRo: 89, Convert: 92,
  KanaMode: 93, NonConvert: 94, NumpadEnter: 96, ControlRight: 97, NumpadDivide: 98,
  PrintScreen: 99, AltRight: 100, Home: 102, ArrowUp: 103, PageUp: 104, ArrowLeft: 105,
  ArrowRight: 106, End: 107, ArrowDown: 108, PageDown: 109, Insert: 110, Delete: 111,
  AudioVolumeMute: 113, AudioVolumeDown: 114, AudioVolumeUp: 115, Power: 116, NumpadEqual: 117,
  Pause: 119, NumpadComma: 121, Lang1: 122, Lang2: 123, IntlYen: 124, MetaLeft: 125,
  MetaRight: 126, ContextMenu: 127, MediaTrackNext: 163, MediaPlayPause: 164,
  MediaTrackPrevious: 165, MediaStop: 166,
};

const TABLE: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  for (const [k, v] of Object.entries(LETTERS)) m.set(`Key${k}`, v);
  for (let d = 1; d <= 9; d++) m.set(`Digit${d}`, d + 1);
  m.set('Digit0', 11);
  for (let f = 1; f <= 10; f++) m.set(`F${f}`, 58 + f);
  for (let f = 13; f <= 24; f++) m.set(`F${f}`, 170 + f); // KEY_F13 = 183
  for (const [k, v] of Object.entries(OTHERS)) m.set(k, v);
  return m;
})();

/** The Linux key code for a KeyboardEvent.code, or 0 when the key has none. */
export function linuxKeyCode(code: string): number {
  return TABLE.get(code) ?? 0;
}

/** Every Linux key code the map produces (the keyboard's EV_KEY bitmap). */
export function mappedKeyCodes(): number[] {
  return [...new Set(TABLE.values())].sort((a, b) => a - b);
}
