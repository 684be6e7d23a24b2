/**
 * Plays each sample at the server's wall-clock time of that sample plus the
 * zone's playout delay, so neighbouring clusters sound as one.
 *
 * RTCP sender reports give (NTP wall-clock, RTP timestamp) pairs: with them
 * an RTP timestamp maps to the server time it was produced at; the
 * clock-sync estimate maps server time to local time. Every talk-spurt gets
 * its own timestamp base (endpoint/talk-spurts.ts), so a zone that was quiet
 * for days plays its next alert on time. Each output slot (usually 960
 * samples due at local time L; more or fewer when the sound card runs fast
 * or slow) renders the stream samples that belong at L:
 *
 *   content server time = serverNow(L) − playoutDelay
 *   axis position       = spurt's reference position + (content time − reference time) · 48 kHz
 *
 * Decoded packets are laid out on that axis (endpoint/sample-fifo.ts) in
 * whatever length the codec's packets have, and read at a fractional
 * position. Small disagreements between the read position and the ideal one
 * (drift, a small refit of the clock estimate) are absorbed by reading a
 * little faster or slower, at most maxCorrectionPpm (100 ppm: inaudible, no
 * sample is dropped or repeated); the clocks' measured rates are followed the
 * same way (feed-forward). An error beyond resyncMs is not drift (a better
 * clock estimate, a changed delay, a stall): at 100 ppm 5 ms would take a
 * minute, so the read head jumps there at once and the old read's
 * continuation is crossfaded into the new one over 10 ms (both read from the
 * decoded audio, which keeps 85 ms of what was played for moves back), so the
 * waveform never breaks. While nothing plays (between talk-spurts) the read
 * head simply moves to where it belongs.
 *
 * A server-axis stream does not start until the clock estimate is settled
 * (endpoint/clock-sync.ts: within 1 ms, or 2 s after the first exchange), so
 * it starts where it belongs rather than tens of ms off; audio already playing
 * is never held back.
 *
 * Packets wait in the RTP jitter buffer (protocols/rtp/jitter-buffer.ts, in
 * its take(seq) mode: reorder, duplicates, late) and are decoded in
 * sequence order just before they are due; a missing packet (a later one
 * came) is concealed by the decoder's PLC. When nothing more has come (the
 * buffer ran dry) the agent cannot yet tell loss from a programme that
 * ended: it conceals a few packets provisionally and decides when the next
 * packet shows up. The next sequence number, not late: the stream paused
 * cleanly (nothing counted); a gap in sequence or a late packet: loss and
 * an underrun. A stream without sender reports (none within srWaitMs of the
 * first packet) is played `jitterTargetMs` after the first packet's arrival,
 * unsynchronised, until one arrives.
 *
 * Pure logic: local time is whatever the caller passes in.
 */
import { FRAME_SAMPLES, SAMPLE_RATE, type Frame } from '../codecs/pcm.js';
import type { AudioDecoder } from '../codecs/codec.js';
import { pipelineDelaySamples } from '../codecs/registry.js';
import { JitterBuffer } from '../protocols/rtp/jitter-buffer.js';
import { seqAdd, seqDiff } from '../protocols/rtp/sequence.js';
import { SampleFifo } from './sample-fifo.js';
import { NEW_SPURT_GAP_MS, TalkSpurts, type TalkSpurt } from './talk-spurts.js';

/** The clock-sync view playout needs (endpoint/clock-sync.ts ClockSync fits). */
export interface ServerClock {
  readonly synced: boolean;
  /** Good enough to start a stream on (absent: as soon as synced). */
  readonly settled?: boolean;
  serverNow(local: number): number;
  localTimeOf(serverMs: number, localHint: number): number;
  /** How fast the local clock runs against the server's, ppm (+ = local fast); 0 when absent. */
  readonly driftPpm?: number;
}

/**
 * What a measurement hook learns about each packet as it is decoded or
 * concealed for the output. One object is reused for every call: copy
 * what you keep. Times are in the agent's local clock, except serverMs.
 */
