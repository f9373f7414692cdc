// What both panel controllers share: creating (or reviving) the WebviewPanel with scripts on,
// resources limited to dist/webview, context not retained while hidden (the webview saves its
// own state with setState); building its HTML with a fresh nonce; checking incoming messages;
// and the HubPanel events the PanelHub listens to.
import * as vscode from 'vscode';
import type { FromPanel, ToPanel } from '../shared/protocol';
import { buildPanelHtml, makeNonce } from './html';
import type { Disposable, HubPanel, PanelKind } from './hub';
import { parseFromPanel } from './messages';

export interface PanelSpec {
  kind: PanelKind;
  viewType: string;
  title: string;
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')],
  };
}

export function createWebviewPanel(spec: PanelSpec, extensionUri: vscode.Uri): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(
    spec.viewType,
    spec.title,
    { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
    webviewOptions(extensionUri),
  );
}

export class PanelBase implements HubPanel {
  readonly kind: PanelKind;
  private readonly messageHandlers = new Set<(msg: FromPanel) => void>();
  private readonly visibilityHandlers = new Set<(visible: boolean) => void>();
  private readonly disposeHandlers = new Set<() => void>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private wasVisible: boolean;
  private disposed = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    spec: PanelSpec,
    extensionUri: vscode.Uri,
  ) {
    this.kind = spec.kind;
    const webview = panel.webview;
    webview.options = webviewOptions(extensionUri);
    const asset = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', file)).toString();
    webview.html = buildPanelHtml({
      title: spec.title,
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asset(`${spec.kind}.js`),
      styleUris: [asset(`${spec.kind}.css`)],
    });
    this.wasVisible = panel.visible;
    this.subscriptions.push(
      webview.onDidReceiveMessage((data: unknown) => {
        const msg = parseFromPanel(data);
        if (msg) for (const h of [...this.messageHandlers]) h(msg);
      }),
      panel.onDidChangeViewState(() => {
        if (panel.visible === this.wasVisible) return;
        this.wasVisible = panel.visible;
        for (const h of [...this.visibilityHandlers]) h(panel.visible);
      }),
      panel.onDidDispose(() => this.onPanelDisposed()),
    );
  }

  get visible(): boolean {
    return !this.disposed && this.panel.visible;
  }

  post(msg: ToPanel): void {
    if (this.disposed) return;
    // postMessage to a webview that is going away rejects; nothing to do about it then.
    this.panel.webview.postMessage(msg).then(undefined, () => undefined);
  }

  onMessage(handler: (msg: FromPanel) => void): Disposable {
    this.messageHandlers.add(handler);
    return { dispose: () => this.messageHandlers.delete(handler) };
  }

  onDidChangeVisibility(handler: (visible: boolean) => void): Disposable {
    this.visibilityHandlers.add(handler);
    return { dispose: () => this.visibilityHandlers.delete(handler) };
  }

  onDidDispose(handler: () => void): Disposable {
    this.disposeHandlers.add(handler);
    return { dispose: () => this.disposeHandlers.delete(handler) };
  }

  reveal(): void {
    this.panel.reveal(undefined, true);
  }

  dispose(): void {
    this.panel.dispose(); // fires onDidDispose → onPanelDisposed
  }

  protected onPanelDisposed(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const h of [...this.disposeHandlers]) h();
    for (const s of this.subscriptions) s.dispose();
    this.messageHandlers.clear();
    this.visibilityHandlers.clear();
    this.disposeHandlers.clear();
  }
}

/** One panel of a kind at a time: show() reveals the open one or creates it; revive() adopts a
 * panel VS Code restored after a reload (replacing any other). */
export class PanelSlot<T extends PanelBase> {
  private current: T | undefined;

  constructor(
    readonly spec: PanelSpec,
    private readonly make: (panel: vscode.WebviewPanel, spec: PanelSpec, extensionUri: vscode.Uri) => T,
  ) {}

  get instance(): T | undefined {
    return this.current;
  }

  show(extensionUri: vscode.Uri): T {
    if (this.current) {
      this.current.reveal();
      return this.current;
    }
    return this.revive(createWebviewPanel(this.spec, extensionUri), extensionUri);
  }

  revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri): T {
    this.current?.dispose();
    const p = this.make(panel, this.spec, extensionUri);
    this.current = p;
    p.onDidDispose(() => {
      if (this.current === p) this.current = undefined;
    });
    return p;
  }
}
