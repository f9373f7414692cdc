// The M extension's helpers, in int32/float64 arithmetic only (no BigInt): the instruction
// table's semantics call them by name (decode.ts), and every engine passes them in.

/** Upper 32 bits of the unsigned 64-bit product of two uint32 (as int32). */
export function mulhu(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const hh = ah * bh;
  // Sum the middle terms with the carry out of the low half; each stays below 2^53.
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) | 0;
}
/** Signed × signed: the unsigned high word minus the two's-complement corrections. */
export function mulh(a: number, b: number): number {
  let hi = mulhu(a, b);
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  return hi;
}
/** Signed × unsigned. */
export function mulhsu(a: number, b: number): number {
  let hi = mulhu(a, b);
  if (a < 0) hi = (hi - b) | 0;
  return hi;
}
// Division by zero and the one overflow case give the results the spec defines (§13.2).
export function div(a: number, b: number): number {
  if (b === 0) return -1;
  if (a === -2147483648 && b === -1) return a;
  return (a / b) | 0;
}
export function divu(a: number, b: number): number {
  if (b === 0) return -1;
  return ((a >>> 0) / (b >>> 0)) | 0;
}
export function rem(a: number, b: number): number {
  if (b === 0) return a;
  if (a === -2147483648 && b === -1) return 0;
  return (a % b) | 0;
}
export function remu(a: number, b: number): number {
  if (b === 0) return a;
  return ((a >>> 0) % (b >>> 0)) | 0;
}

/** The helpers by the names the semantics use, in the order generated code receives them. */
export const HELPER_NAMES = ['mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu'] as const;
export const HELPERS = [mulh, mulhsu, mulhu, div, divu, rem, remu];
