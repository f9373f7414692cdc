// Every class of malformed message gets the spec's status (or, for a broken chain, the
// transport's DEVICE_NEEDS_RESET) — never an exception, never a write outside the guest buffer.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as P from '../../src/devices/virtio-snd/snd-proto';
import { VIRTQ_DESC_F_WRITE } from '../../src/emulator/virtio/types';
import { makeRig, pattern, setParamsBytes, u32s } from './snd-driver';
import { setLogSink } from '../../src/log';

const CTL = P.VIRTIO_SND_VQ_CONTROL;
const TX = P.VIRTIO_SND_VQ_TX;
const RX = P.VIRTIO_SND_VQ_RX;
const OK = P.VIRTIO_SND_S_OK;
const BAD = P.VIRTIO_SND_S_BAD_MSG;
const NOT_SUPP = P.VIRTIO_SND_S_NOT_SUPP;
const GOOD = { bufferBytes: 4 * 1920, periodBytes: 1920 };

test('short, empty and oversized control messages → BAD_MSG', () => {
  const { sd, snd, drv } = makeRig();
  assert.equal(sd.control(new Uint8Array([1, 0]), 4).status, BAD, 'header shorter than 4 bytes');
  assert.equal(sd.control(new Uint8Array(0), 4).status, BAD, 'no readable part');
  assert.equal(sd.control(u32s(P.VIRTIO_SND_R_PCM_PREPARE), 4).status, BAD, 'PCM header without stream id');
  assert.equal(sd.control(u32s(P.VIRTIO_SND_R_PCM_PREPARE, 0, 0), 4).status, BAD, 'oversized PCM header');
  assert.equal(sd.control(setParamsBytes(0, GOOD).subarray(0, 20), 4).status, BAD, 'short SET_PARAMS');
  assert.equal(sd.control(u32s(P.VIRTIO_SND_R_PCM_INFO, 0, 1), 36).status, BAD, 'short query');
  assert.equal(sd.control(u32s(P.VIRTIO_SND_R_PCM_INFO, 0, 1, 32, 0), 36).status, BAD, 'oversized query');
  assert.equal(snd.internalErrors, 0);
  assert.equal(drv.needsReset, false);
});

test('unknown codes → BAD_MSG; defined but unoffered requests → NOT_SUPP', () => {
  const { sd } = makeRig();
  assert.equal(sd.control(u32s(0x999, 0), 4).status, BAD);
  assert.equal(sd.control(u32s(0xffffffff), 4).status, BAD);
  assert.equal(sd.control(u32s(P.VIRTIO_SND_R_CTL_FIRST, 0, 1, 64), 4).status, NOT_SUPP, 'CTL_INFO without F_CTLS');
  assert.equal(sd.control(u32s(P.VIRTIO_SND_R_JACK_REMAP, 0, 1, 0), 4).status, NOT_SUPP);
  assert.equal(sd.control(u32s(P.VIRTIO_SND_R_JACK_REMAP, 7, 1, 0), 4).status, BAD, 'remap of an unknown jack');
});

test('unknown stream ids → BAD_MSG for every PCM request', () => {
  const { sd } = makeRig();
  for (const id of [2, 3, 0x80000000, 0xffffffff]) {
    assert.equal(sd.setParams(id, GOOD), BAD);
    for (const code of [P.VIRTIO_SND_R_PCM_PREPARE, P.VIRTIO_SND_R_PCM_START, P.VIRTIO_SND_R_PCM_STOP, P.VIRTIO_SND_R_PCM_RELEASE]) {
      assert.equal(sd.cmd(code, id), BAD, `${P.requestName(code)} stream ${id}`);
    }
  }
});

