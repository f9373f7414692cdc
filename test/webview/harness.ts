// Loads a panel bundle in real headless Chromium exactly as VS Code would: the page comes from
// the same HTML builder (same CSP, nonce'd script, stylesheet links), served from a fake
// webview origin; acquireVsCodeApi is a stand-in that records what the panel posts and keeps its
// setState; messages are replayed with window.postMessage.
import * as esbuild from 'esbuild';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FromPanel, ToPanel } from '../../src/shared/protocol';
import { buildPanelHtml } from '../../src/panels/html';

export const ORIGIN = 'https://webview.test';
const root = join(__dirname, '..', '..', '..'); // out/<dir>/webview → repo root
export const repoRoot = findRoot();

function findRoot(): string {
  // Bundled tests run from out/dev-test/<pid>/webview or out/test/webview.
  const fs = require('node:fs') as typeof import('node:fs');
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(join(dir, 'webview', 'levels', 'main.ts'))) return dir;
    dir = join(dir, '..');
  }
  return root;
}

export type PanelKind = 'levels' | 'inspector' | 'screen';
const bundles = new Map<PanelKind, { js: string; css: string }>();

/** Bundles a panel the way scripts/build.mjs does (iife, browser), in memory. */
export async function bundle(kind: PanelKind): Promise<{ js: string; css: string }> {
  const cached = bundles.get(kind);
  if (cached) return cached;
  const r = await esbuild.build({
    entryPoints: { [kind]: join(repoRoot, 'webview', kind, 'main.ts') },
    bundle: true,
    write: false,
    outdir: join(repoRoot, 'out', 'webview-test'),
    platform: 'browser',
    target: 'chrome120',
    format: 'iife',
    logLevel: 'silent',
  });
  const js = r.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
  const css = r.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
  const b = { js, css };
  bundles.set(kind, b);
  return b;
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

export interface PanelPage {
  page: Page;
  /** Console errors and CSP violations seen so far. */
  errors: string[];
  send(msg: ToPanel): Promise<void>;
  sendMany(msgs: ToPanel[]): Promise<void>;
  posted(): Promise<FromPanel[]>;
  state(): Promise<unknown>;
  /** Waits until the panel has rendered what it was sent (two animation frames). */
  frames(n?: number): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  state?: unknown;
  width?: number;
  height?: number;
  /** Classes on <body>, as VS Code sets them (vscode-dark, vscode-light, vscode-high-contrast). */
  bodyClass?: string;
  /** Called in Node with each message the panel posts, as it posts it (a controller's inbox). */
  onPost?: (msg: unknown) => void;
}

export async function openPanel(browser: Browser, kind: PanelKind, opts: OpenOptions = {}): Promise<PanelPage> {
  const { js, css } = await bundle(kind);
  const nonce = 'dGVzdC1ub25jZS0xMjM0NQ==';
  const html = buildPanelHtml({
    title: kind,
    cspSource: ORIGIN,
    nonce,
    scriptUri: `${ORIGIN}/${kind}.js`,
    styleUris: [`${ORIGIN}/${kind}.css`],
  });
  const page = await browser.newPage({ viewport: { width: opts.width ?? 900, height: opts.height ?? 700 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  const onPost = opts.onPost;
  if (onPost) await page.exposeFunction('__toHost', (m: unknown) => onPost(m));
  await page.addInitScript(
    ({ initial, bodyClass }) => {
      const w = window as unknown as Record<string, unknown>;
      const posted: unknown[] = [];
      w.__posted = posted;
      w.__state = initial;
      w.__csp = [];
      let acquired = false;
      w.acquireVsCodeApi = () => {
        if (acquired) throw new Error('acquireVsCodeApi called twice');
        acquired = true;
        return {
          postMessage: (m: unknown) => {
            posted.push(JSON.parse(JSON.stringify(m)));
            (w.__toHost as ((x: unknown) => void) | undefined)?.(m);
          },
          getState: () => w.__state,
          setState: (s: unknown) => {
            w.__state = JSON.parse(JSON.stringify(s));
          },
        };
      };
      document.addEventListener('securitypolicyviolation', (e) => (w.__csp as string[]).push(`${e.violatedDirective} ${e.blockedURI}`));
      if (bodyClass) document.addEventListener('DOMContentLoaded', () => document.body.classList.add(...bodyClass.split(' ')));
    },
    { initial: opts.state, bodyClass: opts.bodyClass ?? '' },
  );
  await page.route(`${ORIGIN}/**`, (route) => {
    const url = route.request().url();
    if (url.endsWith('.js')) return route.fulfill({ status: 200, contentType: 'text/javascript', body: js });
    if (url.endsWith('.css')) return route.fulfill({ status: 200, contentType: 'text/css', body: css });
    if (url.endsWith('/index.html')) return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    return route.fulfill({ status: 404, body: '' });
  });
  await page.goto(`${ORIGIN}/index.html`);
  await page.waitForFunction(() => ((window as unknown as { __posted: { type: string }[] }).__posted ?? []).some((m) => m.type === 'ready'));

  const frames = (n = 2) =>
    page.evaluate(
      (k) =>
        new Promise<void>((resolve) => {
          const step = (left: number) => (left <= 0 ? resolve() : requestAnimationFrame(() => step(left - 1)));
          step(k);
        }),
      n,
    );
  const send = async (msg: ToPanel) => {
    await page.evaluate((m) => window.postMessage(m, '*'), msg);
    await frames();
  };
  return {
    page,
    errors,
    send,
    async sendMany(msgs) {
      await page.evaluate((ms) => {
        for (const m of ms) window.postMessage(m, '*');
      }, msgs);
      await frames();
    },
    posted: () => page.evaluate(() => (window as unknown as { __posted: FromPanel[] }).__posted),
    state: () => page.evaluate(() => (window as unknown as { __state: unknown }).__state),
    frames,
    async close() {
      const csp = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp).catch(() => []);
      errors.push(...csp.map((c) => `CSP: ${c}`));
      await page.close();
    },
  };
}
