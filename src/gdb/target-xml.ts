// The target description gdb reads with qXfer:features:read:target.xml (gdb manual, "Target
// Descriptions", "RISC-V Features"): riscv:rv32, the 32 integer registers and pc
// (org.gnu.gdb.riscv.cpu), the CSRs this machine implements (org.gnu.gdb.riscv.csr, regnum =
// 65 + CSR number as gdb numbers them) and the privilege level (org.gnu.gdb.riscv.virtual).

export const REG_PC = 32;
/** gdb's RISC-V register numbers: CSR n is 65 + n; priv follows the 4096 CSRs. */
export const FIRST_CSR_REGNUM = 65;
export const PRIV_REGNUM = FIRST_CSR_REGNUM + 4096;

const XREG_NAMES = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 'fp', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];

/** The CSRs the harts implement, by number (cpu/hart.ts Hart.CSRS and the counters). */
export const CSRS: readonly { num: number; name: string; writable: boolean }[] = [
  { num: 0x100, name: 'sstatus', writable: true },
  { num: 0x104, name: 'sie', writable: true },
  { num: 0x105, name: 'stvec', writable: true },
  { num: 0x106, name: 'scounteren', writable: true },
  { num: 0x10a, name: 'senvcfg', writable: true },
  { num: 0x140, name: 'sscratch', writable: true },
  { num: 0x141, name: 'sepc', writable: true },
  { num: 0x142, name: 'scause', writable: true },
  { num: 0x143, name: 'stval', writable: true },
  { num: 0x144, name: 'sip', writable: true },
  { num: 0x180, name: 'satp', writable: true },
  { num: 0xc00, name: 'cycle', writable: false },
  { num: 0xc01, name: 'time', writable: false },
  { num: 0xc02, name: 'instret', writable: false },
  { num: 0xc80, name: 'cycleh', writable: false },
  { num: 0xc81, name: 'timeh', writable: false },
  { num: 0xc82, name: 'instreth', writable: false },
];

export function targetXml(): string {
  const x = XREG_NAMES.map((n, i) => `    <reg name="${n}" bitsize="32" regnum="${i}" type="${i === 1 ? 'code_ptr' : i === 2 || i === 8 ? 'data_ptr' : 'int'}"/>`);
  const csr = CSRS.map((c) => `    <reg name="${c.name}" bitsize="32" regnum="${FIRST_CSR_REGNUM + c.num}" type="int" group="csr"/>`);
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
    '<target version="1.0">',
    '  <architecture>riscv:rv32</architecture>',
    '  <feature name="org.gnu.gdb.riscv.cpu">',
    ...x,
    `    <reg name="pc" bitsize="32" regnum="${REG_PC}" type="code_ptr"/>`,
    '  </feature>',
    '  <feature name="org.gnu.gdb.riscv.csr">',
    ...csr,
    '  </feature>',
    '  <feature name="org.gnu.gdb.riscv.virtual">',
    `    <reg name="priv" bitsize="8" regnum="${PRIV_REGNUM}" type="int" group="general"/>`,
    '  </feature>',
    '</target>',
    '',
  ].join('\n');
}
