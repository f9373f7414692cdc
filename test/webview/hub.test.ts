import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FromPanel, ToPanel } from '../../src/shared/protocol';
import { HubPanel, PanelHub, PanelKind } from '../../src/panels/hub';
import { levels, snapshot } from './fixtures';

/** A stand-in panel: records what it is sent, lets the test post messages and flip visibility. */
class FakePanel implements HubPanel {
  sent: ToPanel[] = [];
  visible = true;
  private msg = new Set<(m: FromPanel) => void>();
  private vis = new Set<(v: boolean) => void>();
  private disp = new Set<() => void>();
  constructor(readonly kind: PanelKind) {}
  post(m: ToPanel) {
    this.sent.push(m);
  }
  onMessage(h: (m: FromPanel) => void) {
    this.msg.add(h);
    return { dispose: () => this.msg.delete(h) };
  }
  onDidChangeVisibility(h: (v: boolean) => void) {
    this.vis.add(h);
    return { dispose: () => this.vis.delete(h) };
  }
  onDidDispose(h: () => void) {
    this.disp.add(h);
    return { dispose: () => this.disp.delete(h) };
  }
  from(m: FromPanel) {
    for (const h of [...this.msg]) h(m);
  }
  setVisible(v: boolean) {
    this.visible = v;
    for (const h of [...this.vis]) h(v);
  }
  kill() {
    for (const h of [...this.disp]) h();
  }
  types() {
    return this.sent.map((m) => m.type);
  }
  get listeners() {
    return this.msg.size + this.vis.size + this.disp.size;
  }
}

test('hub: each kind of data goes to the visible panels that show it', () => {
  const hub = new PanelHub();
  const lv = new FakePanel('levels');
  const insp = new FakePanel('inspector');
  hub.attach(lv);
  hub.attach(insp);
  hub.attach(lv); // twice is harmless
  hub.session('running', 'Boot semu');
  hub.levels(levels(1, 0.5, 0.2));
  hub.virtqueues(snapshot(true));
  hub.streams({ running: true, streams: [] });
  assert.deepEqual(lv.types(), ['session', 'levels', 'streams']);
  assert.deepEqual(insp.types(), ['session', 'virtqueues']);
  assert.deepEqual(lv.sent[0], { type: 'session', state: 'running', name: 'Boot semu' });

  insp.setVisible(false);
  hub.virtqueues(snapshot(true));
  assert.equal(insp.sent.length, 2, 'a hidden panel (no webview) is not posted to');
});

test('hub: wants follow visible panels and fire on change only', () => {
  const hub = new PanelHub();
  let changes = 0;
  hub.onDidChangeWants(() => changes++);
  assert.equal(hub.wantsVirtqueues, false);
  const insp = new FakePanel('inspector');
  hub.attach(insp);
  assert.equal(hub.wantsVirtqueues, true);
  assert.equal(hub.wantsLevels, false);
  assert.equal(changes, 1);
  insp.setVisible(false);
  assert.equal(hub.wantsVirtqueues, false);
  insp.setVisible(false);
  assert.equal(changes, 2);
  insp.setVisible(true);
  const lv = new FakePanel('levels');
  hub.attach(lv);
  assert.equal(hub.wantsLevels, true);
  assert.equal(hub.wantsStreams, true);
  assert.equal(changes, 4);
  insp.kill();
  assert.equal(hub.wantsVirtqueues, false);
  assert.equal(insp.listeners, 0, 'a disposed panel is detached');
  assert.equal(changes, 5);
});

test('hub: a panel that becomes ready gets the latest data and the session is asked for more', () => {
  const hub = new PanelHub();
  const asked: string[] = [];
  hub.onRequest((w) => asked.push(w));
  hub.session('running', 'Boot semu');
  hub.levels(levels(1, 0.5, 0.2));
  hub.levels(levels(2, 0.25, 0.1));
  hub.virtqueues(snapshot(true));
  const lv = new FakePanel('levels');
  const insp = new FakePanel('inspector');
  hub.attach(lv);
  hub.attach(insp);
  lv.from({ type: 'ready' });
  insp.from({ type: 'ready' });
  assert.deepEqual(lv.types(), ['session', 'levels']);
  assert.equal((lv.sent[1] as { body: { time: number } }).body.time, 2, 'the newest levels');
  assert.deepEqual(insp.types(), ['session', 'virtqueues']);
  assert.deepEqual(asked, ['streams', 'virtqueues']);
  insp.from({ type: 'refresh' });
  lv.from({ type: 'refresh' });
  insp.from({ type: 'openMemory', address: 0x1000, length: 16 });
  assert.deepEqual(asked, ['streams', 'virtqueues', 'virtqueues', 'streams']);
});

test('hub: pausing asks for exact snapshots; ending the session clears and drops late data', () => {
  const hub = new PanelHub();
  const asked: string[] = [];
  hub.onRequest((w) => asked.push(w));
  const insp = new FakePanel('inspector');
  hub.attach(insp);
  hub.session('running');
  hub.session('paused');
  hub.session('paused');
  assert.deepEqual(asked, ['virtqueues'], 'once per pause, only for what is shown');
  hub.virtqueues(snapshot(false));
  hub.session('none');
  hub.virtqueues(snapshot(true));
  hub.levels(levels(3, 1, 1));
  assert.deepEqual(insp.types(), ['session', 'session', 'session', 'virtqueues', 'session']);
  assert.deepEqual(insp.sent.at(-1), { type: 'session', state: 'none' });
  const late = new FakePanel('inspector');
  hub.attach(late);
  late.from({ type: 'ready' });
  assert.deepEqual(late.types(), ['session'], 'nothing cached survives the session');
  assert.deepEqual(asked, ['virtqueues'], 'no request without a session');
});

test('hub: a throwing panel or listener does not stop the others', () => {
  const hub = new PanelHub();
  const bad = new FakePanel('levels');
  bad.post = () => {
    throw new Error('disposed webview');
  };
  const good = new FakePanel('levels');
  hub.attach(bad);
  hub.attach(good);
  const asked: string[] = [];
  hub.onRequest(() => {
    throw new Error('listener bug');
  });
  hub.onRequest((w) => asked.push(w));
  hub.session('running');
  hub.levels(levels(1, 0.1, 0.1));
  good.from({ type: 'refresh' });
  assert.deepEqual(good.types(), ['session', 'levels']);
  assert.deepEqual(asked, ['streams']);
  hub.dispose();
  assert.equal(good.listeners, 0);
});
