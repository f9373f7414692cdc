// The real Linux guest with virtio-gpu, a virtio-input keyboard and tablet plugged in at semu's
// slots (in-process, MachineConfig.virtio): the DRM driver and fbcon drive the GPU, the
// console's text appears on the scanout glyph for glyph, fbtest's colour bars and redraws go
// through DRM dumb buffers, and events injected on the host reach evtest with the right codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestRun, READY } from './guest';
import { GPU_BOOTARGS, PLAIN_BOOTARGS, matchGlyphs, runWhile, screenDevices as devices, vgaFont } from '../helpers/screen-guest';
import { ScreenReader, readGpuState } from '../../src/devices/virtio-gpu/screen';
import { screendump } from '../../src/devices/virtio-gpu/png';
import * as P from '../../src/devices/virtio-gpu/protocol';
import { InputSink, readInputState } from '../../src/devices/virtio-input/events';
import { toAbs } from '../../src/devices/virtio-input/panel-input';
import { BTN_LEFT } from '../../src/devices/virtio-input/protocol';
import { decodePng, pixel as pngPixel } from '../webview/png';

const BARS = [0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000];

/** The text cells at row `row` of the scanout against the font. */
function matchText(screen: SharedArrayBuffer, font: Uint8Array, text: string, row: number): { bad: number; fg: string } {
  const px = new ScreenReader(screen).readRgba({ x: 0, y: row * 16, w: text.length * 8, h: 16 });
  return matchGlyphs(px, text.length * 8, font, text);
}