export interface PlayoutFrameInfo {
  /** RTP timestamp of the packet (the stream's clock rate). */
  rtpTimestamp: number;
  /** Local arrival time of the packet; NaN when concealed. */
  arrivalLocalMs: number;
  /** Server wall-clock time of its first sample from the sender-report mapping; NaN without one. */
  serverMs: number;
  /** Local time its first sample is rendered at (its playout time). */
  playoutLocalMs: number;
  concealed: boolean;
  /** The decoded PCM (the packet's length, usually 960 samples); valid only during the call. */
  pcm: Frame;
}

export type PlayoutFrameHook = (info: PlayoutFrameInfo) => void;

export interface PlayoutOptions {
  decoder: AudioDecoder;
  clock: ServerClock;
  playoutDelayMs: number;
  /** Delay after the first packet's arrival used when the stream has no sender reports. */
  jitterTargetMs?: number;
  /**
   * How long to wait for the first sender report before playing without one
   * (unsynchronised: first arrival + jitterTargetMs). Default 1000 ms.
   */
  srWaitMs?: number;
  /** Largest rate correction toward the ideal position, ppm. Default 100. */
  maxCorrectionPpm?: number;
  /** Time constant of the position correction (error / this = rate), ms. Default 5000. */
  correctionTimeMs?: number;
  /** A position error beyond this jumps at once (crossfaded) instead of being followed at ≤ maxCorrectionPpm. Default 3. */
  resyncMs?: number;
  /** Packets further ahead than this are dropped (ring size, power of 2). */
  ringFrames?: number;
  /** Consecutive concealed packets after which silence is played instead. */
  maxConcealFrames?: number;
  /** Measurement hook (bench/): called for every packet decoded or concealed for the output. */
  onFrame?: PlayoutFrameHook;
}

export interface PlayoutStats {
  packets: number;
  decoded: number;
  /** Packets replaced by concealment because they were lost or late (not a clean end). */
  concealed: number;
  /** Packets that arrived after their time was played. */
  late: number;
  duplicates: number;
  /** Packets too far ahead of the play position to hold. */
  tooEarly: number;
  /** Times the buffer ran dry while the stream was still sending (not a programme's end). */
  underruns: number;
  /** Packets passed over without being played (after a start, a stall or a re-anchor). */
  skipped: number;
  /** Position jumps while playing (errors beyond resyncMs, crossfaded) after the start. */
  resyncs: number;
  /** Talk-spurts seen (each has its own timestamp base). */
  talkSpurts: number;
  /** Times the sequence numbering restarted (a jump across a silence, or a confirmed one). */
  resequenced: number;
  /** Rate correction in use toward the ideal position, ppm (+ = reading faster). */
  correctionPpm: number;
  /** Samples caught up (+) or given back (−) in total by rate corrections. */
  correctedSamples: number;
  /** Mean time packets waited between arrival and their due time, ms (EWMA). */
  bufferDelayMs: number;
}

/** Errors below half a sample are left alone, so a matched stream is copied bit-exactly. */
const DEAD_BAND_SAMPLES = 0.5;
/** A jump's crossfade from the old read position to the new one: 10 ms. */
const SPLICE_SAMPLES = 480;
/** Played audio kept in the fifo, so a jump back can crossfade (85 ms). */
const HISTORY_SAMPLES = 4096;

export class Playout {
  readonly stats: PlayoutStats = {
    packets: 0,
    decoded: 0,
    concealed: 0,
    late: 0,
    duplicates: 0,
    tooEarly: 0,
    underruns: 0,
    skipped: 0,
    resyncs: 0,
    talkSpurts: 0,
    resequenced: 0,
    correctionPpm: 0,
    correctedSamples: 0,
    bufferDelayMs: 0,
  };

  private decoder: AudioDecoder;
  private readonly clock: ServerClock;
  private delayMs: number;
  private readonly jitterTargetMs: number;
  private readonly srWaitMs: number;
  private readonly maxCorrection: number;
  private readonly correctionSamples: number;
  private readonly resyncSamples: number;
  private readonly ringMask: number;
  private readonly maxConceal: number;
  private readonly onFrame: PlayoutFrameHook | undefined;
  private readonly frameInfo: PlayoutFrameInfo | undefined;

  private spurts: TalkSpurts;
  /** Stream position p holds the source's audio of p − this (the codec's encode → decode delay). */
  private codecDelaySamples: number;

