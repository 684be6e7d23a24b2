/**
 * Adaptive playout jitter buffer for a stream of fixed-length frames (20 ms),
 * independent of codecs: it holds opaque payloads and decides, per playout
 * slot, whether the slot's frame is there, lost, or the buffer ran dry.
 *
 * Storage is a ring indexed by extended sequence number (seq mod capacity);
 * a slot remembers the sequence number it last held and whether it was
 * played or passed over, so a copy of a played frame is told apart from a
 * frame that arrived after its slot (duplicate vs late). No allocation per
 * packet beyond the result objects.
 *
 * Two ways to play out — pick one per buffer:
 *
 * - pop(): FIFO, one call per 20 ms slot of the caller's clock. The buffer
 *   waits until targetDelayMs of audio is queued, then hands out frames in
 *   sequence order; it stretches (an extra empty slot) when the queue stays
 *   short and skips a frame when it stays long, so clock drift and a changed
 *   target are absorbed. Use it where only latency matters (live ingest).
 *
 * - take(seq): the caller says which frame is due now. The speaker agent uses
 *   this: it plays the frame with RTP timestamp T at sender-wall-clock(T) +
 *   zone playout delay (wall clock from RTCP SR), derives seq from T (Loa
 *   streams advance seq by one and timestamp by one frame per slot), and calls
 *   take(seq) once per slot; has(seq) asks without consuming. Nothing is
 *   stretched or skipped in this mode (the wall clock rules); targetDelayMs in
 *   stats() is then the delay the measured jitter asks for, to report.
 */
import { seqDiff } from './sequence.js';

export interface JitterBufferOptions {
  /** Initial (and, when not adaptive, fixed) amount of audio queued before playout. */
  targetDelayMs: number;
  minDelayMs: number;
  /** pop() drops frames when more than this is queued. */
  maxDelayMs: number;
  /** Duration of one frame/packet. Default 20. */
  frameMs?: number;
  /** Ring size in frames: the furthest ahead of the playout point a packet can be stored. */
  capacityFrames: number;
  /** Let the target follow the measured delay variation, between min and max. */
  adaptive: boolean;
  /** Packets over which delay variation is measured. Default 250 (5 s). */
  jitterWindowPackets?: number;
  /** Percentile of delay variation the target covers. Default 0.95. */
  jitterPercentile?: number;
  /** pop(): slots between two stretch/skip decisions. Default 50 (1 s). */
  adaptEveryFrames?: number;
}

export type PushResult =
  /** stored */
  | 'ok'
  /** this frame is already stored or was already played */
  | 'duplicate'
  /** its slot has already been played or passed as lost */
  | 'late'
  /** too far ahead of the playout point to be stored (beyond capacity) */
  | 'too-early'
  /** a confirmed jump in sequence (sender restart): buffer flushed, frame stored */
  | 'resync';

export type PlayoutResult<T> =
  | { kind: 'frame'; seq: number; timestamp: number; payload: T }
  /** The slot's frame never came while later ones did: the caller conceals. */
  | { kind: 'lost'; seq: number }
  /** Nothing to play (buffering, underrun or stretch): the caller conceals or plays silence. */
  | { kind: 'empty' };

export interface JitterBufferStats {
  /** Frames stored. */
  received: number;
  duplicates: number;
  /** Frames dropped because their slot had passed. */
  late: number;
  /** Frames dropped because they were too far ahead. */
  tooEarly: number;
  /** Slots whose frame never arrived (reported 'lost' or skipped over). */
  lost: number;
  /** Frames that arrived after a higher sequence number. */
  reordered: number;
  /** Slots handed out without a frame after playout started ('lost' or 'empty'). */
  concealed: number;
  /** Times the buffer ran dry during playout (one per run of empty slots). */
  underruns: number;
  /** Frames dropped unplayed to cut latency (pop) or passed over by take(). */
  skipped: number;
  /** Empty slots inserted by pop() to grow the queue. */
  stretched: number;
  resyncs: number;
  /** Smoothed interarrival jitter (RFC 3550 style) in ms. */
  jitterMs: number;
  /** Audio queued from the playout point to the newest frame, in ms. */
  bufferDelayMs: number;
  targetDelayMs: number;
}

const EMPTY = 0;
const FILLED = 1;
const PLAYED = 2;
const MISSED = 3;

/** Extended numbering starts two cycles up so reordering never goes negative. */
const EXT_START = 0x2_0000;

