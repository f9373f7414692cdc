import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { PanelHub, type HubPanel, type PanelKind } from '../../src/panels/hub';
import { SessionFeed, VIRTQUEUE_POLL_MS, type FeedSession } from '../../src/vscode/session-feed';
import type { FromPanel, ToPanel } from '../../src/shared/protocol';

class FakePanel implements HubPanel {
  visible = true;
  readonly got: ToPanel[] = [];
  private msg: ((m: FromPanel) => void)[] = [];
  private vis: ((v: boolean) => void)[] = [];
  constructor(readonly kind: PanelKind) {}
  post(m: ToPanel): void {
    this.got.push(m);
  }
  onMessage(h: (m: FromPanel) => void) {
    this.msg.push(h);
    return { dispose: () => {} };
  }
  onDidChangeVisibility(h: (v: boolean) => void) {
    this.vis.push(h);
    return { dispose: () => {} };
  }
  onDidDispose() {
    return { dispose: () => {} };
  }
  setVisible(v: boolean): void {
    this.visible = v;
    for (const h of this.vis) h(v);
  }
}

class FakeSession implements FeedSession {
  readonly requests: string[] = [];
  constructor(readonly id: string, readonly name = 'Boot semu') {}
  async customRequest(command: string): Promise<unknown> {
    this.requests.push(command);
    if (command === 'semu/virtqueues') return { devices: [], running: true };
    return { streams: [], running: true };
  }
}

const flush = () => new Promise((r) => setImmediate(r));

test('virtqueues are polled at 5 Hz only while running with a visible inspector', async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    const hub = new PanelHub();
    const feed = new SessionFeed(hub);
    const s = new FakeSession('1');
    feed.started(s);
    assert.deepEqual(feed.polling, { virtqueues: false, streams: false }, 'no panel: no polling');
    const inspector = new FakePanel('inspector');
    hub.attach(inspector);
    assert.equal(feed.polling.virtqueues, true);
    for (let i = 0; i < 3; i++) {
      mock.timers.tick(VIRTQUEUE_POLL_MS);
      await flush();
    }
    assert.equal(s.requests.filter((r) => r === 'semu/virtqueues').length, 3);
    assert.ok(inspector.got.some((m) => m.type === 'virtqueues'), 'the answers reach the panel');
    feed.customEvent(s, 'semu/state', { state: 'paused' });
    assert.equal(feed.polling.virtqueues, false, 'paused: no polling');
    await flush();
    assert.ok(s.requests.length >= 4, 'a paused machine gets one exact snapshot');
    feed.customEvent(s, 'semu/state', { state: 'running' });
    assert.equal(feed.polling.virtqueues, true);
    inspector.setVisible(false);
    assert.equal(feed.polling.virtqueues, false, 'hidden inspector: no polling');
    feed.terminated(s);
    assert.equal(hub.sessionState, 'none');
    feed.dispose();
  } finally {
    mock.timers.reset();
  }
});

test('levels events go to the levels panel; events of another session are ignored', () => {
  const hub = new PanelHub();
  const feed = new SessionFeed(hub);
  const levels = new FakePanel('levels');
  hub.attach(levels);
  const s = new FakeSession('a');
  const other = new FakeSession('b');
  feed.started(s);
  const body = { time: 1, running: true, streams: [] };
  feed.customEvent(other, 'semu/levels', body);
  assert.equal(levels.got.filter((m) => m.type === 'levels').length, 0);
  feed.customEvent(s, 'semu/levels', body);
  assert.equal(levels.got.filter((m) => m.type === 'levels').length, 1);
  assert.deepEqual(levels.got.find((m) => m.type === 'session'), { type: 'session', state: 'running', name: 'Boot semu' });
  feed.terminated(s);
  feed.customEvent(s, 'semu/levels', body);
  assert.equal(levels.got.filter((m) => m.type === 'levels').length, 1, 'nothing after the session ended');
  feed.dispose();
});
