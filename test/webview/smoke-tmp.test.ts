import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPanel } from './harness';
test('smoke', async () => {
  const b = await launch();
  const p = await openPanel(b, 'levels');
  await p.send({ type: 'session', state: 'running', name: 'Boot semu' });
  await p.send({ type: 'levels', body: { time: 1.5, running: true, streams: [
    { id: 0, direction: 'output', state: 'running', peak: 0.5, rms: 0.25, ringFill: 1000, ringCapacity: 4096, xrunsGuest: 0, xrunsHost: 1, format: 'S16', rate: 48000, channels: 2, backend: 'portaudio:pulse' },
    { id: 1, direction: 'input', state: 'prepared', peak: 0.01, rms: 0.005, ringFill: 10, ringCapacity: 4096, xrunsGuest: 0, xrunsHost: 0, format: 'S16', rate: 48000, channels: 1, backend: 'null', backendFailure: 'PortAudio: no device' },
  ] } });
  await p.page.screenshot({ path: 'test-results/webview/smoke.png' });
  console.error(await p.page.evaluate(() => document.body.innerText));
  await p.close();
  console.error(p.errors);
  await b.close();
  assert.ok(true);
});
