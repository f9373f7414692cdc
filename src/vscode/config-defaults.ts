// What "Boot semu" means when launch.json leaves things out — pure logic, no VS Code import, so
// it is unit-tested (test/extension/config.test.ts). The provider (config-provider.ts) adds the
// parts that need VS Code: settings, the guest build under a progress notification.

import type { SemuLaunchArguments } from '../../debug-adapter/launch';
import type { GuestArtifacts } from '../host/default-guest';

export const DEBUG_TYPE = 'semu';
export const DEFAULT_CONFIG_NAME = 'Boot semu';

export type SemuDebugConfiguration = SemuLaunchArguments & { type: string; request: string; name: string; [key: string]: unknown };

/** The configuration launch.json gets on "create a launch.json" and that F5 uses without one. */
export function defaultConfiguration(): SemuDebugConfiguration {
  return { type: DEBUG_TYPE, request: 'launch', name: DEFAULT_CONFIG_NAME, stopOnEntry: false };
}

export interface SemuSettings {
  audioOut: string;
  audioIn: string;
  logLevel: string;
}

/** One-shot overrides set by the "Record TX to WAV" / "Play WAV into RX" commands. */
export interface PendingOverrides {
  audioOut?: string;
  audioIn?: string;
}

/** True when VS Code handed us the empty configuration (F5 with no launch.json). */
export function isEmptyConfiguration(c: { type?: unknown; request?: unknown; name?: unknown }): boolean {
  return !c.type && !c.request && !c.name;
}

/**
 * Fills what the configuration leaves out: type/request/name when empty, audio backends from
 * the pending overrides (they win: the person just asked for them) then the settings, the log
 * level, the workspace folder for relative paths and as the folder shared with the guest
 * (virtio-fs on /mnt; `"sharedDir": ""` shares nothing) where the device can run: on Linux only,
 * so F5 elsewhere still boots. In an untrusted workspace the share is read-only, whatever
 * launch.json says. Returns a new object.
 */
export function applyDefaults(
  config: Partial<SemuDebugConfiguration>,
  settings: SemuSettings,
  pending: PendingOverrides = {},
  workspaceFolder?: string,
  { trusted = true, canShare = process.platform === 'linux' }: { trusted?: boolean; canShare?: boolean } = {},
): SemuDebugConfiguration {
  const base = isEmptyConfiguration(config) ? defaultConfiguration() : { ...config };
  const c = { ...defaultConfiguration(), ...base } as SemuDebugConfiguration;
  c.audioOut = pending.audioOut ?? c.audioOut ?? settings.audioOut;
  c.audioIn = pending.audioIn ?? c.audioIn ?? settings.audioIn;
  c.logLevel ??= settings.logLevel;
  if (workspaceFolder && c.cwd === undefined) c.cwd = workspaceFolder;
  if (workspaceFolder && canShare && c.sharedDir === undefined) c.sharedDir = workspaceFolder;
  if (!trusted) c.sharedDirReadOnly = true;
  return c;
}

/** True when the configuration needs the default guest (no kernel given). */
export function needsDefaultGuest(c: Partial<SemuDebugConfiguration>): boolean {
  return c.kernel === undefined || c.kernel === null || c.kernel === '';
}

/** Fills kernel/initrd/symbols from the built default guest, keeping anything the person set. */
export function withDefaultGuest(c: SemuDebugConfiguration, g: GuestArtifacts): SemuDebugConfiguration {
  // vmlinux: its DWARF gives source lines and call stacks (System.map only names).
  return { ...c, kernel: g.kernel, initrd: c.initrd ?? g.initrd, symbols: c.symbols ?? (g.vmlinux || g.systemMap) };
}

/** 'wav:/abs/path.wav' for a chosen file. */
export function wavSpec(path: string): string {
  return `wav:${path}`;
}
