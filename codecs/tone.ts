/**
 * Test and alert signals at 48 kHz: sine, siren, click train, silence.
 * Each generator keeps its phase between fill() calls, so frames join without
 * a click whatever their length.
 */
import { SAMPLE_RATE, type Frame } from './pcm.js';

const TWO_PI = 2 * Math.PI;

function toInt16(x: number): number {
  const r = Math.round(x * 32767);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/** Fills the frame with zeros. */
export function silence(frame: Frame): void {
  frame.fill(0);
}

/** A sine of fixed amplitude (relative to full scale) whose frequency may change between frames. */
export class SineOscillator {
  private phase = 0; // radians, kept in [0, 2π)

  constructor(
    public freqHz: number,
    public amplitude = 0.5,
  ) {}

  fill(frame: Frame): void {
    const inc = (TWO_PI * this.freqHz) / SAMPLE_RATE;
    let phase = this.phase;
    for (let i = 0; i < frame.length; i++) {
      frame[i] = toInt16(this.amplitude * Math.sin(phase));
      phase += inc;
    }
    this.phase = phase % TWO_PI;
  }

  /** An independent oscillator in the same state: continues on the very next sample, in O(1). */
  clone(): SineOscillator {
    const c = new SineOscillator(this.freqHz, this.amplitude);
    c.phase = this.phase;
    return c;
  }
}

export type SirenKind = 'wail' | 'yelp' | 'hilo';

export interface SirenOptions {
  lowHz: number;
  highHz: number;
  /** wail: one rise and fall; yelp: one upward sweep; hilo: one low + one high tone. */
  periodMs: number;
  kind: SirenKind;
  /** Relative to full scale; default 0.5. */
  amplitude?: number;
}

/**
 * A siren as used for public alerts. The frequency follows the kind's
 * pattern over each period; the waveform's phase is continuous even where the
 * frequency jumps (yelp restart, hilo switch).
 */
export class Siren {
  readonly lowHz: number;
  readonly highHz: number;
  readonly periodSamples: number;
  readonly kind: SirenKind;
  readonly amplitude: number;
  private phase = 0;
  private position = 0; // samples into the current period

  constructor(private readonly options: SirenOptions) {
    const opts = options;
    if (!(opts.lowHz > 0 && opts.highHz >= opts.lowHz && opts.highHz < SAMPLE_RATE / 2)) {
      throw new RangeError(`Siren: need 0 < lowHz ≤ highHz < ${SAMPLE_RATE / 2}`);
    }
    if (!(opts.periodMs > 0)) throw new RangeError('Siren: periodMs must be > 0');
    this.lowHz = opts.lowHz;
    this.highHz = opts.highHz;
    this.periodSamples = Math.max(2, Math.round((opts.periodMs * SAMPLE_RATE) / 1000));
    this.kind = opts.kind;
    this.amplitude = opts.amplitude ?? 0.5;
  }

  /** Instantaneous frequency at a position (in samples) inside the period. */
  frequencyAt(position: number): number {
    const x = (position % this.periodSamples) / this.periodSamples; // 0..1
    const span = this.highHz - this.lowHz;
    switch (this.kind) {
      case 'wail': // smooth rise then fall, starting at the low tone
        return this.lowHz + span * 0.5 * (1 - Math.cos(TWO_PI * x));
      case 'yelp': // fast upward sweep, restarting low
        return this.lowHz + span * x;
      case 'hilo':
        return x < 0.5 ? this.lowHz : this.highHz;
    }
  }

  fill(frame: Frame): void {
    let phase = this.phase;
    let pos = this.position;
    for (let i = 0; i < frame.length; i++) {
      frame[i] = toInt16(this.amplitude * Math.sin(phase));
      phase += (TWO_PI * this.frequencyAt(pos)) / SAMPLE_RATE;
      if (++pos === this.periodSamples) pos = 0;
    }
    this.phase = phase % TWO_PI;
    this.position = pos;
  }

  /** An independent siren in the same state (phase and place in the period), in O(1). */
  clone(): Siren {
    const c = new Siren(this.options);
    c.phase = this.phase;
    c.position = this.position;
    return c;
  }
}

export interface ClickTrainOptions {
  /** Time between click onsets; default 1000 ms. */
  intervalMs?: number;
  /** Length of each click; default 5 ms. */
  clickMs?: number;
  /** Tone inside the click; default 2000 Hz (passes G.711's 8 kHz band). */
  freqHz?: number;
  /** Relative to full scale; default 0.9. */
  amplitude?: number;
  /** Onset of the first click after the start; default 0. */
  offsetMs?: number;
}

/**
 * Short tone bursts with a sharp onset every intervalMs, for latency and
 * sync measurement (pair with analysis.detectClicks). Click k starts at
 * sample round((offsetMs + k·intervalMs)·48) of the generated stream.
 */
export class ClickTrain {
  readonly intervalMs: number;
  readonly offsetMs: number;
  private readonly clickSamples: number;
  private readonly fadeSamples: number;
  private readonly inc: number;
  private readonly amplitude: number;
  private position = 0; // samples generated so far
  private nextClick = 0; // index of the next click whose onset is ≥ position

  constructor(private readonly options: ClickTrainOptions = {}) {
    const opts = options;
    this.intervalMs = opts.intervalMs ?? 1000;
    this.offsetMs = opts.offsetMs ?? 0;
    const clickMs = opts.clickMs ?? 5;
    if (!(this.intervalMs > clickMs) || !(clickMs > 0)) throw new RangeError('ClickTrain: need 0 < clickMs < intervalMs');
    this.clickSamples = Math.round((clickMs * SAMPLE_RATE) / 1000);
    this.fadeSamples = Math.min(this.clickSamples >> 1, SAMPLE_RATE / 1000); // 1 ms tail fade: no click at the end
    this.inc = (TWO_PI * (opts.freqHz ?? 2000)) / SAMPLE_RATE;
    this.amplitude = opts.amplitude ?? 0.9;
  }

  /** Sample index (from the start of the stream) at which click k begins. */
  onsetSample(k: number): number {
    return Math.round(((this.offsetMs + k * this.intervalMs) * SAMPLE_RATE) / 1000);
  }

  /** Samples generated so far. */
  get samplesGenerated(): number {
    return this.position;
  }

  fill(frame: Frame): void {
    frame.fill(0);
    const start = this.position;
    const end = start + frame.length;
    // A click that began in an earlier frame may still be sounding.
    let k = Math.max(0, this.nextClick - 1);
    for (; this.onsetSample(k) < end; k++) {
      const onset = this.onsetSample(k);
      const from = Math.max(onset, start);
      const to = Math.min(onset + this.clickSamples, end);
      for (let n = from; n < to; n++) {
        const t = n - onset;
        const left = this.clickSamples - t;
        const env = left < this.fadeSamples ? 0.5 * (1 - Math.cos((Math.PI * left) / this.fadeSamples)) : 1;
        frame[n - start] = toInt16(this.amplitude * env * Math.sin(this.inc * t));
      }
    }
    this.nextClick = k;
    this.position = end;
  }

  /** An independent click train in the same state (same next click), in O(1). */
  clone(): ClickTrain {
    const c = new ClickTrain(this.options);
    c.position = this.position;
    c.nextClick = this.nextClick;
    return c;
  }
}
