// A tiny in-process DAP client for SemuDebugSession, talking to it the way VS Code's
// DebugAdapterInlineImplementation does (handleMessage / onDidSendMessage). Used by the inline
// tests and bench/pause.ts.

import type { DebugProtocol } from '@vscode/debugprotocol';
import type { SemuDebugSession } from '../../debug-adapter/session';

export class InlineClient {
  private seq = 1;
  private readonly waiting = new Map<number, (r: DebugProtocol.Response) => void>();
  readonly events: DebugProtocol.Event[] = [];
  private readonly eventWaiters: { name: string; resolve: (e: DebugProtocol.Event) => void }[] = [];
  private readonly eventListeners: ((e: DebugProtocol.Event) => void)[] = [];
  private readonly sub: { dispose(): void };

  constructor(readonly session: SemuDebugSession) {
    this.sub = session.onDidSendMessage((m) => {
      const msg = m as DebugProtocol.ProtocolMessage;
      if (msg.type === 'response') {
        const r = msg as DebugProtocol.Response;
        this.waiting.get(r.request_seq)?.(r);
        this.waiting.delete(r.request_seq);
      } else if (msg.type === 'event') {
        const e = msg as DebugProtocol.Event;
        this.events.push(e);
        for (const l of this.eventListeners) l(e);
        const i = this.eventWaiters.findIndex((w) => w.name === e.event);
        if (i >= 0) this.eventWaiters.splice(i, 1)[0].resolve(e);
      }
    });
  }

  request<T extends DebugProtocol.Response>(command: string, args?: unknown): Promise<T> {
    const seq = this.seq++;
    return new Promise<T>((resolve) => {
      this.waiting.set(seq, (r) => resolve(r as T));
      this.session.handleMessage({ seq, type: 'request', command, arguments: args } as DebugProtocol.Request);
    });
  }

  /** Every event as it arrives (the session's onDidSendMessage takes one listener only: ours). */
  onEvent(listener: (e: DebugProtocol.Event) => void): void {
    this.eventListeners.push(listener);
  }

  event(name: string, timeout: number): Promise<DebugProtocol.Event> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no '${name}' event in ${timeout} ms`)), timeout);
      this.eventWaiters.push({ name, resolve: (e) => (clearTimeout(t), resolve(e)) });
    });
  }

  dispose(): void {
    this.sub.dispose();
    this.session.dispose();
  }
}

