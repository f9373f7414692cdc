// The modules the device registry, the extension host, the debug adapter and the Screen webview
// import must not pull in Node (or the worker's logger): checked on their import graphs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { repoRoot } from '../guest-artifacts/artifacts';

const PURE = [
  'src/devices/virtio-gpu/protocol.ts',
  'src/devices/virtio-gpu/edid.ts',
  'src/devices/virtio-gpu/screen.ts',
  'src/devices/virtio-gpu/screen-messages.ts',
  'src/devices/virtio-gpu/feed.ts',
  'src/devices/virtio-gpu/inspect.ts',
  'src/devices/virtio-input/protocol.ts',
  'src/devices/virtio-input/keymap.ts',
  'src/devices/virtio-input/events.ts',
  'src/devices/virtio-input/inspect.ts',
  'src/devices/virtio-input/panel-input.ts',
  'webview/screen/main.ts',
];

/** Every module `file` imports, transitively (relative imports only; others returned as is). */
function imports(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const src = readFileSync(file, 'utf8');
  for (const m of src.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)) {
    const spec = m[1];
    if (!spec.startsWith('.')) {
      seen.add(spec);
      continue;
    }
    if (spec.endsWith('.css')) continue;
    imports(resolve(dirname(file), spec + '.ts'), seen);
  }
  return seen;
}

test('pure modules import neither Node nor the worker-side code', () => {
  const root = repoRoot();
  for (const f of PURE) {
    const all = [...imports(join(root, f))].map((p) => (p.startsWith(root) ? p.slice(root.length + 1) : p));
    const bad = all.filter((p) => p.startsWith('node:') || /^(fs|path|os|zlib|crypto|worker_threads)$/.test(p) || p === 'src/log.ts' || p.startsWith('src/emulator/'));
    assert.deepEqual(bad, [], `${f} imports ${bad.join(', ')}`);
  }
});
