/**
 * Estimates the server's wall-clock from NTP-style exchanges over the control
 * channel, so a box whose own clock is wrong (even minutes off, or drifting)
 * still plays each frame at the right server time.
 *
 * Each exchange gives t0 (agent send), t1 (server receive), t2 (server send),
 * t3 (agent receive): offset = ((t1 − t0) + (t2 − t3)) / 2, rtt = (t3 − t0) − (t2 − t1).
 * A sample's offset error is at most half the queueing it met, so, as in the
 * NTP clock filter, only the minimum-RTT samples of the last N are trusted.
 * Offset and drift come from a least-squares line through those samples,
 * each weighted by 1/rtt², and half their (so weighted) round trip bounds the
 * estimate's error (`uncertaintyMs`).
 *
 * The estimate is given as it is, not slewed: the playout (endpoint/playout.ts)
 * decides how to move the audio to it without a click. (A slew here as well
 * only delayed a better estimate: at 5 ms/s a 150 ms correction took 30 s.)
 * A sample far off the model (> stepThresholdMs beyond both round trips) is
 * noise unless several in a row confirm a real jump of the server clock.
 *
 * `settled` says when the estimate is good enough to start playing: within
 * settleMs, or settleTimeoutMs after the first exchange (an alert never waits
 * long for a clock that a slow network keeps uncertain).
 *
 * Pure logic: the local clock is injected; `local` arguments are on that clock.
 */
import { performance } from 'node:perf_hooks';

export interface ClockSyncOptions {
  /** Local monotonic clock in ms. */
  now?: () => number;
  /** Samples kept (the filter window). */
  maxSamples?: number;
  /** Samples needed before `synced`. */
  minSamples?: number;
  /** Samples within minRtt + this are trusted. */
  rttToleranceMs?: number;
  /** Trust at least this many samples even if few are within the tolerance. */
  minTrusted?: number;
  /** A sample this far beyond the model (plus both round trips) is an outlier or, confirmed, a clock jump. */
  stepThresholdMs?: number;
  /** Trusted samples must span this long before drift is estimated. */
  minDriftSpanMs?: number;
  /** Drift estimates are clamped to ±this (ppm); crystals are within ±100. */
  maxDriftPpm?: number;
  /** A drift estimate is taken only when its standard error is within this (ppm). Default 20. */
  maxDriftErrorPpm?: number;
  /** Uncertainty (ms) at which the estimate is settled. Default 1. */
  settleMs?: number;
  /** Settled anyway this long after the first exchange, ms. Default 2000. */
  settleTimeoutMs?: number;
}

/** Round trips below this weigh as this (a loopback exchange takes ~0.1 ms). */
const MIN_WEIGHT_RTT_MS = 0.1;

interface Sample {
  local: number; // midpoint (t0 + t3) / 2, local clock
  offset: number;
  rtt: number;
}

export interface ClockSyncStats {
  samples: number;
  rejected: number;
  /** Refits that moved the estimate by more than stepThresholdMs. */
  steps: number;
  resets: number;
}

export class ClockSync {
  readonly stats: ClockSyncStats = { samples: 0, rejected: 0, steps: 0, resets: 0 };

  private readonly now: () => number;
  private readonly maxSamples: number;
  private readonly minSamples: number;
  private readonly rttToleranceMs: number;
  private readonly minTrusted: number;
  private readonly stepThresholdMs: number;
  private readonly minDriftSpanMs: number;
  private readonly maxSlope: number;
  private readonly maxDriftError: number;
  /** Uncertainty at which the estimate is settled, ms. */
  readonly settleMs: number;
  private readonly settleTimeoutMs: number;

  private samples: Sample[] = [];
  private outliers: Sample[] = [];
  private isSynced = false;
  // Model: offset(local) = intercept + slope · (local − ref).
  private ref = 0;
  private intercept = 0;
  private slope = 0;
  private bestRtt = 0;
  /** Mean round trip of the samples the model was fitted to, weighted as they are: how far off it may be (×½). */
  private modelRtt = 0;
  /** Local send time of the first exchange since the last reset (the settle timeout runs from it). */
  private firstAt = NaN;

  constructor(options: ClockSyncOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.maxSamples = options.maxSamples ?? 64;
    this.minSamples = options.minSamples ?? 4;
    this.rttToleranceMs = options.rttToleranceMs ?? 1;
    this.minTrusted = options.minTrusted ?? 3;
    this.stepThresholdMs = options.stepThresholdMs ?? 100;
    this.minDriftSpanMs = options.minDriftSpanMs ?? 30_000;
    this.maxSlope = (options.maxDriftPpm ?? 150) * 1e-6;
    this.maxDriftError = (options.maxDriftErrorPpm ?? 20) * 1e-6;
    this.settleMs = options.settleMs ?? 1;
    this.settleTimeoutMs = options.settleTimeoutMs ?? 2000;
  }

  get synced(): boolean {
    return this.isSynced;
  }

  /** Best (minimum) round-trip time among the kept samples, ms. */
  get rttMs(): number {
    return this.bestRtt;
  }

  /** How far off the estimate may be, ms: half the largest round trip it was fitted to (Infinity before sync). */
  get uncertaintyMs(): number {
    return this.isSynced ? this.modelRtt / 2 : Infinity;
  }

  /** Synced, and either within settleMs or past the settle timeout: good enough to start playing. */
  get settled(): boolean {
    if (!this.isSynced) return false;
    return this.uncertaintyMs <= this.settleMs || this.now() - this.firstAt >= this.settleTimeoutMs;
  }

