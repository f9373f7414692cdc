// Byte copies between two arrays without the view `subarray()` makes for `set()`: the audio path
// copies a few frames at a time, hundreds of times a second, in the emulator worker, and each
// view was garbage that made the worker's young generation grow and shrink by megabytes (the
// soak's resident memory breathed ±10 MB). Large copies still go through memcpy.

/** Above this many bytes one view is cheap next to the copy: set() it. */
const BULK = 16384;

/** dst[at, at + n) = src[from, from + n). The two must not be views of the same memory. */
export function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, from: number, n: number): void {
  if (n >= BULK) {
    dst.set(src.subarray(from, from + n), at);
    return;
  }
  for (let i = 0; i < n; i++) dst[at + i] = src[from + i];
}
