// Draws the extension's icon (media/icon.png, 256×256): a RISC-V chip with a sound wave across it.
// Plain geometry, 4× supersampled, written as PNG with zlib: `node scripts/icon.mjs`.
import { writeFileSync, mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = 256;
const SS = 4;
const BG = [27, 43, 69];
const CHIP = [214, 222, 235];
const PIN = [150, 164, 186];
const DIE = [40, 60, 92];
const WAVE = [255, 166, 48];

function roundRect(x, y, x0, y0, x1, y1, r) {
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return x >= x0 && x <= x1 && y >= y0 && y <= y1 && (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/** The colour at a point (coordinates in 0..256), or null for transparent. */
function shade(x, y) {
  if (!roundRect(x, y, 0, 0, 256, 256, 44)) return null;
  // A sine of 1.5 periods; its stroke is 14 px wide measured across the curve (distance / √(1+slope²)).
  const ph = ((x - 24) / 208) * 3 * Math.PI;
  const slope = 52 * ((3 * Math.PI) / 208) * Math.cos(ph);
  if (x > 20 && x < 236 && Math.abs(y - (128 + 52 * Math.sin(ph))) / Math.sqrt(1 + slope * slope) < 7) return WAVE;
  if (roundRect(x, y, 78, 78, 178, 178, 10)) return roundRect(x, y, 98, 98, 158, 158, 6) ? DIE : CHIP;
  for (let i = 0; i < 5; i++) {
    const p = 90 + i * 19;
    if ((x >= p && x <= p + 8 && ((y >= 56 && y < 78) || (y > 178 && y <= 200))) || (y >= p && y <= p + 8 && ((x >= 56 && x < 78) || (x > 178 && x <= 200)))) return PIN;
  }
  return BG;
}

function pixels() {
  const rgba = Buffer.alloc(N * N * 4);
  for (let py = 0; py < N; py++) {
    for (let px = 0; px < N; px++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const c = shade(px + (sx + 0.5) / SS, py + (sy + 0.5) / SS);
          if (!c) continue;
          acc[0] += c[0];
          acc[1] += c[1];
          acc[2] += c[2];
          acc[3]++;
        }
      }
      const o = (py * N + px) * 4;
      if (acc[3]) for (let k = 0; k < 3; k++) rgba[o + k] = Math.round(acc[k] / acc[3]);
      rgba[o + 3] = Math.round((255 * acc[3]) / (SS * SS));
    }
  }
  return rgba;
}

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function png(rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(N, 0);
  ihdr.writeUInt32BE(N, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  const raw = Buffer.alloc(N * (N * 4 + 1));
  for (let y = 0; y < N; y++) rgba.copy(raw, y * (N * 4 + 1) + 1, y * N * 4, (y + 1) * N * 4);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'media', 'icon.png');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, png(pixels()));
process.stdout.write(`${out}\n`);
