// Entry of the virtqueue inspector (bundled to dist/webview/inspector.js).
import '../common.css';
import '../inspector.css';
import type { VirtqueuesResponseBody } from '../../src/shared/protocol';
import { InspectorModel } from '../shared/inspector-model';
import { parseToPanel } from '../shared/messages';
import { layoutQueue } from '../shared/ring-layout';
import { frameScheduler, throttled } from '../shared/schedule';
import { vscodeApi } from '../shared/vscode-api';
import { InspectorView } from './view';

const api = vscodeApi<unknown>();
const model = InspectorModel.restore(api.getState());
const saver = throttled(() => api.setState(model.save()), 1000);
const frame = frameScheduler(() => view.render(model));

const view = new InspectorView(document.getElementById('app') ?? document.body, {
  select(device, queue) {
    model.select(device, queue);
    saver.request();
    saver.flush();
    frame.request();
  },
  openDescriptor(index) {
    const dev = model.selectedDevice();
    const q = model.selectedQueue();
    if (!dev || !q) return;
    const info = layoutQueue(q).known.get(index);
    model.selectDesc(index);
    saver.request();
    saver.flush(); // user choices are rare and worth keeping at once
    frame.request();
    if (info) api.postMessage({ type: 'openMemory', address: info.desc.addr, length: info.desc.len });
  },
  refresh() {
    api.postMessage({ type: 'refresh' });
  },
});

window.addEventListener('message', (event: MessageEvent) => {
  const msg = parseToPanel(event.data);
  if (!msg) return;
  if (msg.type === 'session') {
    model.applySession(msg.state, msg.name);
    saver.request();
    saver.flush();
  } else if (msg.type === 'select') {
    model.select(msg.device, msg.queue);
    saver.request();
  } else if (msg.type === 'virtqueues') {
    if (!model.applyVirtqueues(msg.body as VirtqueuesResponseBody)) return;
    saver.request();
  } else return;
  frame.request();
});

// Best effort when VS Code tears the hidden webview down: keep the newest snapshot too.
window.addEventListener('pagehide', () => saver.flush());

view.render(model);
api.postMessage({ type: 'ready' });
