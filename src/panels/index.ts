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
import { InspectorPanel, INSPECTOR_SPEC } from './inspector-panel';
import { LevelsPanel, LEVELS_SPEC } from './levels-panel';
import { setMemorySessionProvider } from './memory';
import { webviewOptions } from './panel';

export const SHOW_LEVELS_COMMAND = 'semu.showLevels';
export const SHOW_VIRTQUEUES_COMMAND = 'semu.showVirtqueues';

export interface PanelOptions {
  /** The debug session whose guest memory the inspector opens (default: the active one). */
  memorySession?: () => vscode.DebugSession | undefined;
}

export function registerPanels(context: vscode.ExtensionContext, hub: PanelHub, opts: PanelOptions = {}): void {
  if (opts.memorySession) setMemorySessionProvider(opts.memorySession);
  const revive = (make: (p: vscode.WebviewPanel) => LevelsPanel | InspectorPanel) => ({
    async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
      panel.webview.options = webviewOptions(context.extensionUri);
      hub.attach(make(panel));
    },
  });
  context.subscriptions.push(
    vscode.commands.registerCommand(SHOW_LEVELS_COMMAND, () => hub.attach(LevelsPanel.show(context))),
    vscode.commands.registerCommand(SHOW_VIRTQUEUES_COMMAND, () => hub.attach(InspectorPanel.show(context))),
    vscode.window.registerWebviewPanelSerializer(LEVELS_SPEC.viewType, revive((p) => LevelsPanel.revive(p, context))),
    vscode.window.registerWebviewPanelSerializer(INSPECTOR_SPEC.viewType, revive((p) => InspectorPanel.revive(p, context))),
    hub,
  );
}

export { PanelHub } from './hub';
export { LevelsPanel } from './levels-panel';
export { InspectorPanel } from './inspector-panel';
