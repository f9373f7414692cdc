// The ring every backend makes for a stream, and the checks every backend applies to its params.

import type { PcmParams } from './backend';
import { frameBytes } from './backend';
import { PcmRing } from './ring';

/** Shortest ring, in seconds of audio: covers a guest with tiny buffers plus host scheduling jitter. */
const MIN_RING_SECONDS = 0.2;

/**
 * A ring that holds the guest's whole buffer (so the device model can hand over everything the
 * driver queued), at least two periods, and at least MIN_RING_SECONDS of audio.
 */
export function createStreamRing(p: PcmParams): PcmRing {
  const fb = frameBytes(p);
  const want = Math.max(p.bufferBytes | 0, 2 * (p.periodBytes | 0), Math.ceil(p.rate * MIN_RING_SECONDS) * fb, 1024);
  return PcmRing.create(Math.min(want, 1 << 30));
}

/** Throws for params no device model should pass (a programming error, not device trouble). */
export function checkParams(p: PcmParams): void {
  const ok =
    (p.direction === 'output' || p.direction === 'input') &&
    (p.format === 'S16' || p.format === 'S32' || p.format === 'FLOAT') &&
    Number.isInteger(p.rate) &&
    p.rate >= 1000 &&
    p.rate <= 384000 &&
    Number.isInteger(p.channels) &&
    p.channels >= 1 &&
    p.channels <= 8;
  if (!ok) {
    throw new Error(
      `audio: bad stream params ${JSON.stringify(p)} (direction output|input, format S16|S32|FLOAT, ` +
        'rate 1000..384000, channels 1..8)',
    );
  }
}
