/**
 * Where each RTP packet of a stream belongs on the agent's playout axis.
 *
 * The axis counts 48 kHz samples of content time: on the server axis (the
 * stream has sender reports) position p is server wall-clock
 * epochMs + p / 48; on the local axis (no sender report yet) it is the
 * agent's own arrival clock. Each talk-spurt gets its own timestamp base:
 * within a spurt, RTP timestamps are unwrapped from packet to packet (they
 * are 20 ms apart, so the 32-bit wrap is never ambiguous); a new spurt (the
 * marker bit, or a packet after more than NEW_SPURT_GAP_MS of quiet) is
 * placed by its own sender report (the server sends one with the first
 * packet of every spurt) or, until that arrives, by the server time of its
 * arrival. A timestamp is never unwrapped across a silence: after 2^31 ticks
 * (12.4 h at 48 kHz, 74.6 h at 8 kHz) it would read as being in the past.
 *
 * Sequence numbers keep counting across a silence (Loa streams number the
 * packets they send), so a packet belongs to the newest spurt whose first
 * sequence number is not after its own: a straggler of the previous spurt
 * that arrives after the next spurt's marker still lands in its own spurt.
 * (A spurt whose sequence numbers jumped, e.g. after the agent missed a long
 * stretch, is started by the caller with `resequenced`.)
 */
import { SAMPLE_RATE } from '../codecs/pcm.js';
import { seqDiff, tsDiff } from '../protocols/rtp/sequence.js';

/** Quiet on the wire after which a packet without the marker bit still starts a new spurt (a lost marker). */
export const NEW_SPURT_GAP_MS = 1000;
/** A sender report belongs to a spurt when its timestamp is within this of the spurt's newest packet. */
const SR_MATCH_MS = 10_000;
/** Spurts remembered (stragglers and buffered packets refer to them). */
const MAX_SPURTS = 8;

export type Axis = 'none' | 'local' | 'server';

export class TalkSpurt {
  /** Position of the first packet's timestamp on the axis (a whole sample), NaN until placed. */
  pos0 = NaN;
  /** A reference (position, axis ms) the spurt's ideal play position is computed from. */
  refPos = NaN;
  refMs = NaN;
  /** True once placed by a sender report (not just by arrival time). */
  bySenderReport = false;
  /** Whether any of its samples has been decoded (its position can no longer move). */
  decoded = false;
  lastTs: number;
  lastExt = 0;
  lastArrival: number;

  constructor(
    readonly firstSeq: number,
    readonly ts0: number,
    readonly firstArrival: number,
    readonly samplesPerTick: number,
  ) {
    this.lastTs = ts0;
    this.lastArrival = firstArrival;
  }

  /** Timestamp relative to the spurt's first one (unwrapped against its newest packet). */
  extOf(ts: number): number {
    return this.lastExt + tsDiff(ts >>> 0, this.lastTs);
  }

  /** Axis position (48 kHz samples) of a timestamp of this spurt. */
  positionOf(ext: number): number {
    return this.pos0 + ext * this.samplesPerTick;
  }

  /** Axis time (ms) of an axis position, by this spurt's mapping. */
  msOf(pos: number): number {
    return this.refMs + ((pos - this.refPos) * 1000) / SAMPLE_RATE;
  }
}

export interface PendingSenderReport {
  ntpMs: number;
  rtpTimestamp: number;
}

export class TalkSpurts {
  axis: Axis = 'none';
  /** Axis ms of position 0. */
  epochMs = 0;
  /** Spurts in order of their first sequence number (newest last). */
  readonly spurts: TalkSpurt[] = [];
  /** Spurts started (for stats). */
  started = 0;
  private pendingSr: PendingSenderReport | null = null;
  private samplesPerTick: number;

  constructor(private clockRate: number) {
    this.samplesPerTick = SAMPLE_RATE / clockRate;
  }

  reset(clockRate: number = this.clockRate): void {
    this.clockRate = clockRate;
    this.samplesPerTick = SAMPLE_RATE / clockRate;
    this.axis = 'none';
    this.spurts.length = 0;
    this.pendingSr = null;
  }

  get newest(): TalkSpurt | undefined {
    return this.spurts[this.spurts.length - 1];
  }

