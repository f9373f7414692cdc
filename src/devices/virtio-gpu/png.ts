// PNG (ISO/IEC 15948) writer for screendumps: 8-bit RGB, non-interlaced, filter "Up" on every
// row (cheap, and the console's repeated rows compress to almost nothing), deflate from node:zlib.

import { deflateSync } from 'node:zlib';
import { ScreenReader } from './screen';

const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);

let crcTable: Uint32Array | null = null;
function crc32(parts: Uint8Array[]): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const p of parts) for (let i = 0; i < p.length; i++) c = crcTable[(c ^ p[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32([head.subarray(4), data]), 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes width × height RGBA pixels (alpha dropped) as a PNG file. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`PNG: bad size ${width}x${height}`);
  if (rgba.length < width * height * 4) throw new RangeError(`PNG: ${rgba.length} bytes for ${width}x${height} pixels`);
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1);
    raw[row] = y === 0 ? 0 : 2; // None for the first row, Up after
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 4;
      const d = row + 1 + x * 3;
      if (y === 0) {
        raw[d] = rgba[s];
        raw[d + 1] = rgba[s + 1];
        raw[d + 2] = rgba[s + 2];
      } else {
        const u = s - width * 4;
        raw[d] = rgba[s] - rgba[u];
        raw[d + 1] = rgba[s + 1] - rgba[u + 1];
        raw[d + 2] = rgba[s + 2] - rgba[u + 2];
      }
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 6 })), chunk('IEND', new Uint8Array(0))]);
}

/**
 * The scanout as a PNG (what `--screendump FILE.png` writes), or null when no resource is
 * scanned out. Read from the shared screen: exact when the machine is stopped.
 */
export function screendump(screen: SharedArrayBuffer): Buffer | null {
  const r = new ScreenReader(screen);
  const g = r.geometry();
  if (!g.enabled) return null;
  return encodePng(g.width, g.height, r.readRgba({ x: 0, y: 0, w: g.width, h: g.height }));
}
