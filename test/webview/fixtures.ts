// Synthetic snapshots shaped like what the debug adapter sends: a virtio-snd card whose TX queue
// has two pending xfer chains and one held, and a virtio-blk disk. Values chosen so every index
// and slot is distinct and checkable.
import type { ChainSnapshot, DeviceSnapshot, LevelsEventBody, QueueSnapshot, VirtqueuesResponseBody } from '../../src/shared/protocol';

export function xferChain(head: number, base: number, pcmBytes: number, stream = 0): ChainSnapshot {
  return {
    head,
    decoded: `xfer stream ${stream}, ${pcmBytes} PCM bytes`,
    descriptors: [
      { index: head, addr: base, len: 4, flags: 1, flagNames: 'NEXT', next: head + 1 },
      { index: head + 1, addr: base + 0x100, len: pcmBytes, flags: 1, flagNames: 'NEXT', next: head + 2 },
      { index: head + 2, addr: base + 0x2000, len: 8, flags: 2, flagNames: 'WRITE', next: 0 },
    ],
  };
}

export function queue(over: Partial<QueueSnapshot> & Pick<QueueSnapshot, 'index' | 'name'>): QueueSnapshot {
  return {
    device: 'virtio-snd',
    ready: true,
    size: 64,
    maxSize: 1024,
    descAddr: 0x8100_0000 + over.index * 0x1000,
    availAddr: 0x8100_0400 + over.index * 0x1000,
    usedAddr: 0x8100_0800 + over.index * 0x1000,
    availIdx: 0,
    availFlags: 0,
    usedIdx: 0,
    usedFlags: 0,
    lastAvailIdx: 0,
    inFlight: 0,
    notifications: 0,
    interrupts: 0,
    pending: [],
    held: [],
    ...over,
  };
}

export function sndDevice(over: Partial<DeviceSnapshot> = {}): DeviceSnapshot {
  return {
    name: 'virtio-snd',
    deviceId: 25,
    base: 0xf470_0000,
    irq: 5,
    status: 15,
    statusNames: 'ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK',
    deviceFeatures: [0, 1],
    driverFeatures: [0, 1],
    needsReset: false,
    interruptStatus: 1,
    queues: [
      queue({ index: 0, name: 'controlq', availIdx: 12, usedIdx: 12, lastAvailIdx: 12, notifications: 12, interrupts: 12 }),
      queue({ index: 1, name: 'eventq', availIdx: 64, usedIdx: 0, lastAvailIdx: 0, size: 64 }),
      queue({
        index: 2,
        name: 'txq',
        // 66 − 64 = 2 pending chains in slots 0 and 1 (66 mod 64 = 2 is where the driver writes next);
        // one chain held; used.idx 63 → slot 63.
        availIdx: 66,
        lastAvailIdx: 64,
        usedIdx: 63,
        inFlight: 1,
        notifications: 40,
        interrupts: 37,
        pending: [xferChain(3, 0x8020_0000, 4096), xferChain(6, 0x8021_0000, 2048)],
        held: [xferChain(9, 0x8022_0000, 1024)],
      }),
      queue({ index: 3, name: 'rxq', availIdx: 4, lastAvailIdx: 4, usedIdx: 0, inFlight: 4 }),
    ],
    ...over,
  };
}

export function blkDevice(): DeviceSnapshot {
  return {
    name: 'virtio-blk',
    deviceId: 2,
    base: 0xf420_0000,
    irq: 3,
    status: 15,
    statusNames: 'ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK',
    deviceFeatures: [1 << 9, 1],
    driverFeatures: [1 << 9, 1],
    needsReset: false,
    interruptStatus: 0,
    queues: [
      queue({
        device: 'virtio-blk',
        index: 0,
        name: 'requestq',
        size: 128,
        availIdx: 1001,
        lastAvailIdx: 1000,
        usedIdx: 1000,
        pending: [
          {
            head: 17,
            decoded: 'IN sector 2048 × 8',
            descriptors: [
              { index: 17, addr: 0x8030_0000, len: 16, flags: 1, flagNames: 'NEXT', next: 18 },
              { index: 18, addr: 0x8031_0000, len: 4096, flags: 3, flagNames: 'NEXT|WRITE', next: 19 },
              { index: 19, addr: 0x8030_0010, len: 1, flags: 2, flagNames: 'WRITE', next: 0 },
            ],
          },
        ],
      }),
    ],
  };
}

export function snapshot(running: boolean, devices: DeviceSnapshot[] = [sndDevice(), blkDevice()]): VirtqueuesResponseBody {
  return { running, devices };
}

export function levels(time: number, peak: number, rms: number, extra: Partial<LevelsEventBody['streams'][number]> = {}): LevelsEventBody {
  return {
    time,
    running: true,
    streams: [
      {
        id: 0,
        direction: 'output',
        state: 'running',
        peak,
        rms,
        ringFill: 1024,
        ringCapacity: 4096,
        xrunsGuest: 0,
        xrunsHost: 0,
        format: 'S16',
        rate: 48000,
        channels: 2,
        backend: 'portaudio:pulse',
        ...extra,
      },
      {
        id: 1,
        direction: 'input',
        state: 'prepared',
        peak: 0,
        rms: 0,
        ringFill: 0,
        ringCapacity: 4096,
        xrunsGuest: 0,
        xrunsHost: 0,
        format: 'S16',
        rate: 48000,
        channels: 1,
        backend: 'null',
        backendFailure: 'PortAudio: no capture device',
      },
    ],
  };
}
