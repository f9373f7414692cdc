// How long the event loop was held: runs `f` while a 5 ms timer notes the longest gap between
// its ticks (for code that must leave the extension host responsive).

export async function withLoopGaps<T>(f: () => Promise<T>): Promise<{ value: T; longestGapMs: number }> {
  let last = performance.now();
  let longest = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  try {
    const value = await f();
    return { value, longestGapMs: Math.max(longest, performance.now() - last) };
  } finally {
    clearInterval(tick);
  }
}
