// The selected device's header: identity, MMIO base and IRQ, status bits by name, the
// needs-reset flag (in red: the device has given up until the driver resets it), interrupt
// status, and the feature bits offered by the device and accepted by the driver.
import { h, setHidden, setText, setAttr } from '../shared/dom';
import { hex, hex32 } from '../shared/format';
import type { DeviceView } from '../shared/inspector-model';
import { STATUS_FAILED, STATUS_NEEDS_RESET, deviceTypeName, featureBits } from '../shared/virtio-names';

export class DeviceInfo {
  readonly el: HTMLElement;
  private readonly title = h('h2', {});
  private readonly where = h('span', { class: 'where mono' });
  private readonly reset = h('div', { class: 'needs-reset', role: 'alert' });
  private readonly status = h('span', { class: 'status' });
  private readonly isr = h('span', { class: 'mono' });
  private readonly features = h('ul', { class: 'features' });
  private readonly featureSummary = h('summary', {});
  private lastFeatures = '';

  constructor() {
    this.el = h(
      'section',
      { class: 'device', 'aria-label': 'Device' },
      h('div', { class: 'device-head' }, this.title, this.where),
      this.reset,
      h('div', { class: 'kv' }, h('span', { class: 'label' }, 'status'), this.status, h('span', { class: 'label' }, 'interrupt status'), this.isr),
      h('details', { class: 'feature-box' }, this.featureSummary, this.features),
    );
  }

  update(d: DeviceView): void {
    setText(this.title, `${d.name} — ${deviceTypeName(d.deviceId)}`);
    setText(this.where, `MMIO ${hex32(d.base)} · IRQ ${d.irq}`);
    const failed = (d.status & STATUS_FAILED) !== 0;
    const reset = d.needsReset || (d.status & STATUS_NEEDS_RESET) !== 0;
    setHidden(this.reset, !reset && !failed);
    setText(this.reset, reset ? '⛔ DEVICE_NEEDS_RESET: the device stopped working until the driver resets it' : failed ? '⛔ FAILED: the driver gave up on this device' : '');
    setText(this.status, `${hex(d.status)} ${d.statusNames || '(reset)'}`);
    setText(this.isr, hex(d.interruptStatus));

    const key = `${d.deviceId}:${d.deviceFeatures}:${d.driverFeatures}`;
    if (key === this.lastFeatures) return;
    this.lastFeatures = key;
    const bits = featureBits(d.deviceId, d.deviceFeatures, d.driverFeatures);
    const accepted = bits.filter((b) => b.accepted).length;
    setText(this.featureSummary, `Features: ${bits.filter((b) => b.offered).length} offered, ${accepted} accepted`);
    this.features.replaceChildren(
      ...bits.map((b) => {
        const li = h('li', { class: b.accepted ? 'accepted' : 'offered' }, h('span', { class: 'mono bit' }, String(b.bit)), ` ${b.name} `);
        li.append(h('span', { class: 'why' }, b.accepted && b.offered ? 'negotiated' : b.accepted ? 'driver only (!)' : 'offered, not accepted'));
        setAttr(li, 'title', `bit ${b.bit}`);
        return li;
      }),
    );
  }
}
