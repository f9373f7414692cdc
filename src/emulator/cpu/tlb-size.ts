// TLB geometry, shared by the MMU and the hart state layout (layout.ts).
export const TLB_BITS = 10;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;
/** Address spaces whose translations a hart keeps (mmu.ts). */
export const TLB_BANKS = 8;

/**
 * The fetch TLB's index: the page number's low bits XOR a hash of its 4 MiB region. Within a
 * region pages never collide (as with the plain low bits); across regions the hash moves them
 * apart. With the plain low bits Linux's text, which spans more than 4 MiB, aliased its last
 * pages (the scheduler, trap return, locking) onto hot pages at its start (thread flags, the
 * scheduler's fair class), 4 MiB below: 45 000 fetch walks and exits from translated code per
 * `pipebench`. The data TLBs keep the plain index (they hardly conflict, and every load and
 * store computes it). The fast loop calls this function; the dispatcher in translated code
 * computes the same in WebAssembly (translate.ts engineModule).
 */
export const FETCH_SPREAD = 0x9e3779b1 | 0; // 2^32 / golden ratio: region numbers scatter
export function fetchIndex(va: number): number {
  return ((va >>> 12) ^ (Math.imul(va >>> 22, FETCH_SPREAD) >>> 22)) & TLB_MASK;
}
