// The guest's UART as text: UTF-8 decoded across chunk boundaries, and the one-shot trigger
// that types the launch configuration's `consoleInput` lines once the guest's init announces
// itself (the marker can arrive split over two chunks, so a short tail is kept).

export const READY_MARKER = 'semu-guest: ready';

export class ConsoleText {
  private readonly decoder = new TextDecoder('utf-8');
  private tail = '';
  private fired = false;

  /**
   * @param onReady called once, the first time the output contains READY_MARKER.
   */
  constructor(private readonly onReady: (() => void) | null) {}

  /** Decodes a chunk; returns its text (possibly '' when it ends mid-character). */
  push(bytes: Uint8Array): string {
    const text = this.decoder.decode(bytes, { stream: true });
    if (!this.fired && this.onReady) {
      const seen = this.tail + text;
      if (seen.includes(READY_MARKER)) {
        this.fired = true;
        this.tail = '';
        this.onReady();
      } else {
        this.tail = seen.slice(-(READY_MARKER.length - 1));
      }
    }
    return text;
  }

  get ready(): boolean {
    return this.fired;
  }
}

/** The bytes to type for `consoleInput`: each line ended by a newline, as a person would. */
export function consoleInputText(lines: readonly string[]): string {
  return lines.map((l) => l.replace(/\r?\n$/, '') + '\n').join('');
}