test('bad SET_PARAMS: unsupported → NOT_SUPP, inconsistent sizes → BAD_MSG', () => {
  const { sd } = makeRig();
  const cases: [string, Parameters<typeof sd.setParams>[1], number][] = [
    ['U8 format', { ...GOOD, format: 4 }, NOT_SUPP],
    ['FLOAT64 format', { ...GOOD, format: 20 }, NOT_SUPP],
    ['format 200', { ...GOOD, format: 200 }, NOT_SUPP],
    ['5512 Hz', { ...GOOD, rateIndex: 0 }, NOT_SUPP],
    ['96 kHz', { ...GOOD, rateIndex: 10 }, NOT_SUPP],
    ['rate index 99', { ...GOOD, rateIndex: 99 }, NOT_SUPP],
    ['0 channels', { ...GOOD, channels: 0 }, NOT_SUPP],
    ['3 channels', { ...GOOD, channels: 3 }, NOT_SUPP],
    ['SHMEM feature', { ...GOOD, features: 1 << P.VIRTIO_SND_PCM_F_SHMEM_HOST }, NOT_SUPP],
    ['unknown feature', { ...GOOD, features: 1 << 30 }, NOT_SUPP],
    ['huge buffer', { bufferBytes: 64 << 20, periodBytes: 1920 }, NOT_SUPP],
    ['zero buffer', { bufferBytes: 0, periodBytes: 0 }, BAD],
    ['zero period', { bufferBytes: 7680, periodBytes: 0 }, BAD],
    ['buffer not whole frames', { bufferBytes: 7682, periodBytes: 1920 }, BAD],
    ['period not whole frames', { bufferBytes: 7680, periodBytes: 1922 }, BAD],
    ['period larger than buffer', { bufferBytes: 1920, periodBytes: 3840 }, BAD],
  ];
  for (const [what, p, want] of cases) assert.equal(sd.setParams(0, p), want, what);
  assert.equal(sd.setParams(0, GOOD), OK, 'and a good one still works');
});

test('periods or a buffer shorter than the backend keeps in real time (PortAudio: 2 ms, 10 ms) → NOT_SUPP, and a warning that says what to ask for', () => {
  const { sd, out, inp } = makeRig();
  out.minPeriodSeconds = inp.minPeriodSeconds = 0.002;
  out.minBufferSeconds = inp.minBufferSeconds = 0.01;
  const lines: string[] = [];
  setLogSink((level, scope, message) => lines.push(`${level} ${scope}: ${message}`));
  try {
    // 48 kHz stereo S16 (4 bytes a frame). The smallest Linux offers, 40-frame periods × 2, both ways.
    for (const stream of [0, 1]) assert.equal(sd.setParams(stream, { bufferBytes: 320, periodBytes: 160 }), NOT_SUPP, `stream ${stream}`);
    assert.equal(lines.length, 2, 'one warning each');
    assert.match(lines[0], /^warn virtio-snd: stream 0: SET_PARAMS refused: a 0\.8 ms period \(40 frames at 48000 Hz\) is shorter than the test-out backend keeps in real time \(2 ms\); ask for at least 96 frames \(the guest's pcm tool: -p 96\)/);
    // 96-frame periods, two of them: the buffer (4 ms) is too short.
    assert.equal(sd.setParams(0, { bufferBytes: 192 * 4, periodBytes: 96 * 4 }), NOT_SUPP);
    assert.match(lines[2], /a 4\.0 ms buffer \(192 frames at 48000 Hz\) is shorter than the test-out backend keeps in real time \(10 ms\); ask for at least 480 frames \(the guest's pcm tool: -b 480\)/);
    // Five of them (10 ms): accepted, prepared, opened.
    assert.equal(sd.setParams(0, { bufferBytes: 480 * 4, periodBytes: 96 * 4 }), OK);
    assert.equal(sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0), OK);
    assert.equal(out.opened.length, 1);
    assert.equal(lines.length, 3);
  } finally {
    setLogSink((level, scope, message) => process.stderr.write(`[${level}] ${scope}: ${message}\n`));
  }
});

test('wrong transitions → BAD_MSG and change nothing', () => {
  const { sd, out } = makeRig();
  const cmd = (code: number) => sd.cmd(code, 0);
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_PREPARE), BAD, 'PREPARE before SET_PARAMS');
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_START), BAD, 'START in set-up');
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_RELEASE), BAD, 'RELEASE in set-up');
  assert.equal(sd.setParams(0, GOOD), OK);
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_START), BAD, 'START before PREPARE');
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_STOP), BAD, 'STOP before PREPARE');
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_RELEASE), BAD, 'RELEASE before PREPARE');
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_PREPARE), OK);
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_STOP), BAD, 'STOP when prepared');
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_START), OK);
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_START), BAD, 'START when running');
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_PREPARE), BAD, 'PREPARE when running');
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_RELEASE), BAD, 'RELEASE when running');
  assert.equal(sd.setParams(0, GOOD), BAD, 'SET_PARAMS when running');
  assert.equal(out.last.started, true, 'still running');
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_STOP), OK);
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_STOP), BAD, 'STOP when stopped');
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_PREPARE), BAD, 'PREPARE when stopped');
  assert.equal(sd.setParams(0, GOOD), BAD, 'SET_PARAMS when stopped');
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_RELEASE), OK);
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_RELEASE), BAD, 'RELEASE twice');
  assert.equal(cmd(P.VIRTIO_SND_R_PCM_START), BAD, 'START when released');
});

