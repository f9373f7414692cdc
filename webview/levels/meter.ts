// One horizontal dBFS meter (−60..0): a fixed colour-zoned track uncovered from the left as the
// level rises (so green/amber/red stay where the scale says), and an optional peak-hold marker.
// Only transforms change per frame: no layout, and aria-valuenow carries the number for screen
// readers and tests.
import { DB_FLOOR, DB_CEIL, dbToFraction, formatDb } from '../shared/dbfs';
import { h, setAttr, setText } from '../shared/dom';

export class Meter {
  readonly el: HTMLElement;
  readonly value: HTMLElement;
  private readonly cover: HTMLElement;
  private readonly hold: HTMLElement | null;
  private lastLevel = NaN;
  private lastHeld = NaN;
  private lastText = NaN;

  constructor(label: string, withHold: boolean, className: string) {
    this.cover = h('div', { class: 'cover' });
    this.hold = withHold ? h('div', { class: 'hold' }) : null;
    this.el = h('div', {
      class: `meter ${className}`,
      role: 'meter',
      'aria-label': label,
      'aria-valuemin': DB_FLOOR,
      'aria-valuemax': DB_CEIL,
      'aria-valuenow': DB_FLOOR,
      'aria-valuetext': formatDb(DB_FLOOR),
    });
    this.el.append(h('div', { class: 'zones' }), this.cover);
    if (this.hold) this.el.append(this.hold);
    this.value = h('span', { class: 'value', 'aria-hidden': 'true' }, formatDb(DB_FLOOR));
  }

  /**
   * Moves the bar (and marker) every frame; the number beside it only when `text` is set — a
   * readout changing 20 times a second cannot be read, and text changes cost a layout.
   */
  set(levelDb: number, heldDb = levelDb, text = true): void {
    if (levelDb !== this.lastLevel) {
      this.lastLevel = levelDb;
      const frac = dbToFraction(levelDb);
      // The cover hides the unlit part of the track: its width is what is not lit.
      this.cover.style.transform = `scaleX(${(1 - frac).toFixed(4)})`;
      setAttr(this.el, 'aria-valuenow', String(Math.round(levelDb * 10) / 10));
    }
    if (text && levelDb !== this.lastText) {
      this.lastText = levelDb;
      setAttr(this.el, 'aria-valuetext', formatDb(levelDb));
      setText(this.value, formatDb(levelDb));
    }
    if (this.hold && heldDb !== this.lastHeld) {
      this.lastHeld = heldDb;
      const frac = dbToFraction(heldDb);
      this.hold.style.transform = `translateX(${((frac - 1) * 100).toFixed(2)}%)`;
      this.hold.classList.toggle('off', frac <= 0);
      setAttr(this.hold, 'data-db', String(Math.round(heldDb * 10) / 10));
    }
  }
}

/** Tick labels under the meters, placed by the same dB → fraction mapping. */
export function scale(): HTMLElement {
  const el = h('div', { class: 'scale', 'aria-hidden': 'true' });
  for (const db of [-60, -48, -36, -24, -18, -12, -6, 0]) {
    const t = h('span', { class: 'tick' }, db === 0 ? '0' : String(db).replace('-', '−'));
    t.style.left = `${(dbToFraction(db) * 100).toFixed(2)}%`;
    el.append(t);
  }
  return el;
}
