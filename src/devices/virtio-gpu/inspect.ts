// What the debugger shows of virtio-gpu: the chain decoder for the virtqueue inspector and the
// Devices scope, and the notify condition fields. Pure: no Node imports.

import * as P from './protocol';

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u32(d: DataView, at: number): number {
  return at + 4 <= d.byteLength ? d.getUint32(at, true) : -1;
}

/** Byte offset of the resource id in each request that names one. */
const RESOURCE_AT: Readonly<Record<number, number>> = {
  [P.CMD_RESOURCE_CREATE_2D]: 24,
  [P.CMD_RESOURCE_UNREF]: 24,
  [P.CMD_RESOURCE_ATTACH_BACKING]: 24,
  [P.CMD_RESOURCE_DETACH_BACKING]: 24,
  [P.CMD_SET_SCANOUT]: 44,
  [P.CMD_RESOURCE_FLUSH]: 40,
  [P.CMD_TRANSFER_TO_HOST_2D]: 48,
  [P.CMD_UPDATE_CURSOR]: 40,
};

/** Condition fields for a notify breakpoint, from the first pending chain's readable bytes. */
export function gpuConditionFields(readable: Uint8Array | null): { command: number; resource: number } {
  if (readable === null || readable.length < 4) return { command: -1, resource: -1 };
  const d = view(readable);
  const command = d.getUint32(0, true);
  const at = RESOURCE_AT[command];
  return { command, resource: at === undefined ? -1 : u32(d, at) };
}

function rect(d: DataView, at: number): string {
  return `${u32(d, at + 8)}×${u32(d, at + 12)}+${u32(d, at)}+${u32(d, at + 4)}`;
}

/**
 * One line for a chain: the command and its arguments ("TRANSFER_TO_HOST_2D res 2 1024×16+0+32
 * offset 131072 · fence 7"). `readable` is the chain's first readable bytes (64 are enough).
 */
export function describeGpuChain(_queue: number, readable: Uint8Array, readableLength: number, writableLength: number): string {
  if (readable.length < P.HDR_SIZE) return `short request (${readableLength} bytes, needs ${P.HDR_SIZE})`;
  const d = view(readable);
  const type = d.getUint32(0, true);
  const name = P.commandName(type);
  const need = P.REQUEST_SIZE[type];
  if (need !== undefined && readableLength < need) return `${name}: short (${readableLength} of ${need} bytes)`;
  let args = '';
  switch (type) {
    case P.CMD_GET_EDID:
      args = `scanout ${u32(d, 24)}`;
      break;
    case P.CMD_RESOURCE_CREATE_2D:
      args = `res ${u32(d, 24)} ${P.formatName(u32(d, 28)) ?? `format ${u32(d, 28)}`} ${u32(d, 32)}×${u32(d, 36)}`;
      break;
    case P.CMD_RESOURCE_UNREF:
    case P.CMD_RESOURCE_DETACH_BACKING:
      args = `res ${u32(d, 24)}`;
      break;
    case P.CMD_RESOURCE_ATTACH_BACKING:
      args = `res ${u32(d, 24)} × ${u32(d, 28)} entries`;
      break;
    case P.CMD_SET_SCANOUT:
      args = `scanout ${u32(d, 40)} ← res ${u32(d, 44)} ${rect(d, 24)}`;
      break;
    case P.CMD_RESOURCE_FLUSH:
      args = `res ${u32(d, 40)} ${rect(d, 24)}`;
      break;
    case P.CMD_TRANSFER_TO_HOST_2D:
      args = `res ${u32(d, 48)} ${rect(d, 24)} offset ${u32(d, 44) * 4294967296 + u32(d, 40)}`;
      break;
    case P.CMD_UPDATE_CURSOR:
      args = `res ${u32(d, 40)} at ${u32(d, 28) | 0},${u32(d, 32) | 0} hot ${u32(d, 44)},${u32(d, 48)}`;
      break;
    case P.CMD_MOVE_CURSOR:
      args = `to ${u32(d, 28) | 0},${u32(d, 32) | 0}`;
      break;
  }
  const flags = d.getUint32(4, true);
  const fence = flags & P.FLAG_FENCE ? ` · fence ${d.getUint32(12, true) * 4294967296 + d.getUint32(8, true)}` : '';
  const room = writableLength > 0 && writableLength < P.HDR_SIZE ? ` · no room for a response (${writableLength} bytes)` : '';
  return `${name}${args ? ' ' + args : ''}${fence}${room}`;
}