export class JitterBuffer<T> {
  private readonly frameMs: number;
  private readonly cap: number;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly adaptive: boolean;
  private readonly percentile: number;
  private readonly adaptEvery: number;

  private readonly slotSeq: Float64Array;
  private readonly slotState: Uint8Array;
  private readonly slotTs: Uint32Array;
  private readonly payloads: (T | undefined)[];

  private hasRef = false;
  /** Highest extended sequence stored. */
  private highest = 0;
  /** Extended sequence of the next slot to play. */
  private base = 0;
  /** pop(): playing (false while buffering or rebuffering). */
  private started = false;
  private playedAny = false;
  private inUnderrun = false;
  /** Extended seq that would confirm an out-of-window jump, or -1. */
  private badNext = -1;

  // delay variation: d = arrival - ext * frameMs, over a window of packets
  private readonly dRing: Float64Array;
  private readonly scratch: Float64Array;
  private dCount = 0;
  private dNext = 0;
  private lastD = 0;
  private hasLastD = false;
  private jitterMs = 0;
  private pushesSinceTarget = 0;
  private targetMs: number;
  private recommendedMs = 0;

  // pop() stretch/skip decisions
  private popsInInterval = 0;
  private levelMin = Infinity;
  private levelMax = 0;
  private pendingSkips = 0;
  private pendingStretch = false;

  private readonly counters = {
    received: 0,
    duplicates: 0,
    late: 0,
    tooEarly: 0,
    lost: 0,
    reordered: 0,
    concealed: 0,
    underruns: 0,
    skipped: 0,
    stretched: 0,
    resyncs: 0,
  };

  constructor(opts: JitterBufferOptions) {
    this.frameMs = opts.frameMs ?? 20;
    this.cap = Math.floor(opts.capacityFrames);
    if (!(this.cap >= 2)) throw new RangeError('capacityFrames must be at least 2');
    if (!(opts.minDelayMs <= opts.targetDelayMs && opts.targetDelayMs <= opts.maxDelayMs)) {
      throw new RangeError('need minDelayMs <= targetDelayMs <= maxDelayMs');
    }
    if (opts.maxDelayMs > this.cap * this.frameMs) throw new RangeError('maxDelayMs exceeds capacityFrames * frameMs');
    this.minDelayMs = opts.minDelayMs;
    this.maxDelayMs = opts.maxDelayMs;
    this.targetMs = opts.targetDelayMs;
    this.adaptive = opts.adaptive;
    this.percentile = opts.jitterPercentile ?? 0.95;
    this.adaptEvery = opts.adaptEveryFrames ?? 50;
    const window = opts.jitterWindowPackets ?? 250;
    this.dRing = new Float64Array(window);
    this.scratch = new Float64Array(window);
    this.slotSeq = new Float64Array(this.cap).fill(-1);
    this.slotState = new Uint8Array(this.cap);
    this.slotTs = new Uint32Array(this.cap);
    this.payloads = new Array<T | undefined>(this.cap).fill(undefined);
  }

  /** Stores the frame with this 16-bit sequence number, RTP timestamp and arrival time. */
  push(seq: number, rtpTimestamp: number, payload: T, arrivalMs: number): PushResult {
    seq &= 0xffff;
    if (!this.hasRef) {
      this.hasRef = true;
      this.highest = EXT_START + seq;
      this.base = this.highest;
    }
    const ext = this.highest + seqDiff(seq, this.highest % 0x1_0000);
    if (ext >= this.base + this.cap) return this.outOfWindow(ext, seq, rtpTimestamp, payload, arrivalMs, 'too-early');
    const i = ext % this.cap;
    if (ext < this.base) {
      if (this.slotSeq[i] === ext && this.slotState[i] === PLAYED) {
        this.counters.duplicates++;
        return 'duplicate';
      }
      // Before the first slot is played, an earlier frame just moves the start back.
      const canPrepend = !this.playedAny && this.highest - ext < this.cap;
      if (!canPrepend) {
        if (this.base - ext > this.cap) return this.outOfWindow(ext, seq, rtpTimestamp, payload, arrivalMs, 'late');
        this.counters.late++;
        return 'late';
      }
    }
    if (this.slotSeq[i] === ext && this.slotState[i] === FILLED) {
      this.counters.duplicates++;
      return 'duplicate';
    }
    this.slotSeq[i] = ext;
    this.slotState[i] = FILLED;
    this.slotTs[i] = rtpTimestamp >>> 0;
    this.payloads[i] = payload;
    this.counters.received++;
    if (ext < this.highest) this.counters.reordered++;
    else this.highest = ext;
    if (ext < this.base) this.base = ext;
    this.badNext = -1;
    this.measure(ext, arrivalMs);
    return 'ok';
  }

