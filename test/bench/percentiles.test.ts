import t from 'tap';
import { LatencyHistogram, median, percentile, summarize } from '../../bench/percentiles.js';

t.test('nearest-rank percentiles on known data', async (t) => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  const s = summarize(v.slice().reverse());
  t.equal(s.p50, 50);
  t.equal(s.p95, 95);
  t.equal(s.p99, 99);
  t.equal(s.min, 1);
  t.equal(s.max, 100);
  t.equal(s.mean, 50.5);
  t.equal(percentile(Float64Array.from([7]), 99), 7);
  t.ok(Number.isNaN(percentile(new Float64Array(0), 50)));
  // Nearest rank of 5 values: p50 is the 3rd, p95 the 5th.
  t.equal(percentile(Float64Array.from([1, 2, 3, 4, 5]), 50), 3);
  t.equal(percentile(Float64Array.from([1, 2, 3, 4, 5]), 95), 5);
  t.equal(median([3, 1, 2]), 2);
});

t.test('histogram percentiles stay within one bucket of the exact value', async (t) => {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const values = Array.from({ length: 5000 }, () => rnd() * rnd() * 40);
  values.push(900, 1200); // beyond the histogram range: kept exactly
  const h = new LatencyHistogram(500, 0.05);
  for (const x of values) h.record(x);
  const exact = summarize(values);
  for (const p of [50, 95, 99] as const) {
    const key = `p${p}` as 'p50' | 'p95' | 'p99';
    t.ok(h.percentile(p) >= exact[key] - 1e-9, `p${p} never optimistic`);
    t.ok(h.percentile(p) - exact[key] <= 0.05 + 1e-9, `p${p} within a bucket`);
  }
  t.equal(h.percentile(100), 1200);
  t.equal(h.count, values.length);

  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  values.forEach((x, i) => (i % 2 ? a : b).record(x));
  a.merge(b);
  t.equal(a.percentile(99), h.percentile(99), 'merged halves equal the whole');
  const round = LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(h.toJSON())));
  t.equal(round.count, h.count);
  t.equal(round.percentile(95), h.percentile(95), 'survives JSON');
});
