// The HTML shell of both panels, as a pure function so tests can load the very page VS Code
// shows. Strict CSP: nothing runs but our nonce'd bundle, styles come only from our CSS files
// (served from cspSource), images only from there or data: URLs, nothing is fetched remotely.
import { randomBytes } from 'node:crypto';

export interface PanelHtmlOptions {
  title: string;
  /** webview.cspSource: the origin VS Code serves asWebviewUri resources from. */
  cspSource: string;
  nonce: string;
  /** asWebviewUri of the bundle (dist/webview/<panel>.js). */
  scriptUri: string;
  /** asWebviewUri of the stylesheets (dist/webview/<panel>.css). */
  styleUris: string[];
  /** data-* attributes of the #app element (e.g. the audio panel's worklet URL). */
  data?: Record<string, string>;
  /** Also allow blob: scripts: the audio panel's AudioWorklet module, which a nonce cannot cover. */
  workletScripts?: boolean;
}

/** 128 random bits, base64 (the CSP nonce grammar allows base64 characters). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export function contentSecurityPolicy(cspSource: string, nonce: string, workletScripts = false): string {
  return [
    `default-src 'none'`,
    workletScripts ? `script-src 'nonce-${nonce}' blob:` : `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
  ].join('; ');
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c]);
}

export function buildPanelHtml(o: PanelHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=_-]+$/.test(o.nonce)) throw new Error('panel html: the nonce must be base64/base64url');
  // VS Code's cspSource is a source list such as `'self' https://*.vscode-cdn.net`: quotes and
  // spaces belong there; only what could end the directive or the attribute may not.
  if (/[;"\r\n]/.test(o.cspSource)) throw new Error('panel html: unexpected characters in cspSource');
  const data = Object.entries(o.data ?? {})
    .map(([k, v]) => {
      if (!/^[a-z][a-z0-9-]*$/.test(k)) throw new Error(`panel html: bad data attribute name ${k}`);
      return ` data-${k}="${escapeHtml(v)}"`;
    })
    .join('');
  const links = o.styleUris.map((u) => `  <link rel="stylesheet" href="${escapeHtml(u)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(o.cspSource, o.nonce, o.workletScripts))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>${escapeHtml(o.title)}</title>
${links}
</head>
<body>
  <main id="app" aria-label="${escapeHtml(o.title)}"${data}></main>
  <script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}
