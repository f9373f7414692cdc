// The control queue as Linux's sound/virtio driver uses it: configuration, the three INFO
// queries it makes at probe, and the PCM command lifecycle it drives from ALSA's callbacks.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readStreams } from '../../src/devices/virtio-snd/snd-layout';
import * as P from '../../src/devices/virtio-snd/snd-proto';
import { R } from './driver';
import { makeRig } from './snd-driver';

const { le32 } = P;

test('config space and identity', () => {
  const { drv } = makeRig();
  assert.equal(drv.r(R.DEVICE_ID), 25);
  assert.equal(drv.config32(0), 2, 'jacks');
  assert.equal(drv.config32(4), 2, 'streams');
  assert.equal(drv.config32(8), 4, 'chmaps');
  assert.equal(drv.config32(12), 0, 'controls');
  assert.equal(drv.mmio.read(R.CONFIG + 4, 1), 2, 'byte access');
  assert.equal(drv.config32(16), 0, 'beyond the config space reads 0');
  drv.w(R.DEVICE_FEATURES_SEL, 0);
  assert.equal(drv.r(R.DEVICE_FEATURES) & 0xffffff, 0, 'no device feature bits (no VIRTIO_SND_F_CTLS)');
  const custom = makeRig({ outputs: 3, inputs: 0 });
  assert.equal(custom.drv.config32(0), 1);
  assert.equal(custom.drv.config32(4), 3);
  assert.equal(custom.drv.config32(8), 2);
});

test('JACK_INFO describes one output and one input jack', () => {
  const { sd } = makeRig();
  const r = sd.queryInfo(P.VIRTIO_SND_R_JACK_INFO, 0, 2, P.JACK_INFO_SIZE);
  assert.equal(r.status, P.VIRTIO_SND_S_OK);
  assert.equal(r.used, 4 + 2 * 24);
  const out = r.resp.subarray(4, 28);
  const inp = r.resp.subarray(28, 52);
  assert.equal(le32(out, 0), 0, 'hda_fn_nid');
  assert.equal(le32(out, 4), 0, 'no remap feature');
  assert.equal((le32(out, 8) >>> 20) & 0xf, 0x0, 'default device: line out');
  assert.equal((le32(inp, 8) >>> 20) & 0xf, 0xa, 'default device: mic in');
  assert.equal(le32(out, 8) >>> 30, 0, 'connectivity: jack');
  assert.ok(le32(out, 12) & (1 << 4), 'output capable');
  assert.ok(le32(inp, 12) & (1 << 5), 'input capable');
  assert.equal(out[16], 1, 'connected');
  assert.equal(inp[16], 1);
});

test('PCM_INFO advertises S16/S32/FLOAT, 8-48 kHz, 1-2 channels, XRUN events', () => {
  const { sd } = makeRig();
  const r = sd.queryInfo(P.VIRTIO_SND_R_PCM_INFO, 0, 2, P.PCM_INFO_SIZE);
  assert.equal(r.status, P.VIRTIO_SND_S_OK);
  assert.equal(r.used, 4 + 64);
  for (const [i, dir] of [[0, P.VIRTIO_SND_D_OUTPUT], [1, P.VIRTIO_SND_D_INPUT]] as const) {
    const info = r.resp.subarray(4 + 32 * i, 36 + 32 * i);
    assert.equal(le32(info, 4), 1 << P.VIRTIO_SND_PCM_F_EVT_XRUNS, 'features');
    assert.equal(le32(info, 8), (1 << 5) | (1 << 17) | (1 << 19), 'formats');
    assert.equal(le32(info, 12), 0);
    assert.equal(le32(info, 16), 0b11111110, 'rates 8000..48000');
    assert.equal(le32(info, 20), 0);
    assert.equal(info[24], dir);
    assert.equal(info[25], 1);
    assert.equal(info[26], 2);
  }
  // A query of one item from the middle.
  const one = sd.queryInfo(P.VIRTIO_SND_R_PCM_INFO, 1, 1, P.PCM_INFO_SIZE);
  assert.equal(one.status, P.VIRTIO_SND_S_OK);
  assert.equal(one.resp[4 + 24], P.VIRTIO_SND_D_INPUT);
});

