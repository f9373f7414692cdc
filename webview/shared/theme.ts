// Canvas cannot use CSS variables directly: the colours are read from the computed style once and
// read again only when VS Code changes the theme (it rewrites the <html> style and <body> class).

export class ThemeColors {
  private cache = new Map<string, string>();
  private listeners: (() => void)[] = [];

  constructor() {
    const obs = new MutationObserver(() => {
      this.cache.clear();
      for (const l of this.listeners) l();
    });
    obs.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
    obs.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  /** A custom property's computed value (var() resolved), e.g. get('--meter-ok'). */
  get(name: string, fallback = '#888'): string {
    let v = this.cache.get(name);
    if (v === undefined) {
      v = getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
      this.cache.set(name, v);
    }
    return v;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
}
