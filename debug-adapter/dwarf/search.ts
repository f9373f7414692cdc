// Binary searches over address-sorted tables (line sequences and rows, FDEs, function ranges,
// symbols), written once.

/** The last index in [lo, hi] whose key is <= x (keys ascending), or lo - 1 when none is. */
export function lastAtOrBelow(lo: number, hi: number, key: (i: number) => number, x: number): number {
  let best = lo - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (key(mid) <= x) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/**
 * The entry [start, end) holding x among n entries sorted by start, or -1. Entries may overlap
 * (code the linker discarded keeps address 0): the few before the last start <= x are tried too.
 */
export function covering(n: number, start: (i: number) => number, end: (i: number) => number, x: number): number {
  const best = lastAtOrBelow(0, n - 1, start, x);
  for (let i = best; i >= 0 && i > best - 8; i--) if (x >= start(i) && x < end(i)) return i;
  return -1;
}