test('CHMAP_INFO: mono and stereo per direction', () => {
  const { sd } = makeRig();
  const r = sd.queryInfo(P.VIRTIO_SND_R_CHMAP_INFO, 0, 4, P.CHMAP_INFO_SIZE);
  assert.equal(r.status, P.VIRTIO_SND_S_OK);
  const maps = [0, 1, 2, 3].map((i) => r.resp.subarray(4 + 24 * i, 28 + 24 * i));
  assert.deepEqual(
    maps.map((m) => [m[4], m[5], ...m.subarray(6, 6 + m[5])]),
    [
      [P.VIRTIO_SND_D_OUTPUT, 1, P.VIRTIO_SND_CHMAP_MONO],
      [P.VIRTIO_SND_D_OUTPUT, 2, P.VIRTIO_SND_CHMAP_FL, P.VIRTIO_SND_CHMAP_FR],
      [P.VIRTIO_SND_D_INPUT, 1, P.VIRTIO_SND_CHMAP_MONO],
      [P.VIRTIO_SND_D_INPUT, 2, P.VIRTIO_SND_CHMAP_FL, P.VIRTIO_SND_CHMAP_FR],
    ],
  );
});

test('an info item size larger than the structure is zero-padded', () => {
  const { sd } = makeRig();
  const r = sd.queryInfo(P.VIRTIO_SND_R_JACK_INFO, 0, 2, 600);
  assert.equal(r.status, P.VIRTIO_SND_S_OK);
  assert.equal(r.used, 4 + 1200);
  assert.equal((le32(r.resp, 4 + 600 + 8) >>> 20) & 0xf, 0xa, 'second item at offset size');
  assert.ok(r.resp.subarray(4 + 24, 4 + 600).every((b) => b === 0), 'padding zeroed');
});

test('the PCM lifecycle Linux drives, and what it does to the host stream', () => {
  const { sd, out, snd } = makeRig();
  const params = { bufferBytes: 4 * 1920, periodBytes: 1920, channels: 2, rateIndex: 7 };
  assert.equal(sd.setParams(0, params), P.VIRTIO_SND_S_OK);
  assert.equal(out.opened.length, 0, 'nothing opened before PREPARE');
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0), P.VIRTIO_SND_S_OK);
  assert.equal(out.opened.length, 1);
  assert.deepEqual(out.last.params, { direction: 'output', rate: 48000, channels: 2, format: 'S16', periodBytes: 1920, bufferBytes: 7680 });
  // alsa-lib prepares again after hw_params: the same host stream stays.
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0), P.VIRTIO_SND_S_OK);
  assert.equal(out.opened.length, 1);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_START, 0), P.VIRTIO_SND_S_OK);
  assert.equal(out.last.started, true);
  assert.equal(readStreams(snd.state)[0].state, 'running');
  // Pause (STOP) and resume (START).
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_STOP, 0), P.VIRTIO_SND_S_OK);
  assert.equal(out.last.started, false);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_START, 0), P.VIRTIO_SND_S_OK);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_STOP, 0), P.VIRTIO_SND_S_OK);
  assert.equal(readStreams(snd.state)[0].state, 'stopped');
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_RELEASE, 0), P.VIRTIO_SND_S_OK);
  assert.equal(out.last.closed, true);
  assert.equal(readStreams(snd.state)[0].state, 'released');
  // After RELEASE: PREPARE again reopens with the kept parameters; new parameters after that.
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0), P.VIRTIO_SND_S_OK);
  assert.equal(out.opened.length, 2);
  assert.equal(sd.setParams(0, { ...params, format: P.VIRTIO_SND_PCM_FMT_FLOAT, rateIndex: 6 }), P.VIRTIO_SND_S_OK);
  assert.equal(out.opened[1].closed, true, 'new parameters close the prepared stream');
  assert.equal(readStreams(snd.state)[0].state, 'set-up');
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0), P.VIRTIO_SND_S_OK);
  assert.equal(out.last.params.format, 'FLOAT');
  assert.equal(out.last.params.rate, 44100);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_RELEASE, 0), P.VIRTIO_SND_S_OK);
  assert.equal(sd.setParams(0, params), P.VIRTIO_SND_S_OK, 'SET_PARAMS after RELEASE');
});

