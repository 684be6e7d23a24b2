/**
 * Measurements on audio for tests and monitoring: tone power (Goertzel),
 * dominant frequency (FFT), alignment (normalised cross-correlation), click
 * onsets, SNR. Inputs are any numeric arrays in int16 units; nothing here is
 * on the media hot path, so clarity wins over allocation.
 */

export type Samples = ArrayLike<number>;

const FULL_SCALE_SINE_POWER = (32767 * 32767) / 2;

/**
 * Power of the component at freqHz, as the mean square it contributes: a sine
 * of amplitude A (int16 units) gives ≈ A²/2. A Hann window (default) keeps
 * leakage from strong neighbouring tones out of the measurement.
 */
export function goertzelPower(samples: Samples, sampleRate: number, freqHz: number, window: 'hann' | 'none' = 'hann'): number {
  const n = samples.length;
  if (n === 0) return 0;
  const w = (2 * Math.PI * freqHz) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const g = window === 'hann' ? 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n) : 1;
    wsum += g;
    const s0 = samples[i] * g + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  // |X(w)|² from the final state (valid for non-integer bins too).
  const re = s1 - s2 * Math.cos(w);
  const im = s2 * Math.sin(w);
  return (2 * (re * re + im * im)) / (wsum * wsum);
}

/** The frequency among `candidatesHz` with the most goertzelPower in `samples` (the first on a tie). */
export function strongestTone(samples: Samples, sampleRate: number, candidatesHz: readonly number[], window: 'hann' | 'none' = 'hann'): number {
  let best = candidatesHz[0];
  let bestPower = -1;
  for (const f of candidatesHz) {
    const p = goertzelPower(samples, sampleRate, f, window);
    if (p > bestPower) {
      bestPower = p;
      best = f;
    }
  }
  return best;
}

/** goertzelPower in dB relative to a full-scale sine (a full-scale tone is 0 dB). */
export function toneLevelDb(samples: Samples, sampleRate: number, freqHz: number): number {
  return 10 * Math.log10(goertzelPower(samples, sampleRate, freqHz) / FULL_SCALE_SINE_POWER);
}

/** In-place iterative radix-2 FFT; re/im length must be a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (n & (n - 1)) throw new RangeError('fft: length must be a power of two');
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b] * cr - im[b] * ci;
        const ti = re[b] * ci + im[b] * cr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

/**
 * Frequency (Hz) of the strongest spectral peak, DC excluded: Hann window,
 * zero-padded FFT of up to 2^18 samples, parabolic interpolation between bins.
 * Returns 0 for silence.
 */
export function dominantFrequency(samples: Samples, sampleRate: number): number {
  const len = Math.min(samples.length, 1 << 18);
  if (len < 4) return 0;
  const n = Math.max(nextPow2(len), 8192); // padding refines the bin grid for short inputs
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < len; i++) re[i] = samples[i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / len));
  fft(re, im);
  const half = n / 2;
  const mag = new Float64Array(half);
  for (let k = 0; k < half; k++) mag[k] = re[k] * re[k] + im[k] * im[k];
  let best = 0;
  const minBin = Math.max(1, Math.ceil((n / len) * 2)); // skip the DC lobe
  for (let k = minBin; k < half - 1; k++) if (mag[k] > mag[best] || best === 0) best = k;
  if (best === 0 || mag[best] === 0) return 0;
  // Parabola through the log magnitudes of the peak and its neighbours.
  const a = Math.log(mag[best - 1] + 1e-30);
  const b = Math.log(mag[best] + 1e-30);
  const c = Math.log(mag[best + 1] + 1e-30);
  const denom = a - 2 * b + c;
  const offset = denom === 0 ? 0 : (0.5 * (a - c)) / denom;
  return ((best + offset) * sampleRate) / n;
}

/**
 * Finds the lag in [−maxLag, maxLag] at which b best matches a: b[i + lag] ≈ a[i]
 * (positive lag = b is late). Correlation is normalised over the overlapping
 * samples at each lag (1 = identical shape, scale-independent). FFT-based.
 */
export function normalizedCrossCorrelation(a: Samples, b: Samples, maxLagSamples: number): { lag: number; correlation: number } {
  const na = a.length;
  const nb = b.length;
  const maxLag = Math.max(0, Math.floor(maxLagSamples));
  if (na === 0 || nb === 0) return { lag: 0, correlation: 0 };
  const n = nextPow2(na + nb);
  const ar = new Float64Array(n);
  const ai = new Float64Array(n);
  const br = new Float64Array(n);
  const bi = new Float64Array(n);
  for (let i = 0; i < na; i++) ar[i] = a[i];
  for (let i = 0; i < nb; i++) br[i] = b[i];
  fft(ar, ai);
  fft(br, bi);
  // conj(A)·B, then inverse FFT via conjugation: r[lag] = Σ a[i]·b[i+lag].
  for (let k = 0; k < n; k++) {
    const re = ar[k] * br[k] + ai[k] * bi[k];
    const im = ar[k] * bi[k] - ai[k] * br[k];
    ar[k] = re;
    ai[k] = -im;
  }
  fft(ar, ai);
  // Prefix sums of squares give the energy of each overlap.
  const ea = new Float64Array(na + 1);
  const eb = new Float64Array(nb + 1);
  for (let i = 0; i < na; i++) ea[i + 1] = ea[i] + a[i] * a[i];
  for (let i = 0; i < nb; i++) eb[i + 1] = eb[i] + b[i] * b[i];
  let bestLag = 0;
  let best = -Infinity;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    // Overlap: i in [max(0, −lag), min(na, nb − lag)).
    const i0 = Math.max(0, -lag);
    const i1 = Math.min(na, nb - lag);
    if (i1 - i0 < 1) continue;
    const raw = ar[(lag + n) % n] / n;
    const energy = (ea[i1] - ea[i0]) * (eb[i1 + lag] - eb[i0 + lag]);
    if (energy <= 0) continue;
    const c = raw / Math.sqrt(energy);
    if (c > best) {
      best = c;
      bestLag = lag;
    }
  }
  return { lag: bestLag, correlation: best === -Infinity ? 0 : best };
}

/**
 * Onset times (ms from the first sample) of clicks: moments where |x| rises
 * above thresholdDb (dBFS, peak) after at least minGapMs below it.
 * Sample-accurate for bursts with a sharp attack (tone.ClickTrain).
 */
export function detectClicks(samples: Samples, sampleRate: number, thresholdDb: number, opts: { minGapMs?: number } = {}): number[] {
  const threshold = 32768 * Math.pow(10, thresholdDb / 20);
  const gap = Math.round(((opts.minGapMs ?? 50) * sampleRate) / 1000);
  const onsets: number[] = [];
  let lastAbove = -Infinity;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    if (v >= threshold || -v >= threshold) {
      if (i - lastAbove > gap) onsets.push((i * 1000) / sampleRate);
      lastAbove = i;
    }
  }
  return onsets;
}

/**
 * Signal-to-noise ratio in dB of `degraded` against `reference`, where
 * degraded[i + lag] corresponds to reference[i] (use the lag from
 * normalizedCrossCorrelation to compensate codec delay).
 */
export function snrDb(reference: Samples, degraded: Samples, lag = 0): number {
  const i0 = Math.max(0, -lag);
  const i1 = Math.min(reference.length, degraded.length - lag);
  let signal = 0;
  let noise = 0;
  for (let i = i0; i < i1; i++) {
    const r = reference[i];
    const e = degraded[i + lag] - r;
    signal += r * r;
    noise += e * e;
  }
  if (noise === 0) return Infinity;
  return 10 * Math.log10(signal / noise);
}
