import t from 'tap';
import { FRAME_SAMPLES } from '../../codecs/pcm.js';
import { SineOscillator } from '../../codecs/tone.js';
import { createDecoder, createEncoder } from '../../codecs/registry.js';
import {
  addCounts,
  cpuRatio,
  isAlertFrame,
  isSyncFrame,
  lossPercentages,
  memoryPerEndpointKb,
  preemption,
  syncSpread,
  ZERO_COUNTS,
  type SyncSample,
} from '../../bench/measure.js';

t.test('sync spread: max − min per (zone, timestamp), lone endpoints left out', async (t) => {
  const samples: SyncSample[] = [
    [0, 960, 1000.0],
    [0, 960, 1000.4],
    [0, 960, 999.9], // spread 0.5
    [1, 960, 2000.0],
    [1, 960, 2003.0], // another zone, same timestamp: spread 3, not mixed with zone 0
    [0, 1920, 1020.0],
    [0, 1920, 1020.1], // spread 0.1
    [2, 960, 5000], // heard by one endpoint only
  ];
  const r = syncSpread(samples);
  t.equal(r.timestamps, 3);
  t.equal(r.spread.max, 3);
  t.ok(Math.abs(r.spread.p50 - 0.5) < 1e-9, 'median of 0.1, 0.5, 3');
  t.ok(Math.abs(r.spread.min - 0.1) < 1e-9);
  t.equal(syncSpread([]).timestamps, 0);
  t.ok(Number.isNaN(syncSpread([]).spread.max), 'no pairs: no number, not zero');
});

t.test('preemption: times from the API call, 100 % only when every endpoint heard it', async (t) => {
  const call = 1_000_000;
  const all = preemption(
    call,
    [
      { arrivalMs: call + 30, playoutMs: call + 180, dueMs: call + 25 },
      { arrivalMs: call + 45, playoutMs: call + 195, dueMs: call + 25 },
      { arrivalMs: call + 38, playoutMs: call + 188, dueMs: call + 25 },
    ],
    call + 12,
  );
  t.equal(all.apiResponseMs, 12);
  t.equal(all.due.max, 25, 'the server scheduled the alert 25 ms after the call');
  t.equal(all.targeted, 3);
  t.equal(all.reached, 3);
  t.equal(all.arrival.p50, 38);
  t.equal(all.allArrivedMs, 45);
  t.equal(all.allPlayedMs, 195);
  const some = preemption(call, [
    { arrivalMs: call + 30, playoutMs: call + 180 },
    { arrivalMs: Number.NaN, playoutMs: Number.NaN },
  ]);
  t.equal(some.reached, 1);
  t.ok(Number.isNaN(some.allArrivedMs), 'one endpoint never heard it: no "100 % by" time');
});

t.test('loss percentages, memory and CPU ratios', async (t) => {
  const c = addCounts(ZERO_COUNTS, { expected: 1000, received: 950, lost: 50, concealed: 60, late: 10 });
  const p = lossPercentages(addCounts(c, c));
  t.same(p, { received: 95, lost: 5, concealed: 6, late: 1 });
  t.ok(Number.isNaN(lossPercentages(ZERO_COUNTS).lost));
  t.equal(memoryPerEndpointKb(100 * 1024 * 1024, 110 * 1024 * 1024, 500), 20.48);
  t.equal(cpuRatio(0.5, 500, 0.1, 500), 5, 'Loa at 0.5 cores vs a peer at 0.1 for the same N');
  t.equal(cpuRatio(0.5, 500, 0.05, 250), 5, 'per endpoint, whatever the N of each');
});

function mixFrame(alertAmp: number, progAmp: number): Int16Array {
  const a = new Int16Array(FRAME_SAMPLES);
  const b = new Int16Array(FRAME_SAMPLES);
  if (alertAmp > 0) new SineOscillator(1000, alertAmp).fill(a);
  if (progAmp > 0) new SineOscillator(440, progAmp).fill(b);
  return a.map((v, i) => v + b[i]);
}

t.test('alert frames are told apart by their 1 kHz component, through Opus too', async (t) => {
  t.notOk(isAlertFrame(mixFrame(0, 0.5), 1000), 'the programme alone is not the alert');
  t.ok(isAlertFrame(mixFrame(0.5, 0), 1000), 'the alert alone');
  t.ok(isAlertFrame(mixFrame(0.15, 0.35), 1000), 'a crossfade frame with some alert in it');
  t.notOk(isAlertFrame(mixFrame(0.01, 0.5), 1000), 'a trace far below −26 dBFS is not');
  t.notOk(isAlertFrame(new Int16Array(FRAME_SAMPLES), 1000), 'silence');
  // Through the real codec: programme frames stay programme, alert frames alert.
  const enc = createEncoder('opus');
  const dec = createDecoder('opus');
  const prog = new SineOscillator(440, 0.5);
  const alert = new SineOscillator(1000, 0.5);
  const f = new Int16Array(FRAME_SAMPLES);
  const verdicts: boolean[] = [];
  for (let n = 0; n < 20; n++) {
    (n < 10 ? prog : alert).fill(f);
    verdicts.push(isAlertFrame(dec.decode(enc.encode(f)), 1000));
  }
  enc.close();
  dec.close();
  t.same(verdicts.slice(0, 10), new Array(10).fill(false), 'decoded programme frames');
  t.ok(verdicts.slice(12).every(Boolean), 'decoded alert frames (after the codec settles)');
});

t.test('sync frames are chosen by timestamp alone, about one in `every`', async (t) => {
  let picked = 0;
  const base = 0xfff0_0000;
  for (let n = 0; n < 5000; n++) if (isSyncFrame((base + n * 960) >>> 0, 960, 50)) picked++;
  t.ok(picked >= 95 && picked <= 105, `${picked} of 5000`);
  t.equal(isSyncFrame(960 * 50, 960, 50), true);
  t.equal(isSyncFrame(960 * 51, 960, 50), false);
});
