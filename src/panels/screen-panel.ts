// "semu: Show Screen": the Screen panel in VS Code, one at a time. The webview is the bundle
// dist/webview/screen.js with the same HTML shell, CSP and nonce as the other panels; the
// controller (screen-controller.ts) feeds it from the machine the inline debug adapter runs.
//
//   const screens = new ScreenPanels(context.extensionUri);
//   registerScreen(context, screens, { currentSession });
//   // when a machine starts / ends:  screens.machine(host, session.name) / screens.machine(null)
//
// A machine launched with a screen opens the panel beside the editor (without taking focus); the
// command opens it at any time, and offers to boot or restart a machine with a screen when the
// current one has none.

import * as vscode from 'vscode';
import { buildPanelHtml, makeNonce } from './html';
import { webviewOptions } from './panel';
import { ScreenController, screenSourceOf, type Disposable, type ScreenPort, type ScreenSource } from './screen-controller';
import type { ToScreenPanel } from '../devices/virtio-gpu/screen-messages';
import type { MachineHost } from '../host/machine-host';
import { DEBUG_TYPE, defaultConfiguration } from '../vscode/config-defaults';

export const SHOW_SCREEN_COMMAND = 'semu.showScreen';
export const SCREEN_VIEW_TYPE = 'semu.screen';
const TITLE = 'semu: Screen';

/** A WebviewPanel as the controller's port. */
class ScreenWebview implements ScreenPort {
  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
  ) {
    const webview = panel.webview;
    webview.options = webviewOptions(extensionUri);
    const asset = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', file)).toString();
    webview.html = buildPanelHtml({ title: TITLE, cspSource: webview.cspSource, nonce: makeNonce(), scriptUri: asset('screen.js'), styleUris: [asset('screen.css')] });
  }

  get visible(): boolean {
    return this.panel.visible;
  }

  post(msg: ToScreenPanel): void {
    // A webview going away rejects; the controller is told by onDidDispose.
    this.panel.webview.postMessage(msg).then(undefined, () => undefined);
  }

  onMessage(handler: (data: unknown) => void): Disposable {
    return this.panel.webview.onDidReceiveMessage(handler);
  }

  onDidChangeVisibility(handler: (visible: boolean) => void): Disposable {
    let was = this.panel.visible;
    return this.panel.onDidChangeViewState(() => {
      if (this.panel.visible === was) return;
      was = this.panel.visible;
      handler(was);
    });
  }

  onDidDispose(handler: () => void): Disposable {
    return this.panel.onDidDispose(handler);
  }
}

export class ScreenPanels implements Disposable {
  private current: { web: ScreenWebview; controller: ScreenController } | null = null;
  private source: ScreenSource | null = null;
  private hostSubs: (() => void)[] = [];
  private key: string | undefined;

  constructor(private readonly extensionUri: vscode.Uri) {}

  /** The machine the panel follows (null: none runs). */
  get following(): ScreenSource | null {
    return this.source;
  }

  get controller(): ScreenController | null {
    return this.current?.controller ?? null;
  }

  /** Opens the panel (or reveals the open one). */
  show(preserveFocus = false): void {
    if (this.current) {
      this.current.web.panel.reveal(undefined, preserveFocus);
      return;
    }
    const panel = vscode.window.createWebviewPanel(SCREEN_VIEW_TYPE, TITLE, { viewColumn: vscode.ViewColumn.Beside, preserveFocus }, webviewOptions(this.extensionUri));
    this.adopt(panel);
  }

  /** A panel VS Code restored after a reload. */
  adopt(panel: vscode.WebviewPanel): void {
    this.current?.web.panel.dispose();
    const web = new ScreenWebview(panel, this.extensionUri);
    const controller = new ScreenController(web);
    const entry = { web, controller };
    this.current = entry;
    controller.setSource(this.source);
    panel.onDidDispose(() => {
      if (this.current === entry) this.current = null;
    });
  }

  /**
   * A machine started (with its debug session's name), or ended (null). `key` tells sessions
   * apart: the end of an older session does not take the screen from a newer one.
   */
  machine(host: MachineHost | null, name = '', key = name): void {
    if (host === null && key !== this.key) return;
    for (const off of this.hostSubs) off();
    this.hostSubs = [];
    this.key = host ? key : undefined;
    this.source = host ? screenSourceOf(host, name) : null;
    if (host) {
      const stopped = () => this.current?.controller.machineStopped();
      host.on('stopped', stopped);
      this.hostSubs.push(() => host.off('stopped', stopped));
    }
    this.current?.controller.setSource(this.source);
    // A machine launched with a screen shows it; one without leaves the editor alone.
    if (this.source?.screen) this.show(true);
  }

  dispose(): void {
    this.machine(null, '', this.key);
    this.current?.web.panel.dispose();
  }
}

export interface ScreenCommandOptions {
  /** The semu debug session the panels follow, if any. */
  currentSession(): vscode.DebugSession | undefined;
}

export function registerScreen(context: vscode.ExtensionContext, screens: ScreenPanels, opts: ScreenCommandOptions): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(SHOW_SCREEN_COMMAND, () => showScreen(screens, opts)),
    vscode.window.registerWebviewPanelSerializer(SCREEN_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
        screens.adopt(panel);
      },
    }),
    screens,
  );
}

async function showScreen(screens: ScreenPanels, opts: ScreenCommandOptions): Promise<void> {
  screens.show();
  const m = screens.following;
  if (m?.screen) return;
  const session = opts.currentSession();
  if (!m || !session) {
    const boot = 'Boot semu with a screen';
    if ((await vscode.window.showInformationMessage('semu: no machine is running.', boot)) === boot) {
      await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], { ...defaultConfiguration(), screen: true });
    }
    return;
  }
  const restart = 'Restart it with a screen';
  const pick = await vscode.window.showInformationMessage(`semu: "${session.name}" runs without a screen (its launch configuration has no "screen": true).`, restart);
  if (pick === restart) {
    const config = { ...session.configuration, type: DEBUG_TYPE, screen: true };
    await vscode.debug.stopDebugging(session);
    await vscode.debug.startDebugging(session.workspaceFolder, config);
  }
}
