// Level arithmetic for the meters: linear sample amplitude (0..1, full scale = 1) ⇄ dBFS, and
// the position of a dB value on the panel's fixed −60..0 dB scale. Pure, so it is unit-tested.

/** Bottom of every meter and sparkline: quieter than this reads as silence. */
export const DB_FLOOR = -60;
/** Top of the scale: full scale. FLOAT streams may exceed it; the meter clips and says so. */
export const DB_CEIL = 0;

/** 20·log10(x); −Infinity for silence and for garbage (NaN, negative) from a misbehaving source. */
export function linearToDb(linear: number): number {
  if (!(linear > 0) || !Number.isFinite(linear)) return linear === Infinity ? Infinity : -Infinity;
  return 20 * Math.log10(linear);
}

/** Where a dB value sits on the −60..0 scale, 0..1 (clamped). */
export function dbToFraction(db: number): number {
  if (!(db > DB_FLOOR)) return 0; // also NaN and −Infinity
  if (db >= DB_CEIL) return 1;
  return (db - DB_FLOOR) / (DB_CEIL - DB_FLOOR);
}

/** A dB value clamped to the scale, for aria-valuenow and the history (never ±Infinity). */
export function clampDb(db: number): number {
  if (!(db > DB_FLOOR)) return DB_FLOOR;
  return db > DB_CEIL ? DB_CEIL : db;
}

/** '−12.3 dB', '−∞ dB' below the floor, '+0.4 dB' above full scale (clipping is worth seeing). */
export function formatDb(db: number): string {
  if (!(db > DB_FLOOR)) return '−∞ dB';
  const v = Math.round(db * 10) / 10;
  if (v > 0) return `+${v.toFixed(1)} dB`;
  if (v === 0) return '0.0 dB';
  return `−${(-v).toFixed(1)} dB`;
}