  /**
   * The spurt a packet belongs to, starting a new one when it begins one.
   * `serverArrivalMs` is the server time of its arrival (NaN when unknown),
   * used to place a spurt whose sender report has not come.
   */
  spurtOf(seq: number, ts: number, marker: boolean, arrival: number, serverArrivalMs: number, transitMs: number, resequenced = false): TalkSpurt {
    const last = this.newest;
    if (last && !resequenced) {
      const d = seqDiff(seq, last.firstSeq);
      if (d < 0) {
        // A straggler from an earlier spurt (or an old duplicate); or a spurt's first packet
        // overtaken by its second (which started the spurt): its timestamp tells.
        const window = (SR_MATCH_MS * this.clockRate) / 1000;
        for (let i = this.spurts.length - 1; i >= 0; i--) {
          const s = this.spurts[i];
          if (Math.abs(tsDiff(ts >>> 0, s.lastTs)) <= window && (seqDiff(seq, s.firstSeq) >= 0 || i === this.spurts.length - 1)) return s;
        }
        for (let i = this.spurts.length - 2; i >= 0; i--) if (seqDiff(seq, this.spurts[i].firstSeq) >= 0) return this.spurts[i];
        return this.spurts[0];
      }
      // After a quiet spell without a marker (a lost one), a new spurt's timestamps moved on by
      // about the spell. A stall (this process or the path held packets back: seen under
      // stress-ng) delivers packets whose timestamps moved on by far less than the gap: the same
      // spurt, late. Placing those as a new spurt by their arrival time would shift it by the stall.
      const gapMs = arrival - last.lastArrival;
      const advanceMs = (tsDiff(ts >>> 0, last.lastTs) * 1000) / this.clockRate;
      const stalled = advanceMs >= 0 && advanceMs < gapMs / 2;
      const begins = d > 0 && (marker || (gapMs > NEW_SPURT_GAP_MS && !stalled));
      if (!begins) {
        this.note(last, ts, arrival);
        return last;
      }
    }
    const s = new TalkSpurt(seq & 0xffff, ts >>> 0, arrival, this.samplesPerTick);
    this.spurts.push(s);
    if (this.spurts.length > MAX_SPURTS) this.spurts.shift();
    this.started++;
    const pending = this.pendingSr;
    if (pending && Math.abs(tsDiff(pending.rtpTimestamp >>> 0, s.ts0)) <= (SR_MATCH_MS * this.clockRate) / 1000) {
      this.pendingSr = null;
      this.applySr(s, pending.ntpMs, pending.rtpTimestamp);
    } else if (this.axis === 'server' && Number.isFinite(serverArrivalMs)) {
      // Until its sender report arrives: where the server's clock says it was sent.
      this.place(s, 0, serverArrivalMs - transitMs);
    } else if (this.axis === 'local') {
      this.place(s, 0, arrival);
    }
    return s;
  }

  /** A sender report: (server wall-clock ms, RTP timestamp) of the stream. Returns the spurt it placed or refined. */
  onSenderReport(ntpMs: number, rtpTimestamp: number): TalkSpurt | null {
    const ts = rtpTimestamp >>> 0;
    const window = (SR_MATCH_MS * this.clockRate) / 1000;
    // A report describes what the server is sending now: the newest spurt, or one still to come.
    const s = this.newest;
    if (s && Math.abs(tsDiff(ts, s.lastTs)) <= window) {
      this.applySr(s, ntpMs, ts);
      return s;
    }
    this.pendingSr = { ntpMs, rtpTimestamp: ts };
    return null;
  }

  /** Starts the local axis (a stream without sender reports): the first spurt plays by arrival time. */
  startLocalAxis(): void {
    if (this.axis !== 'none') return;
    this.axis = 'local';
    const first = this.spurts[0];
    this.epochMs = first ? first.firstArrival : 0;
    for (const s of this.spurts) this.place(s, 0, s.firstArrival);
  }

  private note(s: TalkSpurt, ts: number, arrival: number): void {
    const ext = s.extOf(ts);
    if (ext > s.lastExt) {
      s.lastExt = ext;
      s.lastTs = ts >>> 0;
    }
    if (arrival > s.lastArrival) s.lastArrival = arrival;
  }

  private applySr(s: TalkSpurt, ntpMs: number, ts: number): void {
    if (this.axis !== 'server') {
      // The first sender report defines the server axis; what was placed by arrival moves onto it.
      this.axis = 'server';
      this.epochMs = ntpMs - ((s.extOf(ts) * this.samplesPerTick) / SAMPLE_RATE) * 1000;
      for (const o of this.spurts) if (o !== s) o.pos0 = o.refPos = o.refMs = NaN;
      s.pos0 = NaN;
      s.decoded = false;
    }
    const ext = s.extOf(ts);
    if (!s.decoded || Number.isNaN(s.pos0)) {
      // Nothing of it played yet: put it exactly where the report says.
      this.place(s, ext, ntpMs);
    } else {
      // Its samples are placed already: refine only the mapping the ideal play position follows.
      s.refPos = s.positionOf(ext);
      s.refMs = ntpMs;
    }
    s.bySenderReport = true;
  }

  /** Places a spurt so that its timestamp `ext` sits at axis time `ms`. */
  private place(s: TalkSpurt, ext: number, ms: number): void {
    const exact = ((ms - this.epochMs) * SAMPLE_RATE) / 1000 - ext * this.samplesPerTick;
    s.pos0 = Math.round(exact);
    s.refPos = s.positionOf(ext);
    s.refMs = ms + ((s.refPos - (exact + ext * this.samplesPerTick)) * 1000) / SAMPLE_RATE;
  }
}