  /** How fast the local clock runs against the server's, in ppm (+ = local is fast). */
  get driftPpm(): number {
    return -this.slope * 1e6;
  }

  /**
   * Adds one exchange. Returns false if it was rejected (impossible stamps).
   * t0, t3 on the local clock; t1, t2 on the server's wall-clock.
   */
  addSample(t0: number, t1: number, t2: number, t3: number = this.now()): boolean {
    const rtt = t3 - t0 - (t2 - t1);
    if (!Number.isFinite(t0 + t1 + t2 + t3) || t3 < t0 || t2 < t1 || rtt < 0) {
      this.stats.rejected++;
      return false;
    }
    const s: Sample = { local: (t0 + t3) / 2, offset: (t1 - t0 + (t2 - t3)) / 2, rtt };
    this.stats.samples++;
    if (Number.isNaN(this.firstAt)) this.firstAt = t0;
    if (this.isSynced && this.isJump(s)) {
      // A single far-off sample is noise; several in a row mean the server clock moved.
      this.outliers.push(s);
      if (this.outliers.length < 3) return true;
      this.samples = this.outliers;
      this.outliers = [];
      this.stats.resets++;
    } else {
      this.outliers.length = 0;
      this.samples.push(s);
      if (this.samples.length > this.maxSamples) this.samples.shift();
    }
    this.refit(s.local);
    return true;
  }

  /** Offset (server − local) at local time `local`, ms. */
  offsetMs(local: number = this.now()): number {
    return this.intercept + this.slope * (local - this.ref);
  }

  /** The server's wall-clock (Unix ms) at local time `local`. */
  serverNow(local: number = this.now()): number {
    return local + this.offsetMs(local);
  }

  /** The local time at which the server's clock reads `serverMs`. */
  localTimeOf(serverMs: number, localHint: number = this.now()): number {
    return serverMs - this.offsetMs(localHint);
  }

  reset(): void {
    this.samples = [];
    this.outliers = [];
    this.isSynced = false;
    this.slope = this.intercept = this.modelRtt = 0;
    this.firstAt = NaN;
  }

  private isJump(s: Sample): boolean {
    const residual = Math.abs(s.offset - this.offsetMs(s.local));
    // Both the model and the sample may be off by up to half their round trip. A model made from
    // slow first exchanges (a server busy with 50 agents connecting at once: 0.1–0.8 s round trips)
    // met by a fast one is better information, not a clock jump: it must enter the window, or the
    // agent keeps playing hundreds of ms off until three "jumps" in a row reset it.
    return residual > this.stepThresholdMs + s.rtt + this.modelRtt;
  }

  private refit(at: number): void {
    const before = this.offsetMs(at);
    const trusted = this.trustedSamples();
    // Weighted by 1/rtt²: a sample's error is bounded by rtt/2, so one fast exchange outweighs
    // slow ones kept to make up minTrusted (on a loaded bench, 0.5 ms next to 19 ms ones).
    let sw = 0;
    let mx = 0;
    let my = 0;
    let mr = 0;
    for (const s of trusted) {
      const w = 1 / Math.max(s.rtt, MIN_WEIGHT_RTT_MS) ** 2;
      sw += w;
      mx += w * s.local;
      my += w * s.offset;
      mr += w * s.rtt;
    }
    mx /= sw;
    my /= sw;
    // The weighted mean's error is at most the weighted mean of the samples' bounds.
    this.modelRtt = mr / sw;
    const span = trusted[trusted.length - 1].local - trusted[0].local;
    let slope = this.slope;
    if (trusted.length >= 3 && span >= this.minDriftSpanMs) {
      // A drift is taken only when the samples pin it down (standard error ≤ maxDriftErrorPpm,
      // each sample's error uniform within ±rtt/2: σ = rtt/√12); otherwise the last one stands.
      // On a loaded bench one 14 ms exchange 44 s before a 0.3 ms one said −100 ppm (± 90), and
      // the estimate walked 6 ms off within a minute while its uncertainty said 0.2 ms.
      let sxy = 0;
      let sxx = 0;
      for (const s of trusted) {
        const w = 12 / Math.max(s.rtt, MIN_WEIGHT_RTT_MS) ** 2;
        sxy += w * (s.local - mx) * (s.offset - my);
        sxx += w * (s.local - mx) ** 2;
      }
      if (1 / Math.sqrt(sxx) <= this.maxDriftError) slope = Math.max(-this.maxSlope, Math.min(this.maxSlope, sxy / sxx));
    }
    this.slope = slope;
    this.ref = mx;
    this.intercept = my;

    if (!this.isSynced) {
      if (this.samples.length >= this.minSamples) this.isSynced = true;
      return;
    }
    if (Math.abs(before - this.offsetMs(at)) > this.stepThresholdMs) this.stats.steps++;
  }

  /** The minimum-RTT samples, in time order. */
  private trustedSamples(): Sample[] {
    let minRtt = Infinity;
    for (const s of this.samples) if (s.rtt < minRtt) minRtt = s.rtt;
    this.bestRtt = minRtt;
    const limit = minRtt + this.rttToleranceMs;
    const within = this.samples.filter((s) => s.rtt <= limit);
    if (within.length >= Math.min(this.minTrusted, this.samples.length)) return within;
    return [...this.samples]
      .sort((a, b) => a.rtt - b.rtt)
      .slice(0, this.minTrusted)
      .sort((a, b) => a.local - b.local);
  }
}
