// The levels panel's DOM: a status line, then one card per PCM stream. Cards are built once per
// stream and updated in place each frame; nothing is rebuilt while levels stream in.
import { h, setAttr, setHidden, setText, toggleClass } from '../shared/dom';
import { formatRate } from '../shared/format';
import { LevelsModel, StreamView, XRUN_FLASH_SECONDS } from '../shared/levels-model';
import type { ThemeColors } from '../shared/theme';
import { Meter, scale } from './meter';
import { Sparkline } from './sparkline';

const STATE_HELP: Record<string, string> = {
  'set-up': 'parameters set, not prepared',
  prepared: 'prepared, waiting for START',
  running: 'running',
  stopped: 'stopped (can START again)',
  released: 'released',
};

/** Numbers and other fast-changing text are rewritten at most this often (bars move every frame). */
export const TEXT_INTERVAL_MS = 200;

class StreamCard {
  readonly el: HTMLElement;
  private readonly title: HTMLElement;
  private readonly stateBadge: HTMLElement;
  private readonly meta: HTMLElement;
  private readonly failure: HTMLElement;
  readonly peak: Meter;
  readonly rms: Meter;
  readonly spark: Sparkline;
  private readonly fill: HTMLElement;
  private readonly fillBar: HTMLElement;
  private readonly fillText: HTMLElement;
  private readonly xrunGuest: HTMLElement;
  private readonly xrunHost: HTMLElement;
  private readonly xrunBox: HTMLElement;
  private readonly extra: HTMLElement;
  private drawnVersion = -1;
  private lastFillFrac = NaN;
  private hasText = false;

  constructor(readonly id: number, colors: ThemeColors) {
    this.title = h('h2', { class: 'title' });
    this.stateBadge = h('span', { class: 'badge state' });
    this.meta = h('div', { class: 'meta' });
    this.failure = h('div', { class: 'failure', role: 'alert', hidden: true });
    this.peak = new Meter(`Stream ${id} peak level`, true, 'peak');
    this.rms = new Meter(`Stream ${id} RMS level`, false, 'rms');
    this.spark = new Sparkline(`Stream ${id} level history, last 6 seconds`, colors);
    this.fillBar = h('div', { class: 'bar' });
    this.fill = h('div', { class: 'fill', role: 'meter', 'aria-label': `Stream ${id} host ring fill`, 'aria-valuemin': 0 }, this.fillBar);
    this.fillText = h('span', { class: 'value' });
    this.xrunGuest = h('span', { class: 'num' }, '0');
    this.xrunHost = h('span', { class: 'num' }, '0');
    this.xrunBox = h('div', { class: 'xruns' });
    this.extra = h('div', { class: 'extra' });

    const row = (label: string, meter: HTMLElement, value: HTMLElement) => h('div', { class: 'row' }, h('span', { class: 'label' }, label), meter, value);
    this.xrunBox.append(h('span', { class: 'label' }, 'xruns'), h('span', {}, 'guest '), this.xrunGuest, h('span', {}, ' · host '), this.xrunHost);
    this.el = h(
      'section',
      { class: 'stream', tabindex: 0, 'data-stream': id },
      h('header', {}, this.title, this.stateBadge),
      this.meta,
      this.failure,
      row('Peak', this.peak.el, this.peak.value),
      row('RMS', this.rms.el, this.rms.value),
      h('div', { class: 'row' }, h('span', { class: 'label' }), scale(), h('span', { class: 'value' })),
      h('div', { class: 'row spark-row' }, h('span', { class: 'label' }, 'History'), this.spark.canvas, h('span', { class: 'value' })),
      row('Ring', this.fill, this.fillText),
      this.xrunBox,
      this.extra,
    );
  }

  /** `text`: also refresh the fast-changing readouts (see LevelsView.render). */
  update(s: StreamView, model: LevelsModel, frozen: boolean, textDue: boolean): void {
    const text = textDue || !this.hasText; // a new card shows its numbers at once
    this.hasText = true;
    const dir = s.direction === 'output' ? 'Playback · TX' : 'Capture · RX';
    setText(this.title, `Stream ${s.id} — ${dir}`);
    setText(this.stateBadge, s.state);
    setAttr(this.stateBadge, 'title', STATE_HELP[s.state] ?? s.state);
    setAttr(this.stateBadge, 'data-state', s.state);
    const fmt = s.format ? `${s.format} · ${formatRate(s.rate)} · ${s.channels} ch` : 'format not set';
    setText(this.meta, `${fmt} · backend ${s.backend || '—'}`);
    setHidden(this.failure, !s.backendFailure);
    setText(this.failure, s.backendFailure ? `⚠ Host backend fell back: ${s.backendFailure}` : '');

    this.peak.set(s.peak.level, s.peak.held, text);
    this.rms.set(s.rmsDb, s.rmsDb, text);

    const frac = s.ringCapacity > 0 ? s.ringFill / s.ringCapacity : 0;
    if (frac !== this.lastFillFrac) {
      this.lastFillFrac = frac;
      this.fillBar.style.transform = `scaleX(${frac.toFixed(4)})`;
    }
    setAttr(this.fill, 'aria-valuemax', String(s.ringCapacity));
    setAttr(this.fill, 'aria-valuenow', String(s.ringFill));
    if (text) {
      setAttr(this.fill, 'aria-valuetext', `${s.ringFill} of ${s.ringCapacity} frames`);
      setText(this.fillText, `${s.ringFill} / ${s.ringCapacity} frames`);
    }

    setText(this.xrunGuest, String(s.xrunsGuest));
    setText(this.xrunHost, String(s.xrunsHost));
    setAttr(this.xrunHost, 'title', s.direction === 'output' ? 'host underruns' : 'host overruns');
    toggleClass(this.xrunBox, 'flash', !frozen && model.clock - s.xrunAt < XRUN_FLASH_SECONDS);
    toggleClass(this.xrunBox, 'nonzero', s.xrunsGuest + s.xrunsHost > 0);

    const parts: string[] = [];
    if (s.periodBytes !== undefined) parts.push(`period ${s.periodBytes} B`);
    if (s.bufferBytes !== undefined) parts.push(`buffer ${s.bufferBytes} B`);
    if (s.framesMoved !== undefined) parts.push(`${s.framesMoved} frames moved`);
    if (s.buffersInFlight !== undefined) parts.push(`${s.buffersInFlight} guest buffers held`);
    setText(this.extra, parts.join(' · '));

    if (text) {
      const label = `Stream ${s.id}, ${dir}, ${s.state}, peak ${this.peak.value.textContent}, ring ${s.ringFill} of ${s.ringCapacity} frames, xruns guest ${s.xrunsGuest} host ${s.xrunsHost}`;
      setAttr(this.el, 'aria-label', label);
    }
    if (this.drawnVersion !== model.version) {
      this.drawnVersion = model.version;
      this.spark.draw(s.history, frozen);
    }
  }