  // Packets, by sequence number; per ring slot the spurt, timestamp (relative
  // to the spurt) and arrival of the packet that carried that sequence number.
  private readonly buffer: JitterBuffer<Buffer>;
  private readonly metaSeq: Int32Array;
  private readonly metaSpurt: (TalkSpurt | null)[];
  private readonly metaExt: Float64Array;
  private readonly metaArrival: Float64Array;
  private haveSeq = false;
  private nextSeq = 0;
  private highestSeq = 0;
  private firstArrival = 0;
  private lastArrival = -Infinity;
  /** Server time minus content time of arriving packets (EWMA), to place a spurt before its report. */
  private transitMs = 0;
  private transitSamples = 0;

  // Decoded audio and the read head.
  private readonly fifo = new SampleFifo();
  private started = false;
  private readPos = 0;
  /** The old read's continuation during a jump's crossfade, and how much of it is left to mix. */
  private readonly spliceTail = new Int16Array(SPLICE_SAMPLES);
  private fadeLeft = 0;
  /** Axis range of the newest run of stream audio (decoded or concealed) written. */
  private audioFrom = 0;
  private audioUntil = -Infinity;
  private lastPacketSamples: number;
  private missingRun = 0;
  private lastAudible = false;
  /** The buffer ran dry: packets concealed since, not yet counted (a clean end or loss?). */
  private dry = false;
  private dryConcealed = 0;
  /** Missing packets whose time the dry spell's concealment already covered. */
  private holesCovered = 0;
  /** Local time of the slot being rendered and the read head there (for hook times). */
  private slotLocalMs = 0;
  private slotStep = 1;

  constructor(options: PlayoutOptions) {
    this.decoder = options.decoder;
    this.codecDelaySamples = pipelineDelaySamples(this.decoder.name);
    this.clock = options.clock;
    this.delayMs = options.playoutDelayMs;
    this.jitterTargetMs = options.jitterTargetMs ?? 60;
    this.srWaitMs = options.srWaitMs ?? 1000;
    this.maxCorrection = (options.maxCorrectionPpm ?? 100) * 1e-6;
    this.correctionSamples = ((options.correctionTimeMs ?? 5000) * SAMPLE_RATE) / 1000;
    this.resyncSamples = ((options.resyncMs ?? 3) * SAMPLE_RATE) / 1000;
    const ring = options.ringFrames ?? 512;
    if ((ring & (ring - 1)) !== 0) throw new RangeError('ringFrames must be a power of 2');
    this.ringMask = ring - 1;
    this.metaSeq = new Int32Array(ring).fill(-1);
    this.metaSpurt = new Array<TalkSpurt | null>(ring).fill(null);
    this.metaExt = new Float64Array(ring);
    this.metaArrival = new Float64Array(ring);
    this.buffer = new JitterBuffer<Buffer>({
      targetDelayMs: 0,
      minDelayMs: 0,
      maxDelayMs: ring * 20,
      capacityFrames: ring,
      adaptive: false,
    });
    this.maxConceal = options.maxConcealFrames ?? 5;
    this.onFrame = options.onFrame;
    if (this.onFrame) {
      this.frameInfo = { rtpTimestamp: 0, arrivalLocalMs: NaN, serverMs: NaN, playoutLocalMs: 0, concealed: false, pcm: new Int16Array(0) };
    }
    this.spurts = new TalkSpurts(this.decoder.clockRate);
    this.lastPacketSamples = this.nominalPacketSamples();
  }

  get playoutDelayMs(): number {
    return this.delayMs;
  }

  /** Whether the last rendered slot carried stream audio (decoded or concealed). */
  get playing(): boolean {
    return this.lastAudible;
  }

  get hasSenderReport(): boolean {
    return this.spurts.axis === 'server';
  }

  /** A changed zone delay: followed by the rate correction, or re-anchored when large. */
  setPlayoutDelay(ms: number): void {
    this.delayMs = ms;
  }

  /** A new codec or stream: forget everything about the old one. */
  reset(decoder?: AudioDecoder): void {
    if (decoder) this.decoder = decoder;
    this.codecDelaySamples = pipelineDelaySamples(this.decoder.name);
    this.spurts.reset(this.decoder.clockRate);
    this.lastPacketSamples = this.nominalPacketSamples();
    this.metaSeq.fill(-1);
    this.metaSpurt.fill(null);
    this.buffer.reset();
    this.haveSeq = false;
    this.lastArrival = -Infinity;
    this.transitSamples = 0;
    this.restart();
  }

