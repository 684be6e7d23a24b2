// What the playout does with a clock estimate that is not yet good, or that moves by more than
// drift can explain: a stream waits for a settled clock before it starts, and a move of several
// ms while playing is a jump crossfaded between the old and the new read position (no click,
// the sine intact, on the new timeline at once) instead of minutes of 100 ppm following.
import t from 'tap';
import { detectClicks, dominantFrequency, normalizedCrossCorrelation } from '../../codecs/analysis.js';
import { FRAME_SAMPLES } from '../../codecs/pcm.js';
import { createDecoder } from '../../codecs/registry.js';
import { Playout, type ServerClock } from '../../endpoint/playout.js';
import { SERVER_T0, simulateStream } from './sim-stream.js';

class MovableClock implements ServerClock {
  synced = true;
  settled = true;
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
const FREQ = 440;
const sineAt = (i: number) => Math.round(AMPLITUDE * Math.sin((2 * Math.PI * FREQ * i) / 48_000));

/** Second difference: a 440 Hz sine's is ≤ A·(2π·440/48000)² ≈ 54; a break in the waveform makes a spike. */
function secondDifference(x: Int16Array): Float64Array {
  const d = new Float64Array(x.length);
  for (let i = 1; i < x.length - 1; i++) d[i] = x[i + 1] - 2 * x[i] + x[i - 1];
  return d;
}
const CLICK_DB = -30; // |d2| ≥ 1036

/** Plays `seconds` of a sine through a playout on `clock`; `onSlot(k)` may move the clock before slot k. */
function play(clock: MovableClock, seconds: number, onSlot: (k: number) => void) {
  const frames = seconds * 50;
  const src = new Int16Array(frames * FRAME_SAMPLES);
  for (let i = 0; i < src.length; i++) src[i] = sineAt(i);
  const packets = simulateStream('l16', [{ startFrame: 0, pcm: src }]);
  const p = new Playout({ decoder: createDecoder('l16'), clock, playoutDelayMs: DELAY });
  const slot0 = SERVER_T0 + DELAY - 6.3;
  const slots = frames - 20;
  const heard = new Int16Array(slots * FRAME_SAMPLES);
  const audible: boolean[] = [];
  const out = new Int16Array(FRAME_SAMPLES);
  let next = 0;
  for (let k = 0; k < slots; k++) {
    onSlot(k);
    const local = slot0 + k * 20;
    for (; next < packets.length && packets[next].arrivalServerMs - clock.offset <= local; next++) {
      const q = packets[next];
      if (q.kind === 'sr') p.onSenderReport(q.serverMs, q.ts);
      else p.push(q.seq, q.ts, q.payload, q.arrivalServerMs - clock.offset, q.marker);
    }
    audible.push(p.render(out, local));
    heard.set(out, k * FRAME_SAMPLES);
  }
  /** How well slots [from, to) match the sine where the clock (as it is now) says it belongs. */
  const onTimeline = (from: number, to: number) => {
    const start = slot0 + from * 20;
    const ref = new Int16Array((to - from) * FRAME_SAMPLES);
    const srcStart = (start + clock.offset - DELAY - SERVER_T0) * 48;
    for (let i = 0; i < ref.length; i++) ref[i] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * FREQ * (srcStart + i)) / 48_000));
    return normalizedCrossCorrelation(ref, heard.subarray(from * FRAME_SAMPLES, to * FRAME_SAMPLES), 60);
  };
  return { p, heard, audible, onTimeline };
}

t.test('the detector hears a hard 7.3 ms jump in a 440 Hz sine', async (t) => {
  const x = new Int16Array(48_000);
  for (let i = 0; i < x.length; i++) x[i] = sineAt(i < 24_000 ? i : i + 350);
  t.same(detectClicks(secondDifference(x), 48_000, CLICK_DB).length, 1);
});

for (const move of [7.3, -7.3]) {
  t.test(`a ${move > 0 ? '+' : ''}${move} ms move of the clock estimate while playing: one crossfaded jump, no click`, async (t) => {
    const clock = new MovableClock(0);
    const MOVE_SLOT = 100;
    const { p, heard, onTimeline } = play(clock, 6, (k) => {
      if (k === MOVE_SLOT) clock.offset = move; // a better estimate, 7.3 ms away, after 2 s
    });
    const body = heard.subarray(FRAME_SAMPLES);
    t.same(detectClicks(secondDifference(body), 48_000, CLICK_DB), [], 'no click anywhere, through the jump');
    t.equal(p.stats.resyncs, 1, 'one jump');
    t.ok(Math.abs(p.stats.correctedSamples) < 1, `not followed by rate (${p.stats.correctedSamples.toFixed(2)} samples)`);
    // The crossfade mixes the same sine 0.21 of a period apart: the level dips to cos(38°) at most.
    const splice = heard.subarray(MOVE_SLOT * FRAME_SAMPLES, MOVE_SLOT * FRAME_SAMPLES + 480);
    for (let w = 0; w + 120 <= splice.length; w += 60) {
      let peak = 0;
      for (let i = w; i < w + 120; i++) peak = Math.max(peak, Math.abs(splice[i]));
      if (peak < 0.75 * AMPLITUDE) t.fail(`level fell to ${(peak / AMPLITUDE).toFixed(2)} during the crossfade`);
    }
    // A sine only tells a lag modulo its period (109 samples): 7.3 ms (350 samples) shows as ±23.
    const period = 48_000 / FREQ;
    const expected = Math.round(move * 48 - period * Math.round((move * 48) / period));
    const before = onTimeline(MOVE_SLOT - 50, MOVE_SLOT);
    t.ok(Math.abs(before.lag - expected) <= 1, `before the move, the old timeline (lag ${before.lag}, expected ${expected})`);
    const after = onTimeline(MOVE_SLOT + 1, MOVE_SLOT + 100);
    t.ok(after.correlation > 0.999 && Math.abs(after.lag) <= 1, `from the next slot on, the new timeline: lag ${after.lag}, correlation ${after.correlation.toFixed(5)}`);
    t.ok(Math.abs(dominantFrequency(heard.subarray(MOVE_SLOT * FRAME_SAMPLES - 24_000, MOVE_SLOT * FRAME_SAMPLES + 24_000), 48_000) - FREQ) < 1, 'the pitch is intact around the jump');
  });
}

t.test('a stream waits for a settled clock, starts on its timeline, and is never held back once playing', async (t) => {
  const clock = new MovableClock(35); // the first estimates are 35 ms off (a busy server)
  clock.settled = false;
  const SETTLE_SLOT = 60;
  const { p, audible, onTimeline } = play(clock, 6, (k) => {
    if (k === SETTLE_SLOT) {
      clock.offset = 0;
      clock.settled = true;
    }
    if (k === SETTLE_SLOT + 50) clock.settled = false; // e.g. the estimate was reset: keep playing
  });
  t.equal(audible.slice(0, SETTLE_SLOT).filter(Boolean).length, 0, 'silent while the clock is not settled');
  t.ok(audible.slice(SETTLE_SLOT).every(Boolean), 'plays from the settled slot on, without a gap');
  const first = onTimeline(SETTLE_SLOT, SETTLE_SLOT + 50);
  t.ok(first.correlation > 0.999 && Math.abs(first.lag) <= 1, `starts on the timeline: lag ${first.lag}, correlation ${first.correlation.toFixed(5)}`);
  t.equal(p.stats.resyncs, 0, 'no jump was needed');
  t.ok(Math.abs(p.stats.correctedSamples) < 1, 'nor any rate correction');
});