test('info queries: range, item size and response room are checked', () => {
  const { sd } = makeRig();
  let r = sd.queryInfo(P.VIRTIO_SND_R_PCM_INFO, 0, 2, 32, 4 + 32);
  assert.equal(r.status, BAD, 'response buffer too small');
  assert.equal(r.used, 4);
  assert.ok(r.resp.subarray(4).every((b) => b === 0xee), 'nothing written past the status');
  assert.equal(sd.queryInfo(P.VIRTIO_SND_R_PCM_INFO, 1, 2, 32).status, BAD, 'start + count beyond the streams');
  assert.equal(sd.queryInfo(P.VIRTIO_SND_R_JACK_INFO, 2, 1, 24).status, BAD);
  assert.equal(sd.queryInfo(P.VIRTIO_SND_R_CHMAP_INFO, 0xffffffff, 2, 24, 100).status, BAD, 'wrapping start_id');
  assert.equal(sd.queryInfo(P.VIRTIO_SND_R_PCM_INFO, 0, 0x80000000, 32, 64).status, BAD, 'huge count');
  assert.equal(sd.queryInfo(P.VIRTIO_SND_R_PCM_INFO, 0, 1, 16, 20).status, BAD, 'item size below the structure');
  r = sd.queryInfo(P.VIRTIO_SND_R_PCM_INFO, 0, 0, 32);
  assert.equal(r.status, OK, 'zero items is a valid (empty) answer');
  assert.equal(r.used, 4);
});

test('a control request whose status is device-readable gets its buffer back untouched', () => {
  const { drv, snd } = makeRig();
  const req = drv.alloc(8);
  drv.put(req, u32s(P.VIRTIO_SND_R_PCM_PREPARE, 0));
  const status = drv.alloc(4);
  drv.put(status, new Uint8Array(4).fill(0xee));
  const head = drv.submit(CTL, [
    { addr: req, len: 8, write: false },
    { addr: status, len: 4, write: false },
  ]);
  drv.kick(CTL);
  assert.deepEqual(drv.used(CTL), [{ id: head, len: 0 }]);
  assert.deepEqual(drv.get(status, 4), new Uint8Array(4).fill(0xee));
  assert.equal(snd.internalErrors, 0);
  assert.equal(drv.needsReset, false);
});

