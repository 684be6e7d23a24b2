/**
 * A light endpoint for the bench: to the server it is an endpoint like any
 * other — the same control channel (hello with its credential, pong to
 * pings), the same media keepalives carrying its mediaToken, the same RTP
 * and sender reports sent to it — but it does not decode or play. It
 * timestamps each RTP packet on arrival (real clock) against the packet's
 * due time from the sender-report mapping, and tracks sequence numbers for
 * loss. While an alert is watched it keeps each packet's payload with its
 * arrival and due times, and only afterwards (findAlert, outside the measured
 * time) decodes them in order to find the first alert frame by its audio, as
 * the full agents do: decoding on the receive path would delay the arrival
 * stamps of the packets queued behind it.
 *
 * Why: a full SpeakerAgent costs ~5 ms of CPU per second (decode, playout,
 * clock sync); 500 of them would need 2.5 cores beside the server on a
 * 2-core machine, and the bench would measure its own receivers. Full agents
 * still run for a subset (playout, sync, concealment); see bench/README.md.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { AudioDecoder, CodecName } from '../codecs/codec.js';
import { createDecoder } from '../codecs/registry.js';
import { MAX_KEEPALIVE_BYTES, classifyDatagram, writeMediaKeepalive } from '../protocols/control/media-keepalive.js';
import { decodeMessage, encodeMessage, type WelcomeMessage } from '../protocols/control/messages.js';
import { parseRtp } from '../protocols/rtp/packet.js';
import { parseRtcp } from '../protocols/rtp/rtcp.js';
import { seqDiff, tsDiff } from '../protocols/rtp/sequence.js';
import { isAlertFrame } from './measure.js';
import type { LatencyHistogram } from './percentiles.js';

const realNow = () => performance.timeOrigin + performance.now();
/** 6 s of 20 ms packets: more than the bench's alert watch. */
const MAX_HELD = 300;

export interface LightEndpointOptions {
  controlUrl: string;
  endpointId: string;
  token: string;
  codec: CodecName;
  /** Where each packet's delivery latency goes (shared by the load process). */
  delivery: LatencyHistogram;
  alertHz: number;
  /** Where media keepalives go instead of the server's media address (an impairment proxy). */
  mediaRoute?: (server: { host: string; port: number }) => { host: string; port: number };
}

export class LightEndpoint {
  online = false;
  measuring = false;
  /** While true (and the alert not yet heard), packets are decoded and checked for the alert tone. */
  armed = false;
  alertArrivalMs = Number.NaN;
  alertDueMs = Number.NaN;
  /** Sequence accounting since the last resetCounts(). */
  expected = 0;
  received = 0;

  private ws: WebSocket | null = null;
  private udp: dgram.Socket | null = null;
  private session: WelcomeMessage | null = null;
  private readonly keepalive = Buffer.alloc(MAX_KEEPALIVE_BYTES);
  private keepaliveLen = 0;
  private clockRate = 48_000;
  private hasSr = false;
  private srMs = 0;
  private srTs = 0;
  private hasSeq = false;
  private lastSeq = 0;
  private closed = false;
  /** Packets kept while armed: payload, arrival, due (bounded). */
  private readonly held: Array<{ payload: Buffer; arrival: number; due: number }> = [];

  constructor(private readonly o: LightEndpointOptions) {}

  start(): void {
    if (this.closed) return;
    const ws = new WebSocket(this.o.controlUrl, { handshakeTimeout: 30_000 });
    this.ws = ws;
    ws.on('open', () =>
      ws.send(encodeMessage({ type: 'hello', endpointId: this.o.endpointId, token: this.o.token, codecs: [this.o.codec], agentVersion: 'bench-light', capabilities: ['media-keepalive'] })),
    );
    ws.on('message', (data: WebSocket.RawData) => {
      const r = decodeMessage(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), 'server');
      if (!r.ok) return;
      const m = r.msg;
      if (m.type === 'ping') ws.send(encodeMessage({ type: 'pong', nonce: m.nonce }));
      else if (m.type === 'welcome') this.onWelcome(m);
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      this.online = false;
      if (!this.closed) setTimeout(() => this.start(), 1000);
    });
  }

  private onWelcome(w: WelcomeMessage): void {
    this.session = w;
    this.clockRate = w.codec === 'opus' || w.codec === 'l16' ? 48_000 : 8000;
    this.keepaliveLen = writeMediaKeepalive(this.keepalive, w.mediaToken);
    if (!this.udp) {
      const udp = dgram.createSocket('udp4');
      udp.on('message', (msg) => this.onDatagram(msg));
      udp.on('error', () => {});
      udp.bind(0, '127.0.0.1', () => this.sendKeepalive());
      this.udp = udp;
    } else this.sendKeepalive();
    this.online = true;
  }

  /** Called by the load process about every second; the server wants one per keepaliveIntervalMs. */
  sendKeepalive(): void {
    const s = this.session;
    if (!s || !this.udp || this.keepaliveLen === 0) return;
    const to = this.o.mediaRoute ? this.o.mediaRoute(s.rtp) : s.rtp;
    this.udp.send(this.keepalive, 0, this.keepaliveLen, to.port, to.host);
  }

  get keepaliveIntervalMs(): number {
    return this.session?.keepaliveIntervalMs ?? 15_000;
  }

  resetCounts(): void {
    this.expected = 0;
    this.received = 0;
  }

  private onDatagram(msg: Buffer): void {
    const arrival = realNow();
    const kind = classifyDatagram(msg);
    if (kind === 'rtcp') {
      let packets;
      try {
        packets = parseRtcp(msg);
      } catch {
        return;
      }
      for (const p of packets) {
        if (p.type !== 'sr') continue;
        this.hasSr = true;
        this.srMs = p.ntpMs;
        this.srTs = p.rtpTimestamp;
      }
      return;
    }
    if (kind !== 'rtp' || !this.session) return;
    let pkt;
    try {
      pkt = parseRtp(msg);
    } catch {
      return;
    }
    if (pkt.payloadType !== this.session.payloadType) return;
    if (this.hasSeq) {
      const d = seqDiff(pkt.sequence, this.lastSeq);
      if (d > 0) {
        if (this.measuring) this.expected += d;
        this.lastSeq = pkt.sequence;
      }
    } else {
      this.hasSeq = true;
      this.lastSeq = pkt.sequence;
    }
    if (!this.measuring) return;
    this.received++;
    if (!this.hasSr) return;
    const due = this.srMs + (tsDiff(pkt.timestamp >>> 0, this.srTs >>> 0) * 1000) / this.clockRate;
    this.o.delivery.record(arrival - due);
    if (this.armed && this.held.length < MAX_HELD) this.held.push({ payload: Buffer.from(pkt.payload), arrival, due });
  }

  /** Decodes the packets held since arming, in order, and notes the first alert frame. */
  findAlert(): void {
    if (this.held.length === 0 || !Number.isNaN(this.alertArrivalMs)) return;
    const decoder: AudioDecoder = createDecoder(this.o.codec);
    try {
      for (const h of this.held) {
        if (isAlertFrame(decoder.decode(h.payload), this.o.alertHz)) {
          this.alertArrivalMs = h.arrival;
          this.alertDueMs = h.due;
          break;
        }
      }
    } finally {
      decoder.close();
      this.held.length = 0;
    }
  }

  close(): void {
    this.closed = true;
    this.held.length = 0;
    this.ws?.removeAllListeners('close');
    this.ws?.on('error', () => {});
    this.ws?.terminate();
    this.udp?.close();
  }
}