  /** An RTCP sender report of the stream: wall-clock `ntpMs` (server, Unix ms) ↔ `rtpTimestamp`. */
  onSenderReport(ntpMs: number, rtpTimestamp: number): void {
    const axis = this.spurts.axis;
    this.spurts.onSenderReport(ntpMs, rtpTimestamp);
    if (axis !== this.spurts.axis) this.restart();
  }

  /** A received packet (already validated: right SSRC and payload type). */
  push(
    sequence: number,
    rtpTimestamp: number,
    payload: Buffer,
    arrivalLocalMs: number,
    marker = false,
  ): 'ok' | 'late' | 'duplicate' | 'too-early' {
    this.stats.packets++;
    const seq = sequence & 0xffff;
    const quiet = marker || arrivalLocalMs - this.lastArrival > NEW_SPURT_GAP_MS;
    this.lastArrival = arrivalLocalMs;
    // A new spurt whose sequence number is far from the old ones (we missed a long stretch, or
    // the sender renumbered): start the sequence afresh rather than call it late. (A duplicate
    // or late marker packet is near them and changes nothing.)
    const jump = this.haveSeq ? seqDiff(seq, this.highestSeq) : 0;
    const resequenced = quiet && (jump > this.ringMask || jump < -this.ringMask);
    if (resequenced) this.resequence();
    if (this.haveSeq && seqDiff(seq, this.nextSeq) < 0) {
      if (this.started || this.stats.decoded > 0) {
        this.stats.late++;
        return 'late';
      }
      this.nextSeq = seq; // not playing yet: an earlier packet moves the start back
    }
    const serverArrival = this.clock.synced ? this.clock.serverNow(arrivalLocalMs) : NaN;
    const axis = this.spurts.axis;
    const spurt = this.spurts.spurtOf(seq, rtpTimestamp, marker, arrivalLocalMs, serverArrival, this.transitMs, resequenced);
    this.stats.talkSpurts = this.spurts.started;
    if (axis !== this.spurts.axis) this.restart();
    const r = this.buffer.push(seq, rtpTimestamp, payload, arrivalLocalMs);
    if (r === 'duplicate' || r === 'late' || r === 'too-early') {
      if (r === 'duplicate') this.stats.duplicates++;
      else if (r === 'late') this.stats.late++;
      else this.stats.tooEarly++;
      return r;
    }
    if (r === 'resync') {
      // The buffer saw a confirmed jump in sequence numbers: the old ones are gone.
      this.metaSeq.fill(-1);
      this.haveSeq = false;
      this.stats.resequenced++;
    }
    const i = seq & this.ringMask;
    const ext = spurt.extOf(rtpTimestamp);
    this.metaSeq[i] = seq;
    this.metaSpurt[i] = spurt;
    this.metaExt[i] = ext;
    this.metaArrival[i] = arrivalLocalMs;
    if (!this.haveSeq) {
      this.haveSeq = true;
      this.nextSeq = this.highestSeq = seq;
      this.firstArrival = arrivalLocalMs;
    } else if (seqDiff(seq, this.highestSeq) > 0) {
      this.highestSeq = seq;
    }
    if (spurt.bySenderReport && Number.isFinite(serverArrival)) {
      // How long packets take to arrive, to place a spurt whose report is lost.
      const transit = serverArrival - spurt.msOf(spurt.positionOf(ext));
      this.transitSamples++;
      this.transitMs += (transit - this.transitMs) / Math.min(this.transitSamples, 16);
    }
    return 'ok';
  }

  /**
   * The local time at which the packet with this RTP timestamp is due, or
   * NaN while no mapping exists yet. (What render() follows; tests compare with it.)
   */
  dueLocalTime(rtpTimestamp: number, localHint: number): number {
    const s = this.spurtOfTimestamp(rtpTimestamp);
    if (!s || Number.isNaN(s.pos0)) return NaN;
    const pos = s.positionOf(s.extOf(rtpTimestamp));
    if (this.spurts.axis === 'server') return this.clock.localTimeOf(s.msOf(pos - this.codecDelaySamples) + this.delayMs, localHint);
    return s.msOf(pos) + this.jitterTargetMs;
  }

