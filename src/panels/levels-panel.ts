// The "semu: TX/RX Levels" panel controller: one instance at a time; show() reveals it if open.
import * as vscode from 'vscode';
import { createWebviewPanel, PanelBase, PanelSpec } from './panel';

export const LEVELS_SPEC: PanelSpec = { kind: 'levels', viewType: 'semu.levels', title: 'semu: TX/RX Levels' };

export class LevelsPanel extends PanelBase {
  private static current: LevelsPanel | undefined;

  static show(context: vscode.ExtensionContext): LevelsPanel {
    if (LevelsPanel.current) {
      LevelsPanel.current.reveal();
      return LevelsPanel.current;
    }
    return LevelsPanel.revive(createWebviewPanel(LEVELS_SPEC, context.extensionUri), context);
  }

  /** Adopts a panel VS Code restored after a reload (see registerPanels' serializer). */
  static revive(panel: vscode.WebviewPanel, context: vscode.ExtensionContext): LevelsPanel {
    LevelsPanel.current?.dispose();
    const p = new LevelsPanel(panel, LEVELS_SPEC, context.extensionUri);
    LevelsPanel.current = p;
    return p;
  }

  static get instance(): LevelsPanel | undefined {
    return LevelsPanel.current;
  }

  protected override onPanelDisposed(): void {
    if (LevelsPanel.current === this) LevelsPanel.current = undefined;
    super.onPanelDisposed();
  }
}
