/**
 * Plays each frame at the server's wall-clock time of that frame plus the
 * zone's playout delay, so neighbouring clusters sound as one.
 *
 * RTCP sender reports give (NTP wall-clock, RTP timestamp) pairs: with them an
 * RTP timestamp maps to the server time it was produced at; the clock-sync
 * estimate maps server time to local time. Each output slot (960 samples due
 * at local time L) then renders exactly the stream samples that belong at L:
 *
 *   content server time = serverNow(L) − playoutDelay
 *   stream position     = pos(SR) + (content time − SR time) · 48 kHz
 *
 * The position is sample-accurate (a slot may straddle two frames). Small
 * disagreements between the expected and the ideal position (drift, a slewed
 * clock estimate) are absorbed a few samples per slot; large ones (a new SR
 * mapping, a changed delay, a stall) re-anchor at once and are counted.
 *
 * Packets wait in the RTP jitter buffer (protocols/rtp/jitter-buffer.ts, in
 * its take(seq) mode: reorder, duplicates, late); a small ring maps each
 * frame index (from the RTP timestamp) to the sequence number that carried
 * it, so gaps in timestamps (an idle zone) never confuse the two. Frames are
 * decoded in order just before they are due; a missing frame is concealed by
 * the decoder's PLC; a packet whose frame was already played is dropped as late. A stream without sender reports (none within srWaitMs of
 * the first packet) is played `jitterTargetMs` after the first packet's
 * arrival, unsynchronised, until one arrives.
 *
 * Pure logic: local time is whatever the caller passes in.
 */
import { FRAME_SAMPLES, SAMPLE_RATE, type Frame } from '../codecs/pcm.js';
import type { AudioDecoder } from '../codecs/codec.js';
import { pipelineDelaySamples } from '../codecs/registry.js';
import { JitterBuffer } from '../protocols/rtp/jitter-buffer.js';
import { tsDiff } from '../protocols/rtp/sequence.js';

/** The clock-sync view playout needs (endpoint/clock-sync.ts ClockSync fits). */
export interface ServerClock {
  readonly synced: boolean;
  serverNow(local: number): number;
  localTimeOf(serverMs: number, localHint: number): number;
}

/**
 * What a measurement hook learns about each frame as it is handed to the
 * output (decoded or concealed). One object is reused for every call: copy
 * what you keep. Times are in the agent's local clock, except serverMs.
 */
export interface PlayoutFrameInfo {
  /** RTP timestamp of the frame (the stream's clock rate). */
  rtpTimestamp: number;
  /** Local arrival time of the packet that carried it; NaN when concealed. */
  arrivalLocalMs: number;
  /** Server wall-clock time of the frame from the sender-report mapping; NaN without one. */
  serverMs: number;
  /** Local time the frame's first sample is rendered at (its playout time). */
  playoutLocalMs: number;
  concealed: boolean;
  /** The PCM about to be played (960 samples); valid only during the call. */
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
  /** Most samples added or dropped per slot to follow a drifting ideal position. */
  maxSlipSamples?: number;
  /** A position error beyond this re-anchors at once instead of slipping. */
  resyncMs?: number;
  /** Packets further ahead than this many frames are dropped (ring size, power of 2). */
  ringFrames?: number;
  /** Consecutive concealed frames after which silence is played instead. */
  maxConcealFrames?: number;
  /** Measurement hook (bench/): called for every frame handed to the output. */
  onFrame?: PlayoutFrameHook;
}

