// Entry of the Screen panel (bundled to dist/webview/screen.js): draws the guest's scanout from
// the frames its controller posts (dirty rectangles), acknowledges each drawn frame on the next
// animation frame (the controller's back-pressure), and sends keyboard and pointer input.
import '../common.css';
import '../screen.css';
import { parseToScreenPanel, type FromScreenPanel, type ScreenSessionState } from '../../src/devices/virtio-gpu/screen-messages';
import { vscodeApi } from '../shared/vscode-api';
import { attachInput } from './input';
import { ScreenView, type ScaleMode } from './view';

interface SavedState {
  scale: ScaleMode;
}

interface ScreenApi {
  postMessage(msg: FromScreenPanel): void;
  getState(): SavedState | undefined;
  setState(state: SavedState): void;
}

const api = vscodeApi<SavedState>() as unknown as ScreenApi;
const saved = api.getState();
const view = new ScreenView(document.getElementById('app') ?? document.body, saved?.scale === '1:1' ? '1:1' : 'fit', (scale) => api.setState({ scale }));
let session: ScreenSessionState = 'none';
let drawn = 0;
let ackPending = false;

const input = attachInput(view.canvas, {
  post: (m) => api.postMessage(m),
  live: () => session === 'running' && view.enabled,
  size: () => ({ width: view.width, height: view.height }),
  captured: (on) => view.setCaptured(on),
});

/** One acknowledgement per animation frame: the newest frame drawn is on screen by then. */
function ack(): void {
  if (ackPending) return;
  ackPending = true;
  requestAnimationFrame(() => {
    ackPending = false;
    api.postMessage({ type: 'frameDone', frame: drawn });
  });
}

window.addEventListener('message', (event: MessageEvent) => {
  const msg = parseToScreenPanel(event.data);
  if (msg === null) return;
  if (msg.type === 'session') {
    session = msg.state;
    if (session !== 'running') input.releaseAll();
    view.setSession(msg.state, msg.name, msg.noScreen === true);
    return;
  }
  // Paused: only the controller's exact final frame is drawn; anything older in flight is not.
  if (session === 'paused' && msg.final !== true) return;
  view.draw(msg);
  drawn = msg.frame;
  ack();
});

api.postMessage({ type: 'ready' });