  redraw(s: StreamView, frozen: boolean): void {
    this.spark.draw(s.history, frozen);
  }
}

export class LevelsView {
  private readonly banner: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly list: HTMLElement;
  private readonly cards = new Map<number, StreamCard>();
  private readonly resize: ResizeObserver;
  private renderedVersion = -1;
  private model: LevelsModel | undefined;
  private textAt = -Infinity;
  private textSession = '';
  private trailing: ReturnType<typeof setTimeout> | undefined;

  constructor(
    root: HTMLElement,
    private readonly colors: ThemeColors,
    onRefresh: () => void,
    private readonly requestFrame: () => void,
  ) {
    this.banner = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite' });
    const refresh = h('button', { class: 'refresh', type: 'button', title: 'Ask the debugger for the streams now', 'aria-label': 'Refresh stream facts' }, '⟳ Refresh');
    refresh.addEventListener('click', onRefresh);
    this.empty = h('div', { class: 'empty', role: 'note' });
    this.list = h('div', { class: 'streams' });
    root.append(h('div', { class: 'toolbar' }, this.banner, refresh), this.empty, this.list);
    this.resize = new ResizeObserver((entries) => {
      for (const e of entries) {
        const card = [...this.cards.values()].find((c) => c.spark.canvas === e.target);
        if (!card) continue;
        card.spark.resize(e.contentRect.width, e.contentRect.height);
        const m = this.model;
        const s = m?.byId(card.id);
        if (m && s) card.redraw(s, m.session !== 'running');
      }
    });
    colors.onChange(() => this.redrawAll());
  }

  render(model: LevelsModel, now = performance.now()): void {
    this.model = model;
    if (model.version === this.renderedVersion) return;
    this.renderedVersion = model.version;
    const frozen = model.session !== 'running';
    document.body.dataset.session = model.session;

    // Readouts follow at ≤ 5 Hz; a trailing frame makes sure the last values are shown.
    const text = frozen || model.session !== this.textSession || now - this.textAt >= TEXT_INTERVAL_MS;
    if (text) {
      this.textAt = now;
      this.textSession = model.session;
      setText(this.banner, bannerText(model));
    } else if (this.trailing === undefined) {
      this.trailing = setTimeout(() => {
        this.trailing = undefined;
        this.renderedVersion = -1;
        this.requestFrame();
      }, TEXT_INTERVAL_MS - (now - this.textAt));
    }
    const emptyText =
      model.session === 'none'
        ? "No debug session. Start a 'Boot semu' debug session (Run and Debug ▸ Boot semu) to see live TX/RX levels."
        : model.streams.length === 0
          ? 'The guest has not set up a PCM stream yet.'
          : '';
    setText(this.empty, emptyText);
    setHidden(this.empty, emptyText === '');

    const seen = new Set<number>();
    let prev: Element | null = null;
    for (const s of model.streams) {
      seen.add(s.id);
      let card = this.cards.get(s.id);
      if (!card) {
        card = new StreamCard(s.id, this.colors);
        this.cards.set(s.id, card);
        this.resize.observe(card.spark.canvas);
      }
      // Keep DOM order = stream order without re-inserting cards that are already in place.
      const want: Element | null = prev ? prev.nextElementSibling : this.list.firstElementChild;
      if (want !== card.el) this.list.insertBefore(card.el, want);
      card.update(s, model, frozen, text);
      prev = card.el;
    }
    for (const [id, card] of this.cards) {
      if (seen.has(id)) continue;
      this.resize.unobserve(card.spark.canvas);
      card.el.remove();
      this.cards.delete(id);
    }
  }

  private redrawAll(): void {
    const m = this.model;
    if (!m) return;
    for (const [id, card] of this.cards) {
      const s = m.byId(id);
      if (s) card.redraw(s, m.session !== 'running');
    }
  }
}

function bannerText(m: LevelsModel): string {
  const name = m.sessionName ? ` — ${m.sessionName}` : '';
  switch (m.session) {
    case 'none':
      return 'No session';
    case 'paused':
      return `⏸ Paused${name}: levels frozen at guest time ${m.guestTime.toFixed(3)} s`;
    case 'running':
      return `● Live${name} · guest time ${m.guestTime.toFixed(3)} s`;
  }
}
