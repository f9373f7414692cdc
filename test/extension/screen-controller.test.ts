// The Screen panel's controller with the real GPU and input models (driven through guest RAM)
// and a stand-in webview: what it posts when, back-pressure, the exact frame on pause, input
// only while running, untrusted messages, a machine without a screen, a hidden panel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScreenController, type MachineState, type ScreenPort, type ScreenSource } from '../../src/panels/screen-controller';
import type { ToScreenPanel } from '../../src/devices/virtio-gpu/screen-messages';
import { VirtioInput } from '../../src/devices/virtio-input/input';
import { readInputState } from '../../src/devices/virtio-input/events';
import { GpuDriver } from '../devices/gpu-driver';

type Frame = Extract<ToScreenPanel, { type: 'frame' }>;

class FakePort implements ScreenPort {
  visible = true;
  posted: ToScreenPanel[] = [];
  private handlers = new Set<(d: unknown) => void>();
  private vis = new Set<(v: boolean) => void>();
  private gone = new Set<() => void>();
  post(msg: ToScreenPanel): void {
    this.posted.push(msg);
  }
  onMessage(h: (d: unknown) => void) {
    this.handlers.add(h);
    return { dispose: () => this.handlers.delete(h) };
  }
  onDidChangeVisibility(h: (v: boolean) => void) {
    this.vis.add(h);
    return { dispose: () => this.vis.delete(h) };
  }
  onDidDispose(h: () => void) {
    this.gone.add(h);
    return { dispose: () => this.gone.delete(h) };
  }
  say(d: unknown): void {
    for (const h of [...this.handlers]) h(d);
  }
  setVisible(v: boolean): void {
    this.visible = v;
    for (const h of [...this.vis]) h(v);
  }
  close(): void {
    for (const h of [...this.gone]) h();
  }
  take(): ToScreenPanel[] {
    const p = this.posted;
    this.posted = [];
    return p;
  }
  frames(): Frame[] {
    return this.take().filter((m): m is Frame => m.type === 'frame');
  }
}

function machine(withScreen = true) {
  const d = new GpuDriver({ width: 320, height: 200 });
  const keyboard = new VirtioInput('keyboard');
  const tablet = new VirtioInput('tablet');
  let state: MachineState = 'running';
  let wakes = 0;
  const source: ScreenSource = {
    name: 'Boot semu',
    screen: withScreen ? d.gpu.screen : null,
    keyboard: keyboard.events,
    tablet: tablet.events,
    state: () => state,
    wake: () => void wakes++,
  };
  return { d, keyboard, tablet, source, set: (s: MachineState) => (state = s), wakes: () => wakes };
}

/** Fills the framebuffer with one colour and flushes a rectangle of it. */
function draw(d: GpuDriver, word: number, x: number, y: number, w: number, h: number): void {
  d.fill(0x400000, 64, 48, () => word);
  d.transfer(1, 0, 0, 64, 48);
  d.flush(1, x, y, w, h);
}

test('controller: nothing before the panel is ready; then the session, the whole screen, then only dirty rectangles', async () => {
  const m = machine();
  m.d.framebuffer(1, 0x400000, 64, 48);
  const port = new FakePort();
  const c = new ScreenController(port);
  c.setSource(m.source);
  assert.deepEqual(port.take(), [], 'a webview that has not said ready gets nothing');
  port.say({ type: 'ready' });
  const first = port.take();
  assert.deepEqual(first[0], { type: 'session', state: 'running', name: 'Boot semu' });
  const f1 = first[1] as Frame;
  assert.equal(f1.type, 'frame');
  assert.deepEqual([f1.width, f1.height, f1.enabled, f1.rect], [64, 48, true, { x: 0, y: 0, w: 64, h: 48 }]);
  assert.equal('flushedAt' in f1, false, 'the measurement stays in the host');
  port.say({ type: 'frameDone', frame: f1.frame });
  draw(m.d, 0x00ff0000, 8, 4, 16, 8);
  await new Promise((r) => setTimeout(r, 20)); // the 60 Hz limit
  c.pump();
  const [f2] = port.frames();
  assert.deepEqual(f2.rect, { x: 8, y: 4, w: 16, h: 8 });
  assert.deepEqual([...f2.pixels!.subarray(0, 4)], [255, 0, 0, 255]);
  port.say({ type: 'frameDone', frame: f2.frame });
  assert.equal(c.stats.latencies.length, 2, 'flush → acknowledged latency measured for both frames');
  for (const l of c.stats.latencies) assert.ok(l >= 0 && l < 5000, String(l));
  assert.equal(c.stats.frames, 2);
  c.dispose();
});

