// virtio-gpu wire format (VirtIO 1.2 §5.7.6; Linux include/uapi/linux/virtio_gpu.h): command and
// response codes, formats, struct sizes and offsets. Pure constants and names, no Node imports:
// the device, the chain decoder (extension host, debug adapter) and the tests share them.

export const VIRTIO_ID_GPU = 16;

/** Feature bits (§5.7.3). Only EDID is offered: no virgl, no blobs, no context init. */
export const VIRTIO_GPU_F_VIRGL = 0;
export const VIRTIO_GPU_F_EDID = 1;

/** Queues. */
export const CONTROLQ = 0;
export const CURSORQ = 1;

// 2D commands
export const CMD_GET_DISPLAY_INFO = 0x0100;
export const CMD_RESOURCE_CREATE_2D = 0x0101;
export const CMD_RESOURCE_UNREF = 0x0102;
export const CMD_SET_SCANOUT = 0x0103;
export const CMD_RESOURCE_FLUSH = 0x0104;
export const CMD_TRANSFER_TO_HOST_2D = 0x0105;
export const CMD_RESOURCE_ATTACH_BACKING = 0x0106;
export const CMD_RESOURCE_DETACH_BACKING = 0x0107;
export const CMD_GET_CAPSET_INFO = 0x0108;
export const CMD_GET_CAPSET = 0x0109;
export const CMD_GET_EDID = 0x010a;
// cursor commands
export const CMD_UPDATE_CURSOR = 0x0300;
export const CMD_MOVE_CURSOR = 0x0301;

// responses
export const RESP_OK_NODATA = 0x1100;
export const RESP_OK_DISPLAY_INFO = 0x1101;
export const RESP_OK_EDID = 0x1104;
export const RESP_ERR_UNSPEC = 0x1200;
export const RESP_ERR_OUT_OF_MEMORY = 0x1201;
export const RESP_ERR_INVALID_SCANOUT_ID = 0x1202;
export const RESP_ERR_INVALID_RESOURCE_ID = 0x1203;
export const RESP_ERR_INVALID_CONTEXT_ID = 0x1204;
export const RESP_ERR_INVALID_PARAMETER = 0x1205;

/** virtio_gpu_ctrl_hdr.flags */
export const FLAG_FENCE = 1;
export const FLAG_INFO_RING_IDX = 2;

/** virtio_gpu_config.events_read bit: the display configuration changed. */
export const EVENT_DISPLAY = 1;

// Formats (enum virtio_gpu_formats): the byte order in memory is the name's order.
export const FORMAT_B8G8R8A8 = 1;
export const FORMAT_B8G8R8X8 = 2;
export const FORMAT_A8R8G8B8 = 3;
export const FORMAT_X8R8G8B8 = 4;
export const FORMAT_R8G8B8A8 = 67;
export const FORMAT_X8B8G8R8 = 68;
export const FORMAT_A8B8G8R8 = 121;
export const FORMAT_R8G8B8X8 = 134;

/** Every format is 4 bytes per pixel. */
export const BYTES_PER_PIXEL = 4;

// Struct sizes (bytes).
export const HDR_SIZE = 24; // type, flags, fence_id (u64), ctx_id, ring_idx, padding[3]
export const RECT_SIZE = 16;
export const MEM_ENTRY_SIZE = 16; // addr (u64), length, padding
export const MAX_SCANOUTS = 16; // the display-info response always has 16 slots
export const DISPLAY_INFO_SIZE = HDR_SIZE + MAX_SCANOUTS * 24;
export const EDID_BYTES = 1024;
export const EDID_RESP_SIZE = HDR_SIZE + 8 + EDID_BYTES;

/** Request sizes: the readable part must hold at least this much. */
export const REQUEST_SIZE: Readonly<Record<number, number>> = {
  [CMD_GET_DISPLAY_INFO]: HDR_SIZE,
  [CMD_GET_EDID]: HDR_SIZE + 8,
  [CMD_RESOURCE_CREATE_2D]: HDR_SIZE + 16,
  [CMD_RESOURCE_UNREF]: HDR_SIZE + 8,
  [CMD_SET_SCANOUT]: HDR_SIZE + RECT_SIZE + 8,
  [CMD_RESOURCE_FLUSH]: HDR_SIZE + RECT_SIZE + 8,
  [CMD_TRANSFER_TO_HOST_2D]: HDR_SIZE + RECT_SIZE + 16,
  [CMD_RESOURCE_ATTACH_BACKING]: HDR_SIZE + 8,
  [CMD_RESOURCE_DETACH_BACKING]: HDR_SIZE + 8,
  [CMD_UPDATE_CURSOR]: HDR_SIZE + 32,
  [CMD_MOVE_CURSOR]: HDR_SIZE + 32,
};

/** The largest fixed-size request (cursor commands): what the device reads in one go. */
export const MAX_FIXED_REQUEST = HDR_SIZE + 32;

// virtio_gpu_config
export const CFG_EVENTS_READ = 0;
export const CFG_EVENTS_CLEAR = 4;
export const CFG_NUM_SCANOUTS = 8;
export const CFG_NUM_CAPSETS = 12;
export const CONFIG_SIZE = 16;

