// The null backend: output is discarded, input is silence, both at the stream's rate in guest time,
// so the guest's period clock runs exactly as with a sound card that plays nothing.

import type { AudioBackend, AudioStream, PcmParams } from './backend';
import { PacedStream, nullSink, nullSource } from './paced';
import type { PcmRing } from './ring';
import { checkParams, createStreamRing } from './stream-ring';

/** A null stream over an existing ring (the fallback of a failed backend keeps the device's ring). */
export function nullStream(params: PcmParams, ring: PcmRing, failure: string | null = null): PacedStream {
  const out = params.direction === 'output';
  return new PacedStream(params, ring, 'null', out ? nullSink : null, out ? null : nullSource, failure);
}

export class NullBackend implements AudioBackend {
  readonly spec = 'null';

  open(params: PcmParams): AudioStream {
    checkParams(params);
    return nullStream(params, createStreamRing(params));
  }

  dispose(): void {}
}
