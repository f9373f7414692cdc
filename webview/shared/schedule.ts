// Coalescing: many messages between two frames cost one render. The panels apply each message to
// their model at once (cheap arithmetic) and ask for a frame; the DOM is touched once per frame.

export interface FrameScheduler {
  /** Ask for one render on the next frame; repeated calls before it runs are free. */
  request(): void;
  /** Render now if a frame was requested (tests, and before saving state). */
  flush(): void;
  readonly pending: boolean;
}

export function frameScheduler(
  render: () => void,
  raf: (cb: () => void) => unknown = (cb) => requestAnimationFrame(cb),
): FrameScheduler {
  let pending = false;
  const run = () => {
    if (!pending) return;
    pending = false;
    render();
  };
  return {
    request() {
      if (pending) return;
      pending = true;
      raf(run);
    },
    flush: run,
    get pending() {
      return pending;
    },
  };
}

/** Calls `save` at most once per `intervalMs` however often it is requested (setState is a copy). */
export function throttled(save: () => void, intervalMs: number, timer = setTimeout): { request(): void; flush(): void } {
  let due = false;
  let armed = false;
  const fire = () => {
    armed = false;
    if (!due) return;
    due = false;
    save();
  };
  return {
    request() {
      due = true;
      if (armed) return;
      armed = true;
      timer(fire, intervalMs);
    },
    flush() {
      if (!due) return;
      due = false;
      save();
    },
  };
}
