// Wiring for extension.ts: the commands that open the panels, the serializers that bring them
// back after a window reload, and the hub every panel is attached to.
//
//   const hub = new PanelHub();
//   registerPanels(context, hub);
//   // debug-session code: hub.session('running', name); hub.levels(body); ...
//
// package.json needs: contributes.commands semu.showLevels / semu.showVirtqueues, and activation
// events onWebviewPanel:semu.levels / onWebviewPanel:semu.virtqueues for the serializers.
import * as vscode from 'vscode';
import type { PanelHub } from './hub';
import { inspectorPanel } from './inspector-panel';
import { levelsPanel } from './levels-panel';
import { setMemorySessionProvider } from './memory';
import { webviewOptions, type PanelBase, type PanelSlot } from './panel';

export const SHOW_LEVELS_COMMAND = 'semu.showLevels';
export const SHOW_VIRTQUEUES_COMMAND = 'semu.showVirtqueues';

export interface PanelOptions {
  /** The debug session whose guest memory the inspector opens (default: the active one). */
  memorySession?: () => vscode.DebugSession | undefined;
}

export function registerPanels(context: vscode.ExtensionContext, hub: PanelHub, opts: PanelOptions = {}): void {
  if (opts.memorySession) setMemorySessionProvider(opts.memorySession);
  const uri = context.extensionUri;
  const serializer = (slot: PanelSlot<PanelBase>) =>
    vscode.window.registerWebviewPanelSerializer(slot.spec.viewType, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
        panel.webview.options = webviewOptions(uri);
        hub.attach(slot.revive(panel, uri));
      },
    });
  context.subscriptions.push(
    vscode.commands.registerCommand(SHOW_LEVELS_COMMAND, () => hub.attach(levelsPanel.show(uri))),
    vscode.commands.registerCommand(SHOW_VIRTQUEUES_COMMAND, () => hub.attach(inspectorPanel.show(uri))),
    serializer(levelsPanel),
    serializer(inspectorPanel),
    hub,
  );
}

export { PanelHub } from './hub';
export { levelsPanel } from './levels-panel';
export { inspectorPanel } from './inspector-panel';
