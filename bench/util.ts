// Small helpers the benchmarks share: the default guest's paths, and order statistics.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { extensionRoot } from '../src/paths';
import { SemuDebugSession } from '../debug-adapter/session';
import { InlineClient } from '../test/dap/inline-client';

export interface GuestPaths {
  kernel: string;
  initrd: string;
}

/** Builds (or finds cached) the default guest: guest/build.sh prints its paths as a JSON line. */
export function defaultGuest(): GuestPaths {
  const out = execFileSync('bash', [join(extensionRoot(), 'guest', 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out.trim().split('\n').pop()!) as GuestPaths;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The value below which a fraction p of xs lies (nearest rank). */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The adapter inline in this process, as the extension host runs it, launched on guest g with
 * null audio; the console text goes to onConsole. close() disconnects and waits for the worker. */
export async function launchInline(g: GuestPaths, onConsole: (text: string) => void): Promise<{ dc: InlineClient; close(): Promise<void> }> {
  const session = new SemuDebugSession({ consoleOut: onConsole });
  const dc = new InlineClient(session);
  const close = async () => {
    await dc.request('disconnect', {});
    await session.close();
    dc.dispose();
  };
  try {
    await dc.request('initialize', { adapterID: 'semu', pathFormat: 'path' });
    const launched = dc.request('launch', { kernel: g.kernel, initrd: g.initrd, audioOut: 'null', audioIn: 'null' });
    await dc.request('configurationDone');
    const l = await launched;
    if (!l.success) throw new Error(`launch failed: ${l.message}`);
  } catch (e) {
    await close();
    throw e;
  }
  return { dc, close };
}
