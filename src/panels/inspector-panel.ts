// The "semu: Virtqueues" inspector controller: one instance at a time. Its own job beyond the
// hub's: a click on a descriptor in the webview opens that guest-physical buffer in VS Code's
// memory view (see memory.ts).
import * as vscode from 'vscode';
import { openGuestMemory } from './memory';
import { createWebviewPanel, PanelBase, PanelSpec } from './panel';

export const INSPECTOR_SPEC: PanelSpec = { kind: 'inspector', viewType: 'semu.virtqueues', title: 'semu: Virtqueues' };

export class InspectorPanel extends PanelBase {
  private static current: InspectorPanel | undefined;

  static show(context: vscode.ExtensionContext): InspectorPanel {
    if (InspectorPanel.current) {
      InspectorPanel.current.reveal();
      return InspectorPanel.current;
    }
    return InspectorPanel.revive(createWebviewPanel(INSPECTOR_SPEC, context.extensionUri), context);
  }

  static revive(panel: vscode.WebviewPanel, context: vscode.ExtensionContext): InspectorPanel {
    InspectorPanel.current?.dispose();
    const p = new InspectorPanel(panel, INSPECTOR_SPEC, context.extensionUri);
    InspectorPanel.current = p;
    return p;
  }

  static get instance(): InspectorPanel | undefined {
    return InspectorPanel.current;
  }

  private constructor(panel: vscode.WebviewPanel, spec: PanelSpec, extensionUri: vscode.Uri) {
    super(panel, spec, extensionUri);
    this.onMessage((msg) => {
      if (msg.type === 'openMemory') void openGuestMemory(msg.address, msg.length);
    });
  }

  protected override onPanelDisposed(): void {
    if (InspectorPanel.current === this) InspectorPanel.current = undefined;
    super.onPanelDisposed();
  }
}
