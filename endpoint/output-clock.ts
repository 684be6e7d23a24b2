/**
 * The sound card's own clock, measured from what the output reports: at
 * local time L it has been given W samples and still holds D of them, so it
 * has played W − D. A least-squares line through (L, W − D) over the last
 * minutes is the card's rate against the local clock; a ±50 ppm crystal
 * (typical) drifts 180 ms an hour when ignored.
 *
 * It answers two questions per 20 ms slot: how many samples to write so the
 * card's buffer neither drains nor grows (its rate, plus a gentle pull of
 * the buffer back to the level it started at), and how long the samples
 * written now wait in the card before they sound (the smoothed delay), so
 * playout renders the audio due when they will actually be heard.
 *
 * An output that reports nothing (a file, the null sink) is taken to run on
 * the local clock: 960 samples a slot, no delay.
 *
 * Pure logic: local time is whatever the caller passes in.
 */
import { FRAME_SAMPLES, SAMPLE_RATE } from '../codecs/pcm.js';

export interface OutputClockOptions {
  /** Time between two points of the rate fit, ms. Default 1000. */
  pointEveryMs?: number;
  /** Points kept (the fit's window). Default 600 (10 min at 1 s). */
  maxPoints?: number;
  /** The fit must span this long before its rate is used, ms. Default 10 000. */
  minSpanMs?: number;
  /** Rates are clamped to ±this, ppm. Default 500 (crystals are within ±100). */
  maxPpm?: number;
  /** Slots over which a buffer level error is pulled back. Default 250 (5 s). */
  levelSlots?: number;
}

const SAMPLES_PER_MS = SAMPLE_RATE / 1000;

export class OutputClock {
  /** The card's rate against the local clock, ppm (+ = it plays faster than the local clock runs). */
  ratePpm = 0;
  /** Whether the output has reported a delay at all. */
  reporting = false;
  /** Delay reports received. */
  reports = 0;

  private readonly pointEveryMs: number;
  private readonly maxPoints: number;
  private readonly minSpanMs: number;
  private readonly maxPpm: number;
  private readonly levelSlots: number;
  private readonly xs: number[] = [];
  private readonly ys: number[] = [];
  private nextPointAt = -Infinity;
  private delay = 0;
  private targetDelay = NaN;
  private carry = 0;

  constructor(options: OutputClockOptions = {}) {
    this.pointEveryMs = options.pointEveryMs ?? 1000;
    this.maxPoints = options.maxPoints ?? 600;
    this.minSpanMs = options.minSpanMs ?? 10_000;
    this.maxPpm = options.maxPpm ?? 500;
    this.levelSlots = options.levelSlots ?? 250;
  }

  /** The card's rate as a factor (1 + ppm): samples it plays per nominal sample of local time. */
  get rate(): number {
    return 1 + this.ratePpm * 1e-6;
  }

  /** Samples waiting in the card (smoothed), what a sample written now waits before it sounds. */
  get delaySamples(): number {
    return this.delay;
  }

  get delayMs(): number {
    return this.delay / SAMPLES_PER_MS;
  }

  /** A delay report: at local time `localMs` the card has been given `written` samples and holds `queued`. */
  report(localMs: number, written: number, queued: number): void {
    if (!Number.isFinite(queued) || queued < 0) return;
    this.reports++;
    if (!this.reporting) {
      this.reporting = true;
      this.delay = queued;
    } else {
      // Light smoothing (a real card reports in period steps); playout's rate loop smooths the rest.
      this.delay += (queued - this.delay) / 4;
    }
    if (localMs < this.nextPointAt) return;
    this.nextPointAt = localMs + this.pointEveryMs;
    // Once the card runs, keep its buffer at the level it settled to.
    if (Number.isNaN(this.targetDelay) && this.xs.length >= 2) this.targetDelay = this.delay;
    this.xs.push(localMs);
    this.ys.push(written - queued);
    if (this.xs.length > this.maxPoints) {
      this.xs.shift();
      this.ys.shift();
    }
    this.fit();
  }

  /** How many samples to write for the next slot (about 960: more when the card is fast or low). */
  nextSlotSamples(): number {
    if (!this.reporting) return FRAME_SAMPLES;
    let want = FRAME_SAMPLES * this.rate;
    if (!Number.isNaN(this.targetDelay)) {
      const pull = (this.targetDelay - this.delay) / this.levelSlots;
      want += Math.max(-1, Math.min(1, pull));
    }
    this.carry += want;
    const n = Math.max(0, Math.floor(this.carry));
    this.carry -= n;
    return n;
  }

  private fit(): void {
    const n = this.xs.length;
    if (n < 3 || this.xs[n - 1] - this.xs[0] < this.minSpanMs) return;
    let mx = 0;
    let my = 0;
    for (let i = 0; i < n; i++) {
      mx += this.xs[i];
      my += this.ys[i];
    }
    mx /= n;
    my /= n;
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < n; i++) {
      const dx = this.xs[i] - mx;
      sxy += dx * (this.ys[i] - my);
      sxx += dx * dx;
    }
    if (sxx <= 0) return;
    const ppm = (sxy / sxx / SAMPLES_PER_MS - 1) * 1e6;
    this.ratePpm = Math.max(-this.maxPpm, Math.min(this.maxPpm, ppm));
  }
}