const COMMAND_NAMES: Readonly<Record<number, string>> = {
  [CMD_GET_DISPLAY_INFO]: 'GET_DISPLAY_INFO',
  [CMD_RESOURCE_CREATE_2D]: 'RESOURCE_CREATE_2D',
  [CMD_RESOURCE_UNREF]: 'RESOURCE_UNREF',
  [CMD_SET_SCANOUT]: 'SET_SCANOUT',
  [CMD_RESOURCE_FLUSH]: 'RESOURCE_FLUSH',
  [CMD_TRANSFER_TO_HOST_2D]: 'TRANSFER_TO_HOST_2D',
  [CMD_RESOURCE_ATTACH_BACKING]: 'RESOURCE_ATTACH_BACKING',
  [CMD_RESOURCE_DETACH_BACKING]: 'RESOURCE_DETACH_BACKING',
  [CMD_GET_CAPSET_INFO]: 'GET_CAPSET_INFO',
  [CMD_GET_CAPSET]: 'GET_CAPSET',
  [CMD_GET_EDID]: 'GET_EDID',
  0x010b: 'RESOURCE_ASSIGN_UUID',
  0x010c: 'RESOURCE_CREATE_BLOB',
  0x010d: 'SET_SCANOUT_BLOB',
  0x0200: 'CTX_CREATE',
  0x0201: 'CTX_DESTROY',
  0x0202: 'CTX_ATTACH_RESOURCE',
  0x0203: 'CTX_DETACH_RESOURCE',
  0x0204: 'RESOURCE_CREATE_3D',
  0x0205: 'TRANSFER_TO_HOST_3D',
  0x0206: 'TRANSFER_FROM_HOST_3D',
  0x0207: 'SUBMIT_3D',
  [CMD_UPDATE_CURSOR]: 'UPDATE_CURSOR',
  [CMD_MOVE_CURSOR]: 'MOVE_CURSOR',
};

const RESPONSE_NAMES: Readonly<Record<number, string>> = {
  [RESP_OK_NODATA]: 'OK_NODATA',
  [RESP_OK_DISPLAY_INFO]: 'OK_DISPLAY_INFO',
  0x1102: 'OK_CAPSET_INFO',
  0x1103: 'OK_CAPSET',
  [RESP_OK_EDID]: 'OK_EDID',
  [RESP_ERR_UNSPEC]: 'ERR_UNSPEC',
  [RESP_ERR_OUT_OF_MEMORY]: 'ERR_OUT_OF_MEMORY',
  [RESP_ERR_INVALID_SCANOUT_ID]: 'ERR_INVALID_SCANOUT_ID',
  [RESP_ERR_INVALID_RESOURCE_ID]: 'ERR_INVALID_RESOURCE_ID',
  [RESP_ERR_INVALID_CONTEXT_ID]: 'ERR_INVALID_CONTEXT_ID',
  [RESP_ERR_INVALID_PARAMETER]: 'ERR_INVALID_PARAMETER',
};

const FORMAT_NAMES: Readonly<Record<number, string>> = {
  [FORMAT_B8G8R8A8]: 'B8G8R8A8',
  [FORMAT_B8G8R8X8]: 'B8G8R8X8',
  [FORMAT_A8R8G8B8]: 'A8R8G8B8',
  [FORMAT_X8R8G8B8]: 'X8R8G8B8',
  [FORMAT_R8G8B8A8]: 'R8G8B8A8',
  [FORMAT_X8B8G8R8]: 'X8B8G8R8',
  [FORMAT_A8B8G8R8]: 'A8B8G8R8',
  [FORMAT_R8G8B8X8]: 'R8G8B8X8',
};

export function commandName(type: number): string {
  return COMMAND_NAMES[type] ?? `0x${(type >>> 0).toString(16)}`;
}

export function responseName(type: number): string {
  return RESPONSE_NAMES[type] ?? `0x${(type >>> 0).toString(16)}`;
}

/** The format's name, or null when the device does not support it. */
export function formatName(format: number): string | null {
  return FORMAT_NAMES[format] ?? null;
}

export function isSupportedFormat(format: number): boolean {
  return FORMAT_NAMES[format] !== undefined;
}

/**
 * How a format's pixels map to RGBA, as a code the converters switch on:
 * 0 = bytes B,G,R,(A|X); 1 = (A|X),R,G,B; 2 = R,G,B,(A|X); 3 = (X|A),B,G,R.
 */
export function formatLayout(format: number): number {
  switch (format) {
    case FORMAT_B8G8R8A8:
    case FORMAT_B8G8R8X8:
      return 0;
    case FORMAT_A8R8G8B8:
    case FORMAT_X8R8G8B8:
      return 1;
    case FORMAT_R8G8B8A8:
    case FORMAT_R8G8B8X8:
      return 2;
    case FORMAT_X8B8G8R8:
    case FORMAT_A8B8G8R8:
      return 3;
    default:
      return -1;
  }
}
