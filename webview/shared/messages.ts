// Messages into a panel arrive through window 'message' events: anything may show up there, so
// each is checked for the shape the panel relies on before it reaches a model.
import type { SessionState, ToPanel } from '../../src/shared/protocol';

const SESSION_STATES: readonly SessionState[] = ['none', 'running', 'paused'];

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export function parseToPanel(data: unknown): ToPanel | undefined {
  if (!isObj(data) || typeof data.type !== 'string') return undefined;
  switch (data.type) {
    case 'session':
      if (!SESSION_STATES.includes(data.state as SessionState)) return undefined;
      return { type: 'session', state: data.state as SessionState, name: typeof data.name === 'string' ? data.name : undefined };
    case 'levels':
      return isObj(data.body) && Array.isArray(data.body.streams) ? (data as ToPanel) : undefined;
    case 'streams':
      return isObj(data.body) && Array.isArray(data.body.streams) ? (data as ToPanel) : undefined;
    case 'select':
      return typeof data.device === 'string' && Number.isInteger(data.queue) ? { type: 'select', device: data.device, queue: data.queue as number } : undefined;
    case 'virtqueues':
      return isObj(data.body) && Array.isArray(data.body.devices) ? (data as ToPanel) : undefined;
    default:
      return undefined;
  }
}
