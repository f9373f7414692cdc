import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeakMeter } from '../../webview/shared/ballistics';
import { DB_FLOOR, clampDb, dbToFraction, formatDb, linearToDb } from '../../webview/shared/dbfs';
import { LevelHistory } from '../../webview/shared/history';
import { HISTORY_LENGTH, LevelsModel } from '../../webview/shared/levels-model';
import { levels } from './fixtures';

test('dbfs: full scale is 0 dB, half amplitude ≈ −6.02 dB, silence and garbage are −∞', () => {
  assert.equal(linearToDb(1), 0);
  assert.ok(Math.abs(linearToDb(0.5) - -6.0206) < 1e-3);
  assert.ok(Math.abs(linearToDb(0.001) - -60) < 1e-9);
  for (const bad of [0, -0.5, NaN]) assert.equal(linearToDb(bad), -Infinity);
});

test('dbfs: the −60..0 scale maps linearly and clamps', () => {
  assert.equal(dbToFraction(-60), 0);
  assert.equal(dbToFraction(-30), 0.5);
  assert.equal(dbToFraction(0), 1);
  assert.equal(dbToFraction(3), 1);
  assert.equal(dbToFraction(-Infinity), 0);
  assert.equal(dbToFraction(NaN), 0);
  assert.equal(clampDb(-Infinity), DB_FLOOR);
  assert.equal(clampDb(2), 0);
  assert.equal(formatDb(-12.34), '−12.3 dB');
  assert.equal(formatDb(-Infinity), '−∞ dB');
  assert.equal(formatDb(0.44), '+0.4 dB');
  assert.equal(formatDb(-0.01), '0.0 dB');
});

test('ballistics: instant attack, 24 dB/s release, peak hold 1.5 s then falls at 20 dB/s', () => {
  const m = new PeakMeter();
  m.update(-6, 0.05);
  assert.equal(m.level, -6);
  assert.equal(m.held, -6);
  // Silence for 1 s: the bar falls 24 dB, the marker holds.
  for (let i = 0; i < 20; i++) m.update(-Infinity, 0.05);
  assert.ok(Math.abs(m.level - -30) < 1e-9, `level ${m.level}`);
  assert.equal(m.held, -6);
  // 0.4 s more: still within the hold.
  for (let i = 0; i < 8; i++) m.update(-Infinity, 0.05);
  assert.equal(m.held, -6);
  // 0.5 s more: 0.4 s of it past the 1.5 s hold → 8 dB lower.
  for (let i = 0; i < 10; i++) m.update(-Infinity, 0.05);
  assert.ok(Math.abs(m.held - -14) < 1e-6, `held ${m.held}`);
  assert.ok(m.held >= m.level);
  // A louder window raises both at once and restarts the hold.
  m.update(-3, 0.05);
  assert.equal(m.level, -3);
  assert.equal(m.held, -3);
  assert.equal(m.heldAge, 0);
});

test('ballistics: the bar never goes below the floor, the marker never below the bar', () => {
  const m = new PeakMeter();
  m.update(0, 0);
  for (let i = 0; i < 200; i++) m.update(-100, 0.1);
  assert.equal(m.level, DB_FLOOR);
  assert.equal(m.held, DB_FLOOR);
});

test('history: keeps the newest entries in order across the wrap and survives JSON', () => {
  const h = new LevelHistory(4);
  for (let i = 1; i <= 6; i++) h.push(-i, -10 - i);
  assert.equal(h.length, 4);
  const order = [0, 1, 2, 3].map((i) => h.peak[h.indexOf(i)]);
  assert.deepEqual(order, [-3, -4, -5, -6]);
  const back = LevelHistory.fromJSON(4, JSON.parse(JSON.stringify(h.toJSON())));
  assert.deepEqual(back.toJSON(), h.toJSON());
  assert.deepEqual(LevelHistory.fromJSON(4, { peak: 'x' }).length, 0);
  const clamped = new LevelHistory(2);
  clamped.push(-Infinity, 12);
  assert.deepEqual(clamped.toJSON(), { peak: [-60], rms: [0] });
});

