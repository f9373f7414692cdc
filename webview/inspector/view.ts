// The inspector's DOM: status line and refresh, device/queue navigation on the left, the
// selected device and queue on the right (indices, counters, rings, descriptor grid, chains).
import { h, setHidden, setText } from '../shared/dom';
import { hex32 } from '../shared/format';
import type { InspectorModel } from '../shared/inspector-model';
import { layoutQueue } from '../shared/ring-layout';
import { ChainList } from './chains';
import { DescriptorGrid } from './desc-grid';
import { DeviceInfo } from './device-info';
import { QueueNav } from './nav';
import { RingDiagram } from './ring-svg';

export interface InspectorActions {
  select(device: string, queue: number): void;
  openDescriptor(index: number): void;
  refresh(): void;
}

export class InspectorView {
  private readonly banner = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite' });
  private readonly empty = h('div', { class: 'empty', role: 'note' });
  private readonly layout: HTMLElement;
  private readonly nav: QueueNav;
  private readonly device = new DeviceInfo();
  private readonly queueTitle = h('h3', {});
  private readonly queueFacts = h('dl', { class: 'facts' });
  private readonly overrun = h('div', { class: 'needs-reset', role: 'alert', hidden: true });
  private readonly rings = new RingDiagram();
  private readonly grid = new DescriptorGrid();
  private readonly chains = new ChainList();
  private readonly factValues = new Map<string, HTMLElement>();
  private renderedVersion = -1;

  constructor(root: HTMLElement, actions: InspectorActions) {
    const refresh = h('button', { type: 'button', title: 'Ask the debugger for a new snapshot now', 'aria-label': 'Refresh snapshot' }, '⟳ Refresh');
    refresh.addEventListener('click', () => actions.refresh());
    this.nav = new QueueNav((d, q) => actions.select(d, q));
    for (const k of ['ready', 'size', 'desc', 'avail (driver area)', 'used (device area)', 'avail.idx', 'last_avail_idx', 'used.idx', 'pending', 'in flight', 'notifications', 'interrupts', 'avail.flags', 'used.flags']) {
      const dd = h('dd', { class: 'mono' });
      this.factValues.set(k, dd);
      this.queueFacts.append(h('dt', {}, k), dd);
    }
    const legend = h(
      'ul',
      { class: 'legend', 'aria-label': 'Legend' },
      h('li', { class: 'pending' }, 'pending'),
      h('li', { class: 'held' }, 'held by device'),
      h('li', { class: 'fresh' }, 'written since last snapshot'),
      h('li', { class: 'conflict' }, 'in two chains'),
      h('li', { class: 'k-avail' }, 'avail.idx'),
      h('li', { class: 'k-last' }, 'last_avail_idx'),
      h('li', { class: 'k-used' }, 'used.idx'),
      h('li', { class: 'k-rings' }, 'rings, outside in: descriptor table · avail ring · used ring'),
    );
    const queue = h(
      'section',
      { class: 'queue', 'aria-label': 'Queue' },
      this.queueTitle,
      this.overrun,
      h('div', { class: 'queue-top' }, h('div', { class: 'ring-box' }, this.rings.el, legend), this.queueFacts),
      h('h3', {}, 'Descriptor table'),
      this.grid.el,
      this.chains.el,
    );
    const detail = h('div', { class: 'detail' }, this.device.el, queue);
    this.layout = h('div', { class: 'layout' }, this.nav.el, detail);
    root.append(h('div', { class: 'toolbar' }, this.banner, refresh), this.empty, this.layout);

    const onOpen = (e: Event) => {
      const b = (e.target as Element).closest('button[data-desc]');
      if (b && !(b as HTMLButtonElement).disabled) actions.openDescriptor(Number(b.getAttribute('data-desc')));
    };
    this.grid.el.addEventListener('click', onOpen);
    this.chains.el.addEventListener('click', onOpen);
  }

  render(model: InspectorModel): void {
    if (model.version === this.renderedVersion) return;
    this.renderedVersion = model.version;
    document.body.dataset.session = model.session;
    setText(this.banner, bannerText(model));
    const dev = model.selectedDevice();
    const q = model.selectedQueue();
    const emptyText =
      model.session === 'none'
        ? "No debug session. Start a 'Boot semu' debug session (Run and Debug ▸ Boot semu) to inspect the virtqueues."
        : model.devices.length === 0
          ? 'Waiting for the first snapshot of the virtio devices…'
          : !q
            ? 'No device has a queue yet.'
            : '';
    setText(this.empty, emptyText);
    setHidden(this.empty, emptyText === '');
    setHidden(this.layout, model.devices.length === 0);
    this.nav.update(model.devices, model.selection);
    if (!dev || !q) return;

    this.device.update(dev);
    const lay = layoutQueue(q, model.previous(dev.name, q.index));
    setText(this.queueTitle, `Queue ${q.index} — ${q.name}`);
    setHidden(this.overrun, !lay.overrun);
    setText(this.overrun, lay.overrun ? `⚠ avail.idx is ${lay.pendingCount} entries ahead of last_avail_idx: more than the ${lay.size}-entry ring can hold` : '');
    const f = (k: string, v: string) => setText(this.factValues.get(k)!, v);
    f('ready', q.ready ? 'yes' : 'no');
    f('size', `${q.size} (max ${q.maxSize})`);
    f('desc', hex32(q.descAddr));
    f('avail (driver area)', hex32(q.availAddr));
    f('used (device area)', hex32(q.usedAddr));
    f('avail.idx', `${q.availIdx} → slot ${lay.availSlot}`);
    f('last_avail_idx', `${q.lastAvailIdx} → slot ${lay.lastAvailSlot}`);
    f('used.idx', `${q.usedIdx} → slot ${lay.usedSlot}`);
    f('pending', String(lay.pendingCount));
    f('in flight', String(q.inFlight));
    f('notifications', String(q.notifications));
    f('interrupts', String(q.interrupts));
    f('avail.flags', q.availFlags & 1 ? `${q.availFlags} NO_INTERRUPT` : String(q.availFlags));
    f('used.flags', q.usedFlags & 1 ? `${q.usedFlags} NO_NOTIFY` : String(q.usedFlags));
    this.rings.update(q, lay);
    const selected = model.selection?.desc ?? null;
    this.grid.update(lay, selected);
    this.chains.update(q, selected);
  }
}

function bannerText(m: InspectorModel): string {
  const name = m.sessionName ? ` — ${m.sessionName}` : '';
  if (m.session === 'none') return 'No session';
  if (m.session === 'paused') return `⏸ Paused${name}: exact snapshot`;
  return `● Live${name}: sampled while running (indices may move between reads) · snapshot #${m.snapshots}`;
}
