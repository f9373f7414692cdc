// TLB geometry, shared by the MMU and the hart state layout (layout.ts).
export const TLB_BITS = 10;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;
/** Address spaces whose translations a hart keeps (mmu.ts). */
export const TLB_BANKS = 8;
