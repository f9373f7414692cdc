// Messages from a panel's webview are untrusted input to the extension: check their shape and
// ranges before acting on them.
import type { FromPanel } from '../shared/protocol';

/** The memory view is asked for at most this much at once (a descriptor may claim 4 GiB). */
export const MAX_MEMORY_VIEW_BYTES = 1 << 20;

export function parseFromPanel(data: unknown): FromPanel | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const m = data as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'refresh':
      return { type: 'refresh' };
    case 'openMemory': {
      const address = m.address;
      const length = m.length;
      if (typeof address !== 'number' || !Number.isInteger(address) || address < 0 || address > 0xffff_ffff) return undefined;
      if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) return undefined;
      return { type: 'openMemory', address, length: Math.min(length, MAX_MEMORY_VIEW_BYTES, 0x1_0000_0000 - address) };
    }
    default:
      return undefined;
  }
}
