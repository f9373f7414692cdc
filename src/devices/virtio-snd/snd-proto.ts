// virtio-snd wire format (VirtIO 1.2 §5.14): request codes, status codes, struct sizes and field
// offsets, and the encoders for the info structures the device answers with. Everything is
// little-endian; offsets are bytes from the start of the structure.

import type { SampleFormat } from '../../audio/backend';

// ---- queues (§5.14.2) ----
export const VIRTIO_SND_VQ_CONTROL = 0;
export const VIRTIO_SND_VQ_EVENT = 1;
export const VIRTIO_SND_VQ_TX = 2;
export const VIRTIO_SND_VQ_RX = 3;

// ---- directions ----
export const VIRTIO_SND_D_OUTPUT = 0;
export const VIRTIO_SND_D_INPUT = 1;

// ---- request codes (§5.14.6) ----
export const VIRTIO_SND_R_JACK_INFO = 1;
export const VIRTIO_SND_R_JACK_REMAP = 2;
export const VIRTIO_SND_R_PCM_INFO = 0x0100;
export const VIRTIO_SND_R_PCM_SET_PARAMS = 0x0101;
export const VIRTIO_SND_R_PCM_PREPARE = 0x0102;
export const VIRTIO_SND_R_PCM_RELEASE = 0x0103;
export const VIRTIO_SND_R_PCM_START = 0x0104;
export const VIRTIO_SND_R_PCM_STOP = 0x0105;
export const VIRTIO_SND_R_CHMAP_INFO = 0x0200;
/** Control-element requests (0x0300..0x0306) need VIRTIO_SND_F_CTLS, which this device does not offer. */
export const VIRTIO_SND_R_CTL_FIRST = 0x0300;
export const VIRTIO_SND_R_CTL_LAST = 0x0306;

// ---- events ----
export const VIRTIO_SND_EVT_JACK_CONNECTED = 0x1000;
export const VIRTIO_SND_EVT_JACK_DISCONNECTED = 0x1001;
export const VIRTIO_SND_EVT_PCM_PERIOD_ELAPSED = 0x1100;
export const VIRTIO_SND_EVT_PCM_XRUN = 0x1101;

// ---- status codes ----
export const VIRTIO_SND_S_OK = 0x8000;
export const VIRTIO_SND_S_BAD_MSG = 0x8001;
export const VIRTIO_SND_S_NOT_SUPP = 0x8002;
export const VIRTIO_SND_S_IO_ERR = 0x8003;

// ---- PCM stream features (bit numbers) ----
export const VIRTIO_SND_PCM_F_SHMEM_HOST = 0;
export const VIRTIO_SND_PCM_F_SHMEM_GUEST = 1;
export const VIRTIO_SND_PCM_F_MSG_POLLING = 2;
export const VIRTIO_SND_PCM_F_EVT_SHMEM_PERIODS = 3;
export const VIRTIO_SND_PCM_F_EVT_XRUNS = 4;

// ---- sample formats (bit numbers in virtio_snd_pcm_info.formats) ----
export const VIRTIO_SND_PCM_FMT_S16 = 5;
export const VIRTIO_SND_PCM_FMT_S32 = 17;
export const VIRTIO_SND_PCM_FMT_FLOAT = 19;

/** The formats every stream really supports end to end (the host backends take these three). */
export const SUPPORTED_FORMATS: readonly number[] = [VIRTIO_SND_PCM_FMT_S16, VIRTIO_SND_PCM_FMT_S32, VIRTIO_SND_PCM_FMT_FLOAT];

export function formatName(fmt: number): SampleFormat | null {
  if (fmt === VIRTIO_SND_PCM_FMT_S16) return 'S16';
  if (fmt === VIRTIO_SND_PCM_FMT_S32) return 'S32';
  if (fmt === VIRTIO_SND_PCM_FMT_FLOAT) return 'FLOAT';
  return null;
}

/** Frame rates by virtio rate index (VIRTIO_SND_PCM_RATE_5512 = 0 ... 384000 = 13). */
export const RATE_BY_INDEX: readonly number[] = [5512, 8000, 11025, 16000, 22050, 32000, 44100, 48000, 64000, 88200, 96000, 176400, 192000, 384000];
/** Indexes of the rates offered: 8 kHz to 48 kHz, what every backend (PortAudio, WAV, null) takes. */
export const SUPPORTED_RATE_INDEXES: readonly number[] = [1, 2, 3, 4, 5, 6, 7];

export const CHANNELS_MIN = 1;
export const CHANNELS_MAX = 2;

