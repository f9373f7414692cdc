// The EDID 1.4 base block (VESA E-EDID A2, 128 bytes) GET_EDID answers: one monitor whose
// preferred and only detailed mode is the configured display size at 60 Hz (reduced blanking
// in the spirit of CVT-RB), plus the VESA established modes that fit inside it, so DRM lists
// the configured size first and a guest cannot pick a mode larger than the scanout buffer.
// Pure: no Node imports.

export const EDID_BLOCK = 128;
/** Limits of the 12-bit active fields and the 16-bit pixel clock at 60 Hz. */
export const EDID_MAX_WIDTH = 3840;
export const EDID_MAX_HEIGHT = 2400;

const H_BLANK = 160;
const H_FRONT = 48;
const H_SYNC = 32;
const V_FRONT = 3;
const V_SYNC = 5;
const REFRESH = 60;
/** Physical size reported at 96 dpi. */
const MM_PER_PIXEL = 25.4 / 96;

// Established timings (byte 35 bit 5: 640x480@60, byte 35 bit 0: 800x600@60, byte 36 bit 3: 1024x768@60).
const ESTABLISHED: readonly { w: number; h: number; byte: number; bit: number }[] = [
  { w: 640, h: 480, byte: 35, bit: 5 },
  { w: 800, h: 600, byte: 35, bit: 0 },
  { w: 1024, h: 768, byte: 36, bit: 3 },
];

/** Vertical blanking of at least 460 µs (CVT-RB's minimum), and at least 6 lines past the sync. */
function verticalBlank(height: number): number {
  const lineUs = 1e6 / REFRESH / (height + 30);
  return Math.max(V_FRONT + V_SYNC + 6, Math.ceil(460 / lineUs));
}

function manufacturerId(letters: string): number {
  let v = 0;
  for (const ch of letters) v = (v << 5) | (ch.charCodeAt(0) - 64);
  return v;
}

function writeText(b: Uint8Array, at: number, tag: number, text: string): void {
  b[at + 3] = tag;
  for (let i = 0; i < 13; i++) b[at + 5 + i] = i < text.length ? text.charCodeAt(i) : i === text.length ? 0x0a : 0x20;
}

/** sRGB primaries and D65 white, 10-bit fixed point (bytes 25-34). */
function writeChromaticity(b: Uint8Array): void {
  const c = [0.64, 0.33, 0.3, 0.6, 0.15, 0.06, 0.3127, 0.329].map((v) => Math.round(v * 1024));
  const lo = (i: number) => c[i] & 3;
  b[25] = (lo(0) << 6) | (lo(1) << 4) | (lo(2) << 2) | lo(3);
  b[26] = (lo(4) << 6) | (lo(5) << 4) | (lo(6) << 2) | lo(7);
  for (let i = 0; i < 8; i++) b[27 + i] = c[i] >> 2;
}

/** Detailed timing descriptor for width × height at 60 Hz, at byte `at`. */
function writeDetailedTiming(b: Uint8Array, at: number, width: number, height: number): void {
  const vBlank = verticalBlank(height);
  const clock10k = Math.ceil(((width + H_BLANK) * (height + vBlank) * REFRESH) / 10000);
  const wMm = Math.round(width * MM_PER_PIXEL);
  const hMm = Math.round(height * MM_PER_PIXEL);
  b[at] = clock10k & 0xff;
  b[at + 1] = clock10k >> 8;
  b[at + 2] = width & 0xff;
  b[at + 3] = H_BLANK & 0xff;
  b[at + 4] = ((width >> 8) << 4) | (H_BLANK >> 8);
  b[at + 5] = height & 0xff;
  b[at + 6] = vBlank & 0xff;
  b[at + 7] = ((height >> 8) << 4) | (vBlank >> 8);
  b[at + 8] = H_FRONT & 0xff;
  b[at + 9] = H_SYNC & 0xff;
  b[at + 10] = ((V_FRONT & 15) << 4) | (V_SYNC & 15);
  b[at + 11] = ((H_FRONT >> 8) << 6) | ((H_SYNC >> 8) << 4) | ((V_FRONT >> 4) << 2) | (V_SYNC >> 4);
  b[at + 12] = wMm & 0xff;
  b[at + 13] = hMm & 0xff;
  b[at + 14] = ((wMm >> 8) << 4) | (hMm >> 8);
  b[at + 17] = 0x1a; // digital separate sync, +hsync, -vsync (as CVT-RB)
}

/** The 128-byte base block for a display of width × height (within EDID_MAX_*). */
export function buildEdid(width: number, height: number, serial = 1): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > EDID_MAX_WIDTH || height > EDID_MAX_HEIGHT) {
    throw new RangeError(`EDID: a ${width}x${height} mode does not fit (1..${EDID_MAX_WIDTH} x 1..${EDID_MAX_HEIGHT})`);
  }
  const b = new Uint8Array(EDID_BLOCK);
  b.set([0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00], 0);
  const mfg = manufacturerId('SMU');
  b[8] = mfg >> 8;
  b[9] = mfg & 0xff;
  b[10] = 0x01; // product code 0x0001
  b[12] = serial & 0xff;
  b[13] = (serial >>> 8) & 0xff;
  b[14] = (serial >>> 16) & 0xff;
  b[15] = serial >>> 24;
  b[16] = 1; // week 1
  b[17] = 2025 - 1990;
  b[18] = 1;
  b[19] = 4; // EDID 1.4
  b[20] = 0xa0; // digital input, 8 bits per colour
  b[21] = Math.max(1, Math.round((width * MM_PER_PIXEL) / 10));
  b[22] = Math.max(1, Math.round((height * MM_PER_PIXEL) / 10));
  b[23] = 120; // gamma 2.2
  b[24] = 0x06; // RGB 4:4:4, sRGB default, preferred timing is native
  writeChromaticity(b);
  // Smaller VESA modes a guest may choose; the preferred size itself only once, as the DTD.
  for (const e of ESTABLISHED) if (e.w <= width && e.h <= height && (e.w !== width || e.h !== height)) b[e.byte] |= 1 << e.bit;
  for (let i = 38; i < 54; i++) b[i] = 0x01; // no standard timings
  writeDetailedTiming(b, 54, width, height);
  writeText(b, 72, 0xfc, 'semu'); // display product name
  writeText(b, 90, 0xff, `SEMU${serial}`); // display serial number
  b[108 + 3] = 0x10; // dummy descriptor
  b[126] = 0; // no extension blocks
  let sum = 0;
  for (let i = 0; i < 127; i++) sum += b[i];
  b[127] = (256 - (sum & 0xff)) & 0xff;
  return b;
}
