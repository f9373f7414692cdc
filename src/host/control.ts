// The control block: one small SharedArrayBuffer of int32 words through which the extension
// host steers the worker without waiting for its event loop. The worker checks REQUEST between
// run slices (so a pause lands within one slice), and sleeps on WAKE with Atomics.wait when the
// guest idles in WFI or the machine is paused, so any request wakes it at once.

export const CTL_REQUEST = 0; // what the host asks: REQ_*
export const CTL_STATE = 1; // what the worker is doing: ST_*
export const CTL_WAKE = 2; // bumped + notified by the host after every message it posts
export const CTL_INSTRET_LO = 3; // instructions retired, low and high 32 bits (updated per slice)
export const CTL_INSTRET_HI = 4;
export const CTL_HEARTBEAT = 5; // bumped once per worker loop turn (a hung worker stops bumping)
export const CTL_CONSOLE_FED = 6; // console input bytes the UART has taken from its queue (uint32, per slice)
export const CTL_WORDS = 8;

export const REQ_NONE = 0;
export const REQ_PAUSE = 1;
export const REQ_QUIT = 2;

export const ST_LOADING = 0;
export const ST_RUNNING = 1;
export const ST_PAUSED = 2;
export const ST_EXITED = 3;

export function createControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
}

/** Ask the worker for something and wake it if it sleeps. */
export function request(ctl: Int32Array, req: number): void {
  Atomics.store(ctl, CTL_REQUEST, req);
  wake(ctl);
}

export function wake(ctl: Int32Array): void {
  Atomics.add(ctl, CTL_WAKE, 1);
  Atomics.notify(ctl, CTL_WAKE);
}

export function instret(ctl: Int32Array): number {
  return (Atomics.load(ctl, CTL_INSTRET_HI) >>> 0) * 4294967296 + (Atomics.load(ctl, CTL_INSTRET_LO) >>> 0);
}
