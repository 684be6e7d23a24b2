/**
 * The reference speaker agent: one receiver that drives a loudspeaker.
 *
 * It dials out to the server's control channel (WebSocket), says hello with
 * its credentials, syncs its clock to the server's, and receives the zone's
 * RTP on a UDP socket of its own. From that socket it sends keepalives
 * carrying the session's mediaToken (so the media worker learns the public
 * address to send RTP to, through NAT/CGNAT) and RTCP receiver reports.
 * Audio is played through a sink, one frame per slot of the process-wide
 * FrameCycle; housekeeping (time-sync requests, keepalives, reports, stats)
 * also rides on that cycle, so an agent owns no periodic timer of its own and
 * a bench can host hundreds in one process.
 *
 * Ownership: the agent owns its WebSocket, UDP socket, decoder, playout and
 * sink; close() releases all of them (and finalises a WAV).
 */
import { EventEmitter } from 'node:events';
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { randomInt } from 'node:crypto';
import WebSocket from 'ws';
import type { AudioDecoder, CodecName } from '../codecs/codec.js';
import { FRAME_MS } from '../codecs/pcm.js';
import { codecInfo, createDecoder, isCodecName } from '../codecs/registry.js';
import { parseRtp } from '../protocols/rtp/packet.js';
import { buildReceiverReport, parseRtcp } from '../protocols/rtp/rtcp.js';
import { ReceptionStats } from '../protocols/rtp/reception-stats.js';
import {
  CONTROL_PATH,
  MAX_CONTROL_MESSAGE_BYTES,
  RejectCounter,
  decodeMessage,
  encodeMessage,
  type AgentMessage,
  type ConfigMessage,
  type EndpointStats,
  type Outgoing,
  type RejectMessage,
  type ServerMessage,
  type WelcomeMessage,
} from '../protocols/control/messages.js';
import { MAX_KEEPALIVE_BYTES, classifyDatagram, writeMediaKeepalive } from '../protocols/control/media-keepalive.js';
import { ClockSync } from './clock-sync.js';
import { FrameCycle } from './frame-cycle.js';
import { FrameJoiner } from './frame-joiner.js';
import { createSink, type AudioSink, type OutputSpec } from './output.js';
import { OutputPump } from './output-pump.js';
import { Playout, type PlayoutFrameHook } from './playout.js';

export const AGENT_VERSION = '0.1.0';

export interface SpeakerAgentOptions {
  /** ws:// or wss:// URL of the server; the control path is appended when the URL has none. */
  server: string;
  endpointId: string;
  token: string;
  /** Where audio goes (a spec or a ready sink); default null. */
  output?: OutputSpec | AudioSink;
  /** Overrides the zone's playout delay (ms); default: what the server says. */
  playoutDelayMs?: number;
  /** Delay after first arrival used before the first RTCP sender report. */
  jitterTargetMs?: number;
  /** Decodable codecs, most preferred first. */
  codecs?: CodecName[];
  /** Test/bench only: pretend the local clock is off by this much. */
  clockOffsetMs?: number;
  /** Time between this slot being rendered and it reaching the loudspeaker (device buffer). */
  outputLatencyMs?: number;
  /** The output cycle; default the process-wide one. */
  cycle?: FrameCycle;
  /** Reconnect backoff bounds (ms); each wait is jittered to 50–100 % of the bound. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Time between RTCP receiver reports; default 5000 ms. */
  rtcpIntervalMs?: number;
  /** Accept RTP/RTCP from any source address (not only the server's media port). */
  acceptAnySource?: boolean;
  /** Measurement hook (bench/): every frame handed to the output, with its local times. */
  onFrame?: PlayoutFrameHook;
  /**
   * Bench only: where media keepalives and RTCP go instead of the server's
   * media address (an impairment proxy in front of it). RTP is then accepted
   * from the returned address.
   */
  mediaRoute?: (server: { host: string; port: number }) => { host: string; port: number };
}

export interface AgentDropCounters {
  malformed: number;
  wrongPayloadType: number;
  wrongSsrc: number;
  wrongSource: number;
  unknown: number;
  invalidSequence: number;
}

