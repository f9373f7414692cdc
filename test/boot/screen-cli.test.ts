// The screen from the CLI, as semu's users run it: `--screen --screendump FILE.png -H`, the
// guest's fbtest draws colour bars through DRM dumb buffers, Ctrl-A x quits, and the PNG holds
// the bars the screen showed. No panel reads the screen: the guest runs all the same.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestArtifacts, GUEST_READY_MARKER } from '../guest-artifacts/artifacts';
import { Cli } from '../helpers/cli-session';
import { decodePng, pixel } from '../webview/png';

const dir = mkdtempSync(join(tmpdir(), 'semu-screen-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BARS = [0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000];

test('cli: --screen-size 800x600 --screendump FILE.png -H: fbtest bars, Ctrl-A x, the PNG holds the bars', { timeout: 300_000 }, async () => {
  const g = guestArtifacts();
  const png = join(dir, 'shot.png');
  const cli = new Cli(['-k', g.kernel, '-i', g.initrd, '--screen-size', '800x600', '--screendump', png, '-H', '--audio-out', 'null', '--audio-in', 'null']);
  try {
    const at = await cli.waitFor(GUEST_READY_MARKER, 0, 180_000);
    await cli.waitFor('\n# ', at, 60_000);
    await cli.run('dmesg -n 1');
    assert.match(await cli.run('cat /proc/cmdline'), /console=tty0 .*console=ttyS0/, 'the screen carries a console, the serial port stays /dev/console');
    const from = cli.out.length;
    await cli.run('fbtest bars 60 &');
    await cli.waitFor('fbtest: bars width=800 height=600', from, 60_000);
    // fbtest draws once, then holds the frame: let the guest's first flush land.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(existsSync(png), false, 'the file is written when the machine stops, not before');
    assert.equal(await cli.quit(), 0, cli.out.slice(-2000));
  } finally {
    cli.kill();
  }
  const img = decodePng(readFileSync(png));
  assert.deepEqual([img.width, img.height], [800, 600]);
  for (let i = 0; i < 8; i++) {
    assert.deepEqual(pixel(img, Math.floor((i + 0.5) * 100), 300), [BARS[i]! >> 16, (BARS[i]! >> 8) & 255, BARS[i]! & 255], `bar ${i}`);
  }
  assert.doesNotMatch(cli.out, /Unable to handle kernel|Oops|Kernel panic/);
});