  /**
   * Fills `out` with the audio due from local time `localMs` (the start of
   * the slot) on. `outputRate` is the sound card's rate against the local
   * clock (1 + its drift): out.length samples last out.length / outputRate
   * nominal samples of local time. Returns true when stream audio was
   * rendered, false for silence (no stream, no clock yet, or nothing to play).
   */
  render(out: Int16Array, localMs: number, outputRate = 1): boolean {
    const n = out.length;
    const ideal = this.idealPosition(localMs);
    if (ideal === null) {
      out.fill(0);
      this.lastAudible = false;
      return false;
    }
    // Feed-forward: the stream advances at the server's rate, the card consumes at its own.
    const drift = this.spurts.axis === 'server' ? (this.clock.driftPpm ?? 0) * 1e-6 : 0;
    let step = (1 - drift) / outputRate;
    if (!this.started) {
      this.started = true;
      this.readPos = Math.round(ideal);
      this.fifo.resetAt(this.readPos - 1);
      this.stats.correctionPpm = 0;
    } else {
      const err = ideal - this.readPos;
      const silentNow = !this.lastAudible && this.readPos >= this.audioUntil;
      if (silentNow && Math.abs(err) > DEAD_BAND_SAMPLES) {
        // Nothing is playing (a quiet zone, the gap before a spurt): move at once, nobody hears it.
        this.moveTo(Math.round(ideal), n * step);
        this.stats.correctionPpm = 0;
      } else if (Math.abs(err) > this.resyncSamples && this.fadeLeft === 0) {
        this.splice(Math.round(ideal), step, n);
        this.stats.correctionPpm = 0;
      } else {
        const beyond = Math.abs(err) <= DEAD_BAND_SAMPLES ? 0 : err - Math.sign(err) * DEAD_BAND_SAMPLES;
        const c = Math.max(-this.maxCorrection, Math.min(this.maxCorrection, beyond / this.correctionSamples));
        this.stats.correctionPpm = c * 1e6;
        this.stats.correctedSamples += c * n;
        step += c;
      }
    }
    const from = this.readPos;
    const to = from + n * step;
    this.slotLocalMs = localMs;
    this.slotStep = step * outputRate;
    this.fill(Math.floor(to) + 3);
    let audible = from < this.audioUntil && to > this.audioFrom;
    if (audible) this.fifo.read(out, from, step);
    else out.fill(0);
    if (this.fadeLeft > 0) {
      // A jump: the old read's continuation fades out as the new one fades in (raised cosine;
      // both are the same stream a few ms apart, so the level holds and nothing steps).
      const k0 = SPLICE_SAMPLES - this.fadeLeft;
      const m = Math.min(this.fadeLeft, n);
      const tail = this.spliceTail;
      for (let i = 0; i < m; i++) {
        const g = 0.5 - 0.5 * Math.cos((Math.PI * (k0 + i + 0.5)) / SPLICE_SAMPLES);
        out[i] = Math.round(tail[k0 + i] * (1 - g) + out[i] * g);
        if (tail[k0 + i] !== 0) audible = true;
      }
      this.fadeLeft -= m;
    }
    this.readPos = to;
    this.fifo.trimTo(Math.floor(to) - HISTORY_SAMPLES);
    this.lastAudible = audible;
    return audible;
  }

  // ---- internals -------------------------------------------------------------

  /** Puts the read head at `pos` (a whole position); the fifo starts afresh there unless it can serve `span` samples from it. */
  private moveTo(pos: number, span: number): void {
    this.readPos = pos;
    const fifo = this.fifo;
    if (pos - 1 < fifo.start || pos + span + 3 > fifo.start + fifo.capacity) fifo.resetAt(pos - 1);
  }

  /** Jumps from the read position to `to` while playing: keeps the old read's next 10 ms to crossfade from. */
  private splice(to: number, step: number, n: number): void {
    this.stats.resyncs++;
    const from = this.readPos;
    this.fill(Math.floor(from + SPLICE_SAMPLES * step) + 3);
    if (from < this.audioUntil && from + SPLICE_SAMPLES * step > this.audioFrom) this.fifo.read(this.spliceTail, from, step);
    else this.spliceTail.fill(0);
    this.moveTo(to, n * step);
    this.fadeLeft = SPLICE_SAMPLES;
  }

