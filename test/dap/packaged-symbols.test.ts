// The packaged guest carries a System.map but no vmlinux. When the same kernel was built here,
// its vmlinux is in the guest cache: the adapter finds it by the Image's bytes and uses its
// DWARF, so source breakpoints work with F5 on the packaged guest. A different Image, or a
// System.map chosen beside a vmlinux, is left alone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { SemuClient, guestArtifacts } from './client';
import { cachedVmlinuxFor } from '../../debug-adapter/debug-load';

test('cachedVmlinuxFor: only a cache entry with the same Image bytes and a vmlinux', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'semu-twin-'));
  try {
    const cache = join(dir, 'cache');
    const entry = (name: string, image: Uint8Array, vmlinux: boolean) => {
      mkdirSync(join(cache, name), { recursive: true });
      writeFileSync(join(cache, name, 'Image'), image);
      if (vmlinux) writeFileSync(join(cache, name, 'vmlinux'), 'elf');
    };
    const kernel = join(dir, 'Image');
    writeFileSync(kernel, Uint8Array.from([1, 2, 3, 4]));
    entry('kernel-a', Uint8Array.from([1, 2, 3, 5]), true); // same size, other bytes
    entry('kernel-b', Uint8Array.from([1, 2, 3, 4]), false); // same bytes, no vmlinux
    entry('userland-c', Uint8Array.from([1, 2, 3, 4]), true); // not a kernel entry
    assert.equal(await cachedVmlinuxFor(kernel, cache), undefined);
    entry('kernel-d', Uint8Array.from([1, 2, 3, 4]), true);
    assert.equal(await cachedVmlinuxFor(kernel, cache), join(cache, 'kernel-d', 'vmlinux'));
    assert.equal(await cachedVmlinuxFor(kernel, join(dir, 'no-cache')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a packaged-style guest (Image + System.map, no vmlinux) gets source breakpoints from the cached vmlinux', { timeout: 300_000 }, async () => {
  const g = guestArtifacts();
  const dir = mkdtempSync(join(tmpdir(), 'semu-shipped-'));
  for (const f of [g.kernel, g.initrd, g.systemMap]) copyFileSync(f, join(dir, f.split('/').pop()!));
  const dc = new SemuClient();
  let consoleText = '';
  dc.on('output', (e: DebugProtocol.OutputEvent) => (consoleText += e.body.output));
  await dc.start();
  try {
    const name = (f: string) => join(dir, f.split('/').pop()!);
    await dc.boot({ kernel: name(g.kernel), initrd: name(g.initrd), symbols: name(g.systemMap), stopOnEntry: true, time: 'icount', audioOut: 'null', audioIn: 'null' });
    assert.match(consoleText, new RegExp(`${g.vmlinux.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is the vmlinux of this kernel`));
    assert.ok(g.source, 'the guest build names its kernel tree');
    const src = `${g.source}/sound/virtio/virtio_pcm_msg.c`;
    const line = readFileSync(src, 'utf8').split('\n').findIndex((l) => l.includes('vss->msg_count++;')) + 1;
    const set = await dc.setBreakpointsRequest({ source: { path: src }, breakpoints: [{ line }] });
    assert.equal(set.body.breakpoints[0].verified, true, set.body.breakpoints[0].message);
    assert.equal(set.body.breakpoints[0].line, line);
  } finally {
    await dc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
