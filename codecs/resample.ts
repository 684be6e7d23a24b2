/**
 * Polyphase windowed-sinc resampler between 48 kHz and the G.711 / wideband
 * rates (8 kHz, 16 kHz), either direction, integer ratios.
 *
 * One low-pass prototype is designed at construction (Kaiser window, ≈80 dB
 * stopband, passband to 0.4 × the lower rate, stopband from its Nyquist
 * frequency) and split into phases. The last input samples are kept between
 * calls, so feeding a signal frame by frame gives exactly the same output as
 * feeding it whole: frame boundaries are seamless.
 */

const STOPBAND_DB = 80;
const PASSBAND_EDGE = 0.4; // fraction of the lower rate where the transition band starts

/** Zeroth-order modified Bessel function of the first kind (series; converges fast for β ≤ 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/**
 * Low-pass FIR at rate `rate` with its -6 dB point at cutoffHz, Kaiser-windowed
 * for STOPBAND_DB of attenuation over `transitionHz`. The filter has odd length
 * 2h+1 (h a multiple of `delayMultiple`, so its delay is a whole number of
 * output samples) and is zero-padded to a multiple of `multiple` taps.
 */
function designLowPass(rate: number, cutoffHz: number, transitionHz: number, multiple: number, delayMultiple: number, gain: number): { taps: Float64Array; half: number } {
  const beta = 0.1102 * (STOPBAND_DB - 8.7);
  const estimate = Math.ceil((STOPBAND_DB - 7.95) / (14.36 * (transitionHz / rate))) + 1;
  const half = Math.ceil((estimate - 1) / 2 / delayMultiple) * delayMultiple;
  const odd = 2 * half + 1;
  const taps = new Float64Array(Math.ceil(odd / multiple) * multiple);
  const fc = cutoffHz / rate; // cycles per sample
  const i0Beta = besselI0(beta);
  let sum = 0;
  for (let n = 0; n < odd; n++) {
    const x = n - half;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    const r = x / half; // -1..1 across the taps
    taps[n] = (sinc * besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r)))) / i0Beta;
    sum += taps[n];
  }
  // Unity gain at DC per output phase: the prototype sums to `gain`.
  for (let n = 0; n < odd; n++) taps[n] *= gain / sum;
  return { taps, half };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export class Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  /** Group delay of the filter, in output samples (a whole number). */
  readonly delaySamples: number;
  private readonly up: number;
  private readonly down: number;
  /** Polyphase taps: phase p occupies [p·K, (p+1)·K), tap j multiplies x[n − j]. */
  private readonly phases: Float64Array;
  private readonly tapsPerPhase: number;
  /** Last K−1 input samples of the previous call, followed by the current input. */
  private history: Float64Array;
  /** Position of the next output in up-rate units, relative to the current input's first sample. */
  private t = 0;
  private scratch: Int16Array = new Int16Array(0);

  constructor(fromRate: number, toRate: number) {
    const ok = (r: number) => r === 8000 || r === 16000 || r === 48000;
    if (!ok(fromRate) || !ok(toRate)) throw new RangeError(`Resampler: unsupported rates ${fromRate} → ${toRate}`);
    if (fromRate !== 48000 && toRate !== 48000) throw new RangeError('Resampler: one side must be 48000 Hz');
    this.fromRate = fromRate;
    this.toRate = toRate;
    const g = gcd(fromRate, toRate);
    this.up = toRate / g;
    this.down = fromRate / g;
    const lower = Math.min(fromRate, toRate);
    const highRate = fromRate * this.up; // the prototype's rate
    if (this.up === 1 && this.down === 1) {
      this.phases = new Float64Array([1]);
      this.tapsPerPhase = 1;
      this.delaySamples = 0;
    } else {
      const passEdge = PASSBAND_EDGE * lower;
      const stopEdge = 0.5 * lower;
      const step = highRate / toRate; // prototype samples per output sample
      const { taps: proto, half } = designLowPass(highRate, (passEdge + stopEdge) / 2, stopEdge - passEdge, this.up, step, this.up);
      const k = proto.length / this.up;
      this.tapsPerPhase = k;
      this.phases = new Float64Array(proto.length);
      for (let p = 0; p < this.up; p++) for (let j = 0; j < k; j++) this.phases[p * k + j] = proto[p + j * this.up];
      this.delaySamples = half / step; // whole by construction
    }
    this.history = new Float64Array(this.tapsPerPhase - 1 + 4096);
  }

  /** Number of output samples the next process() call will produce for `inputLength` input samples. */
  outputLength(inputLength: number): number {
    // Outputs at t, t+down, … while floor(t/up) < inputLength.
    const limit = inputLength * this.up;
    return this.t >= limit ? 0 : Math.ceil((limit - this.t) / this.down);
  }

  /**
   * Resamples `input` and returns the produced samples: in `output` when given
   * (it must hold outputLength(input.length) samples), else in an internal
   * buffer that is only valid until the next call. For 960 samples at 48 kHz
   * the result is exactly 160 (8 kHz) or 320 (16 kHz) samples, and vice versa.
   */
  process(input: Int16Array, output?: Int16Array): Int16Array {
    const n = input.length;
    const count = this.outputLength(n);
    let out = output;
    if (!out) {
      if (this.scratch.length < count) this.scratch = new Int16Array(count);
      out = this.scratch;
    } else if (out.length < count) {
      throw new RangeError(`Resampler: output holds ${out.length} samples, ${count} needed`);
    }

    const k = this.tapsPerPhase;
    const keep = k - 1;
    if (this.history.length < keep + n) {
      const bigger = new Float64Array(keep + n);
      bigger.set(this.history.subarray(0, keep));
      this.history = bigger;
    }
    const h = this.history;
    for (let i = 0; i < n; i++) h[keep + i] = input[i];

    const taps = this.phases;
    const up = this.up;
    const down = this.down;
    let t = this.t;
    for (let o = 0; o < count; o++) {
      const idx = Math.floor(t / up);
      const phase = t - idx * up;
      const base = phase * k;
      const newest = keep + idx; // h[newest − j] is x[idx − j]
      let acc = 0;
      for (let j = 0; j < k; j++) acc += taps[base + j] * h[newest - j];
      const r = Math.round(acc);
      out[o] = r > 32767 ? 32767 : r < -32768 ? -32768 : r;
      t += down;
    }
    this.t = t - n * up;
    // Slide the last K−1 inputs to the front for the next call.
    if (keep > 0) h.copyWithin(0, n, n + keep);

    return out.length === count ? out : out.subarray(0, count);
  }

  /** Forgets all past input (as after construction). */
  reset(): void {
    this.history.fill(0);
    this.t = 0;
  }
}