/**
 * Upper bound for buffer_bytes and for one transfer's PCM bytes. Linux asks for at most 160 ms at
 * the largest rate × channels × sample (about 60 KiB); the bound keeps a hostile guest from
 * making the host allocate huge rings.
 */
export const MAX_BUFFER_BYTES = 4 << 20;

// ---- structure sizes ----
export const SND_CONFIG_SIZE = 16; // jacks, streams, chmaps, controls
export const HDR_SIZE = 4; // virtio_snd_hdr { code }
export const QUERY_INFO_SIZE = 16; // hdr, start_id, count, size
export const JACK_HDR_SIZE = 8;
export const JACK_REMAP_SIZE = 16;
export const PCM_HDR_SIZE = 8;
export const PCM_SET_PARAMS_SIZE = 24;
export const CHMAP_HDR_SIZE = 8;
export const JACK_INFO_SIZE = 24;
export const PCM_INFO_SIZE = 32;
export const CHMAP_INFO_SIZE = 24;
export const PCM_XFER_SIZE = 4; // stream_id
export const PCM_STATUS_SIZE = 8; // status, latency_bytes
export const EVENT_SIZE = 8; // hdr, data
export const CHMAP_MAX_SIZE = 18;

// ---- virtio_snd_pcm_set_params field offsets ----
export const SP_BUFFER_BYTES = 8;
export const SP_PERIOD_BYTES = 12;
export const SP_FEATURES = 16;
export const SP_CHANNELS = 20;
export const SP_FORMAT = 21;
export const SP_RATE = 22;

// ---- channel positions ----
export const VIRTIO_SND_CHMAP_MONO = 2;
export const VIRTIO_SND_CHMAP_FL = 3;
export const VIRTIO_SND_CHMAP_FR = 4;

// ---- HDA pin configuration (High Definition Audio spec §7.3.3.31) and capabilities (§7.3.4.9) ----
// Default configuration: [31:30] connectivity (0 = jack), [29:24] location (0x01 = external, rear),
// [23:20] default device, [19:16] connection type (1 = 1/8" jack), [15:12] colour,
// [7:4] default association, [3:0] sequence.
const HDA_DEV_LINE_OUT = 0x0;
const HDA_DEV_MIC_IN = 0xa;
const HDA_COLOR_GREEN = 0x4;
const HDA_COLOR_PINK = 0x9;
function hdaDefconf(device: number, color: number, association: number): number {
  return ((0x01 << 24) | (device << 20) | (1 << 16) | (color << 12) | (association << 4)) >>> 0;
}
export const JACK_DEFCONF_OUT = hdaDefconf(HDA_DEV_LINE_OUT, HDA_COLOR_GREEN, 1);
export const JACK_DEFCONF_IN = hdaDefconf(HDA_DEV_MIC_IN, HDA_COLOR_PINK, 2);
const HDA_PINCAP_PRESENCE_DETECT = 1 << 2;
const HDA_PINCAP_OUTPUT = 1 << 4;
const HDA_PINCAP_INPUT = 1 << 5;
export const JACK_CAPS_OUT = HDA_PINCAP_PRESENCE_DETECT | HDA_PINCAP_OUTPUT;
export const JACK_CAPS_IN = HDA_PINCAP_PRESENCE_DETECT | HDA_PINCAP_INPUT;

/** Every stream, jack and channel map belongs to function group 0: Linux builds one PCM device from them. */
export const HDA_FN_NID = 0;

// ---- little-endian helpers over a plain byte buffer ----
export function le32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

function bitmap(bits: readonly number[]): [number, number] {
  let lo = 0;
  let hi = 0;
  for (const b of bits) {
    if (b < 32) lo |= 1 << b;
    else hi |= 1 << (b - 32);
  }
  return [lo >>> 0, hi >>> 0];
}
export const FORMATS_BITMAP = bitmap(SUPPORTED_FORMATS);
export const RATES_BITMAP = bitmap(SUPPORTED_RATE_INDEXES);
/** Stream features the device offers: XRUN notifications on the event queue. */
export const PCM_FEATURES = 1 << VIRTIO_SND_PCM_F_EVT_XRUNS;

// ---- info encoders: each writes one structure at `o` in `b` (bytes beyond it are left alone) ----

export function encodeJackInfo(b: Uint8Array, o: number, direction: number): void {
  b.fill(0, o, o + JACK_INFO_SIZE);
  put32(b, o, HDA_FN_NID);
  put32(b, o + 4, 0); // no JACK_F_REMAP
  put32(b, o + 8, direction === VIRTIO_SND_D_OUTPUT ? JACK_DEFCONF_OUT : JACK_DEFCONF_IN);
  put32(b, o + 12, direction === VIRTIO_SND_D_OUTPUT ? JACK_CAPS_OUT : JACK_CAPS_IN);
  b[o + 16] = 1; // connected: the host's default device is always there
}

