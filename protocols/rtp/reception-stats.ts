/**
 * Receiver-side statistics of one RTP source, as RFC 3550 Appendix A does
 * them: sequence validation and extended highest sequence (A.1), expected and
 * lost packets and the per-interval fraction lost (A.3), interarrival jitter
 * (A.8). Fed once per received packet; turned into a report block per RR.
 * No allocation per packet.
 */
import { ntpShort, msToNtpShortDuration } from './ntp.js';
import type { ReportBlock } from './rtcp.js';

const SEQ_MOD = 0x1_0000;
/** A forward jump larger than this is a suspected restart, not loss. */
const MAX_DROPOUT = 3000;
/** A backward step larger than this is a suspected restart, not reordering. */
const MAX_MISORDER = 100;
const TWO_32 = 0x1_0000_0000;

export interface ReceptionStatsSnapshot {
  received: number;
  expected: number;
  /** expected - received: may be negative when duplicates arrive. */
  lost: number;
  extendedHighestSeq: number;
  /** Interarrival jitter in timestamp units (RFC 3550 J). */
  jitter: number;
  jitterMs: number;
  /** Packets refused by sequence validation (big jumps not yet confirmed). */
  invalid: number;
}

export class ReceptionStats {
  private started = false;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private badSeq = SEQ_MOD + 1;
  private receivedCount = 0;
  private receivedPrior = 0;
  private expectedPrior = 0;
  private invalidCount = 0;
  private transit = 0;
  private hasTransit = false;
  private jitterUnits = 0;
  private lastSrNtpShort = 0;
  private lastSrArrivalMs = 0;

  /**
   * @param clockRate RTP clock of the source (8000 for G.711, 48000 for Opus/L16)
   * @param ssrc the source these statistics describe (goes into report blocks)
   */
  constructor(
    readonly clockRate: number,
    public ssrc = 0,
  ) {}

  /**
   * Records one received packet. Returns false when A.1 validation refuses it
   * (a large jump in sequence that a following packet has not yet confirmed).
   */
  onPacket(sequence: number, rtpTimestamp: number, arrivalMs: number): boolean {
    const seq = sequence & 0xffff;
    if (!this.started) {
      this.started = true;
      this.initSeq(seq);
    } else {
      const udelta = (seq - this.maxSeq) & 0xffff;
      if (udelta < MAX_DROPOUT) {
        if (seq < this.maxSeq) this.cycles += SEQ_MOD; // wrapped
        this.maxSeq = seq;
      } else if (udelta <= SEQ_MOD - MAX_MISORDER) {
        if (seq !== this.badSeq) {
          this.badSeq = (seq + 1) & 0xffff;
          this.invalidCount++;
          return false;
        }
        // Two sequential packets after a jump: the source restarted.
        this.initSeq(seq);
        this.hasTransit = false;
      }
      // else: duplicate or reordered packet, counted below
    }
    this.receivedCount++;
    this.updateJitter(rtpTimestamp, arrivalMs);
    return true;
  }

  /** Records a sender report from this source (for LSR/DLSR). */
  onSenderReport(ntpSeconds: number, ntpFraction: number, arrivalMs: number): void {
    this.lastSrNtpShort = ntpShort(ntpSeconds, ntpFraction);
    this.lastSrArrivalMs = arrivalMs;
  }

  get received(): number {
    return this.receivedCount;
  }

  get extendedHighestSeq(): number {
    return this.started ? this.cycles + this.maxSeq : 0;
  }

  get expected(): number {
    return this.started ? this.extendedHighestSeq - this.baseSeq + 1 : 0;
  }

  get lost(): number {
    return this.expected - this.receivedCount;
  }

  /** Interarrival jitter in timestamp units. */
  get jitter(): number {
    return this.jitterUnits;
  }

  get jitterMs(): number {
    return (this.jitterUnits / this.clockRate) * 1000;
  }

  snapshot(): ReceptionStatsSnapshot {
    return {
      received: this.receivedCount,
      expected: this.expected,
      lost: this.lost,
      extendedHighestSeq: this.extendedHighestSeq,
      jitter: this.jitterUnits,
      jitterMs: this.jitterMs,
      invalid: this.invalidCount,
    };
  }

  /**
   * A report block for an RR/SR sent at nowMs. Starts a new interval: the
   * fraction lost is over the packets expected since the previous call.
   */
  reportBlock(nowMs: number): ReportBlock {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.receivedCount - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.receivedCount;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost =
      expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    const hasSr = this.lastSrNtpShort !== 0;
    return {
      ssrc: this.ssrc,
      fractionLost,
      cumulativeLost: Math.max(-0x80_0000, Math.min(0x7f_ffff, this.lost)),
      extendedHighestSeq: this.extendedHighestSeq % TWO_32,
      jitter: Math.floor(this.jitterUnits),
      lsr: this.lastSrNtpShort,
      dlsr: hasSr ? msToNtpShortDuration(nowMs - this.lastSrArrivalMs) : 0,
    };
  }

  private initSeq(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = SEQ_MOD + 1;
    this.cycles = 0;
    this.receivedCount = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  private updateJitter(rtpTimestamp: number, arrivalMs: number): void {
    // Relative transit time in timestamp units; only its changes matter.
    const transit = (arrivalMs * this.clockRate) / 1000 - (rtpTimestamp >>> 0);
    if (this.hasTransit) {
      let d = transit - this.transit;
      // A timestamp wrap shifts transit by 2^32: bring d back into ±2^31.
      d = ((((d + TWO_32 / 2) % TWO_32) + TWO_32) % TWO_32) - TWO_32 / 2;
      this.jitterUnits += (Math.abs(d) - this.jitterUnits) / 16;
    }
    this.transit = transit;
    this.hasTransit = true;
  }
}