test('a chain outside RAM puts the device in NEEDS_RESET; a reset recovers it', () => {
  const rig = makeRig();
  const { drv, sd, snd } = rig;
  drv.submitRaw(CTL, [
    { addr: 0x10000, len: 8, flags: 0 },
    { addr: drv.ram.size - 2, len: 4, flags: VIRTQ_DESC_F_WRITE },
  ]);
  drv.kick(CTL);
  assert.equal(drv.needsReset, true);
  assert.equal(drv.used(CTL).length, 0, 'the broken chain is not returned');
  assert.equal(snd.internalErrors, 0);
  drv.init();
  assert.equal(drv.needsReset, false);
  assert.equal(sd.setParams(0, GOOD), OK);
  // Same on the TX queue: a PCM descriptor at 0xFFFFF000 (+8 KiB wraps past 2^32).
  sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0);
  const hdr = drv.alloc(4);
  drv.put(hdr, u32s(0));
  drv.submitRaw(TX, [
    { addr: hdr, len: 4, flags: 0 },
    { addr: 0xfffff000, len: 0x2000, flags: 0 },
    { addr: drv.alloc(8), len: 8, flags: VIRTQ_DESC_F_WRITE },
  ]);
  drv.kick(TX);
  assert.equal(drv.needsReset, true);
  assert.equal(snd.internalErrors, 0);
});

test('malformed TX/RX messages → BAD_MSG with the status where the driver reads it', () => {
  const rig = makeRig();
  const { drv, sd, snd } = rig;
  const xfer = (q: number, descs: { addr: number; len: number; flags: number }[]) => {
    const head = drv.submitRaw(q, descs);
    drv.kick(q);
    const used = drv.used(q);
    assert.equal(used.length, 1);
    assert.equal(used[0].id, head);
    return used[0].len;
  };
  const st = () => {
    const a = drv.alloc(8);
    drv.put(a, new Uint8Array(8).fill(0xee));
    return a;
  };
  const W = VIRTQ_DESC_F_WRITE;
  const hdrFor = (id: number) => {
    const a = drv.alloc(4);
    drv.put(a, u32s(id));
    return a;
  };
  const pcm = drv.alloc(1920);
  // Before PREPARE the stream takes no I/O.
  sd.setParams(0, GOOD);
  sd.setParams(1, GOOD);
  let s = st();
  assert.equal(xfer(TX, [{ addr: hdrFor(0), len: 4, flags: 0 }, { addr: pcm, len: 1920, flags: 0 }, { addr: s, len: 8, flags: W }]), 8);
  assert.equal(drv.ram.read32(s), BAD, 'TX before PREPARE');
  sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0);
  sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 1);
  const cases: [string, number, { addr: number; len: number; flags: number }[], number][] = [];
  s = st();
  cases.push(['short header', TX, [{ addr: hdrFor(0), len: 2, flags: 0 }, { addr: s, len: 8, flags: W }], s]);
  s = st();
  cases.push(['unknown stream', TX, [{ addr: hdrFor(9), len: 4, flags: 0 }, { addr: pcm, len: 1920, flags: 0 }, { addr: s, len: 8, flags: W }], s]);
  s = st();
  cases.push(['TX naming the input stream', TX, [{ addr: hdrFor(1), len: 4, flags: 0 }, { addr: pcm, len: 1920, flags: 0 }, { addr: s, len: 8, flags: W }], s]);
  s = st();
  cases.push(['RX naming the output stream', RX, [{ addr: hdrFor(0), len: 4, flags: 0 }, { addr: pcm, len: 1920, flags: W }, { addr: s, len: 8, flags: W }], s]);
  s = st();
  cases.push(['PCM not whole frames', TX, [{ addr: hdrFor(0), len: 4, flags: 0 }, { addr: pcm, len: 1922, flags: 0 }, { addr: s, len: 8, flags: W }], s]);
  s = st();
  cases.push(['RX room not whole frames', RX, [{ addr: hdrFor(1), len: 4, flags: 0 }, { addr: pcm, len: 1921, flags: W }, { addr: s, len: 8, flags: W }], s]);
  s = st();
  cases.push(['RX with readable PCM', RX, [{ addr: hdrFor(1), len: 4, flags: 0 }, { addr: pcm, len: 1920, flags: 0 }, { addr: s, len: 8, flags: W }], s]);
  s = st();
  cases.push(['TX with a 16-byte status', TX, [{ addr: hdrFor(0), len: 4, flags: 0 }, { addr: pcm, len: 1920, flags: 0 }, { addr: s, len: 16, flags: W }], s + 8]);
  for (const [what, q, descs, statusAt] of cases) {
    const before = drv.get(pcm, 1920);
    const len = xfer(q, descs);
    assert.equal(len, 8, `${what}: used length`);
    assert.equal(drv.ram.read32(statusAt), BAD, `${what}: status`);
    assert.deepEqual(drv.get(pcm, 1920), before, `${what}: PCM untouched`);
  }
  // No writable part at all: nothing can be written, the chain still comes back.
  assert.equal(xfer(TX, [{ addr: hdrFor(0), len: 4, flags: 0 }, { addr: pcm, len: 1920, flags: 0 }]), 0);
  assert.equal(xfer(RX, [{ addr: hdrFor(1), len: 4, flags: 0 }, { addr: pcm, len: 4, flags: W }]), 0);
  assert.equal(snd.internalErrors, 0);
  assert.equal(drv.needsReset, false);
  // And the streams still work.
  const x = sd.tx(0, pattern(1920, 1));
  drv.kick(TX);
  sd.cmd(P.VIRTIO_SND_R_PCM_START, 0);
  rig.out.last.consume(1920);
  snd.poll();
  assert.deepEqual(
    drv.used(TX).map((u) => u.id),
    [x.head],
  );
});

