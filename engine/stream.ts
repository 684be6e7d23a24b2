/**
 * One zone's audio in one codec: encoded once per frame, packetized once,
 * then fanned out. One SSRC per zone stream. The RTP timestamp is a function
 * of the frame number (base + n·step), so it stays continuous across
 * programme switches and jumps by the real elapsed time after a pause.
 * Sequence numbers count packets sent, so they stay continuous whatever airs.
 *
 * Silence policy: while anything is on air the stream sends every frame, even
 * silent ones (loudspeaker amplifiers and jitter buffers like a steady flow);
 * when the zone goes off air it sends a faded last frame and stops, and the
 * next talk-spurt starts with the marker bit. Nothing is encoded for a stream
 * without destinations.
 *
 * Packets: at most 1500 bytes on the wire (protocols/rtp/packetization.ts);
 * L16 at 48 kHz goes as 2 packets of 10 ms per frame, the first with an even
 * sequence number.
 *
 * RTCP: a sender report (plus SDES CNAME) with the first packet of every
 * talk-spurt and then every SR_INTERVAL_FRAMES while sending; it maps the RTP timestamp
 * of frame n to that frame's wall-clock time from the engine clock.
 */
import { randomInt } from 'node:crypto';
import type { AudioEncoder, CodecName } from '../codecs/codec.js';
import type { Frame } from '../codecs/pcm.js';
import { createEncoder } from '../codecs/registry.js';
import { codecInfo } from '../codecs/registry.js';
import { RTP_HEADER_BYTES, writeRtpHeader } from '../protocols/rtp/packet.js';
import { MAX_RTP_PAYLOAD_BYTES, packetsPerFrame } from '../protocols/rtp/packetization.js';
import { buildSenderReport } from '../protocols/rtp/rtcp.js';
import { Fanout, type SendPolicy } from './fanout.js';
import type { StreamStats } from './protocol.js';
import type { BusSink } from './zone-bus.js';

/** 2.5 s between sender reports. */
export const SR_INTERVAL_FRAMES = 125;
/**
 * Packet buffers per stream, written in turn. A buffer is only written again
 * once no queued send can read it: see write().
 */
export const PACKET_RING_SLOTS = 16;

export interface ZoneStreamOptions {
  zoneId: string;
  codec: CodecName;
  frameWallMs(n: number): number;
  /** Test hook: count or wrap the encoder. */
  encoder?: AudioEncoder;
  ssrc?: number;
  /** Queue limit and totals shared with the plane's other streams. */
  sendPolicy?: SendPolicy;
}

export class ZoneStream implements BusSink {
  readonly zoneId: string;
  readonly codec: CodecName;
  readonly ssrc: number;
  readonly fanout: Fanout;
  readonly cname: string;
  /** RTP packets per 20 ms frame (2 for L16 at 48 kHz, else 1). */
  readonly packetsPerFrame: number;
  private readonly encoder: AudioEncoder;
  private readonly frameWallMs: (n: number) => number;
  private readonly ring: Buffer[] = [];
  private slot = 0;
  private seq: number;
  private readonly tsBase: number;
  private sending = false;
  private lastSrFrame = -Infinity;
  packets = 0;
  octets = 0;
  encodes = 0;
  senderReports = 0;
  private closed = false;

  constructor(opts: ZoneStreamOptions) {
    this.zoneId = opts.zoneId;
    this.codec = opts.codec;
    this.encoder = opts.encoder ?? createEncoder(opts.codec);
    this.frameWallMs = opts.frameWallMs;
    this.ssrc = opts.ssrc ?? randomInt(1, 0xffffffff);
    this.fanout = new Fanout(opts.sendPolicy);
    this.packetsPerFrame = packetsPerFrame(codecInfo(opts.codec));
    // A frame's first packet carries a multiple of packetsPerFrame (receivers find frames from it).
    this.seq = randomInt(0, 0x10000) & ~(this.packetsPerFrame - 1);
    this.tsBase = randomInt(0, 0xffffffff);
    this.cname = `loa-zone-${opts.zoneId}`.slice(0, 64);
    for (let i = 0; i < PACKET_RING_SLOTS; i++) this.ring.push(Buffer.alloc(RTP_HEADER_BYTES + MAX_RTP_PAYLOAD_BYTES));
  }

  get payloadType(): number {
    return this.encoder.payloadType;
  }
  get clockRate(): number {
    return this.encoder.clockRate;
  }

  /** RTP timestamp of frame n. */
  timestampOf(n: number): number {
    return (this.tsBase + n * this.encoder.timestampStep) % 0x1_0000_0000;
  }

  /** Sequence number the next packet will carry. */
  get nextSequence(): number {
    return this.seq;
  }

  write(n: number, frame: Frame, talkSpurt: boolean): void {
    if (this.closed || this.fanout.size === 0) {
      this.sending = false;
      return;
    }
    const payload = this.encoder.encode(frame);
    this.encodes++;
    const marker = talkSpurt || !this.sending;
    const parts = this.packetsPerFrame;
    const partBytes = Math.ceil(payload.length / parts);
    const partTicks = this.encoder.timestampStep / parts;
    const ts = this.timestampOf(n);
    for (let i = 0; i < parts; i++) {
      const slot = this.slot;
      const buf = this.ring[slot];
      this.slot = (slot + 1) % PACKET_RING_SLOTS;
      const h = writeRtpHeader(buf, 0, {
        payloadType: this.encoder.payloadType,
        sequence: this.seq,
        timestamp: (ts + i * partTicks) % 0x1_0000_0000,
        ssrc: this.ssrc,
        marker: marker && i === 0,
      });
      const start = i * partBytes;
      const len = h + payload.copy(buf, h, start, Math.min(payload.length, start + partBytes, start + MAX_RTP_PAYLOAD_BYTES));
      this.seq = (this.seq + 1) & 0xffff;
      // Why: a send libuv had to queue (socket buffer full) reads `buf` later,
      // when the socket drains; writing the next packet into it would send
      // that packet twice and this one never. Such a buffer leaves the ring
      // (the queued send keeps it alive) and a fresh one takes its slot: no
      // copy on the normal path, one allocation per queued packet otherwise.
      if (this.fanout.send(buf, len)) this.ring[slot] = Buffer.allocUnsafe(buf.length);
      this.packets++;
      this.octets += len - h;
    }
    this.sending = true;
    if (marker || n - this.lastSrFrame >= SR_INTERVAL_FRAMES) this.sendSenderReport(n);
  }

  idle(): void {
    this.sending = false;
  }

  private sendSenderReport(n: number): void {
    this.lastSrFrame = n;
    this.senderReports++;
    const sr = buildSenderReport({
      ssrc: this.ssrc,
      ntpMs: this.frameWallMs(n),
      rtpTimestamp: this.timestampOf(n),
      packetCount: this.packets,
      octetCount: this.octets,
      cname: this.cname,
    });
    this.fanout.sendRtcp(sr);
  }

  stats(): StreamStats {
    return {
      zoneId: this.zoneId,
      codec: this.codec,
      ssrc: this.ssrc,
      packets: this.packets,
      octets: this.octets,
      destinations: this.fanout.size,
      encodes: this.encodes,
      sendErrors: this.fanout.sendErrors,
      sendDropped: this.fanout.sendDropped,
      failing: this.fanout.failing(),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fanout.clear();
    this.encoder.close();
  }
}
