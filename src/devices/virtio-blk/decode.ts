// What the inspector and the Devices scope say about a virtio-blk request chain (VirtIO 1.2
// §5.2.6: a 16-byte header `type, reserved, sector`, then data, then one status byte).

const BLK_TYPES: Record<number, string> = { 0: 'IN', 1: 'OUT', 4: 'FLUSH', 8: 'GET_ID', 11: 'DISCARD', 13: 'WRITE_ZEROES' };

/** 'IN sector 2048 × 8', 'OUT sector 0 × 1', 'FLUSH', 'GET_ID'. */
export function describeBlkChain(_queue: number, readable: Uint8Array, readableLength: number, writableLength: number): string {
  if (readable.length < 16) return 'short header';
  const dv = new DataView(readable.buffer, readable.byteOffset, readable.byteLength);
  const type = dv.getUint32(0, true);
  const sector = dv.getUint32(12, true) * 4294967296 + dv.getUint32(8, true);
  const name = BLK_TYPES[type] ?? `type ${type}`;
  if (type === 0) return `${name} sector ${sector} × ${Math.max(0, Math.floor((writableLength - 1) / 512))}`;
  if (type === 1) return `${name} sector ${sector} × ${Math.max(0, Math.floor((readableLength - 16) / 512))}`;
  return name;
}
