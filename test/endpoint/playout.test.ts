import t from 'tap';
import { FRAME_SAMPLES } from '../../codecs/pcm.js';
import { createDecoder, createEncoder } from '../../codecs/registry.js';
import { Playout, type ServerClock } from '../../endpoint/playout.js';

/** A clock-sync stand-in: the server's clock reads local + offset. */
class FixedOffsetClock implements ServerClock {
  synced = true;
  constructor(public offset: number) {}
  serverNow(local: number): number {
    return local + this.offset;
  }
  localTimeOf(serverMs: number): number {
    return serverMs - this.offset;
  }
}

const MARK = 10_000;
const SR_MS = 1_763_900_000_000; // server wall-clock of frame 0
const TS0 = 0xffff_f000; // wraps after a few frames
const OFFSET = -180_000.4; // the local clock is 3 minutes fast
const DELAY = 150;

/** Frame n carries one impulse of MARK at sample (n·37 + 11) % 960; L16 keeps it exact. */
function payloadOf(n: number): Buffer {
  const enc = createEncoder('l16');
  const f = new Int16Array(FRAME_SAMPLES);
  f[(n * 37 + 11) % FRAME_SAMPLES] = MARK;
  return Buffer.from(enc.encode(f));
}
const tsOf = (n: number) => (TS0 + n * 960) >>> 0;
/** Local time at which the impulse of frame n must sound. */
const expectedLocal = (n: number) => SR_MS + n * 20 + ((n * 37 + 11) % FRAME_SAMPLES) / 48 + DELAY - OFFSET;

t.test('frames play at server time of the frame + playout delay, on the local clock', async (t) => {
  const clock = new FixedOffsetClock(OFFSET);
  const p = new Playout({ decoder: createDecoder('l16'), clock, playoutDelayMs: DELAY });
  p.onSenderReport(SR_MS + 5 * 20, tsOf(5)); // an SR before any packet is kept for later
  const silent = new Int16Array(FRAME_SAMPLES).fill(1);
  t.notOk(p.render(silent, 0), 'nothing to play yet');
  t.equal(silent.indexOf(1), -1, 'silence');
  // Network: frame n leaves at server time SR_MS + n·20 and takes 30 ms, with a few disorders.
  const arrival = (n: number) => SR_MS + n * 20 + 30 - OFFSET;
  const order = [0, 1, 3, 2, 4, 5, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]; // 7 lost, 5 twice
  let pushed = 0;
  const out = new Int16Array(FRAME_SAMPLES);
  const heard: { local: number }[] = [];
  // Slots start at an arbitrary phase relative to frame boundaries.
  const slot0 = SR_MS + DELAY - OFFSET - 7.3;
  for (let k = 0; k < 30; k++) {
    const local = slot0 + k * 20;
    while (pushed < order.length && arrival(order[pushed]) <= local) {
      const n = order[pushed++];
      p.push(n, tsOf(n), payloadOf(n), arrival(n));
    }
    p.render(out, local);
    for (let i = 0; i < FRAME_SAMPLES; i++) if (out[i] === MARK) heard.push({ local: local + i / 48 });
  }
  const expected = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map(expectedLocal);
  t.equal(heard.length, expected.length, 'every received frame is heard once; the lost one is not');
  for (let i = 0; i < Math.min(heard.length, expected.length); i++) {
    const err = heard[i].local - expected[i];
    if (Math.abs(err) > 1 / 48 + 1e-6) t.fail(`impulse ${i} off by ${err.toFixed(4)} ms`);
  }
  t.pass('all impulses within one sample of their due time');
  t.equal(p.stats.duplicates, 1);
  // Frame 7 was lost (frame 8 came): concealed. After frame 19 the stream simply ended: not concealment.
  t.equal(p.stats.concealed, 1, 'lost frame concealed; the clean end is not');
  t.equal(p.stats.underruns, 0, 'the end of the stream is not an underrun');
  t.equal(p.stats.resyncs, 0);
  t.equal(p.stats.correctedSamples, 0, 'a matched clock needs no correction');
  t.ok(Math.abs(p.stats.bufferDelayMs - (DELAY - 30)) < 1, `buffer delay ${p.stats.bufferDelayMs.toFixed(2)} ≈ delay − transit`);
  t.ok(Math.abs(p.dueLocalTime(tsOf(3), 0) - (SR_MS + 60 + DELAY - OFFSET)) < 1e-6, 'dueLocalTime');
  // Frame 2 already played: a copy arriving now is late and dropped.
  t.equal(p.push(2, tsOf(2), payloadOf(2), slot0 + 1000), 'late');
  t.equal(p.stats.late, 1);
});