test('more messages or fragments than a driver can legally queue → IO_ERR, nothing lost', () => {
  const rig = makeRig();
  const { drv, sd, snd } = rig;
  sd.setParams(0, { bufferBytes: 16 * 1920, periodBytes: 1920 });
  sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0);
  // One chain using the whole descriptor table: header, 62 PCM fragments, status. Made available
  // 20 times over, it asks the device to hold 20 × 63 fragments (it keeps 1024 per stream).
  const hdr = drv.alloc(4);
  drv.put(hdr, u32s(0));
  const pcm = drv.alloc(62 * 4);
  const status = drv.alloc(8);
  const descs = [{ addr: hdr, len: 4, flags: 0 }];
  for (let i = 0; i < 62; i++) descs.push({ addr: pcm + 4 * i, len: 4, flags: 0 });
  descs.push({ addr: status, len: 8, flags: VIRTQ_DESC_F_WRITE });
  const head = drv.submitRaw(TX, descs);
  for (let i = 1; i < 20; i++) drv.resubmit(TX, head);
  drv.kick(TX);
  const held = Math.floor(1024 / 63);
  assert.equal(snd.streams[0].inFlight, held);
  const used = drv.used(TX);
  assert.equal(used.length, 20 - held, 'the rest came back at once');
  assert.equal(drv.ram.read32(status), P.VIRTIO_SND_S_IO_ERR);
  // RELEASE returns every held one: each popped chain is accounted for.
  sd.cmd(P.VIRTIO_SND_R_PCM_RELEASE, 0);
  assert.equal(drv.used(TX).length, held);
  assert.equal(snd.streams[0].inFlight, 0);

  // The message FIFO: 64 per stream (the queue size); the 65th and later are refused.
  sd.cmd(P.VIRTIO_SND_R_PCM_PREPARE, 0);
  const small = sd.tx(0, pattern(4, 1));
  for (let i = 1; i < 40; i++) drv.resubmit(TX, small.head);
  drv.kick(TX);
  for (let i = 0; i < 30; i++) drv.resubmit(TX, small.head);
  drv.kick(TX);
  assert.equal(snd.streams[0].inFlight, 64);
  assert.equal(drv.used(TX).length, 70 - 64);
  assert.equal(drv.ram.read32(small.statusAddr), P.VIRTIO_SND_S_IO_ERR);
  assert.equal(snd.internalErrors, 0);
});