  private nominalPacketSamples(): number {
    return Math.round((this.decoder.timestampStep * SAMPLE_RATE) / this.decoder.clockRate) || FRAME_SAMPLES;
  }

  /** Drops the buffered packets and the sequence reference (a jump in sequence numbers). */
  private resequence(): void {
    this.buffer.reset();
    this.metaSeq.fill(-1);
    this.haveSeq = false;
    this.stats.resequenced++;
    // As RTP receivers do (RFC 3550 A.1), a jump this large is a renumbering, not loss.
    if (this.dry) this.dryWasPause();
  }

  /** Forgets the read head and decoded audio (a new axis or stream); packets stay buffered. */
  private restart(): void {
    this.started = false;
    this.fifo.resetAt(0);
    this.audioUntil = -Infinity;
    this.audioFrom = 0;
    this.missingRun = 0;
    this.dry = false;
    this.dryConcealed = 0;
    this.holesCovered = 0;
    this.lastAudible = false;
    this.fadeLeft = 0;
  }

  private spurtOfTimestamp(ts: number): TalkSpurt | undefined {
    // The newest spurt whose packets are near this timestamp (a minute of ticks).
    const list = this.spurts.spurts;
    const window = 60 * this.decoder.clockRate;
    for (let i = list.length - 1; i >= 0; i--) if (Math.abs(list[i].extOf(ts) - list[i].lastExt) <= window) return list[i];
    return list[list.length - 1];
  }

  /** The spurt whose mapping the ideal position follows: the one being played, or the next one. */
  private currentSpurt(): TalkSpurt | undefined {
    const list = this.spurts.spurts;
    if (this.started) {
      const horizon = this.readPos + 2 * FRAME_SAMPLES;
      let fallback: TalkSpurt | undefined;
      for (let i = list.length - 1; i >= 0; i--) {
        const s = list[i];
        if (Number.isNaN(s.pos0)) continue;
        if (s.pos0 <= horizon) return s;
        fallback = s;
      }
      return fallback;
    }
    // Not started: the spurt of the next packet to play.
    const i = this.nextSeq & this.ringMask;
    const s = this.metaSeq[i] === this.nextSeq ? this.metaSpurt[i] : null;
    if (s && !Number.isNaN(s.pos0)) return s;
    for (let k = list.length - 1; k >= 0; k--) if (!Number.isNaN(list[k].pos0)) return list[k];
    return undefined;
  }

  private idealPosition(localMs: number): number | null {
    if (!this.haveSeq && !this.started) return null;
    if (this.spurts.axis === 'none') {
      if (!this.haveSeq || localMs - this.firstArrival < this.srWaitMs) return null;
      this.spurts.startLocalAxis();
    }
    const s = this.currentSpurt();
    if (!s) return null;
    if (this.spurts.axis === 'server') {
      if (!this.clock.synced) return null;
      // A stream starts on a settled clock; one already playing is never held back.
      if (!this.started && this.clock.settled === false) return null;
      const contentMs = this.clock.serverNow(localMs) - this.delayMs;
      return s.refPos + this.codecDelaySamples + ((contentMs - s.refMs) * SAMPLE_RATE) / 1000;
    }
    return s.refPos + ((localMs - this.jitterTargetMs - s.refMs) * SAMPLE_RATE) / 1000;
  }

