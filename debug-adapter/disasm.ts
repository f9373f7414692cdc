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

/** Instructions shown before and after the pc in a frame's disassembly listing. */
const LISTING_BEFORE = 24;
const LISTING_AFTER = 40;

/**
 * A frame's source when the guest has no sources here: a disassembly listing around its pc, one
 * instruction per line, with the pc's line number. VS Code needs a source on a frame to select
 * it (and so fill the Variables view) when the machine stops on an exception breakpoint.
 */
export function disassemblyListing(
  pc: number,
  readWords: (start: number, count: number) => (number | null)[],
  symbols: SymbolTable | null,
): { text: string; line: number } {
  const start = (pc - LISTING_BEFORE * 4) >>> 0;
  const count = LISTING_BEFORE + 1 + LISTING_AFTER;
  const words = readWords(start, count);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = (start + i * 4) >>> 0;
    const hit = symbols?.lookup(at);
    if (hit && hit.offset === 0) lines.push(`${hit.symbol.name}:`);
    const word = words[i];
    const text = word === null ? '??' : disassembleAt(word, at, symbols);
    const mark = at === pc >>> 0 ? '=>' : '  ';
    const hexWord = word === null ? '        ' : (word >>> 0).toString(16).padStart(8, '0');
    lines.push(`${mark} ${at.toString(16).padStart(8, '0')}:  ${hexWord}  ${text}`);
  }
  const line = lines.findIndex((l) => l.startsWith('=>')) + 1;
  return { text: lines.join('\n') + '\n', line };
}
