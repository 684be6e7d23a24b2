import t from 'tap';
import { Resampler } from '../../codecs/resample.js';
import { goertzelPower } from '../../codecs/analysis.js';

function sine(rate: number, freq: number, seconds: number, amplitude = 16000): Int16Array {
  const out = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

function rmsOf(x: Int16Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / x.length);
}

/** Runs the whole signal through in frames of `frame` input samples, returns the concatenated output. */
function runFrames(r: Resampler, input: Int16Array, frame: number): Int16Array {
  const parts: Int16Array[] = [];
  for (let i = 0; i < input.length; i += frame) parts.push(Int16Array.from(r.process(input.subarray(i, i + frame))));
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const db = (ratio: number) => 20 * Math.log10(ratio);

for (const [from, to] of [
  [48000, 8000],
  [48000, 16000],
  [8000, 48000],
  [16000, 48000],
] as const) {
  t.test(`${from} → ${to}: 1 kHz passes at unity`, async (t) => {
    const r = new Resampler(from, to);
    const input = sine(from, 1000, 1);
    const out = runFrames(r, input, (from * 20) / 1000);
    t.equal(out.length, to, 'one second in, one second out');
    // Skip the filter's start-up transient.
    const steady = out.subarray(Math.ceil(r.delaySamples) * 2 + 10);
    const gainDb = db(rmsOf(steady) / rmsOf(input));
    t.ok(Math.abs(gainDb) <= 0.5, `gain ${gainDb.toFixed(3)} dB within ±0.5 dB`);
  });
}

t.test('48k → 8k: a 6 kHz tone does not alias to 2 kHz', async (t) => {
  // 6 kHz mixed with a 1 kHz tone, so the output is known to be live while the alias is measured.
  const mixed = sine(48000, 6000, 1);
  const low = sine(48000, 1000, 1);
  for (let i = 0; i < mixed.length; i++) mixed[i] = (mixed[i] + low[i]) >> 1;
  const out = runFrames(new Resampler(48000, 8000), mixed, 960).subarray(200);
  const inBand = runFrames(new Resampler(48000, 8000), sine(48000, 2000, 1, 8000), 960).subarray(200);
  const oneK = 10 * Math.log10(goertzelPower(out, 8000, 1000) / goertzelPower(inBand, 8000, 2000));
  t.ok(Math.abs(oneK) < 0.5, `the 1 kHz companion comes through (${oneK.toFixed(2)} dB)`);
  // Alias level relative to what an in-band 2 kHz tone of the same amplitude gives.
  const aliasDb = 10 * Math.log10(goertzelPower(out, 8000, 2000) / goertzelPower(inBand, 8000, 2000));
  t.ok(aliasDb <= -50, `2 kHz alias at ${aliasDb.toFixed(1)} dB (must be ≤ −50 dB)`);
});

t.test('48k → 16k: a 12 kHz tone does not alias to 4 kHz', async (t) => {
  const r = new Resampler(48000, 16000);
  const ref = new Resampler(48000, 16000);
  const high = runFrames(r, sine(48000, 12000, 1), 960).subarray(400);
  const inBand = runFrames(ref, sine(48000, 4000, 1), 960).subarray(400);
  const aliasDb = 10 * Math.log10(goertzelPower(high, 16000, 4000) / goertzelPower(inBand, 16000, 4000));
  t.ok(aliasDb <= -50, `4 kHz alias at ${aliasDb.toFixed(1)} dB`);
});

t.test('8k → 48k: images of a 1 kHz tone are removed', async (t) => {
  const r = new Resampler(8000, 48000);
  const out = runFrames(r, sine(8000, 1000, 1), 160).subarray(1000);
  const tone = goertzelPower(out, 48000, 1000);
  for (const image of [7000, 9000, 15000, 17000]) {
    const level = 10 * Math.log10(goertzelPower(out, 48000, image) / tone);
    t.ok(level <= -50, `image at ${image} Hz: ${level.toFixed(1)} dB`);
  }
});

t.test('frame boundaries are seamless: whole buffer = frame by frame', async (t) => {
  for (const [from, to] of [
    [48000, 8000],
    [8000, 48000],
  ] as const) {
    // A chirp with noise: content everywhere, so any seam would show.
    const input = new Int16Array(from / 2);
    let seed = 1;
    for (let i = 0; i < input.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const tt = i / from;
      input[i] = Math.round(12000 * Math.sin(2 * Math.PI * (200 + 2000 * tt) * tt) + ((seed % 2001) - 1000));
    }
    const whole = Int16Array.from(new Resampler(from, to).process(input));
    const frameLen = (from * 20) / 1000;
    const framed = runFrames(new Resampler(from, to), input, frameLen);
    const odd = runFrames(new Resampler(from, to), input, 7 * (from === 48000 ? 6 : 1) + (from === 48000 ? 0 : 3));
    t.equal(framed.length, whole.length, `${from}→${to}: same length in frames`);
    t.same(Array.from(framed), Array.from(whole), `${from}→${to}: identical output in 20 ms frames`);
    t.same(Array.from(odd), Array.from(whole), `${from}→${to}: identical output in odd-sized chunks`);
  }
});

t.test('output buffer, reset and bad rates', async (t) => {
  const r = new Resampler(48000, 8000);
  const out = new Int16Array(160);
  const input = sine(48000, 1000, 0.02);
  const res = r.process(input, out);
  t.equal(res, out, 'writes into the given output');
  const first = Int16Array.from(res);
  r.reset();
  t.same(Array.from(r.process(input, out)), Array.from(first), 'reset restarts from silence');
  t.throws(() => r.process(input, new Int16Array(10)), RangeError);
  t.throws(() => new Resampler(44100, 8000), RangeError);
  t.throws(() => new Resampler(8000, 16000), RangeError);
});
