import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPanelHtml, contentSecurityPolicy, makeNonce } from '../../src/panels/html';
import { hexDump } from '../../src/panels/hexdump';
import { MAX_MEMORY_VIEW_BYTES, parseFromPanel } from '../../src/panels/messages';
import { parsePhysMemoryReference, physMemoryReference } from '../../src/shared/protocol';
import { parseToPanel } from '../../webview/shared/messages';

const base = {
  title: 'semu: TX/RX Levels',
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  nonce: 'abcDEF123+/=',
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/levels.js',
  styleUris: ['https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/levels.css'],
};

test('html: strict CSP with the nonce, the script carries it, nothing inline', () => {
  const html = buildPanelHtml(base);
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
  assert.equal(
    csp,
    "default-src &#39;none&#39;; script-src &#39;nonce-abcDEF123+/=&#39;; style-src https://file+.vscode-resource.vscode-cdn.net &#39;nonce-abcDEF123+/=&#39;; img-src https://file+.vscode-resource.vscode-cdn.net data:",
  );
  assert.equal(contentSecurityPolicy('S', 'N'), "default-src 'none'; script-src 'nonce-N'; style-src S 'nonce-N'; img-src S data:");
  const scripts = html.match(/<script[^>]*>/g) ?? [];
  assert.deepEqual(scripts, [`<script nonce="abcDEF123+/=" src="${base.scriptUri}">`]);
  assert.ok(html.includes(`<link rel="stylesheet" href="${base.styleUris[0]}">`));
  assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
  assert.doesNotMatch(html, /style=/, 'no inline styles');
  assert.doesNotMatch(html, /<style/);
});

test('html: text is escaped; a bad nonce or cspSource is refused', () => {
  const html = buildPanelHtml({ ...base, title: '<img src=x onerror=alert(1)>' });
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
  assert.doesNotMatch(html, /<img/);
  assert.throws(() => buildPanelHtml({ ...base, nonce: "x' 'unsafe-inline" }), /nonce/);
  assert.throws(() => buildPanelHtml({ ...base, cspSource: "x; script-src 'unsafe-inline'" }), /cspSource/);
  assert.throws(() => buildPanelHtml({ ...base, cspSource: 'x" onload="y' }), /cspSource/);
  // What VS Code really passes (desktop and web): a source list with a quoted keyword.
  const real = buildPanelHtml({ ...base, cspSource: "'self' https://*.vscode-cdn.net" });
  assert.match(real, /style-src &#39;self&#39; https:\/\/\*\.vscode-cdn\.net &#39;nonce-/);
});

test('html: nonces are fresh and long enough', () => {
  const a = makeNonce();
  const b = makeNonce();
  assert.notEqual(a, b);
  assert.ok(Buffer.from(a, 'base64').length >= 16);
});

test('messages from a panel are checked and clamped', () => {
  assert.deepEqual(parseFromPanel({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseFromPanel({ type: 'openMemory', address: 0x8020_0000, length: 4096 }), { type: 'openMemory', address: 0x8020_0000, length: 4096 });
  assert.equal(parseFromPanel({ type: 'openMemory', address: 0x8020_0000, length: 1e12 })?.type, 'openMemory');
  assert.deepEqual(parseFromPanel({ type: 'openMemory', address: 0, length: 1e12 }), { type: 'openMemory', address: 0, length: MAX_MEMORY_VIEW_BYTES });
  assert.deepEqual(parseFromPanel({ type: 'openMemory', address: 0xffff_fff0, length: 64 }), { type: 'openMemory', address: 0xffff_fff0, length: 16 });
  for (const bad of [null, 'ready', { type: 'eval' }, { type: 'openMemory', address: -1, length: 1 }, { type: 'openMemory', address: 2 ** 32, length: 1 }, { type: 'openMemory', address: 1.5, length: 1 }, { type: 'openMemory', address: '1', length: 1 }])
    assert.equal(parseFromPanel(bad), undefined, JSON.stringify(bad));
});

test('messages into a panel are checked', () => {
  assert.deepEqual(parseToPanel({ type: 'session', state: 'paused', name: 7 }), { type: 'session', state: 'paused', name: undefined });
  assert.equal(parseToPanel({ type: 'session', state: 'exploded' }), undefined);
  assert.equal(parseToPanel({ type: 'levels', body: { streams: 'x' } }), undefined);
  assert.equal(parseToPanel({ type: 'virtqueues', body: { devices: [] } })?.type, 'virtqueues');
  assert.equal(parseToPanel(undefined), undefined);
});

test('memory reference: guest-physical addresses round-trip through the DAP reference', () => {
  assert.equal(physMemoryReference(0x8020_0100), 'phys:0x80200100');
  assert.equal(physMemoryReference(-1), 'phys:0xffffffff');
  assert.equal(parsePhysMemoryReference('phys:0x80200100'), 0x8020_0100);
  assert.equal(parsePhysMemoryReference('0x80200100'), undefined);
  assert.equal(parsePhysMemoryReference('phys:0x123456789'), undefined);
});

test('hex dump: aligned lines, ASCII column, unreadable bytes marked', () => {
  const bytes = new Uint8Array([0x48, 0x69, 0x00, 0x7f, 0x41]);
  const text = hexDump(0x8000_0003, bytes, 2, 'title');
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], 'title');
  assert.match(lines[2], /^80000000 {2}( {3}){3}48 69 00 7f 41 {2}\?\? \?\? ( {3}){6} \| {3}Hi\.\.A\?\? {6}\|$/);
  const full = hexDump(0x8000_0000, new Uint8Array(16)).trimEnd();
  assert.equal(lines[2].length, full.length, 'partial lines keep the columns');
  assert.equal(hexDump(0, new Uint8Array(0)).trim(), '(no bytes)');
  const two = hexDump(0xffff_fff8, new Uint8Array(16)).trimEnd().split('\n');
  assert.deepEqual(two.map((l) => l.slice(0, 8)), ['fffffff0', '00000000']);
});
