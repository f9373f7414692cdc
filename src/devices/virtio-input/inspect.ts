// What the debugger shows of virtio-input: the chain decoder and the notify condition fields.
// Pure: no Node imports.

import * as P from './protocol';

/** Condition fields from the first pending chain's readable bytes (status events only). */
export function inputConditionFields(queue: number, readable: Uint8Array | null): { type: number; code: number; value: number } {
  if (queue !== P.STATUSQ || readable === null || readable.length < P.EVENT_SIZE) return { type: -1, code: -1, value: -1 };
  const d = new DataView(readable.buffer, readable.byteOffset, readable.byteLength);
  return { type: d.getUint16(0, true), code: d.getUint16(2, true), value: d.getInt32(4, true) };
}

/** "EV_LED LED_CAPSL 1", "EV_KEY 30 1": one event as evtest-like text. */
export function describeInputEvent(type: number, code: number, value: number): string {
  return `${P.eventTypeName(type)} ${P.eventCodeName(type, code)} ${value}`;
}

/**
 * One line for a chain: an empty event buffer on the event queue, the event on the status
 * queue, or what is wrong with its shape.
 */
export function describeInputChain(queue: number, readable: Uint8Array, readableLength: number, writableLength: number): string {
  if (queue === P.EVENTQ) {
    if (readableLength !== 0 || writableLength < P.EVENT_SIZE) return `malformed event buffer (${readableLength} readable / ${writableLength} writable bytes, needs 0 / 8)`;
    return `event buffer (${writableLength} bytes)`;
  }
  if (queue === P.STATUSQ) {
    const f = inputConditionFields(queue, readable);
    if (f.type < 0) return `short status event (${readableLength} bytes, needs 8)`;
    return `status ${describeInputEvent(f.type, f.code, f.value)}`;
  }
  return `queue ${queue}`;
}
