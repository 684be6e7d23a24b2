import t from 'tap';
import { ClickTrain, SineOscillator, Siren, silence } from '../../codecs/tone.js';
import { detectClicks, dominantFrequency, goertzelPower } from '../../codecs/analysis.js';

const RATE = 48000;

function render(gen: { fill(f: Int16Array): void }, frames: number): Int16Array {
  const out = new Int16Array(frames * 960);
  const f = new Int16Array(960);
  for (let i = 0; i < frames; i++) {
    gen.fill(f);
    out.set(f, i * 960);
  }
  return out;
}

t.test('sine: frequency, amplitude, phase continuity', async (t) => {
  for (const freq of [440, 1000, 3150]) {
    const x = render(new SineOscillator(freq, 0.5), 50);
    t.ok(Math.abs(dominantFrequency(x, RATE) - freq) < 1, `${freq} Hz measured ${dominantFrequency(x, RATE).toFixed(2)}`);
    const amp = Math.sqrt(2 * goertzelPower(x, RATE, freq));
    t.ok(Math.abs(amp / 32767 - 0.5) < 0.01, `amplitude ${(amp / 32767).toFixed(3)}`);
    // No step at frame joins: the largest sample-to-sample change stays within the sine's slope.
    let maxStep = 0;
    for (let i = 1; i < x.length; i++) maxStep = Math.max(maxStep, Math.abs(x[i] - x[i - 1]));
    t.ok(maxStep <= 0.5 * 32767 * ((2 * Math.PI * freq) / RATE) + 2, `max step ${maxStep}`);
  }
});

t.test('siren sweeps between its bounds', async (t) => {
  for (const kind of ['wail', 'yelp', 'hilo'] as const) {
    const siren = new Siren({ lowHz: 600, highHz: 1200, periodMs: 2000, kind, amplitude: 0.5 });
    const x = render(siren, 200); // 4 s = two periods
    const freqs: number[] = [];
    for (let i = 0; i + 960 <= x.length; i += 960) freqs.push(dominantFrequency(x.subarray(i, i + 960), RATE));
    const lo = Math.min(...freqs);
    const hi = Math.max(...freqs);
    t.ok(lo >= 570 && lo <= 660, `${kind}: lowest ${lo.toFixed(0)} Hz near 600`);
    t.ok(hi >= 1140 && hi <= 1230, `${kind}: highest ${hi.toFixed(0)} Hz near 1200`);
    // It is a sweep, not a fixed tone: the frequency moves through the middle of the range.
    if (kind !== 'hilo') t.ok(freqs.some((f) => f > 800 && f < 1000), `${kind}: passes through the middle`);
    else t.notOk(freqs.slice(5, 45).some((f) => f > 700 && f < 1100), 'hilo: two tones, nothing between inside a half period');
  }
  t.throws(() => new Siren({ lowHz: 900, highHz: 600, periodMs: 1000, kind: 'wail', amplitude: 0.5 }), RangeError);
});

t.test('click train: onsets where announced', async (t) => {
  const clicks = new ClickTrain({ intervalMs: 250, offsetMs: 30, clickMs: 5, freqHz: 2000 });
  const x = render(clicks, 100); // 2 s
  const onsets = detectClicks(x, RATE, -20);
  t.equal(onsets.length, 8, `8 clicks in 2 s (${onsets.map((o) => o.toFixed(2)).join(', ')})`);
  onsets.forEach((ms, k) => t.ok(Math.abs(ms - (30 + 250 * k)) < 0.2, `click ${k} at ${ms.toFixed(2)} ms`));
  t.equal(clicks.onsetSample(2), (30 + 500) * 48);
  t.equal(clicks.samplesGenerated, x.length);
});

t.test('silence', async (t) => {
  const f = new Int16Array(960).fill(5);
  silence(f);
  t.ok(f.every((v) => v === 0));
});
