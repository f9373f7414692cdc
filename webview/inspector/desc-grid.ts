// The descriptor table as a grid of cells, one per table entry, coloured by the chain role the
// snapshot knows for it. Cells of decoded descriptors are buttons (Tab, Enter/Space, click):
// choosing one selects it and opens its buffer in VS Code's memory view. Cells are created once
// per queue size; each snapshot only changes classes, labels and `disabled`.
import { h, setAttr, setText } from '../shared/dom';
import { hex32 } from '../shared/format';
import type { QueueLayout } from '../shared/ring-layout';

/** Larger tables are not drawn cell by cell (the chains list still shows every known descriptor). */
export const MAX_GRID = 1024;

export class DescriptorGrid {
  readonly el: HTMLElement;
  private readonly cells: HTMLButtonElement[] = [];
  private readonly note: HTMLElement;
  private readonly grid: HTMLElement;

  constructor() {
    this.grid = h('div', { class: 'desc-grid', role: 'group', 'aria-label': 'Descriptor table' });
    this.note = h('p', { class: 'note', hidden: true });
    this.el = h('div', {}, this.note, this.grid);
  }

  update(layout: QueueLayout, selected: number | null): void {
    const size = layout.size;
    const tooBig = size > MAX_GRID;
    this.note.hidden = !tooBig;
    setText(this.note, tooBig ? `The descriptor table has ${size} entries: too many to draw; the chains below list every decoded descriptor.` : '');
    const n = tooBig ? 0 : size;
    while (this.cells.length < n) {
      const i = this.cells.length;
      const b = h('button', { type: 'button', class: 'cell', 'data-desc': i }, String(i));
      this.cells.push(b);
      this.grid.append(b);
    }
    while (this.cells.length > n) this.cells.pop()!.remove();
    for (let i = 0; i < n; i++) {
      const b = this.cells[i];
      const role = layout.descRoles[i];
      const info = layout.known.get(i);
      setAttr(b, 'class', `cell ${role}${info && info.position === 0 ? ' head' : ''}${selected === i ? ' selected' : ''}`);
      b.disabled = !info;
      setAttr(
        b,
        'aria-label',
        info
          ? `Descriptor ${i}, ${role}${info.position === 0 ? ' head' : ''} of chain ${info.head}: addr ${hex32(info.desc.addr)}, len ${info.desc.len}` +
              `${info.desc.flagNames ? ', ' + info.desc.flagNames : ''}. Open in memory view.`
          : `Descriptor ${i}, not in a pending or held chain`,
      );
    }
  }
}
