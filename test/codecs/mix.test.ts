import t from 'tap';
import { applyGain, dbToGain, fade, gainToDb, isSilent, mixInto, peak, rms, toDbfs } from '../../codecs/mix.js';
import { SineOscillator } from '../../codecs/tone.js';

t.test('dB conversions', async (t) => {
  t.ok(Math.abs(dbToGain(-6.0206) - 0.5) < 1e-4);
  t.equal(dbToGain(0), 1);
  t.ok(Math.abs(gainToDb(0.1) + 20) < 1e-9);
});

t.test('gain and mixing saturate instead of wrapping', async (t) => {
  const f = Int16Array.from([1000, -1000, 30000, -30000]);
  applyGain(f, 2);
  t.same([...f], [2000, -2000, 32767, -32768]);
  const dst = Int16Array.from([30000, -30000, 100]);
  mixInto(dst, Int16Array.from([10000, -10000, 50]), 1);
  t.same([...dst], [32767, -32768, 150]);
  const d2 = Int16Array.from([0, 0]);
  mixInto(d2, Int16Array.from([1000, -1000]), 0.5);
  t.same([...d2], [500, -500]);
});

t.test('levels', async (t) => {
  const f = new Int16Array(960);
  new SineOscillator(1000, 0.5).fill(f);
  t.ok(Math.abs(rms(f) - 0.5 / Math.SQRT2) < 0.002, `sine rms ${rms(f)}`);
  t.ok(Math.abs(peak(f) - 0.5) < 0.002, `sine peak ${peak(f)}`);
  t.ok(Math.abs(toDbfs(rms(f)) + 9.03) < 0.05);
  t.notOk(isSilent(f, -60));
  applyGain(f, dbToGain(-70));
  t.ok(isSilent(f, -60), 'a −79 dBFS sine is silent at −60');
  t.ok(isSilent(new Int16Array(960)));
});

t.test('fades: linear, equal-power, chained without a step', async (t) => {
  const ones = () => new Int16Array(960).fill(10000);
  const lin = ones();
  fade(lin, 1, 0);
  t.equal(lin[959], 0, 'ends at toGain');
  t.ok(Math.abs(lin[479] - 5000) <= 11, `midpoint ${lin[479]}`);
  const a = ones();
  const b = ones();
  fade(a, 1, 0, 'equal-power');
  fade(b, 0, 1, 'equal-power');
  let worst = 0;
  for (let i = 0; i < 960; i++) worst = Math.max(worst, Math.abs((a[i] / 10000) ** 2 + (b[i] / 10000) ** 2 - 1));
  t.ok(worst < 0.01, `equal-power crossfade keeps power (worst deviation ${worst.toFixed(4)})`);
  const f1 = ones();
  const f2 = ones();
  fade(f1, 0, 0.5);
  fade(f2, 0.5, 1);
  t.ok(Math.abs(f2[0] - f1[959]) <= 11, 'second fade starts where the first ended');
});
