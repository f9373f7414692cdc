// A device's configuration space kept as bytes (VirtIO 1.2 §4.2.2: little-endian fields read with
// 1, 2 or 4-byte accesses). virtio-blk and virtio-snd read theirs the same way and can share this.

export function readConfigBytes(c: Uint8Array, offset: number, width: 1 | 2 | 4): number {
  if (width === 1) return c[offset];
  if (width === 2) return c[offset] | (c[offset + 1] << 8);
  return (c[offset] | (c[offset + 1] << 8) | (c[offset + 2] << 16) | (c[offset + 3] << 24)) >>> 0;
}
