// The three structures of a split virtqueue drawn as concentric rings of `size` slots: the
// descriptor table (outer), the avail ring (middle) and the used ring (inner). Slots are coloured
// by role (pending / held / fresh / conflict) as runs, so a 1024-entry queue is a handful of
// paths; ticks mark where avail.idx, last_avail_idx and used.idx point. Static parts (background
// rings, slot separators) are rebuilt only when the queue size changes.
import { setAttr, setText, svg } from '../shared/dom';
import { QueueLayout, Run, runsOf, sectorPath, tickPath } from '../shared/ring-layout';
import type { QueueView } from '../shared/inspector-model';

const C = 160; // centre of the 320×320 viewBox
const RINGS = {
  desc: [150, 128],
  avail: [122, 102],
  used: [96, 76],
} as const;
/** Above this, per-slot separators would be a grey smear: leave them out. */
const MAX_SEPARATORS = 128;

class RunLayer {
  readonly g: SVGGElement;
  private readonly paths: SVGPathElement[] = [];

  constructor(private readonly radii: readonly [number, number], className: string) {
    this.g = svg('g', { class: className });
  }

  set<T extends string>(runs: Run<T>[], size: number): void {
    while (this.paths.length < runs.length) {
      const p = svg('path', { 'fill-rule': 'evenodd' });
      this.paths.push(p);
      this.g.append(p);
    }
    for (let i = 0; i < this.paths.length; i++) {
      const p = this.paths[i];
      const r = runs[i];
      if (!r) {
        setAttr(p, 'd', '');
        continue;
      }
      setAttr(p, 'd', sectorPath(C, C, this.radii[0], this.radii[1], r.start, r.count, size));
      setAttr(p, 'class', r.role);
    }
  }
}

export class RingDiagram {
  readonly el: SVGSVGElement;
  private readonly title: SVGTitleElement;
  private readonly statics: SVGGElement;
  private readonly desc = new RunLayer(RINGS.desc, 'runs desc');
  private readonly avail = new RunLayer(RINGS.avail, 'runs avail');
  private readonly used = new RunLayer(RINGS.used, 'runs used');
  private readonly tickAvail: SVGPathElement;
  private readonly tickLast: SVGPathElement;
  private readonly tickUsed: SVGPathElement;
  private readonly lines: SVGTextElement[];
  private builtSize = -1;

  constructor() {
    this.title = svg('title');
    this.statics = svg('g', { class: 'statics' });
    this.tickAvail = svg('path', { class: 'tick tick-avail' });
    this.tickLast = svg('path', { class: 'tick tick-last' });
    this.tickUsed = svg('path', { class: 'tick tick-used' });
    this.lines = [0, 1, 2, 3, 4].map((i) => svg('text', { x: C, y: C - 34 + i * 17, 'text-anchor': 'middle', class: i === 0 ? 'center-title' : 'center-line' }));
    this.el = svg(
      'svg',
      { class: 'rings', viewBox: '0 0 320 320', role: 'img', 'aria-labelledby': 'ring-title' },
      this.title,
      this.statics,
      this.desc.g,
      this.avail.g,
      this.used.g,
      this.tickAvail,
      this.tickLast,
      this.tickUsed,
      ...this.lines,
    );
    this.title.id = 'ring-title';
  }

  update(q: QueueView, layout: QueueLayout): void {
    const size = layout.size;
    if (size !== this.builtSize) this.buildStatics(size);
    this.desc.set(runsOf(layout.descRoles, 'free'), size);
    this.avail.set(runsOf(layout.availRoles, 'idle'), size);
    this.used.set(runsOf(layout.usedRoles, 'idle'), size);
    const out = 156;
    setAttr(this.tickAvail, 'd', size ? tickPath(C, C, RINGS.avail[1] - 2, out, layout.availSlot, size) : '');
    setAttr(this.tickLast, 'd', size ? tickPath(C, C, RINGS.avail[1] - 2, RINGS.avail[0] + 4, layout.lastAvailSlot, size) : '');
    setAttr(this.tickUsed, 'd', size ? tickPath(C, C, RINGS.used[1] - 4, RINGS.used[0] + 2, layout.usedSlot, size) : '');
    setText(this.lines[0], `${q.name} (${size} slots)`);
    setText(this.lines[1], `avail.idx ${q.availIdx}`);
    setText(this.lines[2], `last_avail_idx ${q.lastAvailIdx}`);
    setText(this.lines[3], `used.idx ${q.usedIdx}`);
    setText(this.lines[4], `${layout.pendingCount} pending · ${q.held.length + q.heldDropped} held`);
    setText(
      this.title,
      `Queue ${q.name}: descriptor table, avail ring and used ring of ${size} slots. avail.idx ${q.availIdx} (slot ${layout.availSlot}), ` +
        `last_avail_idx ${q.lastAvailIdx} (slot ${layout.lastAvailSlot}), used.idx ${q.usedIdx} (slot ${layout.usedSlot}), ` +
        `${layout.pendingCount} pending, ${q.held.length + q.heldDropped} held.`,
    );
  }

  private buildStatics(size: number): void {
    this.builtSize = size;
    this.statics.replaceChildren();
    for (const [name, [ro, ri]] of Object.entries(RINGS)) {
      this.statics.append(svg('path', { class: `ring-bg ring-${name}`, 'fill-rule': 'evenodd', d: sectorPath(C, C, ro, ri, 0, Math.max(1, size), Math.max(1, size)) }));
    }
    if (size > 0 && size <= MAX_SEPARATORS) {
      let d = '';
      for (let s = 0; s < size; s++) d += tickPath(C, C, RINGS.used[1], RINGS.desc[0], s, size);
      this.statics.append(svg('path', { class: 'separators', d }));
    }
  }
}