export interface SpeakerAgentEvents {
  connected: [welcome: WelcomeMessage];
  disconnected: [info: { code: number; reason: string }];
  rejected: [reject: { code: string; message: string }];
  stats: [stats: EndpointStats];
  /** Audio started (after silence); serverMs is the server wall-clock of its first sample. */
  playing: [info: { serverMs: number }];
}

/** Skipped slots beyond this many are written as silence rather than rendered. */
const MAX_RENDERED_GAP = 250;
/** Time-sync requests sent at 100 ms at most while the clock is not yet within its settle bound (3 s). */
const FAST_SYNC_REQUESTS = 30;
/** If the locked SSRC has been silent this long, another one may take over (server restart). */
const SSRC_RELOCK_MS = 3000;

type AgentState = 'idle' | 'connecting' | 'online' | 'waiting' | 'closed';

export class SpeakerAgent extends EventEmitter<SpeakerAgentEvents> {
  state: AgentState = 'idle';
  readonly clock: ClockSync;
  readonly controlRejected = new RejectCounter();
  readonly drops: AgentDropCounters = { malformed: 0, wrongPayloadType: 0, wrongSsrc: 0, wrongSource: 0, unknown: 0, invalidSequence: 0 };
  /** The current session, from welcome and later config messages. */
  session: WelcomeMessage | null = null;
  playout: Playout | null = null;
  reception: ReceptionStats | null = null;
  sink: AudioSink | null = null;
  /** Writes each slot to the sink, following the sound card's own clock when it reports one. */
  pump: OutputPump | null = null;
  /** Connection attempts since the last welcome. */
  attempts = 0;
  lastReject: { code: string; message: string } | null = null;

  private readonly opts: SpeakerAgentOptions;
  private readonly codecs: CodecName[];
  private readonly cycle: FrameCycle;
  private readonly rtcpIntervalMs: number;
  private readonly url: string;
  /** Local clock = process monotonic clock mapped onto (possibly wrong) wall-clock. */
  private readonly localBase: number;
  private ws: WebSocket | null = null;
  private udp: dgram.Socket | null = null;
  private udpFamily: 4 | 6 = 4;
  private mediaAddress: { address: string; port: number } | null = null;
  private decoder: AudioDecoder | null = null;
  private unsubscribe: (() => void) | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly keepaliveBuf = Buffer.alloc(MAX_KEEPALIVE_BYTES);
  private readonly rtcpBuf = Buffer.alloc(256);
  private readonly ownSsrc = randomInt(1, 0xffffffff);
  private lockedSsrc: number | null = null;
  private lastLockedArrival = 0;
  private outputStarted = false;
  private lastTickIndex = -1;
  /** Slots the shared cycle skipped after a stall, filled in by this agent. */
  skippedSlots = 0;
  private wasAudible = false;
  // Housekeeping schedule, in local ms; phases are randomised to spread a bench's load.
  private nextTimeSync = 0;
  private nextKeepalive = Infinity;
  private nextRtcp = Infinity;
  private nextStats = Infinity;
  private syncId = 0;
  private readonly pendingSync = new Map<number, number>();
  private syncSent = 0;

