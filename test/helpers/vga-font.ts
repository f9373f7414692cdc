// The kernel's VGA 8×16 console font, read from a Linux tree, and a matcher for text drawn with
// it: how the tests (and the e2e driver, which bundles this file alone) check console text on a
// screen pixel for pixel. No emulator imports here.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The VGA 8×16 font fbcon uses at 1024×768: 256 glyphs × 16 rows, from `tree`/lib/fonts/font_8x16.c. */
export function vgaFontFrom(tree: string): Uint8Array {
  const src = readFileSync(join(tree, 'lib', 'fonts', 'font_8x16.c'), 'utf8');
  const body = src.slice(src.indexOf('FONTDATAMAX, 0 }')).replace(/\/\*[\s\S]*?\*\//g, '');
  const bytes = [...body.matchAll(/0x([0-9a-fA-F]{2})/g)].map((m) => parseInt(m[1], 16));
  if (bytes.length !== 4096) throw new Error(`font_8x16.c: ${bytes.length} bytes, expected 4096`);
  return Uint8Array.from(bytes);
}

/**
 * Compares `text` drawn from (x0, y0) of an RGBA image `width` pixels wide with the font: every
 * glyph pixel one foreground colour, every other pixel black. Returns the mismatches and colours.
 */
export function matchGlyphs(rgba: ArrayLike<number>, width: number, font: Uint8Array, text: string, x0 = 0, y0 = 0): { bad: number; fg: string } {
  let fg = '';
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const glyph = font.subarray(text.charCodeAt(i) * 16, text.charCodeAt(i) * 16 + 16);
    for (let y = 0; y < 16; y++)
      for (let x = 0; x < 8; x++) {
        const o = ((y0 + y) * width + x0 + i * 8 + x) * 4;
        const c = `${rgba[o]},${rgba[o + 1]},${rgba[o + 2]}`;
        if (glyph[y] & (0x80 >> x)) {
          if (fg === '') fg = c;
          if (c !== fg || c === '0,0,0') bad++;
        } else if (c !== '0,0,0') bad++;
      }
  }
  return { bad, fg };
}
