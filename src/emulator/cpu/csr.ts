// CSR numbers and bit layouts the S-mode-only harts implement (RISC-V privileged spec v1.12,
// chapter 4 "Supervisor-Level ISA" and the unprivileged counters).

export const CSR_SSTATUS = 0x100;
export const CSR_SIE = 0x104;
export const CSR_STVEC = 0x105;
export const CSR_SCOUNTEREN = 0x106;
export const CSR_SENVCFG = 0x10a;
export const CSR_SSCRATCH = 0x140;
export const CSR_SEPC = 0x141;
export const CSR_SCAUSE = 0x142;
export const CSR_STVAL = 0x143;
export const CSR_SIP = 0x144;
export const CSR_SATP = 0x180;
/** The supervisor CSRs the harts implement (the counters aside): CSR views and the debugger. */
export const SUPERVISOR_CSRS: readonly number[] = [
  CSR_SSTATUS, CSR_SIE, CSR_STVEC, CSR_SCOUNTEREN, CSR_SENVCFG, CSR_SSCRATCH, CSR_SEPC, CSR_SCAUSE, CSR_STVAL, CSR_SIP, CSR_SATP,
];
export const CSR_CYCLE = 0xc00;
export const CSR_TIME = 0xc01;
export const CSR_INSTRET = 0xc02;
export const CSR_CYCLEH = 0xc80;
export const CSR_TIMEH = 0xc81;
export const CSR_INSTRETH = 0xc82;

/** sstatus fields (§4.1.1). Only these bits exist; the rest read 0 (no F/V/X state, little-endian). */
export const SSTATUS_SIE = 1 << 1;
export const SSTATUS_SPIE = 1 << 5;
export const SSTATUS_SPP = 1 << 8;
export const SSTATUS_SUM = 1 << 18;
export const SSTATUS_MXR = 1 << 19;
export const SSTATUS_WRITABLE = SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SPP | SSTATUS_SUM | SSTATUS_MXR;
/** sepc is WARL with bits [1:0] zero (no compressed instructions). */
export const SEPC_WRITABLE = ~3;

/** sie/sip bits S-mode can see: SSI, STI, SEI. Only SSIP is writable through sip. */
export const SIE_WRITABLE = (1 << 1) | (1 << 5) | (1 << 9);
export const SIP_WRITABLE = 1 << 1;

/** senvcfg: only FIOM is implemented (no Zicbom/Zicboz/Svpbmt); other fields are read-only 0. */
export const SENVCFG_WRITABLE = 1;

/** satp (Sv32): MODE [31], ASID [30:22], PPN [21:0]. */
export const SATP_MODE_SV32 = 0x80000000 | 0;
export const SATP_PPN_MASK = 0x003fffff;
export const SATP_ASID_SHIFT = 22;

export const PRIV_U = 0;
export const PRIV_S = 1;

/** Exception causes (scause with the interrupt bit clear). */
export const enum Cause {
  InsnMisaligned = 0,
  InsnAccessFault = 1,
  IllegalInsn = 2,
  Breakpoint = 3,
  LoadMisaligned = 4,
  LoadAccessFault = 5,
  StoreMisaligned = 6,
  StoreAccessFault = 7,
  EcallU = 8,
  EcallS = 9,
  InsnPageFault = 12,
  LoadPageFault = 13,
  StorePageFault = 15,
}

/** Interrupt causes (scause = 0x8000_0000 | code). */
export const IRQ_SSI = 1;
export const IRQ_STI = 5;
export const IRQ_SEI = 9;
export const INTERRUPT_BIT = 0x80000000 | 0;

export const CAUSE_NAMES: Record<number, string> = {
  0: 'instruction address misaligned',
  1: 'instruction access fault',
  2: 'illegal instruction',
  3: 'breakpoint',
  4: 'load address misaligned',
  5: 'load access fault',
  6: 'store/AMO address misaligned',
  7: 'store/AMO access fault',
  8: 'environment call from U-mode',
  9: 'environment call from S-mode',
  12: 'instruction page fault',
  13: 'load page fault',
  15: 'store/AMO page fault',
};

export const CSR_NAMES: Record<number, string> = {
  [CSR_SSTATUS]: 'sstatus',
  [CSR_SIE]: 'sie',
  [CSR_STVEC]: 'stvec',
  [CSR_SCOUNTEREN]: 'scounteren',
  [CSR_SENVCFG]: 'senvcfg',
  [CSR_SSCRATCH]: 'sscratch',
  [CSR_SEPC]: 'sepc',
  [CSR_SCAUSE]: 'scause',
  [CSR_STVAL]: 'stval',
  [CSR_SIP]: 'sip',
  [CSR_SATP]: 'satp',
  [CSR_CYCLE]: 'cycle',
  [CSR_TIME]: 'time',
  [CSR_INSTRET]: 'instret',
  [CSR_CYCLEH]: 'cycleh',
  [CSR_TIMEH]: 'timeh',
  [CSR_INSTRETH]: 'instreth',
  // Named for the disassembler only (not implemented: no M-mode in these harts).
  0x300: 'mstatus',
  0x301: 'misa',
  0x302: 'medeleg',
  0x303: 'mideleg',
  0x304: 'mie',
  0x305: 'mtvec',
  0x340: 'mscratch',
  0x341: 'mepc',
  0x342: 'mcause',
  0x343: 'mtval',
  0x344: 'mip',
  0xf11: 'mvendorid',
  0xf12: 'marchid',
  0xf13: 'mimpid',
  0xf14: 'mhartid',
};
