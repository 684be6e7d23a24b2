// Clock corrections without clicks: when the clock estimate moves, the agent reads the
// stream a little faster (≤ 100 ppm) instead of dropping samples. A pure sine played
// through a correction must show no click, and the offset must converge.
import t from 'tap';
import { detectClicks, dominantFrequency, normalizedCrossCorrelation } from '../../codecs/analysis.js';
import { FRAME_SAMPLES } from '../../codecs/pcm.js';
import { createDecoder } from '../../codecs/registry.js';
import { Playout, type ServerClock } from '../../endpoint/playout.js';
import { SERVER_T0, simulateStream } from './sim-stream.js';

class MovableClock implements ServerClock {
  synced = true;
  constructor(public offset: number) {}
  serverNow(local: number): number {
    return local + this.offset;
  }
  localTimeOf(serverMs: number): number {
    return serverMs - this.offset;
  }
}

const DELAY = 150;
const AMPLITUDE = 16_384;
const FREQ = 1000;
const sineAt = (i: number) => Math.round(AMPLITUDE * Math.sin((2 * Math.PI * FREQ * i) / 48_000));

/** Second difference: a sine's is small and smooth, a dropped or repeated sample makes a spike. */
function secondDifference(x: Int16Array): Float64Array {
  const d = new Float64Array(x.length);
  for (let i = 1; i < x.length - 1; i++) d[i] = x[i + 1] - 2 * x[i] + x[i - 1];
  return d;
}
// A 1 kHz sine of amplitude A has |d2| ≤ A·(2π/48)² ≈ 281 here; a slip of one sample ≈ A·2π/48 ≈ 2100.
const CLICK_DB = -30; // |d2| ≥ 1036

t.test('the detector hears the old correction (8 samples dropped at once)', async (t) => {
  const x = new Int16Array(48_000);
  for (let i = 0; i < x.length; i++) x[i] = sineAt(i < 24_000 ? i : i + 8);
  t.same(detectClicks(secondDifference(x), 48_000, CLICK_DB).length, 1, 'one click where 8 samples went missing');
  const clean = new Int16Array(48_000);
  for (let i = 0; i < clean.length; i++) clean[i] = sineAt(i);
  t.same(detectClicks(secondDifference(clean), 48_000, CLICK_DB), [], 'and none in a clean sine');
});

t.test('a 1 ms move of the clock estimate: no click, ≤ 100 ppm, converges', async (t) => {
  const seconds = 40;
  const frames = seconds * 50;
  const src = new Int16Array(frames * FRAME_SAMPLES);
  for (let i = 0; i < src.length; i++) src[i] = sineAt(i);
  const packets = simulateStream('l16', [{ startFrame: 0, pcm: src }]);
  const clock = new MovableClock(0);
  const p = new Playout({ decoder: createDecoder('l16'), clock, playoutDelayMs: DELAY });
  const slot0 = SERVER_T0 + DELAY - 6.3;
  const slots = frames - 10;
  const heard = new Int16Array(slots * FRAME_SAMPLES);
  const out = new Int16Array(FRAME_SAMPLES);
  let next = 0;
  let maxPpm = 0;
  for (let k = 0; k < slots; k++) {
    const local = slot0 + k * 20;
    if (k === 100) clock.offset = 1; // the estimate moves by 1 ms (48 samples) after 2 s
    for (; next < packets.length && packets[next].arrivalServerMs - clock.offset <= local; next++) {
      const q = packets[next];
      if (q.kind === 'sr') p.onSenderReport(q.serverMs, q.ts);
      else p.push(q.seq, q.ts, q.payload, q.arrivalServerMs - clock.offset, q.marker);
    }
    p.render(out, local);
    heard.set(out, k * FRAME_SAMPLES);
    maxPpm = Math.max(maxPpm, Math.abs(p.stats.correctionPpm));
  }
  // Skip the first slot (the stream starts there, from silence).
  const body = heard.subarray(FRAME_SAMPLES);
  t.same(detectClicks(secondDifference(body), 48_000, CLICK_DB), [], 'no click anywhere, through the whole correction');
  t.ok(maxPpm <= 100 + 1e-9 && maxPpm > 90, `the correction ran at up to ${maxPpm.toFixed(1)} ppm`);
  t.equal(p.stats.resyncs, 0, 'no re-anchor');
  // Within a sample (21 µs): the start is rounded to a whole sample and errors under half a
  // sample are left alone, so a matched stream is copied bit-exactly.
  t.ok(Math.abs(p.stats.correctedSamples - 48) <= 1, `caught up ${p.stats.correctedSamples.toFixed(2)} of 48 samples`);
  const during = heard.subarray(3 * 48_000, 8 * 48_000);
  t.ok(Math.abs(dominantFrequency(during, 48_000) - FREQ) < 1, 'the pitch stays put while correcting (100 ppm = 0.1 Hz at 1 kHz)');
  // At the end the sine is where the moved clock says it belongs: local L plays source
  // time L + offset − delay.
  const lastSlot = slots - 25;
  const start = slot0 + lastSlot * 20;
  const ref = new Int16Array(20 * FRAME_SAMPLES);
  const srcStart = (start + clock.offset - DELAY - SERVER_T0) * 48;
  for (let i = 0; i < ref.length; i++) ref[i] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * FREQ * (srcStart + i)) / 48_000));
  const got = heard.subarray(lastSlot * FRAME_SAMPLES, lastSlot * FRAME_SAMPLES + ref.length);
  const { lag, correlation } = normalizedCrossCorrelation(ref, got, 20);
  t.ok(correlation > 0.99 && Math.abs(lag) <= 1, `converged: lag ${lag} samples, correlation ${correlation.toFixed(4)}`);
  t.ok(Math.abs(p.stats.correctionPpm) < 5, `and the correction has faded (${p.stats.correctionPpm.toFixed(2)} ppm)`);
});