test('the guest drives virtio-gpu and virtio-input: console text, fbtest, evtest', { timeout: 600_000 }, (t) => {
  const d = devices();
  const g = new GuestRun({ bootargs: GPU_BOOTARGS, virtio: d.virtio });
  const t0 = performance.now();
  const boot = g.runUntil(READY);
  const lap = (what: string) => t.diagnostic(`${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  assert.ok(boot.at >= 0, `no ready marker (${boot.reason}); output:\n${g.output.slice(-3000)}`);
  t.diagnostic(`boot with GPU + input to ready: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${(g.m.instret() / 1e6).toFixed(0)} M instructions`);
  g.runUntil('\n# ', 5e8, boot.at);
  g.command('dmesg -n 1');

  // The kernel found all three devices.
  const dmesg = g.command('dmesg');
  assert.match(dmesg, /\[drm\] number of scanouts: 1/);
  assert.match(dmesg, /fb0: virtio_?gpu_?drm_?fb frame buffer device/i);
  assert.match(dmesg, /input: VirtIO Keyboard as/);
  assert.match(dmesg, /input: VirtIO Tablet as/);
  assert.doesNotMatch(dmesg, /response 0x12/, 'no error response from the GPU');
  const st = readGpuState(d.gpu.screen)!;
  assert.deepEqual([st.scanout.enabled, st.scanout.width, st.scanout.height, st.scanout.format], [true, 1024, 768, 'B8G8R8X8']);
  assert.equal(st.errors, 0);
  assert.ok(st.scanout.flushes > 0, 'fbcon flushed the boot log');
  const modes = g.command('cat /sys/class/drm/card0-Virtual-1/modes').replace(/\r/g, '').split('\n').slice(1, -1);
  assert.deepEqual(modes, ['1024x768', '800x600', '640x480'], 'the EDID: the preferred mode first, then the smaller VESA modes');

  lap('booted, devices checked');
  // Console text on the screen, glyph for glyph in the kernel's VGA font.
  const font = vgaFont();
  const text = 'Hello, semu screen!';
  assert.match(g.command(`fbtest text "${text}"`), /fbtest: text/);
  assert.ok(
    runWhile(g, () => matchText(d.gpu.screen, font, text, 0).bad === 0),
    `console text on the scanout: ${JSON.stringify(matchText(d.gpu.screen, font, text, 0))}`,
  );
  const m = matchText(d.gpu.screen, font, text, 0);
  t.diagnostic(`console text matched: foreground ${m.fg} on black`);

  lap('console text');
  // Full-screen redraws and the moving square through DRM dumb buffers.
  const fps = /fbtest: fps frames=(\d+) ms=(\d+) fps=([\d.]+) width=1024 height=768/.exec(g.command('fbtest fps 30'));
  assert.ok(fps, 'fbtest fps line');
  const square = /fbtest: square frames=60 ms=(\d+) fps=([\d.]+)/.exec(g.command('fbtest square 60'));
  assert.ok(square, 'fbtest square line');
  t.diagnostic(`full-screen redraw: ${fps[3]} fps (${fps[1]} frames in ${fps[2]} ms); moving square: ${square[2]} fps`);
  assert.ok(Number(fps[3]) > 1, 'more than one full-screen frame a second');
  // The square's last position: white on dark blue somewhere on screen.
  const r = new ScreenReader(d.gpu.screen);
  const all = r.readRgba({ x: 0, y: 0, w: 1024, h: 768 });
  let white = 0;
  for (let i = 0; i < all.length; i += 4) if (all[i] === 255 && all[i + 1] === 255 && all[i + 2] === 255) white++;
  assert.ok(white === 64 * 64 || white === 0, `the square (64×64) or the restored console: ${white} white pixels`);

  lap('fps and square');
  // The bars through /dev/fb0 (fbdev emulation: the kernel flushes the pages written), then the
  // console comes back when fbtest leaves graphics mode.
  g.m.consoleIn(Buffer.from('fbtest fb 3 &\n'));
  assert.ok(g.runUntil('fbtest: fb width=1024 height=768', 2e9, g.output.length).at >= 0, g.output.slice(-2000));
  assert.ok(runWhile(g, () => barsShown(d.gpu.screen)), 'the fbdev bars are on the scanout');
  assert.ok(runWhile(g, () => !barsShown(d.gpu.screen)), 'the console is back after fbtest fb');
  lap('fb');

  // Colour bars through DRM, checked in the scanout and in the screendump PNG.
  g.m.consoleIn(Buffer.from('fbtest bars 15 &\n'));
  const bars = g.runUntil('fbtest: bars width=1024 height=768', 2e9, g.output.length);
  assert.ok(bars.at >= 0, g.output.slice(-2000));
  assert.ok(runWhile(g, () => barsShown(d.gpu.screen)), 'the bars are on the scanout');
  const img = decodePng(screendump(d.gpu.screen)!);
  assert.deepEqual([img.width, img.height], [1024, 768]);
  for (let i = 0; i < 8; i++) assert.deepEqual(pngPixel(img, Math.floor((i + 0.5) * 128), 400), [BARS[i] >> 16, (BARS[i] >> 8) & 255, BARS[i] & 255]);

  lap('bars');
  // Input: a key and a click reach evtest with the right codes and the absolute position.
  const kbd = new InputSink(d.keyboard.events);
  const tab = new InputSink(d.tablet.events);
  const from = g.output.length;
  g.m.consoleIn(Buffer.from('evtest 5\n'));
  const ready = g.runUntil('evtest: ready devices=2', 1e9, from);
  assert.ok(ready.at >= 0, g.output.slice(from));
  const banner = g.output.slice(from, ready.at).replace(/\r/g, '');
  assert.match(banner, /\/dev\/input\/event\d name="VirtIO Keyboard" bus=6 vendor=0 product=1/);
  assert.match(banner, /\/dev\/input\/event\d name="VirtIO Tablet" bus=6 vendor=0 product=2/);
  kbd.key(30, true);
  kbd.key(30, false);
  const ax = toAbs(300, 1024);
  const ay = toAbs(200, 768);
  tab.moveTo(ax, ay);
  tab.button(BTN_LEFT, true);
  tab.button(BTN_LEFT, false);
  const end = g.runUntil('\n# ', 2e9, ready.at);
  assert.ok(end.at >= 0, g.output.slice(from));
  const lines = g.output.slice(ready.at, end.at).replace(/\r/g, '').split('\n').filter((l) => l.startsWith('input:'));
  assert.deepEqual(
    lines.filter((l) => !l.startsWith('input: type=0 ')),
    ['input: type=1 code=30 value=1', 'input: type=1 code=30 value=0', `input: type=3 code=0 value=${ax}`, `input: type=3 code=1 value=${ay}`, 'input: type=1 code=272 value=1'],
  );
  assert.ok(lines.includes('input: type=0 code=0 value=0'), 'SYN_REPORT after each report');
  const ist = readInputState(d.tablet.events)!;
  assert.equal(ist.droppedReports, 0);
  lap('evtest');
  // Caps Lock: the VT's keyboard handler lights the LED through the status queue, and unlights it.
  kbd.key(58, true);
  kbd.key(58, false);
  assert.ok(runWhile(g, () => readInputState(d.keyboard.events)!.leds.capsLock), 'Caps Lock LED on');
  kbd.key(58, true);
  kbd.key(58, false);
  assert.ok(runWhile(g, () => !readInputState(d.keyboard.events)!.leds.capsLock), 'Caps Lock LED off');
  assert.equal(readGpuState(d.gpu.screen)!.errors, 0, 'no GPU error responses all along');
});

function barsShown(screen: SharedArrayBuffer): boolean {
  const r = new ScreenReader(screen);
  if (!r.geometry().enabled || r.geometry().width !== 1024) return false;
  const row = r.readRgba({ x: 0, y: 400, w: 1024, h: 1 });
  return BARS.every((c, i) => {
    const o = Math.floor((i + 0.5) * 128) * 4;
    return row[o] === c >> 16 && row[o + 1] === ((c >> 8) & 255) && row[o + 2] === (c & 255);
  });
}

test('fbcon costs the boot: instructions to the ready marker with and without the GPU (icount)', { timeout: 600_000 }, (t) => {
  const count = (withGpu: boolean) => {
    const virtio = withGpu ? devices().virtio : [];
    const g = new GuestRun({ time: 'icount', bootargs: withGpu ? GPU_BOOTARGS : PLAIN_BOOTARGS, virtio });
    const t0 = performance.now();
    const r = g.runUntil(READY);
    assert.ok(r.at >= 0, g.output.slice(-2000));
    return { insns: g.m.instret(), ms: performance.now() - t0 };
  };
  const plain = count(false);
  const gpu = count(true);
  const extra = gpu.insns / plain.insns - 1;
  t.diagnostic(`to ready: ${(plain.insns / 1e6).toFixed(0)} M instructions without the GPU, ${(gpu.insns / 1e6).toFixed(0)} M with it (+${(extra * 100).toFixed(0)} %); ${(plain.ms / 1000).toFixed(1)} s vs ${(gpu.ms / 1000).toFixed(1)} s here`);
  assert.ok(gpu.insns > plain.insns, 'fbcon renders the boot log: more instructions');
  assert.equal(P.VIRTIO_ID_GPU, 16);
});