test('levels model: level messages count only while running; paused keeps the values', () => {
  const m = new LevelsModel();
  assert.equal(m.applyLevels(levels(1, 0.5, 0.25), 0), false, 'no session yet');
  m.applySession('running', 'Boot semu');
  assert.equal(m.applyLevels(levels(1, 0.5, 0.25), 0), true);
  const s = m.byId(0)!;
  assert.ok(Math.abs(s.peak.level - -6.02) < 0.01);
  assert.ok(Math.abs(s.rmsDb - -12.04) < 0.01);
  assert.equal(m.streams.length, 2);
  assert.equal(m.byId(1)!.backendFailure, 'PortAudio: no capture device');
  assert.equal(m.byId(1)!.direction, 'input');

  m.applySession('paused');
  const v = m.version;
  assert.equal(m.applyLevels(levels(2, 1, 1), 50), false);
  assert.equal(m.version, v);
  assert.ok(Math.abs(m.byId(0)!.peak.level - -6.02) < 0.01);
  assert.equal(m.guestTime, 1);

  m.applySession('running');
  assert.equal(m.applyLevels(levels(3, 1, 1), 10_000), true);
  assert.equal(m.byId(0)!.peak.level, 0);
  assert.equal(m.clock, 0, 'the time spent paused is not running time');
});

test('levels model: xrun increases are flagged, the first report is not', () => {
  const m = new LevelsModel();
  m.applySession('running');
  m.applyLevels(levels(1, 0.1, 0.1, { xrunsHost: 3 }), 0);
  assert.equal(m.byId(0)!.xrunAt, -Infinity);
  m.applyLevels(levels(1.05, 0.1, 0.1, { xrunsHost: 3 }), 50);
  assert.equal(m.byId(0)!.xrunAt, -Infinity);
  m.applyLevels(levels(1.1, 0.1, 0.1, { xrunsHost: 4 }), 100);
  assert.ok(Math.abs(m.byId(0)!.xrunAt - 0.1) < 1e-9);
});

test('levels model: hostile values are clamped, missing streams disappear, none clears', () => {
  const m = new LevelsModel();
  m.applySession('running');
  const body = levels(1, NaN, -3, { ringFill: 1e9, ringCapacity: 4096, xrunsGuest: -5, rate: NaN, format: 'U8' as never, state: 'exploded' as never });
  m.applyLevels(body, 0);
  const s = m.byId(0)!;
  assert.equal(s.peakDb, DB_FLOOR);
  assert.equal(s.rmsDb, DB_FLOOR);
  assert.equal(s.ringFill, 4096);
  assert.equal(s.xrunsGuest, 0);
  assert.equal(s.rate, 0);
  assert.equal(s.format, null);
  assert.equal(s.state, 'set-up');
  m.applyLevels({ time: 2, running: true, streams: [levels(2, 0.1, 0.1).streams[1]] }, 50);
  assert.deepEqual(m.streams.map((x) => x.id), [1]);
  m.applySession('none');
  assert.equal(m.streams.length, 0);
});

test('levels model: streams facts merge in, also while paused', () => {
  const m = new LevelsModel();
  m.applySession('paused');
  m.applyStreams({
    running: false,
    streams: [
      { ...levels(0, 0, 0).streams[0], backendFailure: null, periodBytes: 4096, bufferBytes: 16384, framesMoved: 48000, buffersInFlight: 3 },
    ],
  });
  const s = m.byId(0)!;
  assert.equal(s.periodBytes, 4096);
  assert.equal(s.framesMoved, 48000);
  assert.equal(s.peakDb, DB_FLOOR, 'a streams answer does not touch the meters');
});

test('levels model: save/restore round trip keeps meters, history and session', () => {
  const m = new LevelsModel();
  m.applySession('running', 'Boot semu');
  for (let i = 0; i < 150; i++) m.applyLevels(levels(i / 20, 0.5 + (i % 3) * 0.1, 0.2), i * 50);
  m.applySession('paused');
  const saved = JSON.parse(JSON.stringify(m.save()));
  const r = LevelsModel.restore(saved);
  assert.equal(r.session, 'paused');
  assert.equal(r.sessionName, 'Boot semu');
  assert.equal(r.streams.length, 2);
  const a = m.byId(0)!;
  const b = r.byId(0)!;
  assert.equal(b.history.length, HISTORY_LENGTH);
  assert.deepEqual(b.history.toJSON(), a.history.toJSON());
  assert.ok(Math.abs(b.peak.level - a.peak.level) < 1e-9);
  assert.ok(Math.abs(b.peak.held - a.peak.held) < 1e-9);
  assert.equal(LevelsModel.restore({ v: 2 }).streams.length, 0);
  assert.equal(LevelsModel.restore(undefined).session, 'none');
});