  /** Decodes (or conceals) packets in sequence order until the decoded audio reaches axis position `needEnd`. */
  private fill(needEnd: number): void {
    const fifo = this.fifo;
    while (fifo.end < needEnd) {
      if (!this.haveSeq) {
        fifo.fillSilenceTo(needEnd);
        return;
      }
      const seq = this.nextSeq;
      const i = seq & this.ringMask;
      if (this.metaSeq[i] === seq && this.buffer.has(seq)) {
        const spurt = this.metaSpurt[i]!;
        if (Number.isNaN(spurt.pos0)) {
          this.dropNext(); // placed on an axis that no longer exists
          continue;
        }
        const pos = spurt.positionOf(this.metaExt[i]);
        if (pos >= needEnd) {
          fifo.fillSilenceTo(needEnd); // its time has not come (a quiet zone between spurts)
          return;
        }
        if (this.dry) {
          // The next packet in sequence after a dry spell: it resumes where we are (a clean
          // pause or end of programme) or it came after its time was concealed (an underrun).
          if (pos >= fifo.end) this.dryWasPause();
          else this.dryWasLoss();
        }
        if (pos + this.lastPacketSamples <= fifo.end) {
          // Its time is past: concealed already (it came late), or passed over (the start, a re-anchor).
          this.dropNext(pos >= this.audioFrom && pos < this.audioUntil);
          continue;
        }
        this.decodeNext(i, spurt, pos);
        continue;
      }
      if (seqDiff(this.highestSeq, seq) > 0) {
        // A hole with later packets present: this one is lost (or too late to wait for) once its
        // time comes. Until then (it may be a spurt's first packet, overtaken) wait for it.
        const dueAt = this.holePosition(seq);
        if (dueAt >= needEnd) {
          fifo.fillSilenceTo(needEnd);
          return;
        }
        if (this.dry) {
          // The dry spell was loss; its provisional concealment stands in for (some of) the missing packets.
          const missing = this.missingBeforeNextPresent(seq);
          this.holesCovered = Math.min(this.dryConcealed, missing);
          this.dryWasLoss(missing);
        }
        this.concealHole(seq);
        continue;
      }
      // Nothing at or after this sequence number: the buffer ran dry.
      if (!this.dry) {
        this.dry = true;
        this.dryConcealed = 0;
      }
      if (this.dryConcealed < this.maxConceal && this.stats.decoded > 0 && this.audioUntil >= fifo.end) {
        if (this.concealAt(fifo.end, this.lastPacketSamples, NaN, null)) this.dryConcealed++;
        else this.dryConcealed = this.maxConceal; // the concealment run is over: silence from here
      } else {
        fifo.fillSilenceTo(needEnd);
        return;
      }
    }
  }

  private dryWasPause(): void {
    this.dry = false;
    this.dryConcealed = 0;
  }

  /** Counts the dry spell as loss: what was concealed, up to `lost` packets (the rest was the end of the stream). */
  private dryWasLoss(lost = Infinity): void {
    this.stats.concealed += Math.min(this.dryConcealed, lost);
    this.stats.underruns++;
    this.dry = false;
    this.dryConcealed = 0;
  }

  private dropNext(late = false): void {
    const seq = this.nextSeq;
    const r = this.buffer.take(seq);
    if (r.kind === 'frame') {
      if (late) this.stats.late++;
      else this.stats.skipped++;
    }
    this.metaSeq[seq & this.ringMask] = -1;
    this.nextSeq = seqAdd(seq, 1);
  }

  private decodeNext(i: number, spurt: TalkSpurt, pos: number): void {
    const seq = this.nextSeq;
    const taken = this.buffer.take(seq);
    this.metaSeq[i] = -1;
    this.nextSeq = seqAdd(seq, 1);
    if (taken.kind !== 'frame') return;
    const pcm = this.decoder.decode(taken.payload);
    const m = pcm.length;
    spurt.decoded = true;
    this.stats.decoded++;
    this.missingRun = 0;
    if (m > 0) this.lastPacketSamples = m;
    const fifo = this.fifo;
    if (pos + m <= fifo.end) {
      this.stats.late++;
      return;
    }
    if (pos > this.audioUntil) this.audioFrom = Math.max(pos, fifo.end);
    fifo.write(pcm, 0, m, pos);
    this.audioUntil = fifo.end;
    const due = this.localTimeOfPosition(pos);
    const waited = due - this.metaArrival[i];
    this.stats.bufferDelayMs += (waited - this.stats.bufferDelayMs) / (this.stats.decoded < 16 ? this.stats.decoded : 16);
    if (this.onFrame) this.report(spurt, pos, pcm, this.metaArrival[i], due);
  }