export interface PlayoutStats {
  packets: number;
  decoded: number;
  /** Frames replaced by concealment (lost or not yet arrived). */
  concealed: number;
  /** Packets that arrived after their frame was played (or skipped). */
  late: number;
  duplicates: number;
  /** Packets too far ahead of the play position to hold. */
  tooEarly: number;
  /** Times the buffer ran dry while the stream was playing. */
  underruns: number;
  /** Frames skipped without being played (after a stall or a re-anchor). */
  skipped: number;
  /** Large position corrections (re-anchors) after the start. */
  resyncs: number;
  /** Samples inserted (+) or dropped (−) in total by slipping. */
  slippedSamples: number;
  /** Mean time packets waited between arrival and their due time, ms (EWMA). */
  bufferDelayMs: number;
}

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
    slippedSamples: 0,
    bufferDelayMs: 0,
  };

  private decoder: AudioDecoder;
  private readonly clock: ServerClock;
  private delayMs: number;
  private readonly jitterTargetMs: number;
  private readonly srWaitMs: number;
  private readonly maxSlip: number;
  private readonly resyncSamples: number;
  private readonly ringMask: number;
  private readonly maxConceal: number;
  private readonly onFrame: PlayoutFrameHook | undefined;
  private readonly frameInfo: PlayoutFrameInfo | undefined;

  // RTP timestamps → 48 kHz positions relative to the first packet of the stream.
  private clockRate = SAMPLE_RATE;
  private step = FRAME_SAMPLES;
  private hasBase = false;
  private baseExt = 0;
  private lastTs32 = 0;
  private lastExt = 0;
  private firstArrival = 0;

  // The newest sender report, as (stream position in samples, server wall-clock ms).
  private hasSr = false;
  private srPos = 0;
  private srMs = 0;
  private pendingSr: { rtpTimestamp: number; ntpMs: number } | null = null;

  // Packets, by sequence number; and per frame index k (relative to base) the
  // sequence number and arrival time of the packet that carried it.
  private readonly buffer: JitterBuffer<Buffer>;
  private readonly slotK: Int32Array;
  private readonly slotSeq: Uint16Array;
  private readonly slotArrival: Float64Array;
  private highestK = -1;

  // Decoded frames, in order.
  private nextDecodeK = 0;
  private readonly decodedK = new Int32Array(4).fill(-1);
  private readonly decoded: Frame[] = [0, 1, 2, 3].map(() => new Int16Array(FRAME_SAMPLES));
  private readonly silent: Frame = new Int16Array(FRAME_SAMPLES);
  private missingRun = 0;
  private dry = false;
  private lastAudible = false;

  // Play position (samples, relative to base) expected for the next slot.
  private started = false;
  private pos = 0;
  /**
   * Stream position p holds the source's audio of p − this (the codec's
   * encode → decode delay): played that much earlier, the source is on time.
   */
  private codecDelaySamples: number;

  constructor(options: PlayoutOptions) {
    this.decoder = options.decoder;
    this.codecDelaySamples = pipelineDelaySamples(this.decoder.name);
    this.clock = options.clock;
    this.delayMs = options.playoutDelayMs;
    this.jitterTargetMs = options.jitterTargetMs ?? 60;
    this.srWaitMs = options.srWaitMs ?? 1000;
    this.maxSlip = options.maxSlipSamples ?? 8;
    this.resyncSamples = ((options.resyncMs ?? 40) * SAMPLE_RATE) / 1000;
    const ring = options.ringFrames ?? 512;
    if ((ring & (ring - 1)) !== 0) throw new RangeError('ringFrames must be a power of 2');
    this.ringMask = ring - 1;
    this.slotK = new Int32Array(ring).fill(-1);
    this.slotSeq = new Uint16Array(ring);
    this.slotArrival = new Float64Array(ring);
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
      this.frameInfo = { rtpTimestamp: 0, arrivalLocalMs: NaN, serverMs: NaN, playoutLocalMs: 0, concealed: false, pcm: this.silent };
    }
    this.setCodecClock(this.decoder.clockRate);
  }

  get playoutDelayMs(): number {
    return this.delayMs;
  }

  /** Whether the last rendered slot carried stream audio (decoded or concealed). */
  get playing(): boolean {
    return this.lastAudible;
  }

  get hasSenderReport(): boolean {
    return this.hasSr;
  }

  /** A changed zone delay: the next slot re-anchors on the new timeline. */
  setPlayoutDelay(ms: number): void {
    this.delayMs = ms;
  }

  /** A new codec or stream: forget everything about the old one. */
  reset(decoder?: AudioDecoder): void {
    if (decoder) this.decoder = decoder;
    this.setCodecClock(this.decoder.clockRate);
    this.codecDelaySamples = pipelineDelaySamples(this.decoder.name);
    this.hasBase = this.hasSr = this.started = false;
    this.pendingSr = null;
    this.slotK.fill(-1);
    this.buffer.reset();
    this.decodedK.fill(-1);
    this.highestK = -1;
    this.nextDecodeK = 0;
    this.missingRun = 0;
    this.dry = false;
    this.lastAudible = false;
  }

  /** An RTCP sender report of the stream: wall-clock `ntpMs` (server, Unix ms) ↔ `rtpTimestamp`. */
  onSenderReport(ntpMs: number, rtpTimestamp: number): void {
    if (!this.hasBase) {
      this.pendingSr = { rtpTimestamp, ntpMs };
      return;
    }
    this.srPos = this.positionOf(this.peekExt(rtpTimestamp));
    this.srMs = ntpMs;
    this.hasSr = true;
  }

  /** A received packet (already validated: right SSRC and payload type). */
  push(sequence: number, rtpTimestamp: number, payload: Buffer, arrivalLocalMs: number): 'ok' | 'late' | 'duplicate' | 'too-early' {
    this.stats.packets++;
    if (!this.hasBase) {
      this.hasBase = true;
      this.lastTs32 = rtpTimestamp >>> 0;
      this.lastExt = this.baseExt = rtpTimestamp >>> 0;
      this.firstArrival = arrivalLocalMs;
      if (this.pendingSr) this.onSenderReport(this.pendingSr.ntpMs, this.pendingSr.rtpTimestamp);
      this.pendingSr = null;
    }
    const ext = this.peekExt(rtpTimestamp);
    if (ext > this.lastExt) {
      this.lastExt = ext;
      this.lastTs32 = rtpTimestamp >>> 0;
    }
    const k = Math.round((ext - this.baseExt) / this.step);
    if (k < this.nextDecodeK) {
      this.stats.late++;
      return 'late';
    }
    if (k > this.nextDecodeK + this.ringMask) {
      // A stream far ahead of us (we stalled, or never started playing): keep the newest.
      if (!this.started) {
        this.skipTo(k - this.ringMask);
      } else {
        this.stats.tooEarly++;
        return 'too-early';
      }
    }
    const i = k & this.ringMask;
    if (this.slotK[i] === k) {
      this.stats.duplicates++;
      return 'duplicate';
    }
    const r = this.buffer.push(sequence, rtpTimestamp, payload, arrivalLocalMs);
    if (r === 'duplicate' || r === 'late' || r === 'too-early') {
      if (r === 'duplicate') this.stats.duplicates++;
      else if (r === 'late') this.stats.late++;
      else this.stats.tooEarly++;
      return r;
    }
    this.slotK[i] = k;
    this.slotSeq[i] = sequence & 0xffff;
    this.slotArrival[i] = arrivalLocalMs;
    if (k > this.highestK) this.highestK = k;
    return 'ok';
  }

  /**
   * The local time at which the frame with this RTP timestamp is due, or NaN
   * while no mapping exists yet. (What render() follows; tests compare with it.)
   */
  dueLocalTime(rtpTimestamp: number, localHint: number): number {
    if (!this.hasBase) return NaN;
    const pos = this.positionOf(this.peekExt(rtpTimestamp));
    if (this.hasSr) {
      const contentMs = this.srMs + ((pos - this.codecDelaySamples - this.srPos) * 1000) / SAMPLE_RATE;
      return this.clock.localTimeOf(contentMs + this.delayMs, localHint);
    }
    return this.firstArrival + this.jitterTargetMs + (pos * 1000) / SAMPLE_RATE;
  }

  /**
   * Fills `out` (960 samples) with the audio due at local time `localMs`
   * (the start of the slot). Returns true when stream audio was rendered,
   * false for silence (no stream, no clock yet, or buffer dry).
   */
  render(out: Frame, localMs: number): boolean {
    const ideal = this.idealPosition(localMs);
    if (ideal === null) {
      out.fill(0);
      this.lastAudible = false;
      return false;
    }
    if (!this.started) {
      this.started = true;
      this.pos = ideal;
      this.skipTo(Math.floor(ideal / FRAME_SAMPLES));
    } else {
      const err = ideal - this.pos;
      if (Math.abs(err) > this.resyncSamples) {
        this.stats.resyncs++;
        this.pos = ideal;
        const k = Math.floor(ideal / FRAME_SAMPLES);
        if (k > this.nextDecodeK + 1) this.skipTo(k);
      } else if (err !== 0) {
        const slip = Math.max(-this.maxSlip, Math.min(this.maxSlip, err));
        this.pos += slip;
        this.stats.slippedSamples += slip;
      }
    }

    let audible = false;
    let written = 0;
    let p = this.pos;
    while (written < FRAME_SAMPLES) {
      const k = Math.floor(p / FRAME_SAMPLES);
      const offset = p - k * FRAME_SAMPLES;
      const n = Math.min(FRAME_SAMPLES - offset, FRAME_SAMPLES - written);
      const frame = this.frameFor(k, localMs + ((k * FRAME_SAMPLES - this.pos) * 1000) / SAMPLE_RATE);
      if (frame === null) out.fill(0, written, written + n);
      else {
        out.set(frame.subarray(offset, offset + n), written);
        audible = true;
      }
      written += n;
      p += n;
    }
    this.pos += FRAME_SAMPLES;
    this.lastAudible = audible;
    return audible;
  }

  // ---- internals -------------------------------------------------------------

  private setCodecClock(clockRate: number): void {
    this.clockRate = clockRate;
    this.step = (clockRate * FRAME_SAMPLES) / SAMPLE_RATE;
  }

  /** Extended (unwrapped) timestamp of a 32-bit one, relative to the newest seen. */
  private peekExt(ts: number): number {
    return this.lastExt + tsDiff(ts >>> 0, this.lastTs32);
  }

  private positionOf(ext: number): number {
    return Math.round(((ext - this.baseExt) * SAMPLE_RATE) / this.clockRate);
  }

  private idealPosition(localMs: number): number | null {
    if (!this.hasBase) return null;
    if (this.hasSr) {
      if (!this.clock.synced) return null;
      const contentMs = this.clock.serverNow(localMs) - this.delayMs;
      return Math.round(this.srPos + this.codecDelaySamples + ((contentMs - this.srMs) * SAMPLE_RATE) / 1000);
    }
    if (localMs - this.firstArrival < this.srWaitMs) return null;
    return Math.round(((localMs - this.firstArrival - this.jitterTargetMs) * SAMPLE_RATE) / 1000);
  }

  /** Drops everything before frame k without decoding it. */
  private skipTo(k: number): void {
    for (let j = this.nextDecodeK; j < k && j <= this.highestK; j++) {
      const i = j & this.ringMask;
      if (this.slotK[i] === j) {
        this.slotK[i] = -1;
        this.stats.skipped++;
      }
    }
    if (k > this.nextDecodeK) this.nextDecodeK = k;
  }

  /** The decoded frame k (decoding in order up to it), or null for silence. */
  private frameFor(k: number, dueLocalMs: number): Frame | null {
    if (k < 0) return null;
    const held = this.decodedK.indexOf(k);
    if (held >= 0) return this.decoded[held];
    if (k < this.nextDecodeK) return null; // already gone (a backward re-anchor)
    if (k > this.nextDecodeK + 3) this.skipTo(k);
    let result: Frame | null = null;
    for (let j = this.nextDecodeK; j <= k; j++) result = this.decodeNext(j, dueLocalMs - (k - j) * 20);
    return result;
  }

  private decodeNext(j: number, dueLocalMs: number): Frame | null {
    this.nextDecodeK = j + 1;
    const i = j & this.ringMask;
    const d = j & 3;
    let frame: Frame | null = null;
    // take() also passes over (frees) older slots of frames we skipped or lost.
    const taken = this.slotK[i] === j ? this.buffer.take(this.slotSeq[i]) : null;
    this.slotK[i] = -1;
    if (taken?.kind === 'frame') {
      frame = this.decoded[d];
      copyFrame(this.decoder.decode(taken.payload), frame);
      this.stats.decoded++;
      const waited = dueLocalMs - this.slotArrival[i];
      this.stats.bufferDelayMs += (waited - this.stats.bufferDelayMs) / (this.stats.decoded < 16 ? this.stats.decoded : 16);
      this.missingRun = 0;
      this.dry = false;
    } else {
      this.missingRun++;
      if (j > this.highestK && !this.dry) {
        // Nothing buffered at or beyond this frame: the buffer ran dry.
        this.dry = true;
        this.stats.underruns++;
      }
      if (this.missingRun <= this.maxConceal && this.stats.decoded > 0) {
        frame = this.decoded[d];
        copyFrame(this.decoder.conceal(), frame);
        this.stats.concealed++;
      }
    }
    this.decodedK[d] = frame ? j : -1;
    if (frame && this.onFrame) this.reportFrame(j, frame, taken?.kind === 'frame' ? this.slotArrival[i] : NaN, dueLocalMs);
    return frame;
  }

  private reportFrame(j: number, frame: Frame, arrivalLocalMs: number, dueLocalMs: number): void {
    const info = this.frameInfo!;
    info.rtpTimestamp = (this.baseExt + j * this.step) % 0x1_0000_0000;
    info.arrivalLocalMs = arrivalLocalMs;
    info.serverMs = this.hasSr ? this.srMs + ((j * FRAME_SAMPLES - this.srPos) * 1000) / SAMPLE_RATE : NaN;
    info.playoutLocalMs = dueLocalMs;
    info.concealed = Number.isNaN(arrivalLocalMs);
    info.pcm = frame;
    this.onFrame!(info);
  }
}

/** Copies a decoded frame into a slot frame; odd-sized packets are cut or padded with silence. */
function copyFrame(src: Frame, dst: Frame): void {
  if (src.length === dst.length) dst.set(src);
  else {
    const n = Math.min(src.length, dst.length);
    dst.set(src.subarray(0, n));
    dst.fill(0, n);
  }
}
