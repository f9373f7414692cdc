// The pending and held chains of the selected queue, each with the device's decoding of its
// first bytes and one row per descriptor (index, guest-physical address, length, flags, next).
// Address cells are buttons that open the buffer in VS Code's memory view. Blocks and rows are
// pooled: a new snapshot rewrites text, it does not rebuild the list.
import type { ChainSnapshot } from '../../src/shared/protocol';
import { h, setAttr, setHidden, setText, toggleClass } from '../shared/dom';
import { hex32 } from '../shared/format';
import type { QueueView } from '../shared/inspector-model';

class Row {
  readonly el: HTMLTableRowElement;
  readonly index = h('td', { class: 'num' });
  readonly addr: HTMLButtonElement = h('button', { type: 'button', class: 'addr mono' });
  readonly len = h('td', { class: 'num' });
  readonly flags = h('td', { class: 'flags' });
  readonly next = h('td', { class: 'num' });
  constructor() {
    this.el = h('tr', {}, this.index, h('td', {}, this.addr), this.len, this.flags, this.next);
  }
}

class Block {
  readonly el: HTMLElement;
  readonly badge = h('span', { class: 'badge' });
  readonly head = h('span', { class: 'head' });
  readonly decoded = h('span', { class: 'decoded' });
  readonly malformed = h('div', { class: 'malformed', role: 'alert' });
  readonly body = h('tbody');
  readonly rows: Row[] = [];
  constructor() {
    const table = h(
      'table',
      { class: 'descs' },
      h('thead', {}, h('tr', {}, h('th', {}, 'desc'), h('th', {}, 'addr'), h('th', {}, 'len'), h('th', {}, 'flags'), h('th', {}, 'next'))),
      this.body,
    );
    this.el = h('div', { class: 'chain' }, h('div', { class: 'chain-head' }, this.badge, this.head, this.decoded), this.malformed, table);
  }

  update(chain: ChainSnapshot, role: 'pending' | 'held', selected: number | null): void {
    setText(this.badge, role);
    setAttr(this.badge, 'data-role', role);
    setText(this.head, `head ${chain.head}`);
    setText(this.decoded, chain.decoded ?? '');
    setText(this.malformed, chain.malformed ? `⚠ malformed: ${chain.malformed}` : '');
    setHidden(this.malformed, !chain.malformed);
    const ds = chain.descriptors;
    while (this.rows.length < ds.length) {
      const r = new Row();
      this.rows.push(r);
      this.body.append(r.el);
    }
    while (this.rows.length > ds.length) this.rows.pop()!.el.remove();
    ds.forEach((d, i) => {
      const r = this.rows[i];
      setText(r.index, String(d.index));
      setText(r.addr, hex32(d.addr));
      setAttr(r.addr, 'data-desc', String(d.index));
      setAttr(r.addr, 'aria-label', `Open descriptor ${d.index} buffer, ${d.len} bytes at ${hex32(d.addr)}, in the memory view`);
      setText(r.len, String(d.len));
      setText(r.flags, d.flagNames || '—');
      setText(r.next, d.flags & 1 ? String(d.next) : '—');
      toggleClass(r.el, 'selected', selected === d.index);
      toggleClass(r.el, 'writable', (d.flags & 2) !== 0);
    });
  }
}

export class ChainList {
  readonly el: HTMLElement;
  private readonly blocks: Block[] = [];
  private readonly summary = h('p', { class: 'note' });
  private readonly list = h('div', { class: 'chain-list' });

  constructor() {
    this.el = h('section', { class: 'chains', 'aria-label': 'Pending and held chains' }, h('h3', {}, 'Chains'), this.summary, this.list);
  }

  update(q: QueueView, selected: number | null): void {
    const items: [ChainSnapshot, 'pending' | 'held'][] = [
      ...q.pending.map((c) => [c, 'pending'] as [ChainSnapshot, 'pending']),
      ...q.held.map((c) => [c, 'held'] as [ChainSnapshot, 'held']),
    ];
    const dropped = q.pendingDropped + q.heldDropped;
    setText(
      this.summary,
      items.length === 0
        ? 'No chain is pending (made available, not yet taken) or held by the device.'
        : `${q.pending.length + q.pendingDropped} pending (made available, not yet taken by the device) · ` +
            `${q.held.length + q.heldDropped} held by the device${dropped ? ` · ${dropped} not shown` : ''}`,
    );
    while (this.blocks.length < items.length) {
      const b = new Block();
      this.blocks.push(b);
      this.list.append(b.el);
    }
    while (this.blocks.length > items.length) this.blocks.pop()!.el.remove();
    items.forEach(([c, role], i) => this.blocks[i].update(c, role, selected));
  }
}