  /** Where the missing packet `seq` would start: before the next packet held, by one packet per missing number. */
  private holePosition(seq: number): number {
    const d = this.missingBeforeNextPresent(seq);
    const s = seqAdd(seq, d);
    const i = s & this.ringMask;
    const spurt = this.metaSeq[i] === s ? this.metaSpurt[i] : null;
    if (!spurt || Number.isNaN(spurt.pos0)) return -Infinity;
    return spurt.positionOf(this.metaExt[i]) - d * this.lastPacketSamples;
  }

  /** How many sequence numbers from `seq` on are missing before the next packet held. */
  private missingBeforeNextPresent(seq: number): number {
    for (let d = 1; d <= this.ringMask; d++) {
      const s = seqAdd(seq, d);
      if (seqDiff(s, this.highestSeq) > 0) return d;
      if (this.metaSeq[s & this.ringMask] === s) return d;
    }
    return this.ringMask;
  }

  /** Conceals the missing packet `seq` (later ones are here), over its share of the hole. */
  private concealHole(seq: number): void {
    // The next packet present tells where the hole ends.
    let next = -1;
    let count = 0;
    for (let d = 1; d <= this.ringMask; d++) {
      const s = seqAdd(seq, d);
      if (seqDiff(s, this.highestSeq) > 0) break;
      const i = s & this.ringMask;
      if (this.metaSeq[i] === s && this.metaSpurt[i] && !Number.isNaN(this.metaSpurt[i]!.pos0)) {
        next = i;
        count = d;
        break;
      }
    }
    this.buffer.take(seq);
    this.metaSeq[seq & this.ringMask] = -1;
    this.nextSeq = seqAdd(seq, 1);
    const end = next >= 0 ? this.metaSpurt[next]!.positionOf(this.metaExt[next]) : this.fifo.end + this.lastPacketSamples * Math.max(1, count);
    if (this.holesCovered > 0) {
      this.holesCovered--; // concealed already while the buffer was dry
      return;
    }
    // Its share of the hole, at most one packet (the rest of a hole is a pause between spurts).
    const n = Math.min(this.lastPacketSamples, Math.round((end - this.fifo.end) / Math.max(1, count)));
    if (n <= 0) return; // its time is already covered
    if (this.concealAt(this.fifo.end, n, NaN, next >= 0 ? this.metaSpurt[next] : null)) this.stats.concealed++;
  }

  /** Writes n samples of concealment (PLC while short, silence after maxConceal) at pos; returns whether PLC was used. */
  private concealAt(pos: number, n: number, arrival: number, spurt: TalkSpurt | null): boolean {
    this.missingRun++;
    if (this.missingRun > this.maxConceal || this.stats.decoded === 0) {
      this.fifo.fillSilenceTo(pos + n);
      return false;
    }
    let written = 0;
    let pcm: Frame = this.decoder.conceal();
    const first = pcm;
    while (written < n) {
      const k = Math.min(n - written, pcm.length);
      if (k <= 0) break;
      this.fifo.write(pcm, 0, k, pos + written);
      written += k;
      if (written < n) pcm = this.decoder.conceal();
    }
    if (written < n) this.fifo.fillSilenceTo(pos + n);
    if (pos > this.audioUntil) this.audioFrom = pos;
    this.audioUntil = this.fifo.end;
    const s = spurt ?? this.currentSpurt();
    if (this.onFrame && s) this.report(s, pos, first, arrival, this.localTimeOfPosition(pos));
    return true;
  }

  /** Local time at which axis position `pos` is rendered, from the slot being rendered. */
  private localTimeOfPosition(pos: number): number {
    return this.slotLocalMs + ((pos - this.readPos) * 1000) / SAMPLE_RATE / this.slotStep;
  }

  private report(s: TalkSpurt, pos: number, pcm: Frame, arrivalLocalMs: number, dueLocalMs: number): void {
    const info = this.frameInfo!;
    const ext = Math.round((pos - s.pos0) / s.samplesPerTick);
    info.rtpTimestamp = (((s.ts0 + ext) % 0x1_0000_0000) + 0x1_0000_0000) % 0x1_0000_0000;
    info.arrivalLocalMs = arrivalLocalMs;
    info.serverMs = this.spurts.axis === 'server' ? s.msOf(pos) : NaN;
    info.playoutLocalMs = dueLocalMs;
    info.concealed = Number.isNaN(arrivalLocalMs);
    info.pcm = pcm;
    this.onFrame!(info);
  }
}
