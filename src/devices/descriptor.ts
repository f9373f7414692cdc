// What one device is, declared once (docs/adding-a-device.md). The machine, the device tree, the
// CLI, the launch schema, the notify filters, the virtqueue inspector and the debugger all read
// these descriptors through the registry (registry.ts); none of them names a device.
//
// A descriptor is data plus small pure functions, safe to import anywhere (extension host, debug
// adapter, worker), except `create`, which the emulator worker calls to build the device model.

import type { VirtioSlotName } from '../emulator/devices/map';
import type { GuestClock } from '../emulator/types';
import type { VirtioDevice } from '../emulator/virtio/types';
import type { ChainDecoder } from '../emulator/virtio/inspect';
import type { OptionSpec } from '../host/option-spec';
import type { StreamSnapshot } from '../shared/protocol';

/** What a device model may use of the machine it is built for. */
export interface DeviceContext {
  /** The guest clock (65 MHz ticks): paces host-side work such as audio periods. */
  readonly clock: GuestClock;
  readonly timebaseHz: number;
  /** The machine runs with `--time icount`: the device must be reproducible (no host randomness). */
  readonly deterministic: boolean;
}

/** A breakpoint on this device's QueueNotify writes, offered in the Breakpoints view. */
export interface NotifyFilterSpec {
  /** Exception-filter id: 'virtio-snd-tx'. Unique over all devices. */
  readonly id: string;
  readonly label: string;
  /** The queue it stops on; null: any queue of the device. */
  readonly queue: number | null;
  readonly description: string;
}

/**
 * An extra field the notify conditions can name (beside the generic queue fields), read from the
 * first pending chain's device-readable bytes: e.g. virtio-snd's `stream`.
 */
export interface ConditionField {
  readonly name: string;
  readonly description: string;
  /** The queues whose chains carry it; on other queues (or unreadable chains) it is -1. */
  readonly queues: readonly number[];
  /** Bytes of the chain's readable start it needs. */
  readonly bytes: number;
  /** The value from those bytes (at least `bytes` long), or -1. */
  read(prefix: Uint8Array): number;
}

/** A node of the Devices scope (and the semu view): a value, or a group of children. */
export interface StateNode {
  readonly name: string;
  readonly value: string | number;
  readonly children?: readonly StateNode[];
  /** A guest-physical address the memory view can open. */
  readonly address?: number;
}

export interface DeviceDescriptor<O extends object = object> {
  /** The device's name everywhere: 'virtio-blk'. */
  readonly name: string;
  /** One line for people: 'block device on a raw disk image'. */
  readonly summary: string;
  /** VirtIO device ID (VirtIO 1.2 §5). */
  readonly deviceId: number;
  /** Its slot in semu's map (MMIO window and PLIC source; devices/map.ts). */
  readonly slot: VirtioSlotName;
  readonly queueNames: readonly string[];
  /** Its options (flags and launch attributes); their keys are fields of O. */
  readonly options: readonly OptionSpec[];
  /** Whether these options ask for the device (blk: a disk was given). */
  enabled(options: Partial<O>): boolean;
  /**
   * Builds the device model (emulator worker only). Host resources it opens (files, audio,
   * processes) belong to the device, which frees them in dispose(). A problem the person can fix
   * throws an Error whose message says what to do.
   */
  create(options: O, ctx: DeviceContext): VirtioDevice;
  /**
   * Kernel command-line words the device needs when present, put before the default command line
   * (so `console=tty0` stays ahead of the serial console that must be /dev/console). A command
   * line the person gives is used as it is.
   */
  bootargs?(options: O): string;
  readonly notifyFilters?: readonly NotifyFilterSpec[];
  readonly conditionFields?: readonly ConditionField[];
  /** Describes a chain for the inspector and the Devices scope. */
  readonly decodeChain?: ChainDecoder;
  /** The device's live state, from the SharedArrayBuffer its model shares (VirtioDevice.sharedState). */
  readState?(state: SharedArrayBuffer): StateNode[];
  /** PCM streams, for the levels panel: only sound devices have them. */
  streams?(state: SharedArrayBuffer): StreamSnapshot[];
}
