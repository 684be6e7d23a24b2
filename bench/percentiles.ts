/**
 * Percentiles by the nearest-rank method on a sorted copy: p in [0, 100].
 * Nearest rank (not interpolation) so that every reported value is a value
 * that was really measured — a p99 of 4.2 ms means some frame took 4.2 ms.
 */
export interface Summary {
  count: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (p <= 0) return sorted[0];
  if (p >= 100) return sorted[sorted.length - 1];
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)];
}

export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i];
  return {
    count: sorted.length,
    min: sorted.length ? sorted[0] : Number.NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** Median of a few repeated runs: what the bench quotes, since these machines are noisy. */
export function median(values: readonly number[]): number {
  return percentile(Float64Array.from(values).sort(), 50);
}

/**
 * A fixed-size histogram for hot paths (agents record one value per frame):
 * 0.05 ms buckets up to `maxMs`, overflow kept exactly. Percentiles from it
 * are within one bucket of the exact value.
 */
export class LatencyHistogram {
  readonly bucketMs: number;
  private readonly counts: Uint32Array;
  private readonly overflow: number[] = [];
  private n = 0;
  private sum = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;

  constructor(maxMs = 500, bucketMs = 0.05) {
    this.bucketMs = bucketMs;
    this.counts = new Uint32Array(Math.ceil(maxMs / bucketMs));
  }

  record(ms: number): void {
    const v = ms < 0 ? 0 : ms;
    const i = Math.floor(v / this.bucketMs);
    if (i < this.counts.length) this.counts[i]++;
    else this.overflow.push(v);
    this.n++;
    this.sum += v;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  merge(other: LatencyHistogram): void {
    if (other.bucketMs !== this.bucketMs || other.counts.length !== this.counts.length) {
      throw new Error('cannot merge histograms of different shapes');
    }
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    this.overflow.push(...other.overflow);
    this.n += other.n;
    this.sum += other.sum;
    this.lo = Math.min(this.lo, other.lo);
    this.hi = Math.max(this.hi, other.hi);
  }

  get count(): number {
    return this.n;
  }

  /** Forgets every value (keeps the buffers: holders of this histogram keep recording into it). */
  reset(): void {
    this.counts.fill(0);
    this.overflow.length = 0;
    this.n = 0;
    this.sum = 0;
    this.lo = Number.POSITIVE_INFINITY;
    this.hi = Number.NEGATIVE_INFINITY;
  }

  /** Upper edge of the bucket that holds the nearest-rank percentile (never optimistic). */
  percentile(p: number): number {
    if (this.n === 0) return Number.NaN;
    if (p >= 100) return this.hi;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min((i + 1) * this.bucketMs, this.hi);
    }
    const sorted = [...this.overflow].sort((a, b) => a - b);
    return sorted[rank - seen - 1];
  }

  summary(): Summary {
    return {
      count: this.n,
      min: this.n ? this.lo : Number.NaN,
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.n ? this.hi : Number.NaN,
      mean: this.n ? this.sum / this.n : Number.NaN,
    };
  }

  toJSON(): { bucketMs: number; counts: number[]; overflow: number[] } {
    const counts: number[] = [];
    // Sparse encoding: [index, count] pairs flattened, so reports stay small.
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]) counts.push(i, this.counts[i]);
    return { bucketMs: this.bucketMs, counts, overflow: this.overflow };
  }

  static fromJSON(json: { bucketMs: number; counts: number[]; overflow: number[] }, maxMs = 500): LatencyHistogram {
    const h = new LatencyHistogram(maxMs, json.bucketMs);
    for (let k = 0; k < json.counts.length; k += 2) {
      const i = json.counts[k];
      const c = json.counts[k + 1];
      h.counts[i] += c;
      h.n += c;
      const v = (i + 0.5) * json.bucketMs;
      h.sum += v * c;
      h.lo = Math.min(h.lo, i * json.bucketMs);
      h.hi = Math.max(h.hi, (i + 1) * json.bucketMs);
    }
    for (const v of json.overflow) {
      h.overflow.push(v);
      h.n++;
      h.sum += v;
      h.lo = Math.min(h.lo, v);
      h.hi = Math.max(h.hi, v);
    }
    return h;
  }
}