  /** Is the frame for this sequence number stored and not yet played? */
  has(seq: number): boolean {
    if (!this.hasRef) return false;
    const ext = this.base + seqDiff(seq & 0xffff, this.base % 0x1_0000);
    const i = ext % this.cap;
    return ext >= this.base && this.slotSeq[i] === ext && this.slotState[i] === FILLED;
  }

  /** FIFO playout: call exactly once per slot of the caller's frame clock. */
  pop(): PlayoutResult<T> {
    if (!this.hasRef) return { kind: 'empty' };
    let level = this.level();
    if (!this.started) {
      if (level > 0 && level * this.frameMs >= this.targetMs) {
        this.started = true;
      } else {
        if (this.playedAny) this.counters.concealed++;
        return { kind: 'empty' };
      }
    }
    if (level === 0) {
      this.started = false; // rebuffer up to the target before playing on
      this.noteUnderrun();
      return { kind: 'empty' };
    }
    this.adapt(level);
    if (level * this.frameMs > this.maxDelayMs + this.frameMs) {
      while (level * this.frameMs > this.targetMs && level > 1) {
        this.skipBase();
        level--;
      }
    }
    if (this.pendingStretch) {
      this.pendingStretch = false;
      this.counters.stretched++;
      this.counters.concealed++;
      return { kind: 'empty' };
    }
    if (this.pendingSkips > 0 && level > 1) {
      this.pendingSkips--;
      this.skipBase();
    }
    return this.consume(this.base);
  }

  /**
   * Wall-clock playout: the slot of this sequence number is being played now.
   * Slots before it that were never taken are passed over (frames counted as
   * skipped, missing ones as lost). Sequence numbers must not go backwards; an
   * already passed one yields 'lost' and changes nothing.
   */
  take(seq: number): PlayoutResult<T> {
    seq &= 0xffff;
    if (!this.hasRef) return { kind: 'empty' };
    const ext = this.base + seqDiff(seq, this.base % 0x1_0000);
    if (ext < this.base) return { kind: 'lost', seq };
    this.started = true;
    const gap = ext - this.base;
    if (gap > this.cap) {
      // Further than the ring reaches: count what it held, the rest never came.
      let held = 0;
      for (let i = 0; i < this.cap; i++) {
        if (this.slotState[i] === FILLED && this.slotSeq[i] < ext) {
          this.slotState[i] = PLAYED;
          this.payloads[i] = undefined;
          held++;
        }
      }
      this.counters.skipped += held;
      this.counters.lost += gap - held;
      this.base = ext;
    } else {
      for (let n = 0; n < gap; n++) this.skipBase();
    }
    if (this.highest < ext) {
      // Nothing at or after this slot: the buffer ran dry.
      const i = ext % this.cap;
      this.slotSeq[i] = ext;
      this.slotState[i] = MISSED;
      this.payloads[i] = undefined;
      this.base = ext + 1;
      this.playedAny = true;
      this.noteUnderrun();
      return { kind: 'empty' };
    }
    return this.consume(ext);
  }

  stats(): JitterBufferStats {
    return {
      ...this.counters,
      jitterMs: this.jitterMs,
      bufferDelayMs: this.level() * this.frameMs,
      targetDelayMs: this.targetMs,
    };
  }

  /** Forgets every frame and the sequence reference (counters are kept). */
  reset(): void {
    this.slotSeq.fill(-1);
    this.slotState.fill(EMPTY);
    this.payloads.fill(undefined);
    this.hasRef = false;
    this.started = false;
    this.playedAny = false;
    this.inUnderrun = false;
    this.badNext = -1;
    this.dCount = 0;
    this.dNext = 0;
    this.hasLastD = false;
    this.popsInInterval = 0;
    this.levelMin = Infinity;
    this.levelMax = 0;
    this.pendingSkips = 0;
    this.pendingStretch = false;
  }

  /** Frames from the playout point to the newest stored one (holes included). */
  private level(): number {
    return this.hasRef ? Math.max(0, this.highest - this.base + 1) : 0;
  }