test('a backend with a slow open (keepWarmMs): RELEASE keeps the stream for a PREPARE with the same parameters, then closes it', async () => {
  const { sd, out, snd } = makeRig();
  out.keepWarmMs = 150;
  const params = { bufferBytes: 4 * 1920, periodBytes: 1920, channels: 2, rateIndex: 7 };
  assert.equal(sd.setParams(0, params), P.VIRTIO_SND_S_OK);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0), P.VIRTIO_SND_S_OK);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_START, 0), P.VIRTIO_SND_S_OK);
  // Linux's xrun recovery: STOP, RELEASE, PREPARE, START — one host stream throughout.
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_STOP, 0), P.VIRTIO_SND_S_OK);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_RELEASE, 0), P.VIRTIO_SND_S_OK);
  assert.equal(out.last.closed, false, 'kept warm');
  assert.equal(readStreams(snd.state)[0].state, 'released');
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0), P.VIRTIO_SND_S_OK);
  assert.equal(out.opened.length, 1, 'the warm stream was reused');
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_START, 0), P.VIRTIO_SND_S_OK);
  assert.equal(out.last.started, true);
  // Other parameters after a RELEASE: the warm stream is closed and a new one opened.
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_STOP, 0), P.VIRTIO_SND_S_OK);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_RELEASE, 0), P.VIRTIO_SND_S_OK);
  assert.equal(sd.setParams(0, { ...params, rateIndex: 6 }), P.VIRTIO_SND_S_OK);
  assert.equal(out.opened[0].closed, true, 'new parameters close the warm stream');
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0), P.VIRTIO_SND_S_OK);
  assert.equal(out.opened.length, 2);
  // Nobody prepares again: the warm stream closes once its time is up, on a poll.
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_RELEASE, 0), P.VIRTIO_SND_S_OK);
  snd.poll();
  assert.equal(out.opened[1].closed, false);
  await new Promise((r) => setTimeout(r, 200));
  snd.poll();
  assert.equal(out.opened[1].closed, true, 'closed after keepWarmMs');
  // A device reset closes a warm stream at once.
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0), P.VIRTIO_SND_S_OK);
  assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_RELEASE, 0), P.VIRTIO_SND_S_OK);
  snd.reset();
  assert.equal(out.last.closed, true, 'reset closes it');
});

test('every format, rate and channel count offered is accepted and reaches the backend', () => {
  const { sd, inp } = makeRig();
  for (const format of P.SUPPORTED_FORMATS) {
    for (const rateIndex of P.SUPPORTED_RATE_INDEXES) {
      for (const channels of [1, 2]) {
        const fb = (format === P.VIRTIO_SND_PCM_FMT_S16 ? 2 : 4) * channels;
        assert.equal(sd.setParams(1, { bufferBytes: fb * 1024, periodBytes: fb * 256, format, rateIndex, channels }), P.VIRTIO_SND_S_OK);
        assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 1), P.VIRTIO_SND_S_OK);
        const p = inp.last.params;
        assert.equal(p.rate, P.RATE_BY_INDEX[rateIndex]);
        assert.equal(p.channels, channels);
        assert.equal(p.format, P.formatName(format));
        assert.equal(p.direction, 'input');
      }
    }
  }
});

test('shared state mirrors parameters and state for the debugger', () => {
  const { sd, snd } = makeRig();
  let s = readStreams(snd.state);
  assert.equal(s.length, 2);
  assert.deepEqual([s[0].direction, s[1].direction], ['output', 'input']);
  assert.equal(s[0].format, null);
  assert.equal(s[0].state, 'set-up');
  sd.setParams(1, { bufferBytes: 8192, periodBytes: 2048, channels: 1, format: P.VIRTIO_SND_PCM_FMT_S32, rateIndex: 3 });
  sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 1);
  s = readStreams(snd.state);
  assert.equal(s[1].state, 'prepared');
  assert.equal(s[1].format, 'S32');
  assert.equal(s[1].rate, 16000);
  assert.equal(s[1].channels, 1);
  assert.equal(s[1].periodBytes, 2048);
  assert.equal(s[1].bufferBytes, 8192);
  assert.equal(s[1].backend, 'test-in#0');
  assert.equal(s[1].backendFailure, null);
  assert.equal(s[1].ringCapacity, 8192 / 4, 'capacity in frames');
});
