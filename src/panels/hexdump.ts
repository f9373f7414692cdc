// A classic hex dump (address, 16 bytes, ASCII) for guest memory, used when VS Code's hex-editor
// memory view is not available: the readMemory answer goes into a read-only text document.

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/**
 * `address` is the guest-physical address of bytes[0]; `unreadable` bytes after the data could
 * not be read (outside RAM) and are shown as '??'.
 */
export function hexDump(address: number, bytes: Uint8Array, unreadable = 0, title = ''): string {
  const lines: string[] = [];
  if (title) lines.push(title, '');
  const total = bytes.length + Math.max(0, unreadable);
  const start = address - (address % 16);
  for (let line = start; line < address + total; line += 16) {
    let hexPart = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      const a = line + i;
      const k = a - address;
      if (i === 8) hexPart += ' ';
      if (k < 0 || k >= total) {
        hexPart += '   ';
        ascii += ' ';
      } else if (k >= bytes.length) {
        hexPart += '?? ';
        ascii += '?';
      } else {
        const b = bytes[k];
        hexPart += b.toString(16).padStart(2, '0') + ' ';
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      }
    }
    lines.push(`${hex8(line)}  ${hexPart} |${ascii}|`);
  }
  if (total === 0) lines.push('(no bytes)');
  return lines.join('\n') + '\n';
}
