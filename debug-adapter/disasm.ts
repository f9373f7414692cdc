// Disassembly for the DAP `disassemble` request: the harts' own disassembler (one instruction
// table for interpreter, translator and debugger), with jump and branch targets named by the
// kernel's symbols.

import { disassemble as disasmWord } from '../src/emulator/cpu/disasm';
import type { SymbolTable } from './symbols';

/** One instruction's text, e.g. "jal ra, 0xc032e76c <start_kernel>". */
export function disassembleAt(word: number, pc: number, symbols: SymbolTable | null): string {
  let text: string;
  try {
    text = disasmWord(word >>> 0, pc >>> 0);
  } catch {
    text = `.word 0x${(word >>> 0).toString(16).padStart(8, '0')}`;
  }
  if (!symbols || !/^[bj]/.test(text)) return text;
  // Branches and jumps end with their absolute target (objdump style): name it.
  return text.replace(/(0x[0-9a-f]+)$/, (hex) => {
    const name = symbols.describe(parseInt(hex, 16));
    return name ? `${hex} <${name}>` : hex;
  });
}