  private consume(ext: number): PlayoutResult<T> {
    const i = ext % this.cap;
    this.base = ext + 1;
    this.playedAny = true;
    if (this.slotSeq[i] === ext && this.slotState[i] === FILLED) {
      const payload = this.payloads[i] as T;
      this.slotState[i] = PLAYED;
      this.payloads[i] = undefined;
      this.inUnderrun = false;
      return { kind: 'frame', seq: ext % 0x1_0000, timestamp: this.slotTs[i], payload };
    }
    this.slotSeq[i] = ext;
    this.slotState[i] = MISSED;
    this.payloads[i] = undefined;
    this.counters.lost++;
    this.counters.concealed++;
    return { kind: 'lost', seq: ext % 0x1_0000 };
  }

  /** Passes over the slot at the playout point without playing it. */
  private skipBase(): void {
    const ext = this.base;
    const i = ext % this.cap;
    if (this.slotSeq[i] === ext && this.slotState[i] === FILLED) {
      this.slotState[i] = PLAYED;
      this.payloads[i] = undefined;
      this.counters.skipped++;
    } else {
      this.slotSeq[i] = ext;
      this.slotState[i] = MISSED;
      this.payloads[i] = undefined;
      this.counters.lost++;
    }
    this.base = ext + 1;
    this.playedAny = true;
  }

  private noteUnderrun(): void {
    if (!this.inUnderrun) this.counters.underruns++;
    this.inUnderrun = true;
    this.counters.concealed++;
  }

  /** pop(): every adaptEvery slots, stretch if the queue never reached the target, skip if it never fell near it. */
  private adapt(level: number): void {
    if (level < this.levelMin) this.levelMin = level;
    if (level > this.levelMax) this.levelMax = level;
    if (++this.popsInInterval < this.adaptEvery) return;
    const target = this.targetMs;
    if (this.levelMax * this.frameMs < target) {
      this.pendingStretch = true;
    } else if (this.levelMin * this.frameMs > target + this.frameMs) {
      // Cut half of the excess each interval: fast after a burst, gentle near the target.
      const excessFrames = Math.floor((this.levelMin * this.frameMs - target) / this.frameMs);
      this.pendingSkips = Math.max(1, Math.floor(excessFrames / 2));
    }
    this.popsInInterval = 0;
    this.levelMin = Infinity;
    this.levelMax = 0;
  }

  private outOfWindow(ext: number, seq: number, ts: number, payload: T, arrivalMs: number, result: 'late' | 'too-early'): PushResult {
    if (ext === this.badNext) {
      // Two consecutive frames agree on the jump: the sender restarted.
      this.counters.resyncs++;
      this.reset();
      this.push(seq, ts, payload, arrivalMs);
      return 'resync';
    }
    this.badNext = ext + 1;
    if (result === 'late') this.counters.late++;
    else this.counters.tooEarly++;
    return result;
  }

  /** Delay variation bookkeeping and, when adaptive, the target that covers it. */
  private measure(ext: number, arrivalMs: number): void {
    const d = arrivalMs - ext * this.frameMs;
    if (this.hasLastD) this.jitterMs += (Math.abs(d - this.lastD) - this.jitterMs) / 16;
    this.lastD = d;
    this.hasLastD = true;
    this.dRing[this.dNext] = d;
    this.dNext = (this.dNext + 1) % this.dRing.length;
    if (this.dCount < this.dRing.length) this.dCount++;
    if (++this.pushesSinceTarget >= 10) {
      this.pushesSinceTarget = 0;
      this.recomputeTarget();
    }
  }

  private recomputeTarget(): void {
    const n = this.dCount;
    if (n < 10) return;
    let min = Infinity;
    for (let k = 0; k < n; k++) {
      const v = this.dRing[k];
      this.scratch[k] = v;
      if (v < min) min = v;
    }
    const sorted = this.scratch.subarray(0, n).sort();
    const variation = sorted[Math.floor(this.percentile * (n - 1))] - min;
    // A frame of margin: the playout slot's phase against arrivals is unknown.
    const wanted = Math.ceil(variation / this.frameMs) * this.frameMs + this.frameMs;
    const clamped = Math.max(this.minDelayMs, Math.min(this.maxDelayMs, wanted));
    if (this.adaptive) this.targetMs = clamped;
    else this.recommendedMs = clamped;
  }

  /** The delay the measured jitter asks for, whether or not the buffer adapts (for reports). */
  get recommendedDelayMs(): number {
    return this.adaptive ? this.targetMs : this.recommendedMs;
  }
}
