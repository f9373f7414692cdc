// The pure logic behind issue 16's VS Code parts: "auto" audio, what PortAudio failures tell a
// person to install, workspace trust, the semu view's tree, the status bar's text and MIPS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseAudio, portAudioHint } from '../../src/vscode/audio-choice';
import { deviceTree, MipsMeter, queueFromVariable, statusText } from '../../src/vscode/device-model';
import { restrictedIn } from '../../src/vscode/trust';
import { launchOptionSpecs } from '../../debug-adapter/launch';
import type { DeviceSnapshot, QueueSnapshot, StreamSnapshot } from '../../src/shared/protocol';

test('auto audio: PortAudio locally when it plays; the webview when remote or when it cannot; explicit specs kept', () => {
  assert.deepEqual(chooseAudio({ audioOut: 'auto', audioIn: 'auto' }, undefined, { ok: true }), { audioOut: 'portaudio', audioIn: 'portaudio', note: null });
  const remote = chooseAudio({ audioOut: 'auto', audioIn: 'auto' }, 'ssh-remote', { ok: true });
  assert.equal(remote.audioOut, 'webview');
  assert.equal(remote.audioIn, 'null', 'a webview cannot capture');
  assert.match(remote.note!, /ssh-remote/);
  const none = chooseAudio({ audioOut: 'auto', audioIn: 'wav:/tmp/in.wav' }, undefined, { ok: false, why: 'this package has no PortAudio addon for darwin-arm64' });
  assert.deepEqual([none.audioOut, none.audioIn], ['webview', 'wav:/tmp/in.wav']);
  assert.deepEqual(chooseAudio({ audioOut: 'portaudio:USB', audioIn: 'null' }, 'wsl', { ok: false, why: 'x' }), { audioOut: 'portaudio:USB', audioIn: 'null', note: null });
});

test('a PortAudio that does not load names what to install', () => {
  assert.match(portAudioHint('cannot load naudiodon: libasound.so.2: cannot open shared object file'), /libasound2.*alsa-lib/);
  assert.match(portAudioHint("/lib64/libstdc++.so.6: version `GLIBCXX_3.4.30' not found"), /libstdc\+\+/);
  assert.match(portAudioHint('something else'), /"semu" log/);
});

test('untrusted workspaces: host paths, programs and ports are named; the default guest and plain audio are not', () => {
  assert.deepEqual(restrictedIn({ type: 'semu', request: 'launch', name: 'Boot semu', audioOut: 'portaudio', harts: 2 }), []);
  assert.deepEqual(restrictedIn({ kernel: '/k/Image', disk: 'd.img', audioOut: 'wav:/tmp/x.wav', audioIn: 'null', cwd: '/elsewhere' }), ['kernel', 'disk', 'audioOut "wav:/tmp/x.wav"', 'cwd']);
  // Every option that declares host access is restricted: a device added later is covered by its declaration.
  for (const spec of launchOptionSpecs()) if (spec.hostAccess === true) assert.deepEqual(restrictedIn({ [spec.key]: 'x' }), [spec.key]);
});

const queue = (index: number, name: string, extra: Partial<QueueSnapshot> = {}): QueueSnapshot => ({
  device: 'virtio-snd', index, name, ready: true, size: 64, maxSize: 64, descAddr: 0, availAddr: 0, usedAddr: 0, availIdx: 5, availFlags: 0, usedIdx: 3, usedFlags: 0,
  lastAvailIdx: 4, inFlight: 1, notifications: 9, interrupts: 7, pending: [], held: [], ...extra,
});
const device = (name: string, base: number, queues: QueueSnapshot[]): DeviceSnapshot => ({
  name, deviceId: 25, base, irq: 5, status: 15, statusNames: 'ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK', deviceFeatures: [0, 1], driverFeatures: [0, 1], needsReset: false, interruptStatus: 0, queues,
});
const stream: StreamSnapshot = {
  id: 0, direction: 'output', state: 'running', format: 'S16', rate: 48000, channels: 2, periodBytes: 3840, bufferBytes: 15360, backend: 'webview', backendFailure: null,
  ringFill: 4800, ringCapacity: 9600, framesMoved: 1000, buffersInFlight: 2, xrunsGuest: 1, xrunsHost: 2, peak: 0.5, rms: 0.35,
};

test('the semu view: devices → queues (inspectable) and, for virtio-snd, its PCM streams', () => {
  const devs = [device('virtio-blk', 0xf4200000, [queue(0, 'requestq', { device: 'virtio-blk' })]), device('virtio-snd', 0xf4700000, [queue(0, 'controlq'), queue(2, 'txq', { ready: false })])];
  const tree = deviceTree(devs, [stream]);
  assert.deepEqual(tree.map((d) => d.label), ['virtio-blk', 'virtio-snd']);
  assert.match(tree[1].description!, /DRIVER_OK · irq 5/);
  const snd = tree[1].children!;
  assert.deepEqual(snd.map((c) => c.label), ['controlq (0)', 'txq (2)', 'PCM streams']);
  assert.equal(snd[0].contextValue, 'semu.queue');
  assert.deepEqual(snd[0].queue, { device: 'virtio-snd', index: 0 });
  assert.match(snd[0].description!, /avail\.idx 5, used\.idx 3/);
  assert.equal(snd[1].description, 'not ready');
  assert.match(snd[2].children![0].description!, /running · 48000 Hz, 2 ch, S16 · ring 50 % · xruns 1\/2/);
  assert.equal(new Set(tree.flatMap((d) => [d.id, ...(d.children ?? []).map((c) => c.id)])).size, 6, 'ids are unique');
});

test('"Show in Virtqueue Inspector" from Variables finds the queue by its node name', () => {
  const devs = [device('virtio-rng', 0xf4600000, [queue(0, 'requestq')]), device('virtio-snd', 0xf4700000, [queue(2, 'txq')])];
  assert.deepEqual(queueFromVariable('txq (2)', devs), { device: 'virtio-snd', index: 2 });
  assert.equal(queueFromVariable('txq (3)', devs), null);
  assert.equal(queueFromVariable('pending', devs), null);
});

test('status bar: state, MIPS over at least half a second, xruns summed', () => {
  const m = new MipsMeter();
  m.sample({ time: 1, instret: 10e6 });
  m.sample({ time: 1.2, instret: 30e6 });
  assert.equal(m.mips, null, 'a window shorter than 0.5 s says nothing yet');
  m.sample({ time: 1.5, instret: 60e6 });
  assert.ok(Math.abs(m.mips! - 100) < 1e-9);
  const streams = [{ ...stream, xrunsGuest: 1, xrunsHost: 2 }, { ...stream, id: 1, xrunsGuest: 0, xrunsHost: 4 }];
  assert.equal(statusText('running', m.mips, streams), '$(play) semu: running · 100 MIPS · 7 xruns');
  assert.equal(statusText('paused', m.mips, streams), '$(debug-pause) semu: paused · 7 xruns');
  assert.equal(statusText('running', 4.25, null), '$(play) semu: running · 4.3 MIPS');
  assert.equal(statusText('none', null, null), '$(circuit-board) semu: idle');
});
