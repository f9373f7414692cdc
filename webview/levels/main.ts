// Entry of the levels panel (bundled to dist/webview/levels.js, loaded by the panel's HTML).
import '../common.css';
import '../levels.css';
import type { LevelsEventBody, StreamsResponseBody } from '../../src/shared/protocol';
import { LevelsModel } from '../shared/levels-model';
import { parseToPanel } from '../shared/messages';
import { frameScheduler, throttled } from '../shared/schedule';
import { ThemeColors } from '../shared/theme';
import { vscodeApi } from '../shared/vscode-api';
import { LevelsView } from './view';

const api = vscodeApi<unknown>();
const model = LevelsModel.restore(api.getState());
const root = document.getElementById('app') ?? document.body;
const frame = frameScheduler(() => view.render(model));
const view: LevelsView = new LevelsView(
  root,
  new ThemeColors(),
  () => api.postMessage({ type: 'refresh' }),
  () => frame.request(),
);
// setState copies the whole state: once a second is plenty to survive the panel being hidden.
const saver = throttled(() => api.setState(model.save()), 1000);

window.addEventListener('message', (event: MessageEvent) => {
  const msg = parseToPanel(event.data);
  if (!msg) return;
  switch (msg.type) {
    case 'session':
      model.applySession(msg.state, msg.name);
      saver.request();
      saver.flush(); // a state change is worth keeping at once
      break;
    case 'levels':
      if (!model.applyLevels(msg.body as LevelsEventBody, performance.now())) return;
      saver.request();
      break;
    case 'streams':
      model.applyStreams(msg.body as StreamsResponseBody);
      saver.request();
      break;
    default:
      return;
  }
  frame.request();
});

// Best effort when VS Code tears the hidden webview down: keep the newest levels too.
window.addEventListener('pagehide', () => saver.flush());

view.render(model);
api.postMessage({ type: 'ready' });
