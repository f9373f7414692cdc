// Device → queue navigation. Rebuilt only when the set of devices and queues changes; per
// snapshot only the small per-queue counters and the current marker change.
import { h, setAttr, setText, toggleClass } from '../shared/dom';
import type { DeviceView, Selection } from '../shared/inspector-model';
import { ringDistance } from '../shared/ring-layout';

export class QueueNav {
  readonly el: HTMLElement;
  private signature = '';
  private buttons = new Map<string, { button: HTMLButtonElement; badge: HTMLElement }>();
  private resets = new Map<string, HTMLElement>();

  constructor(private readonly onSelect: (device: string, queue: number) => void) {
    this.el = h('nav', { class: 'queue-nav', 'aria-label': 'Virtio devices and queues' });
    this.el.addEventListener('click', (e) => {
      const b = (e.target as Element).closest('button[data-device]');
      if (!b) return;
      this.onSelect(b.getAttribute('data-device') ?? '', Number(b.getAttribute('data-queue')));
    });
    this.el.addEventListener('keydown', (e) => this.arrowKeys(e));
  }

  update(devices: DeviceView[], sel: Selection | null): void {
    const sig = devices.map((d) => `${d.name}:${d.queues.map((q) => `${q.index}.${q.name}`).join(',')}`).join('|');
    if (sig !== this.signature) this.rebuild(devices, sig);
    for (const d of devices) {
      toggleClass(this.resets.get(d.name)!, 'on', d.needsReset);
      for (const q of d.queues) {
        const entry = this.buttons.get(`${d.name}/${q.index}`);
        if (!entry) continue;
        const pending = ringDistance(q.availIdx, q.lastAvailIdx);
        const held = q.held.length + q.heldDropped;
        setText(entry.badge, pending || held ? `${pending}p ${held}h` : q.ready ? '' : 'off');
        setAttr(entry.badge, 'title', `${pending} pending, ${held} held${q.ready ? '' : ', queue not ready'}`);
        const current = sel?.device === d.name && sel.queue === q.index;
        setAttr(entry.button, 'aria-current', current ? 'true' : null);
        setAttr(entry.button, 'aria-label', `${d.name} queue ${q.index} ${q.name}: ${pending} pending, ${held} held${q.ready ? '' : ', not ready'}`);
      }
    }
  }

  private rebuild(devices: DeviceView[], sig: string): void {
    this.signature = sig;
    this.buttons.clear();
    this.resets.clear();
    const items = devices.map((d) => {
      const reset = h('span', { class: 'reset-flag', title: 'DEVICE_NEEDS_RESET' }, 'needs reset');
      this.resets.set(d.name, reset);
      const list = h('ul', {});
      for (const q of d.queues) {
        const badge = h('span', { class: 'qbadge' });
        const button = h('button', { type: 'button', class: 'queue', 'data-device': d.name, 'data-queue': q.index }, h('span', { class: 'qname' }, `${q.index} ${q.name}`), badge);
        this.buttons.set(`${d.name}/${q.index}`, { button, badge });
        list.append(h('li', {}, button));
      }
      return h('li', { class: 'dev' }, h('div', { class: 'dev-name' }, d.name, reset), list);
    });
    this.el.replaceChildren(h('ul', { class: 'devices' }, ...items));
  }

  /** Up/Down move between queue buttons, as in a list. */
  private arrowKeys(e: KeyboardEvent): void {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const all = Array.from(this.el.querySelectorAll<HTMLButtonElement>('button.queue'));
    const i = all.indexOf(document.activeElement as HTMLButtonElement);
    if (i < 0) return;
    const next = all[Math.min(all.length - 1, Math.max(0, i + (e.key === 'ArrowDown' ? 1 : -1)))];
    next.focus();
    e.preventDefault();
  }
}