  constructor(options: SpeakerAgentOptions) {
    super();
    this.opts = options;
    this.codecs = options.codecs ?? ['opus', 'pcmu'];
    this.cycle = options.cycle ?? FrameCycle.shared();
    this.rtcpIntervalMs = options.rtcpIntervalMs ?? 5000;
    this.localBase = performance.timeOrigin + (options.clockOffsetMs ?? 0);
    this.clock = new ClockSync({ now: () => this.localNow() });
    const url = new URL(options.server);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`server URL must be ws:// or wss://, got ${url.protocol}`);
    if (url.pathname === '/' || url.pathname === '') url.pathname = CONTROL_PATH;
    this.url = url.toString();
  }

  /** The agent's own (possibly wrong) clock, ms. */
  localNow(): number {
    return this.localBase + performance.now();
  }

  /** Starts connecting and ticking; resolves at once (listen for 'connected'). */
  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    const out = this.opts.output ?? { kind: 'null' };
    this.sink = 'write' in out ? out : createSink(out);
    this.pump = new OutputPump({ sink: this.sink, serverNow: (l) => this.clock.serverNow(l), latencyMs: this.opts.outputLatencyMs });
    this.unsubscribe = this.cycle.subscribe((tick, index) => this.onTick(tick, index));
    this.connect();
  }

  /** Stops everything; finalises the output. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.ws) {
      this.ws.removeAllListeners('close');
      this.ws.on('error', () => {});
      this.ws.close(1000, 'agent closing');
      this.ws = null;
    }
    this.udp?.close();
    this.udp = null;
    this.decoder?.close();
    this.decoder = null;
    await this.sink?.close();
  }

  /** A snapshot of the agent's statistics (what goes out as 'stats'). */
  statsSnapshot(): EndpointStats {
    const r = this.reception;
    const p = this.playout?.stats;
    const lost = r ? Math.max(0, r.lost) : 0;
    const dropped = Object.values(this.drops).reduce((a, b) => a + b, 0);
    return {
      packetsLost: lost,
      packetsReceived: r?.received ?? 0,
      lossFraction: r && r.expected > 0 ? Math.min(1, lost / r.expected) : 0,
      jitterMs: r?.jitterMs ?? 0,
      bufferDelayMs: p?.bufferDelayMs ?? 0,
      underruns: p?.underruns ?? 0,
      late: p?.late ?? 0,
      concealed: p?.concealed ?? 0,
      dropped,
      clockOffsetMs: this.clock.synced ? this.clock.offsetMs() : 0,
      clockRttMs: this.clock.synced ? this.clock.rttMs : 0,
      clockDriftPpm: this.clock.driftPpm,
      clockSynced: this.clock.synced,
      playoutDelayMs: this.playout?.playoutDelayMs ?? this.opts.playoutDelayMs ?? 0,
      playing: this.playout?.playing ?? false,
      controlRejected: this.controlRejected.total,
    };
  }

  // ---- control channel --------------------------------------------------------

  private connect(): void {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    this.attempts++;
    const ws = new WebSocket(this.url, { handshakeTimeout: 10_000, maxPayload: MAX_CONTROL_MESSAGE_BYTES * 4 });
    this.ws = ws;
    ws.on('open', () => {
      this.send({
        type: 'hello',
        endpointId: this.opts.endpointId,
        token: this.opts.token,
        codecs: this.codecs,
        agentVersion: AGENT_VERSION,
        capabilities: ['clock-sync', 'media-keepalive', 'rtcp-rr', `output:${this.sink?.kind ?? 'null'}`],
      });
      this.syncSent = 0;
      this.nextTimeSync = this.localNow();
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => this.onControl(data, isBinary));
    ws.on('error', () => {
      /* 'close' follows */
    });
    ws.on('close', (code: number, reason: Buffer) => this.onControlClosed(code, reason.toString()));
  }

  private send(msg: Outgoing<AgentMessage>): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(encodeMessage(msg));
  }

  private onControl(data: WebSocket.RawData, isBinary: boolean): void {
    const t3 = this.localNow();
    if (isBinary) {
      this.controlRejected.count('binary: control messages are text');
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const result = decodeMessage(text, 'server');
    if (!result.ok) {
      this.controlRejected.count(result.reason);
      return;
    }
    this.handle(result.msg, t3);
  }

  private handle(msg: ServerMessage, t3: number): void {
    switch (msg.type) {
      case 'time-sync-reply': {
        const t0 = this.pendingSync.get(msg.id);
        if (t0 === undefined || t0 !== msg.t0) {
          this.controlRejected.count('unexpected: time-sync reply matches no request');
          return;
        }
        this.pendingSync.delete(msg.id);
        this.clock.addSample(msg.t0, msg.t1, msg.t2, t3);
        return;
      }
      case 'ping':
        this.send({ type: 'pong', nonce: msg.nonce });
        return;
      case 'welcome':
        this.onWelcome(msg);
        return;
      case 'config':
        this.onConfig(msg);
        return;
      case 'reject':
        this.onReject(msg);
        return;
      case 'watch':
        this.onWatch(msg.programmeId, msg.fromMs);
        return;
    }
  }

  private onWelcome(w: WelcomeMessage): void {
    if (!isCodecName(w.codec) || !this.codecs.includes(w.codec)) {
      this.controlRejected.count(`invalid: welcome codec ${w.codec} was not offered`);
      this.ws?.close(1002, 'codec not offered');
      return;
    }
    this.state = 'online';
    this.attempts = 0;
    this.lastReject = null;
    const previous = this.session;
    this.session = w;
    this.applyStream(w.codec, previous?.codec !== w.codec || previous?.payloadType !== w.payloadType);
    this.playout!.setPlayoutDelay(this.opts.playoutDelayMs ?? w.playoutDelayMs);
    void this.openMedia(w.rtp);
    const now = this.localNow();
    this.nextKeepalive = now;
    this.nextRtcp = now + this.rtcpIntervalMs * (0.5 + Math.random() / 2);
    this.nextStats = now + w.statsIntervalMs * (0.5 + Math.random() / 2);
    this.emit('connected', w);
  }

  private onConfig(c: ConfigMessage): void {
    const s = this.session;
    if (!s) {
      this.controlRejected.count('unexpected: config before welcome');
      return;
    }
    if (c.codec !== undefined && (!isCodecName(c.codec) || !this.codecs.includes(c.codec))) {
      this.controlRejected.count(`invalid: config codec ${c.codec} was not offered`);
      return;
    }
    const streamChanged =
      (c.codec !== undefined && c.codec !== s.codec) ||
      (c.payloadType !== undefined && c.payloadType !== s.payloadType) ||
      (c.zoneId !== undefined && c.zoneId !== s.zoneId);
    this.session = { ...s, ...c, type: 'welcome', v: s.v };
    if (streamChanged) this.applyStream(this.session.codec as CodecName, true);
    if (c.playoutDelayMs !== undefined && this.opts.playoutDelayMs === undefined) this.playout!.setPlayoutDelay(c.playoutDelayMs);
    if (c.rtp) void this.openMedia(c.rtp);
  }

  // ---- delivery reports (alerts): the first frame of a watched programme played ----------
  /** Programme id → server time from which its frames count (at most 32 kept). */
  private readonly watches = new Map<string, number>();
  private lastAudibleMediaMs = -Infinity;

  private onWatch(programmeId: string, fromMs: number): void {
    // Already playing it (the watch came after the frame): report now, a little late.
    if (this.wasAudible && this.lastAudibleMediaMs >= fromMs - FRAME_MS / 2) {
      this.send({ type: 'played', programmeId, atMs: this.clock.serverNow() });
      return;
    }
    this.watches.set(programmeId, fromMs);
    if (this.watches.size > 32) this.watches.delete(this.watches.keys().next().value!);
  }

  /** Frames are heard playoutDelay after their server time: a watched one from fromMs on is reported. */
  private checkWatches(serverMs: number): void {
    const mediaMs = serverMs - (this.playout?.playoutDelayMs ?? 0);
    this.lastAudibleMediaMs = mediaMs;
    for (const [programmeId, fromMs] of this.watches) {
      if (mediaMs < fromMs - FRAME_MS / 2) continue;
      this.watches.delete(programmeId);
      this.send({ type: 'played', programmeId, atMs: serverMs });
    }
  }

  private onReject(r: RejectMessage): void {
    this.lastReject = { code: r.code, message: r.message };
    this.emit('rejected', this.lastReject);
  }

  private onControlClosed(code: number, reason: string): void {
    this.ws = null;
    this.pendingSync.clear();
    this.nextKeepalive = this.nextRtcp = this.nextStats = Infinity;
    if (this.state === 'closed') return;
    const wasOnline = this.state === 'online';
    this.state = 'waiting';
    this.emit('disconnected', { code, reason: reason || this.lastReject?.code || '' });
    const min = this.opts.reconnectMinMs ?? 500;
    const max = this.opts.reconnectMaxMs ?? 30_000;
    // A rejected box backs off to the maximum at once; a dropped one retries quickly.
    const bound = this.lastReject ? max : Math.min(max, min * 2 ** Math.max(0, this.attempts - (wasOnline ? 1 : 0)));
    const wait = bound * (0.5 + Math.random() / 2);
    this.reconnectTimer = setTimeout(() => this.connect(), wait);
  }

  /** (Re)builds decoder and playout for a codec; keeps them across reconnects to the same stream. */
  private applyStream(codec: CodecName, changed: boolean): void {
    if (this.playout && !changed) return;
    this.decoder?.close();
    this.decoder = createDecoder(codec);
    this.reception = new ReceptionStats(this.decoder.clockRate);
    this.lockedSsrc = null;
    if (this.playout) this.playout.reset(this.decoder);
    else
      this.playout = new Playout({
        decoder: this.decoder,
        clock: this.clock,
        playoutDelayMs: this.opts.playoutDelayMs ?? this.session?.playoutDelayMs ?? 150,
        jitterTargetMs: this.opts.jitterTargetMs,
        onFrame: this.opts.onFrame,
      });
  }

  // ---- media --------------------------------------------------------------------

  private async openMedia(advertised: { host: string; port: number }): Promise<void> {
    const target = this.opts.mediaRoute ? this.opts.mediaRoute(advertised) : advertised;
    let address = target.host;
    let family: 4 | 6 = isIP(address) === 6 ? 6 : 4;
    if (isIP(address) === 0) {
      try {
        const r = await lookup(address);
        address = r.address;
        family = r.family === 6 ? 6 : 4;
      } catch {
        this.controlRejected.count(`invalid: cannot resolve media host ${target.host}`);
        return;
      }
    }
    if (this.state === 'closed') return;
    if (this.udp && this.udpFamily !== family) {
      this.udp.close();
      this.udp = null;
    }
    if (!this.udp) {
      const udp = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
      udp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
      udp.on('error', () => {
        /* transient send errors (no route) are retried by the next keepalive */
      });
      udp.bind(0);
      this.udp = udp;
      this.udpFamily = family;
    }
    this.mediaAddress = { address, port: target.port };
    this.sendKeepalive();
  }

  private sendKeepalive(): void {
    if (!this.udp || !this.mediaAddress || !this.session) return;
    const n = writeMediaKeepalive(this.keepaliveBuf, this.session.mediaToken);
    this.udp.send(this.keepaliveBuf, 0, n, this.mediaAddress.port, this.mediaAddress.address);
  }

  private sendReceiverReport(): void {
    const r = this.reception;
    if (!this.udp || !this.mediaAddress || !r || this.lockedSsrc === null) return;
    r.ssrc = this.lockedSsrc;
    const rr = buildReceiverReport(
      { ssrc: this.ownSsrc, reports: [r.reportBlock(this.localNow())], cname: this.opts.endpointId.slice(0, 200) },
      this.rtcpBuf,
    );
    this.udp.send(rr, 0, rr.length, this.mediaAddress.port, this.mediaAddress.address);
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const arrival = this.localNow();
    const media = this.mediaAddress;
    if (!this.opts.acceptAnySource && (!media || rinfo.port !== media.port || rinfo.address !== media.address)) {
      this.drops.wrongSource++;
      return;
    }
    const kind = classifyDatagram(msg);
    if (kind === 'rtp') this.onRtp(msg, arrival);
    else if (kind === 'rtcp') this.onRtcp(msg, arrival);
    else this.drops.unknown++;
  }

  private onRtp(msg: Buffer, arrival: number): void {
    const s = this.session;
    const playout = this.playout;
    const reception = this.reception;
    if (!s || !playout || !reception) {
      this.drops.unknown++;
      return;
    }
    let pkt;
    try {
      pkt = parseRtp(msg);
    } catch {
      this.drops.malformed++;
      return;
    }
    if (pkt.payloadType !== s.payloadType) {
      this.drops.wrongPayloadType++;
      return;
    }
    if (pkt.payload.length === 0) {
      this.drops.malformed++;
      return;
    }
    if (this.lockedSsrc !== pkt.ssrc) {
      if (this.lockedSsrc !== null && arrival - this.lastLockedArrival < SSRC_RELOCK_MS) {
        this.drops.wrongSsrc++;
        return;
      }
      // First stream, or the old one went quiet (server restart): follow the new source.
      if (this.lockedSsrc !== null) {
        this.reception = new ReceptionStats(reception.clockRate);
        playout.reset();
      }
      this.lockedSsrc = pkt.ssrc;
    }
    this.lastLockedArrival = arrival;
    if (!this.reception!.onPacket(pkt.sequence, pkt.timestamp, arrival)) {
      this.drops.invalidSequence++;
      // A jump in sequence numbers waits for a second packet to confirm it (RFC 3550 A.1), but
      // the first packet of a talk-spurt is played: playout renumbers on a new spurt itself.
      if (!pkt.marker) return;
    }
    // L16 frames come as 2 packets of 10 ms (MTU): the playout takes whole frames.
    if (this.joiner?.codec.name !== s.codec) this.joiner = new FrameJoiner(codecInfo(s.codec as CodecName));
    this.joiner.push(pkt.ssrc, pkt.sequence, pkt.timestamp, pkt.payload, arrival, (seq, ts, payload, at, marker) => playout.push(seq, ts, payload, at, marker), pkt.marker);
  }
  private joiner: FrameJoiner | null = null;

  private onRtcp(msg: Buffer, arrival: number): void {
    let packets;
    try {
      packets = parseRtcp(msg);
    } catch {
      this.drops.malformed++;
      return;
    }
    for (const p of packets) {
      if (p.type !== 'sr') continue;
      if (this.lockedSsrc === null) {
        // The server's first SR may precede its first RTP packet (same checked source).
        this.lockedSsrc = p.ssrc;
        this.lastLockedArrival = arrival;
      } else if (p.ssrc !== this.lockedSsrc) {
        this.drops.wrongSsrc++;
        continue; // an SR only counts for the stream we play
      }
      this.playout?.onSenderReport(p.ntpMs, p.rtpTimestamp);
      this.reception?.onSenderReport(p.ntpSeconds, p.ntpFraction, arrival);
    }
  }

  // ---- the 20 ms cycle ------------------------------------------------------------

  private onTick(tickMonotonic: number, index: number): void {
    const local = this.localBase + tickMonotonic;
    const missed = this.lastTickIndex < 0 ? 0 : index - this.lastTickIndex - 1;
    this.lastTickIndex = index;
    this.housekeeping(local);
    if (!this.outputStarted) {
      if (!this.clock.synced) return;
      this.outputStarted = true; // the sink's sample 0 is this slot
    } else if (missed > 0) {
      // The process stalled and the cycle skipped slots: the sink still gets
      // every slot, so a recording's timeline stays true to the clock.
      this.skippedSlots += missed;
      for (let m = missed; m >= 1; m--) this.playSlot(local - m * FRAME_MS, m > MAX_RENDERED_GAP);
    }
    this.playSlot(local, false);
  }

  private playSlot(local: number, silent: boolean): void {
    if (!this.pump) return;
    const { audible, serverMs } = this.pump.play(this.playout, local, silent);
    if (audible && !this.wasAudible) this.emit('playing', { serverMs });
    this.wasAudible = audible;
    if (audible) this.checkWatches(serverMs);
  }

  private sendTimeSync(): void {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    const id = (this.syncId = (this.syncId + 1) >>> 0);
    const t0 = this.localNow();
    this.pendingSync.set(id, t0);
    if (this.pendingSync.size > 16) this.pendingSync.delete(this.pendingSync.keys().next().value!);
    this.send({ type: 'time-sync', id, t0 });
  }

  private housekeeping(local: number): void {
    if (this.ws?.readyState === WebSocket.OPEN && local >= this.nextTimeSync) {
      // Sent once this tick's audio is rendered (every agent of a process renders on the same
      // tick): the reply then finds the process idle and is not stamped late.
      setImmediate(() => this.sendTimeSync());
      this.syncSent++;
      // A quick burst until the estimate is settled (a stream waits for it: endpoint/playout.ts),
      // then a steady trickle that tracks drift. A busy server (hundreds of agents connecting)
      // answers the first requests 10–800 ms late; the burst goes on until it answers one fast.
      const precise = this.clock.uncertaintyMs <= this.clock.settleMs;
      const fast = this.syncSent < 8 || (!precise && this.syncSent < FAST_SYNC_REQUESTS);
      const interval = fast ? 5 * FRAME_MS : this.syncSent < 40 ? 1000 : 2000;
      this.nextTimeSync = local + interval;
    }
    const s = this.session;
    if (!s) return;
    if (local >= this.nextKeepalive) {
      this.sendKeepalive();
      this.nextKeepalive = local + s.keepaliveIntervalMs;
    }
    if (local >= this.nextRtcp) {
      this.sendReceiverReport();
      this.nextRtcp = local + this.rtcpIntervalMs;
    }
    if (local >= this.nextStats) {
      const stats = this.statsSnapshot();
      this.send({ type: 'stats', stats });
      this.emit('stats', stats);
      this.nextStats = local + s.statsIntervalMs;
    }
  }
}
