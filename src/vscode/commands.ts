// The extension's commands (package.json contributes.commands):
//   semu.buildGuest   build (or reuse) the default guest; offers a full rebuild afterwards
//   semu.openLevels   the live TX/RX levels panel       (alias of the panels' semu.showLevels)
//   semu.openInspector the virtqueue inspector           (alias of semu.showVirtqueues)
//   semu.recordTx     pick a WAV file; the guest's playback is written to it (audioOut wav:PATH)
//   semu.playRx       pick a WAV file; the guest's capture reads it          (audioIn  wav:PATH)
//   semu.showLog      the "semu" output channel
//   semu.boot         start "Boot semu" (the Run and Debug welcome, the semu view, the walkthrough)
//   semu.inspectQueue a queue (semu view item, or Variables › Devices › … › queue) in the inspector
//   semu.refreshDevices the semu view, now
// recordTx/playRx with a machine running offer "restart now with it" or "use it for the next
// launch" (a one-shot override of the semu.audioOut/audioIn settings); with none running they
// start "Boot semu" with it.

import * as vscode from 'vscode';
import type { PanelHub } from '../panels/hub';
import { SHOW_LEVELS_COMMAND, SHOW_VIRTQUEUES_COMMAND } from '../panels/index';
import { DAP_VIRTQUEUES, type VirtqueuesResponseBody } from '../shared/protocol';
import { queueFromVariable } from './device-model';
import type { DeviceView } from './device-view';
import { hasShippedGuest } from '../host/default-guest';
import { buildDefaultGuest, type SemuConfigurationProvider } from './config-provider';
import { DEBUG_TYPE, defaultConfiguration, wavSpec } from './config-defaults';

export interface CommandContext {
  provider: SemuConfigurationProvider;
  channel: vscode.OutputChannel;
  /** The semu debug session the panels follow, if any. */
  currentSession(): vscode.DebugSession | undefined;
  hub: PanelHub;
  devices: DeviceView;
}

export function registerCommands(context: vscode.ExtensionContext, c: CommandContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('semu.buildGuest', () => buildGuestCommand()),
    vscode.commands.registerCommand('semu.openLevels', () => vscode.commands.executeCommand(SHOW_LEVELS_COMMAND)),
    vscode.commands.registerCommand('semu.openInspector', () => vscode.commands.executeCommand(SHOW_VIRTQUEUES_COMMAND)),
    vscode.commands.registerCommand('semu.recordTx', () => chooseWav(c, 'audioOut')),
    vscode.commands.registerCommand('semu.playRx', () => chooseWav(c, 'audioIn')),
    vscode.commands.registerCommand('semu.showLog', () => c.channel.show(true)),
    vscode.commands.registerCommand('semu.boot', () => vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], defaultConfiguration())),
    vscode.commands.registerCommand('semu.inspectQueue', (arg: unknown) => inspectQueue(c, arg)),
    vscode.commands.registerCommand('semu.refreshDevices', () => c.devices.refresh()),
  );
}

/** From the semu view ({ device, index }) or the Variables context menu ({ variable: { name } }). */
async function inspectQueue(c: CommandContext, arg: unknown): Promise<void> {
  let q = arg as { device?: unknown; index?: unknown } | undefined;
  const name = (arg as { variable?: { name?: unknown } } | undefined)?.variable?.name;
  if (typeof name === 'string') {
    const body = (await c.currentSession()?.customRequest(DAP_VIRTQUEUES)) as VirtqueuesResponseBody | undefined;
    q = queueFromVariable(name, body?.devices ?? []) ?? undefined;
  }
  if (!q || typeof q.device !== 'string' || typeof q.index !== 'number') {
    void vscode.window.showWarningMessage('semu: that is not a virtqueue of the running machine.');
    return;
  }
  await vscode.commands.executeCommand(SHOW_VIRTQUEUES_COMMAND);
  c.hub.selectQueue(q.device, q.index);
}

async function buildGuestCommand(): Promise<void> {
  const g = await buildDefaultGuest();
  if (!g) return;
  // F5 keeps using the guest shipped in the package, if any: a built one is for a changed guest/.
  const note = hasShippedGuest() ? ' F5 boots the guest shipped with the extension; set "kernel" and "initrd" in launch.json to boot this one.' : '';
  const pick = await vscode.window.showInformationMessage(`semu: the default guest is built (${g.kernel}).${note}`, 'Rebuild from scratch');
  if (pick) {
    const again = await buildDefaultGuest(undefined, true);
    if (again) void vscode.window.showInformationMessage('semu: the default guest was rebuilt.');
  }
}

async function chooseWav(c: CommandContext, key: 'audioOut' | 'audioIn'): Promise<void> {
  const filters = { 'WAV audio': ['wav'] };
  let uri: vscode.Uri | undefined;
  if (key === 'audioOut') {
    uri = await vscode.window.showSaveDialog({ filters, title: "Record the guest's playback (virtio-snd TX) to" });
  } else {
    uri = (await vscode.window.showOpenDialog({ canSelectMany: false, filters, title: "Play into the guest's capture (virtio-snd RX)" }))?.[0];
  }
  if (!uri) return;
  const spec = wavSpec(uri.fsPath);
  const what = key === 'audioOut' ? `playback goes to ${uri.fsPath}` : `capture reads ${uri.fsPath}`;
  const session = c.currentSession();
  if (!session) {
    const folder = vscode.workspace.workspaceFolders?.[0];
    await vscode.debug.startDebugging(folder, { ...defaultConfiguration(), [key]: spec });
    return;
  }
  const restart = 'Restart the machine now';
  const next = 'Use it for the next launch';
  const pick = await vscode.window.showQuickPick([restart, next], { title: `semu: ${what}` });
  if (pick === restart) {
    const config = { ...session.configuration, [key]: spec, type: DEBUG_TYPE };
    await vscode.debug.stopDebugging(session);
    await vscode.debug.startDebugging(session.workspaceFolder, config);
  } else if (pick === next) {
    c.provider.pending = { ...c.provider.pending, [key]: spec };
    void vscode.window.showInformationMessage(`semu: the next launch's ${what}.`);
  }
}
