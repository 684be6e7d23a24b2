/**
 * The worker's one UDP socket: RTP goes out from it, and agents' packets come
 * in on it. An agent's packet tells the worker where to send its zone stream
 * (NAT/4G friendly: we answer the address the packets come from):
 *  - a media keepalive (protocols/control/media-keepalive.ts) whose token
 *    matches an attached endpoint — the strong way;
 *  - any RTCP packet whose sender SSRC matches an endpoint attached with
 *    `learn: { ssrc }` — weaker (an SSRC is not a secret).
 * Receiver reports about our streams become endpoint statistics. Everything
 * else — malformed, truncated, unknown token or SSRC — is dropped and counted.
 */
import dgram, { type Socket } from 'node:dgram';
import { literalLookup } from './literal-lookup.js';
import { classifyDatagram, parseMediaKeepalive } from '../protocols/control/media-keepalive.js';
import { msToNtpShort, roundTripMs } from '../protocols/rtp/ntp.js';
import { parseRtcp, type ReportBlock } from '../protocols/rtp/rtcp.js';

export interface LearnKey {
  token?: string;
  ssrc?: number;
}

export interface MediaPortHooks {
  /** A packet proved the endpoint is at host:port (called only when it changed). */
  learned(endpointId: string, host: string, port: number): void;
  /** A receiver report block about one of our streams, from an endpoint. */
  report(endpointId: string, block: ReportBlock, rttMs: number | undefined): void;
  wallNow(): number;
}

export interface MediaPortCounters {
  received: number;
  badPackets: number;
  unknownPackets: number;
  /** Send errors of every stream (counted by their fan-outs) and of this socket's 'error' events. */
  sendErrors: number;
  /** Datagrams dropped by the fan-outs because a socket's send queue was at its limit. */
  sendDropped: number;
}

export class MediaPort {
  readonly counters: MediaPortCounters = { received: 0, badPackets: 0, unknownPackets: 0, sendErrors: 0, sendDropped: 0 };
  private readonly byToken = new Map<string, string>();
  private readonly bySsrc = new Map<number, string>();
  private readonly where = new Map<string, { host: string; port: number }>();
  /** host:port -> endpoint, to attribute RTCP from an address learned by token. */
  private readonly byAddress = new Map<string, string>();

  private constructor(
    readonly socket: Socket,
    private readonly hooks: MediaPortHooks,
  ) {
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    socket.on('error', () => {
      this.counters.sendErrors++;
    });
  }

  static open(port: number, host: string | undefined, hooks: MediaPortHooks): Promise<MediaPort> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false, lookup: literalLookup });
    return new Promise((resolve, reject) => {
      const fail = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', fail);
      socket.bind(port, host, () => {
        socket.off('error', fail);
        resolve(new MediaPort(socket, hooks));
      });
    });
  }

  get port(): number {
    return this.socket.address().port;
  }

  register(endpointId: string, key: LearnKey): void {
    if (key.token !== undefined) this.byToken.set(key.token, endpointId);
    if (key.ssrc !== undefined) this.bySsrc.set(key.ssrc >>> 0, endpointId);
  }

  /**
   * A fixed-address receiver (no agent, nothing to learn): its RTCP receiver reports, sent
   * from this address, are its statistics (and, for alerts, its proof of delivery).
   */
  expectReportsFrom(endpointId: string, host: string, port: number): void {
    this.byAddress.set(`${host}:${port}`, endpointId);
  }

  unregister(endpointId: string): void {
    for (const [k, v] of this.byAddress) if (v === endpointId) this.byAddress.delete(k);
    for (const [k, v] of this.byToken) if (v === endpointId) this.byToken.delete(k);
    for (const [k, v] of this.bySsrc) if (v === endpointId) this.bySsrc.delete(k);
    const w = this.where.get(endpointId);
    if (w && this.byAddress.get(`${w.host}:${w.port}`) === endpointId) this.byAddress.delete(`${w.host}:${w.port}`);
    this.where.delete(endpointId);
  }

  /** Handles one datagram; public so tests can feed hostile input directly too. */
  onMessage(msg: Buffer, host: string, port: number): void {
    this.counters.received++;
    try {
      switch (classifyDatagram(msg)) {
        case 'keepalive': {
          const ka = parseMediaKeepalive(msg);
          if (!ka.ok) return void this.counters.badPackets++;
          const id = this.byToken.get(ka.mediaToken);
          if (id === undefined) return void this.counters.unknownPackets++;
          this.learn(id, host, port);
          return;
        }
        case 'rtcp':
          this.onRtcp(msg, host, port);
          return;
        default:
          // Agents do not send us RTP on this port; anything else is noise.
          this.counters.badPackets++;
      }
    } catch {
      this.counters.badPackets++;
    }
  }

  private onRtcp(msg: Buffer, host: string, port: number): void {
    const packets = parseRtcp(msg);
    let from: string | undefined;
    for (const p of packets) {
      if (p.type === 'rr' || p.type === 'sr' || p.type === 'app') {
        from = this.bySsrc.get(p.ssrc >>> 0);
        if (from !== undefined) break;
      }
    }
    if (from !== undefined) this.learn(from, host, port);
    // Reports from an address learned by token count too (they cannot move a stream).
    from ??= this.byAddress.get(`${host}:${port}`);
    if (from === undefined) {
      this.counters.unknownPackets++;
      return;
    }
    const arrival = msToNtpShort(this.hooks.wallNow());
    for (const p of packets) {
      if (p.type !== 'rr' && p.type !== 'sr') continue;
      for (const b of p.reports) this.hooks.report(from, b, roundTripMs(arrival, b.lsr, b.dlsr));
    }
  }

  private learn(endpointId: string, host: string, port: number): void {
    const w = this.where.get(endpointId);
    if (w && w.host === host && w.port === port) return;
    if (w && this.byAddress.get(`${w.host}:${w.port}`) === endpointId) this.byAddress.delete(`${w.host}:${w.port}`);
    this.where.set(endpointId, { host, port });
    this.byAddress.set(`${host}:${port}`, endpointId);
    this.hooks.learned(endpointId, host, port);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