export function encodePcmInfo(b: Uint8Array, o: number, direction: number): void {
  b.fill(0, o, o + PCM_INFO_SIZE);
  put32(b, o, HDA_FN_NID);
  put32(b, o + 4, PCM_FEATURES);
  put32(b, o + 8, FORMATS_BITMAP[0]);
  put32(b, o + 12, FORMATS_BITMAP[1]);
  put32(b, o + 16, RATES_BITMAP[0]);
  put32(b, o + 20, RATES_BITMAP[1]);
  b[o + 24] = direction;
  b[o + 25] = CHANNELS_MIN;
  b[o + 26] = CHANNELS_MAX;
}

/** A channel map: mono (one position) or stereo (front left, front right). */
export function encodeChmapInfo(b: Uint8Array, o: number, direction: number, channels: number): void {
  b.fill(0, o, o + CHMAP_INFO_SIZE);
  put32(b, o, HDA_FN_NID);
  b[o + 4] = direction;
  b[o + 5] = channels;
  if (channels === 1) {
    b[o + 6] = VIRTIO_SND_CHMAP_MONO;
  } else {
    b[o + 6] = VIRTIO_SND_CHMAP_FL;
    b[o + 7] = VIRTIO_SND_CHMAP_FR;
  }
}

const REQUEST_NAMES: Record<number, string> = {
  [VIRTIO_SND_R_JACK_INFO]: 'JACK_INFO',
  [VIRTIO_SND_R_JACK_REMAP]: 'JACK_REMAP',
  [VIRTIO_SND_R_PCM_INFO]: 'PCM_INFO',
  [VIRTIO_SND_R_PCM_SET_PARAMS]: 'PCM_SET_PARAMS',
  [VIRTIO_SND_R_PCM_PREPARE]: 'PCM_PREPARE',
  [VIRTIO_SND_R_PCM_RELEASE]: 'PCM_RELEASE',
  [VIRTIO_SND_R_PCM_START]: 'PCM_START',
  [VIRTIO_SND_R_PCM_STOP]: 'PCM_STOP',
  [VIRTIO_SND_R_CHMAP_INFO]: 'CHMAP_INFO',
};

export function requestName(code: number): string {
  return REQUEST_NAMES[code] ?? `0x${(code >>> 0).toString(16)}`;
}

export function statusName(status: number): string {
  switch (status) {
    case VIRTIO_SND_S_OK:
      return 'OK';
    case VIRTIO_SND_S_BAD_MSG:
      return 'BAD_MSG';
    case VIRTIO_SND_S_NOT_SUPP:
      return 'NOT_SUPP';
    case VIRTIO_SND_S_IO_ERR:
      return 'IO_ERR';
    default:
      return `0x${(status >>> 0).toString(16)}`;
  }
}

/**
 * Human decoding of a chain's first readable bytes for the virtqueue inspector: 'PCM_SET_PARAMS
 * stream 0', 'PCM_INFO 0..2', 'xfer stream 1, 4096 bytes'. `readable` holds the start of the
 * readable part (any length); `readableLength`/`writableLength` are the chain's totals.
 */
export function describeSndChain(queue: number, readable: Uint8Array, readableLength: number, writableLength: number): string {
  if (readable.length < 4) return 'short header';
  const code = le32(readable, 0);
  const arg = readable.length >= 8 ? le32(readable, 4) : -1;
  if (queue === VIRTIO_SND_VQ_TX) return `xfer stream ${code}, ${Math.max(0, readableLength - PCM_XFER_SIZE)} PCM bytes`;
  if (queue === VIRTIO_SND_VQ_RX) return `xfer stream ${code}, ${Math.max(0, writableLength - PCM_STATUS_SIZE)} bytes of room`;
  if (queue !== VIRTIO_SND_VQ_CONTROL) return 'event buffer';
  const name = requestName(code);
  if (code === VIRTIO_SND_R_JACK_INFO || code === VIRTIO_SND_R_PCM_INFO || code === VIRTIO_SND_R_CHMAP_INFO) {
    const count = readable.length >= 12 ? le32(readable, 8) : 0;
    return `${name} ${arg}..${arg + count - 1}`;
  }
  if (arg < 0) return name;
  if (code >= VIRTIO_SND_R_PCM_SET_PARAMS && code <= VIRTIO_SND_R_PCM_STOP) return `${name} stream ${arg}`;
  if (code === VIRTIO_SND_R_JACK_REMAP) return `${name} jack ${arg}`;
  return name;
}
