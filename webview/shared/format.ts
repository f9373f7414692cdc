// Small text formatters shared by both panels.

/** 0x8000_1000 style: 8 hex digits, '_' between the halves so long addresses scan easily. */
export function hex32(n: number): string {
  const s = (n >>> 0).toString(16).padStart(8, '0');
  return `0x${s.slice(0, 4)}_${s.slice(4)}`;
}

/** 0x1f style, no padding. */
export function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}

/** 48000 → '48 kHz', 44100 → '44.1 kHz', 0 → '—'. */
export function formatRate(hz: number): string {
  if (!(hz > 0)) return '—';
  if (hz >= 1000) return `${Number((hz / 1000).toFixed(3))} kHz`;
  return `${hz} Hz`;
}

/** 4096 → '4 KiB', 1536 → '1.5 KiB', 100 → '100 B'. */
export function formatBytes(n: number): string {
  if (!(n >= 0)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Number((n / 1024).toFixed(1))} KiB`;
  return `${Number((n / (1024 * 1024)).toFixed(1))} MiB`;
}

/** An integer that must be a count: NaN / negative / non-number from a bad source become 0. */
export function count(n: unknown): number {
  return typeof n === 'number' && n >= 0 && Number.isFinite(n) ? Math.floor(n) : 0;
}