t.test('a moving clock estimate is followed at no more than 100 ppm, then exactly; a jump re-anchors', async (t) => {
  const clock = new FixedOffsetClock(0);
  const p = new Playout({ decoder: createDecoder('l16'), clock, playoutDelayMs: DELAY });
  p.onSenderReport(SR_MS, tsOf(0));
  const out = new Int16Array(FRAME_SAMPLES);
  let n = 0;
  const feed = (until: number) => {
    for (; SR_MS + n * 20 + 10 <= until; n++) p.push(n, tsOf(n), payloadOf(n), SR_MS + n * 20 + 10);
  };
  let local = SR_MS + DELAY;
  for (let k = 0; k < 10; k++, local += 20) {
    feed(local);
    p.render(out, local);
  }
  // The estimate moves 2 ms (96 samples): followed by reading faster, never by more than 100 ppm.
  clock.offset = 2;
  let maxPpm = 0;
  let prevCorrected = 0;
  let tooFast = 0;
  for (let k = 0; k < 60 * 50; k++, local += 20) {
    feed(local);
    p.render(out, local);
    maxPpm = Math.max(maxPpm, Math.abs(p.stats.correctionPpm));
    if (Math.abs(p.stats.correctedSamples - prevCorrected) > 960 * 100e-6 + 1e-9) tooFast++;
    prevCorrected = p.stats.correctedSamples;
  }
  t.equal(tooFast, 0, 'no slot corrected more than 100 ppm of its length');
  t.ok(maxPpm <= 100 + 1e-9 && maxPpm > 99, `rate correction peaked at ${maxPpm.toFixed(1)} ppm`);
  t.ok(Math.abs(p.stats.correctedSamples - 96) < 1, `caught up ${p.stats.correctedSamples.toFixed(2)} of 96 samples`);
  t.equal(p.stats.resyncs, 0);
  // After the correction the impulses are on the new timeline again (the residual error is
  // within the half-sample dead band, the interpolated impulse peaks at the nearest sample).
  feed(local);
  p.render(out, local);
  let idx = -1;
  for (let i = 0; i < FRAME_SAMPLES; i++) if (Math.abs(out[i]) > MARK / 2 && (idx < 0 || Math.abs(out[i]) > Math.abs(out[idx]))) idx = i;
  t.ok(idx >= 0, 'an impulse in the slot');
  const heardAt = local + idx / 48;
  const m = Math.floor((heardAt + 2 - DELAY - SR_MS) / 20);
  const due = SR_MS + m * 20 + ((m * 37 + 11) % FRAME_SAMPLES) / 48 + DELAY - 2;
  t.ok(Math.abs(heardAt - due) <= 1.5 / 48, `on the moved timeline (${(heardAt - due).toFixed(4)} ms)`);
  // A 100 ms jump (e.g. a changed zone delay) re-anchors at once.
  p.setPlayoutDelay(DELAY + 100);
  local += 20;
  feed(local);
  p.render(out, local);
  t.equal(p.stats.resyncs, 1);
});

