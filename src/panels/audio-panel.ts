// The "semu audio" panel: where the webview audio backend plays (webview/audio/). Opened beside
// the editor without taking focus when a guest opens a playback stream, kept alive while its tab
// is hidden (retainContextWhenHidden: the AudioContext must keep running), and fed by the relay.
import * as vscode from 'vscode';
import { logger } from '../log';
import { AudioRelay } from './audio-relay';
import { buildPanelHtml, makeNonce } from './html';

const log = logger('audio-panel');
export const AUDIO_VIEW_TYPE = 'semu.audio';

export function registerAudioPanel(context: vscode.ExtensionContext): AudioRelay {
  const uri = context.extensionUri;
  let panel: vscode.WebviewPanel | undefined;
  let warned = false;
  const relay = new AudioRelay(
    async () => {
      if (!panel) panel = create();
      const p = panel;
      return { post: (m) => void p.webview.postMessage(m).then(undefined, () => undefined) };
    },
    {
      onGesture(needed) {
        if (!needed || warned) return;
        warned = true;
        panel?.reveal(undefined, false);
        void vscode.window.showInformationMessage('semu: click "Click to allow sound" in the semu audio panel: this browser plays sound only after a click.');
      },
    },
  );

  function create(): vscode.WebviewPanel {
    const p = vscode.window.createWebviewPanel(AUDIO_VIEW_TYPE, 'semu audio', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(uri, 'dist', 'webview')],
    });
    const asset = (file: string) => p.webview.asWebviewUri(vscode.Uri.joinPath(uri, 'dist', 'webview', file)).toString();
    p.webview.html = buildPanelHtml({
      title: 'semu audio',
      cspSource: p.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asset('audio.js'),
      styleUris: [asset('audio.css')],
      workletScripts: true,
    });
    p.iconPath = vscode.Uri.joinPath(uri, 'media', 'icon.png');
    const sub = p.webview.onDidReceiveMessage((m: unknown) => relay.fromPage(m));
    p.onDidDispose(() => {
      sub.dispose();
      if (panel === p) panel = undefined;
      relay.pageGone();
      log.info('the semu audio panel was closed');
    });
    return p;
  }

  context.subscriptions.push({ dispose: () => relay.dispose() }, { dispose: () => panel?.dispose() });
  return relay;
}