test('controller: back-pressure — at most two frames unacknowledged; the held-back area goes in the next', async () => {
  const m = machine();
  m.d.framebuffer(1, 0x400000, 64, 48);
  const port = new FakePort();
  const c = new ScreenController(port);
  c.setSource(m.source);
  port.say({ type: 'ready' });
  port.take();
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 20));
    draw(m.d, 0x0000ff00, i * 10, 0, 4, 4);
    c.pump();
  }
  const sent = port.frames();
  assert.equal(sent.length, 1, 'the first frame and one more in flight, then it waits');
  port.say({ type: 'frameDone', frame: sent[0].frame });
  const next = port.frames();
  assert.equal(next.length, 1, 'the acknowledgement lets the held-back area through');
  assert.deepEqual(next[0].rect, { x: 10, y: 0, w: 14, h: 4 }, 'the union of what was held back');
  c.dispose();
});

test('controller: a pause freezes the exact frame, then says paused; running again resumes; input only while running', async () => {
  const m = machine();
  m.d.framebuffer(1, 0x400000, 64, 48);
  const port = new FakePort();
  const c = new ScreenController(port);
  c.setSource(m.source);
  port.say({ type: 'ready' });
  const f = port.frames();
  port.say({ type: 'frameDone', frame: f[0].frame });
  draw(m.d, 0x00ffffff, 0, 0, 64, 48);
  m.set('paused');
  c.machineStopped();
  const [freeze, paused] = port.take();
  assert.equal(freeze.type, 'frame');
  assert.equal((freeze as Frame).final, true);
  assert.deepEqual((freeze as Frame).rect, { x: 0, y: 0, w: 64, h: 48 }, 'everything still dirty');
  assert.deepEqual(paused, { type: 'session', state: 'paused', name: 'Boot semu' });
  port.say({ type: 'key', code: 30, down: true });
  assert.equal(readInputState(m.keyboard.events)!.injected, 0, 'no input to a paused machine');
  c.pump();
  assert.deepEqual(port.take(), [], 'nothing more while paused');
  m.set('running');
  c.pump();
  assert.deepEqual(port.take()[0], { type: 'session', state: 'running', name: 'Boot semu' });
  port.say({ type: 'key', code: 30, down: true });
  port.say({ type: 'pointer', x: 160, y: 100 });
  port.say({ type: 'button', button: 0, down: true });
  assert.equal(readInputState(m.keyboard.events)!.injected, 2, 'key + SYN_REPORT');
  assert.equal(readInputState(m.tablet.events)!.injected, 5, 'ABS_X, ABS_Y, SYN; BTN_LEFT, SYN');
  assert.equal(m.wakes(), 3, 'each report wakes the worker');
  c.dispose();
});

test('controller: malformed or hostile messages from the webview are ignored', () => {
  const m = machine();
  m.d.framebuffer(1, 0x400000, 64, 48);
  const port = new FakePort();
  const c = new ScreenController(port);
  c.setSource(m.source);
  port.say({ type: 'ready' });
  port.take();
  for (const bad of [null, 7, 'ready', { type: 'key', code: 0, down: true }, { type: 'key', code: 30 }, { type: 'pointer', x: NaN, y: 0 }, { type: 'button', button: 9, down: true }, { type: 'frameDone', frame: -1 }, { type: 'frameDone', frame: 1e300 }, { type: 'eval', code: 'x' }]) {
    assert.doesNotThrow(() => port.say(bad));
  }
  assert.equal(readInputState(m.keyboard.events)!.injected, 0);
  assert.equal(readInputState(m.tablet.events)!.injected, 0);
  c.dispose();
});

test('controller: a machine without a screen says so; no machine says none; a hidden panel gets nothing until ready again', () => {
  const port = new FakePort();
  const c = new ScreenController(port);
  port.say({ type: 'ready' });
  assert.deepEqual(port.take(), [{ type: 'session', state: 'none', name: undefined }]);
  const m = machine(false);
  c.setSource(m.source);
  assert.deepEqual(port.take(), [{ type: 'session', state: 'running', name: 'Boot semu', noScreen: true }]);
  const g = machine();
  g.d.framebuffer(1, 0x400000, 64, 48);
  port.setVisible(false);
  c.setSource(g.source);
  c.pump();
  assert.deepEqual(port.take(), [], 'hidden: its webview is gone');
  port.setVisible(true);
  c.pump();
  assert.deepEqual(port.take(), [], 'shown again: wait for the new webview to say ready');
  port.say({ type: 'ready' });
  const again = port.take();
  assert.equal(again[0].type, 'session');
  assert.deepEqual((again[1] as Frame).rect, { x: 0, y: 0, w: 64, h: 48 }, 'a new webview gets the whole screen');
  g.set('exited');
  c.pump();
  assert.deepEqual(port.take(), [{ type: 'session', state: 'none', name: undefined }]);
  port.close();
  c.pump();
  assert.deepEqual(port.take(), [], 'disposed with its panel');
});