t.test('a stream without sender reports plays jitterTarget after the first arrival', async (t) => {
  const clock = new FixedOffsetClock(0);
  clock.synced = false; // no clock needed for this mode
  const p = new Playout({ decoder: createDecoder('l16'), clock, playoutDelayMs: DELAY, jitterTargetMs: 60, srWaitMs: 0 });
  const out = new Int16Array(FRAME_SAMPLES);
  const first = 5000;
  const heard: number[] = [];
  for (let k = 0; k < 12; k++) {
    const local = first + k * 20;
    p.push(k, tsOf(k), payloadOf(k), local);
    p.render(out, local);
    for (let i = 0; i < FRAME_SAMPLES; i++) if (out[i] === MARK) heard.push(local + i / 48);
  }
  t.ok(heard.length >= 8);
  for (let i = 0; i < heard.length; i++) {
    const want = first + 60 + i * 20 + ((i * 37 + 11) % FRAME_SAMPLES) / 48;
    t.ok(Math.abs(heard[i] - want) < 1 / 48 + 1e-6, `frame ${i} at ${(heard[i] - first).toFixed(2)}`);
  }
  t.equal(p.dueLocalTime(tsOf(3), 0), first + 60 + 60);
});

t.test('Opus: a lost packet is concealed by PLC, not silence', async (t) => {
  const enc = createEncoder('opus');
  const dec = createDecoder('opus');
  t.teardown(() => {
    enc.close();
    dec.close();
  });
  const clock = new FixedOffsetClock(0);
  const p = new Playout({ decoder: dec, clock, playoutDelayMs: 100 });
  p.onSenderReport(SR_MS, tsOf(0));
  const f = new Int16Array(FRAME_SAMPLES);
  let phase = 0;
  const out = new Int16Array(FRAME_SAMPLES);
  let concealedEnergy = 0;
  for (let n = 0; n < 20; n++) {
    for (let i = 0; i < FRAME_SAMPLES; i++) f[i] = Math.round(8000 * Math.sin((phase += (2 * Math.PI * 440) / 48000)));
    const payload = Buffer.from(enc.encode(f));
    if (n !== 10) p.push(n, tsOf(n), payload, SR_MS + n * 20);
  }
  // 19 slots: the playout runs Opus' 6.5 ms codec delay ahead, so a 20th slot would reach past frame 19.
  for (let k = 0; k < 19; k++) {
    p.render(out, SR_MS + 100 + k * 20);
    if (k === 10) for (const s of out) concealedEnergy += s * s;
  }
  t.equal(p.stats.concealed, 1);
  t.ok(Math.sqrt(concealedEnergy / FRAME_SAMPLES) > 1000, 'the concealed frame carries sound');
});

t.test('a timestamp gap with continuous sequence numbers (an idle zone) keeps every frame on time', async (t) => {
  const clock = new FixedOffsetClock(OFFSET);
  const p = new Playout({ decoder: createDecoder('l16'), clock, playoutDelayMs: DELAY });
  p.onSenderReport(SR_MS, tsOf(0));
  // Frames 0..9, then the zone went idle for 10 frames: frame n ≥ 10 is sent as frame n + 10 with seq n.
  const frameOf = (i: number) => (i < 10 ? i : i + 10);
  const arrival = (i: number) => SR_MS + frameOf(i) * 20 + 5 - OFFSET;
  const out = new Int16Array(FRAME_SAMPLES);
  const heard: number[] = [];
  let i = 0;
  for (let k = 0; k < 45; k++) {
    const local = SR_MS + DELAY - OFFSET + k * 20;
    // Everything arrives early (a long burst), so pre-gap frames are still waiting when post-gap ones come.
    for (; i < 25 && arrival(i) - 100 <= local - DELAY; i++) p.push(i, tsOf(frameOf(i)), payloadOf(frameOf(i)), arrival(i));
    p.render(out, local);
    for (let s = 0; s < FRAME_SAMPLES; s++) if (out[s] === MARK) heard.push(local + s / 48);
  }
  const want = Array.from({ length: 25 }, (_, i) => expectedLocal(frameOf(i)));
  t.equal(heard.length, want.length);
  t.ok(heard.every((h, n) => Math.abs(h - want[n]) < 1 / 48 + 1e-6), 'every frame at its own time');
  t.equal(p.stats.concealed, 0, 'the idle gap and the end are silence, not concealment');
  t.equal(p.stats.underruns, 0);
});
