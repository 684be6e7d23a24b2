import t from 'tap';
import { detectClicks, dominantFrequency, goertzelPower, normalizedCrossCorrelation, snrDb, strongestTone, toneLevelDb } from '../../codecs/analysis.js';

function noise(n: number, seed: number, amp: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * amp;
  }
  return out;
}

function tone(n: number, rate: number, freq: number, amp: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / rate));
}

t.test('goertzel: the power of a tone and nothing at other frequencies', async (t) => {
  const x = tone(48000, 48000, 1000, 10000);
  t.ok(Math.abs(goertzelPower(x, 48000, 1000) / 5e7 - 1) < 0.01, 'A²/2 at the tone');
  t.ok(goertzelPower(x, 48000, 1500) < 5e7 * 1e-6, '−60 dB half a kHz away');
  t.ok(Math.abs(goertzelPower(x, 48000, 1000, 'none') / 5e7 - 1) < 0.01, 'rectangular window agrees for whole cycles');
  t.ok(Math.abs(toneLevelDb(tone(4800, 48000, 1000, 32767), 48000, 1000)) < 0.05, 'full-scale sine is 0 dB');
});

t.test('strongest tone among candidates', async (t) => {
  // A 20 ms frame of 1500 Hz under a quieter 500 Hz, with noise: the louder one wins either way.
  const x = tone(960, 48000, 1500, 8000);
  const low = tone(960, 48000, 500, 3000);
  const n = noise(960, 11, 1000);
  for (let i = 0; i < x.length; i++) x[i] += low[i] + n[i];
  t.equal(strongestTone(x, 48000, [500, 1000, 1500, 2000], 'none'), 1500);
  t.equal(strongestTone(x, 48000, [500, 1000, 2000]), 500, 'the strongest of the candidates, even when none is the tone');
  t.equal(strongestTone(new Int16Array(960), 48000, [700, 900]), 700, 'silence: the first candidate');
});

t.test('dominant frequency with noise, off-bin', async (t) => {
  const x = tone(9600, 48000, 1234.5, 8000);
  const n = noise(9600, 7, 2000);
  for (let i = 0; i < x.length; i++) x[i] += n[i];
  const f = dominantFrequency(x, 48000);
  t.ok(Math.abs(f - 1234.5) < 2, `measured ${f.toFixed(2)} Hz`);
  t.equal(dominantFrequency(new Int16Array(1000), 48000), 0, 'silence has no frequency');
  t.ok(Math.abs(dominantFrequency(tone(160, 8000, 2000, 1000), 8000) - 2000) < 10, 'short 8 kHz input');
});

t.test('cross-correlation finds a known delay and its sign', async (t) => {
  const a = noise(4800, 3, 10000);
  for (const delay of [0, 37, -120, 500]) {
    // b is a delayed by `delay` samples and attenuated, with a little noise.
    const b = new Float64Array(a.length);
    const n = noise(a.length, 11, 300);
    for (let i = 0; i < b.length; i++) b[i] = (i - delay >= 0 && i - delay < a.length ? a[i - delay] * 0.3 : 0) + n[i];
    const r = normalizedCrossCorrelation(a, b, 600);
    t.equal(r.lag, delay, `lag ${delay}`);
    t.ok(r.correlation > 0.95 && r.correlation <= 1 + 1e-9, `correlation ${r.correlation.toFixed(3)}`);
  }
  const unrelated = normalizedCrossCorrelation(noise(4800, 1, 1000), noise(4800, 2, 1000), 100);
  t.ok(unrelated.correlation < 0.2, `unrelated noise correlates weakly (${unrelated.correlation.toFixed(3)})`);
});

t.test('click detection', async (t) => {
  const x = new Float64Array(48000);
  for (const at of [1000, 20000, 20500, 40000]) for (let i = 0; i < 100; i++) x[at + i] = 20000 * Math.sin(i / 3 + 0.5);
  t.same(detectClicks(x, 48000, -20), [1000 / 48, 20000 / 48, 40000 / 48], 'the click 10 ms after another is merged (50 ms gap)');
  t.same(detectClicks(x, 48000, -20, { minGapMs: 5 }).length, 4);
  t.same(detectClicks(x, 48000, -3), [], 'below threshold: nothing');
});

t.test('snr', async (t) => {
  const ref = tone(4800, 48000, 1000, 10000);
  const deg = Float64Array.from(ref, (v) => v + 100 * Math.sign(v));
  const snr = snrDb(ref, deg);
  t.ok(snr > 36 && snr < 38, `≈ 37 dB (${snr.toFixed(2)})`);
  t.equal(snrDb(ref, ref), Infinity);
  const shifted = new Float64Array(4810);
  shifted.set(ref, 10);
  t.equal(snrDb(ref, shifted, 10), Infinity, 'lag compensation');
});
