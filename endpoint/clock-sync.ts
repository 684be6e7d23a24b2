/**
 * Estimates the server's wall-clock from NTP-style exchanges over the control
 * channel, so a box whose own clock is wrong (even minutes off, or drifting)
 * still plays each frame at the right server time.
 *
 * Each exchange gives t0 (agent send), t1 (server receive), t2 (server send),
 * t3 (agent receive): offset = ((t1 − t0) + (t2 − t3)) / 2, rtt = (t3 − t0) − (t2 − t1).
 * A sample's offset error is at most half the queueing it met, so, as in the
 * NTP clock filter, only the minimum-RTT samples of the last N are trusted.
 * Offset and drift come from a least-squares line through those samples.
 * Once synced, changes of the estimate are slewed (at most `slewMsPerSecond`),
 * so audio never jumps by more than a fraction of a millisecond per frame; only
 * a real jump of the server clock (> stepThresholdMs, confirmed by several
 * samples) steps it.
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
  /** Fastest correction of the applied offset once synced. */
  slewMsPerSecond?: number;
  /** A correction larger than this is a clock jump: stepped, not slewed. */
  stepThresholdMs?: number;
  /** Trusted samples must span this long before drift is estimated. */
  minDriftSpanMs?: number;
  /** Drift estimates are clamped to ±this (ppm); crystals are within ±100. */
  maxDriftPpm?: number;
}

interface Sample {
  local: number; // midpoint (t0 + t3) / 2, local clock
  offset: number;
  rtt: number;
}

export interface ClockSyncStats {
  samples: number;
  rejected: number;
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
  private readonly slewPerMs: number;
  private readonly stepThresholdMs: number;
  private readonly minDriftSpanMs: number;
  private readonly maxSlope: number;

  private samples: Sample[] = [];
  private outliers: Sample[] = [];
  private isSynced = false;
  // Model: offset(local) = intercept + slope · (local − ref), plus a correction that decays to 0.
  private ref = 0;
  private intercept = 0;
  private slope = 0;
  private bestRtt = 0;
  /** Largest round trip among the samples the model was fitted to: how far off the model may be (×½). */
  private modelRtt = 0;
  private correction = 0;
  private correctionAt = 0;

  constructor(options: ClockSyncOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.maxSamples = options.maxSamples ?? 64;
    this.minSamples = options.minSamples ?? 4;
    this.rttToleranceMs = options.rttToleranceMs ?? 1;
    this.minTrusted = options.minTrusted ?? 3;
    this.slewPerMs = (options.slewMsPerSecond ?? 5) / 1000;
    this.stepThresholdMs = options.stepThresholdMs ?? 100;
    this.minDriftSpanMs = options.minDriftSpanMs ?? 30_000;
    this.maxSlope = (options.maxDriftPpm ?? 150) * 1e-6;
  }

  get synced(): boolean {
    return this.isSynced;
  }

  /** Best (minimum) round-trip time among the kept samples, ms. */
  get rttMs(): number {
    return this.bestRtt;
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

  /** Offset (server − local) in use at local time `local`, ms. */
  offsetMs(local: number = this.now()): number {
    return this.modelAt(local) + this.correctionAt_(local);
  }

  /** The server's wall-clock (Unix ms) at local time `local`. */
  serverNow(local: number = this.now()): number {
    return local + this.offsetMs(local);
  }

  /** The local time at which the server's clock reads `serverMs`. */
  localTimeOf(serverMs: number, localHint: number = this.now()): number {
    return serverMs - this.offsetMs(localHint);
  }

  /** The filter's current estimate without slewing (for stats and tests). */
  estimatedOffsetMs(local: number = this.now()): number {
    return this.modelAt(local);
  }

  reset(): void {
    this.samples = [];
    this.outliers = [];
    this.isSynced = false;
    this.slope = this.intercept = this.correction = 0;
  }

  private modelAt(local: number): number {
    return this.intercept + this.slope * (local - this.ref);
  }

  private correctionAt_(local: number): number {
    if (this.correction === 0) return 0;
    const left = Math.abs(this.correction) - this.slewPerMs * Math.max(0, local - this.correctionAt);
    return left <= 0 ? 0 : Math.sign(this.correction) * left;
  }

  private isJump(s: Sample): boolean {
    const residual = Math.abs(s.offset - this.modelAt(s.local));
    // Both the model and the sample may be off by up to half their round trip. A model made from
    // slow first exchanges (a server busy with 50 agents connecting at once: 0.1–0.8 s round trips)
    // met by a fast one is better information, not a clock jump: it must enter the window, or the
    // agent keeps playing hundreds of ms off until three "jumps" in a row reset it.
    return residual > this.stepThresholdMs + s.rtt + this.modelRtt;
  }

  private refit(at: number): void {
    const before = this.isSynced ? this.offsetMs(at) : 0;
    const trusted = this.trustedSamples();
    this.modelRtt = 0;
    for (const s of trusted) this.modelRtt = Math.max(this.modelRtt, s.rtt);
    let mx = 0;
    let my = 0;
    for (const s of trusted) {
      mx += s.local;
      my += s.offset;
    }
    mx /= trusted.length;
    my /= trusted.length;
    const span = trusted[trusted.length - 1].local - trusted[0].local;
    let slope = this.slope;
    if (trusted.length >= 3 && span >= this.minDriftSpanMs) {
      let sxy = 0;
      let sxx = 0;
      for (const s of trusted) {
        sxy += (s.local - mx) * (s.offset - my);
        sxx += (s.local - mx) ** 2;
      }
      slope = Math.max(-this.maxSlope, Math.min(this.maxSlope, sxy / sxx));
    }
    this.slope = slope;
    this.ref = mx;
    this.intercept = my;

    if (!this.isSynced) {
      if (this.samples.length >= this.minSamples) this.isSynced = true;
      this.correction = 0; // free to step while warming up
      return;
    }
    const jump = before - this.modelAt(at);
    if (Math.abs(jump) > this.stepThresholdMs) {
      this.correction = 0;
      this.stats.steps++;
    } else {
      this.correction = jump;
      this.correctionAt = at;
    }
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
