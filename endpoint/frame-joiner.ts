/**
 * Puts a 20 ms frame back together when the server sends it as several RTP
 * packets to stay under a 1500-byte MTU (L16 at 48 kHz: 2 × 10 ms, see
 * protocols/rtp/packetization.ts), so the playout keeps seeing one packet
 * per frame, with a sequence number that advances by one per frame.
 *
 * A frame's first packet has a sequence number that is a multiple of the
 * parts count, so any single packet says which frame and which part it is.
 * A frame goes on as soon as all its parts are in, or — with the missing part
 * silent — when a later frame starts (a lost half costs 10 ms, not 20). A part
 * of a frame already passed on is dropped. Packets of another size (a server
 * that sends whole frames) and codecs sent whole pass straight through.
 */
import type { CodecInfo } from '../codecs/codec.js';
import { frameBytes, packetsPerFrame } from '../protocols/rtp/packetization.js';
import { seqDiff } from '../protocols/rtp/sequence.js';

/** `marker`: the frame starts a talk-spurt (the RTP marker bit of its first packet). */
export type FrameSink = (sequence: number, rtpTimestamp: number, payload: Buffer, arrivalLocalMs: number, marker: boolean) => unknown;

export class FrameJoiner {
  private readonly parts: number;
  private readonly partBytes: number;
  private readonly partTicks: number;
  private ssrc: number | null = null;
  /** Newest sequence number seen, and its extension (starts at 65536 so an older packet stays positive). */
  private lastSeq = 0;
  private lastExt = 0;
  private key = -1;
  private pending: Buffer | null = null;
  private mask = 0;
  private ts = 0;
  private arrival = 0;
  private marker = false;
  /** Frames passed on with a part missing. */
  incomplete = 0;

  constructor(readonly codec: CodecInfo) {
    this.parts = packetsPerFrame(codec);
    this.partBytes = (frameBytes(codec) ?? 0) / this.parts;
    this.partTicks = codec.timestampStep / this.parts;
  }

  push(ssrc: number, sequence: number, rtpTimestamp: number, payload: Buffer, arrivalLocalMs: number, sink: FrameSink, marker = false): void {
    if (this.parts === 1 || payload.length !== this.partBytes) {
      sink(sequence, rtpTimestamp, payload, arrivalLocalMs, marker);
      return;
    }
    if (ssrc !== this.ssrc) {
      // A new stream numbers its packets afresh.
      this.ssrc = ssrc;
      this.pending = null;
      this.key = -1;
      this.lastSeq = sequence;
      this.lastExt = 65536 + sequence;
    }
    const ext = this.lastExt + seqDiff(sequence, this.lastSeq);
    if (ext > this.lastExt) {
      this.lastExt = ext;
      this.lastSeq = sequence;
    }
    const key = Math.floor(ext / this.parts);
    const part = ext - key * this.parts;
    if (key < this.key || (key === this.key && this.pending === null)) return;
    if (key > this.key) {
      this.flush(sink);
      this.key = key;
      this.pending = Buffer.alloc(this.parts * this.partBytes);
      this.mask = 0;
      this.ts = (rtpTimestamp - part * this.partTicks) >>> 0;
      this.arrival = arrivalLocalMs;
      this.marker = false;
    }
    if (marker) this.marker = true;
    payload.copy(this.pending!, part * this.partBytes);
    this.mask |= 1 << part;
    if (arrivalLocalMs > this.arrival) this.arrival = arrivalLocalMs;
    if (this.mask === (1 << this.parts) - 1) this.flush(sink);
  }

  private flush(sink: FrameSink): void {
    if (this.pending === null) return;
    if (this.mask !== (1 << this.parts) - 1) this.incomplete++;
    const frame = this.pending;
    this.pending = null;
    sink(this.key & 0xffff, this.ts, frame, this.arrival, this.marker);
  }
}
