/**
 * The server side of one endpoint control connection. Transport-agnostic: it
 * takes any `ws`-like socket (ws.WebSocket, @fastify/websocket's socket) and
 * injected functions, so it knows neither fastify nor the engine.
 *
 * Life: awaiting hello → (authenticate) → online (welcome sent, heartbeat
 * running) → closed. A wrong token gets a reject and the socket is closed.
 * Malformed messages are counted; before the hello they end the session, after
 * it they are ignored.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { codecInfo, isCodecName } from '../../codecs/registry.js';
import {
  RejectCounter,
  decodeMessage,
  encodeMessage,
  type AgentMessage,
  type ConfigMessage,
  type EndpointStats,
  type HelloMessage,
  type Outgoing,
  type ServerMessage,
} from './messages.js';
import { HeartbeatWheel } from './heartbeat-wheel.js';
import { CONTROL_CLOSE } from './close-codes.js';

/** The part of a `ws` WebSocket this session uses. */
export interface ControlSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

const WS_OPEN = 1;

// The close codes live in a file of their own: the server's media path uses them without loading the codecs.
export { CONTROL_CLOSE };

export interface EndpointAuthorization {
  zoneId: string;
  /** Codecs the zone is streamed in, server preference first. */
  codecs: readonly string[];
  playoutDelayMs: number;
}

export interface EndpointSessionInfo {
  readonly sessionId: string;
  readonly endpointId: string;
  zoneId: string;
  codec: string;
  payloadType: number;
  /** Token the agent puts in its UDP keepalives; the media worker maps it to this session. */
  readonly mediaToken: string;
  playoutDelayMs: number;
  readonly agentVersion: string;
  readonly capabilities: readonly string[];
  readonly remoteAddress?: string;
}

export type OfflineReason = 'closed' | 'heartbeat-timeout' | 'server-close';

export interface ControlServerSessionOptions {
  authenticate(endpointId: string, token: string): EndpointAuthorization | null | Promise<EndpointAuthorization | null>;
  /** Where agents send keepalives/RTCP (the media worker's UDP port, as reachable from outside). */
  rtp: { host: string; port: number };
  onOnline?(info: EndpointSessionInfo): void;
  onOffline?(info: EndpointSessionInfo, reason: OfflineReason): void;
  onStats?(info: EndpointSessionInfo, stats: EndpointStats): void;
  /** The agent played the first frame of a watched programme (sendWatch). */
  onPlayed?(info: EndpointSessionInfo, programmeId: string, atMs: number): void;
  /** Called for every rejected message (already counted in `rejected`). */
  onInvalidMessage?(reason: string): void;
  /** RTP payload type of a codec; defaults to defaultPayloadType. */
  payloadTypeFor?(codec: string): number | undefined;
  /** Server wall-clock in Unix ms; must be the clock the engine stamps RTCP sender reports with. */
  now?: () => number;
  remoteAddress?: string;
  helloTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Consecutive unanswered pings before the endpoint is marked offline. */
  missedPongsLimit?: number;
  /** Where heartbeats are scheduled (default: the process-wide wheel for heartbeatIntervalMs). */
  heartbeatWheel?: HeartbeatWheel;
  keepaliveIntervalMs?: number;
  statsIntervalMs?: number;
}

/** Loa's payload type of each codec it knows (codecs/registry.ts). */
export function defaultPayloadType(codec: string): number | undefined {
  return isCodecName(codec) ? codecInfo(codec).payloadType : undefined;
}

/** Sub-millisecond wall-clock (Unix ms). */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export type SessionState = 'awaiting-hello' | 'authenticating' | 'online' | 'closed';

export class ControlServerSession {
  state: SessionState = 'awaiting-hello';
  info: EndpointSessionInfo | null = null;
  readonly rejected = new RejectCounter();
  /** Round-trip time of the last answered ping, ms. */
  lastPingRttMs = -1;

  private readonly now: () => number;
  private readonly heartbeatIntervalMs: number;
  private readonly missedPongsLimit: number;
  private helloTimer: NodeJS.Timeout | null = null;
  private readonly wheel: HeartbeatWheel;
  /** A valid message arrived since the last heartbeat: the agent is alive, no ping needed. */
  private heard = false;
  /** Heartbeats that found the agent heard from and sent no ping (diagnostics, tests). */
  pingsSkipped = 0;
  private pingNonce = 0;
  private pingSentAt = 0;
  private pingAnswered = true;
  private missedPongs = 0;

  constructor(
    private readonly socket: ControlSocket,
    private readonly options: ControlServerSessionOptions,
  ) {
    this.now = options.now ?? wallClockMs;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 10_000;
    this.missedPongsLimit = options.missedPongsLimit ?? 3;
    this.wheel = options.heartbeatWheel ?? HeartbeatWheel.forInterval(this.heartbeatIntervalMs);
    this.helloTimer = setTimeout(() => this.reject('hello-timeout', 'no hello received in time', CONTROL_CLOSE.helloTimeout), options.helloTimeoutMs ?? 10_000);
    socket.on('message', (data: unknown, isBinary?: boolean) => this.onMessage(data, isBinary === true));
    socket.on('close', () => this.shutdown('closed'));
    socket.on('error', () => {
      /* a 'close' follows */
    });
  }

  /** Pushes a live change (zone, codec, playout delay, media address) to the agent. */
  sendConfig(change: Omit<Outgoing<ConfigMessage>, 'type'>): void {
    if (this.state !== 'online' || !this.info) return;
    if (change.zoneId !== undefined) this.info.zoneId = change.zoneId;
    if (change.codec !== undefined) this.info.codec = change.codec;
    if (change.payloadType !== undefined) this.info.payloadType = change.payloadType;
    if (change.playoutDelayMs !== undefined) this.info.playoutDelayMs = change.playoutDelayMs;
    this.send({ type: 'config', ...change });
  }

  /** Asks the agent to report (a 'played' message) when it plays this programme from `fromMs` on. */
  sendWatch(programmeId: string, fromMs: number): void {
    if (this.state !== 'online') return;
    this.send({ type: 'watch', programmeId, fromMs });
  }

  /** Closes the connection from the server side; onOffline fires with 'server-close'. */
  close(code: number = CONTROL_CLOSE.normal, reason = 'server closing'): void {
    if (this.state === 'closed') return;
    this.shutdown('server-close');
    this.socket.close(code, reason);
  }

  private send(msg: Outgoing<ServerMessage>): void {
    if (this.socket.readyState === WS_OPEN) this.socket.send(encodeMessage(msg));
  }

  private onMessage(data: unknown, isBinary: boolean): void {
    const t1 = this.now();
    if (this.state === 'closed') return;
    let result;
    if (isBinary) result = { ok: false as const, reason: 'binary: control messages are text' };
    else if (typeof data === 'string' || Buffer.isBuffer(data)) result = decodeMessage(data, 'agent');
    else if (Array.isArray(data)) result = decodeMessage(Buffer.concat(data as Buffer[]), 'agent');
    else if (data instanceof ArrayBuffer) result = decodeMessage(Buffer.from(data), 'agent');
    else result = { ok: false as const, reason: 'binary: unexpected frame' };
    if (!result.ok) {
      this.rejected.count(result.reason);
      this.options.onInvalidMessage?.(result.reason);
      if (this.state === 'awaiting-hello') this.reject('bad-hello', result.reason, CONTROL_CLOSE.rejected);
      return;
    }
    this.heard = true;
    this.handle(result.msg, t1);
  }

  private handle(msg: AgentMessage, t1: number): void {
    switch (msg.type) {
      case 'time-sync':
        // Answered in any state, as early as possible: the agent may sync before it is welcomed.
        this.send({ type: 'time-sync-reply', id: msg.id, t0: msg.t0, t1, t2: this.now() });
        return;
      case 'hello':
        if (this.state !== 'awaiting-hello') {
          this.rejected.count('unexpected: hello after hello');
          return;
        }
        void this.onHello(msg);
        return;
      case 'pong':
        if (msg.nonce === this.pingNonce && !this.pingAnswered) {
          this.pingAnswered = true;
          this.missedPongs = 0;
          this.lastPingRttMs = this.now() - this.pingSentAt;
        }
        return;
      case 'stats':
        if (this.state === 'online' && this.info) this.options.onStats?.(this.info, msg.stats);
        else this.rejected.count('unexpected: stats before welcome');
        return;
      case 'played':
        if (this.state === 'online' && this.info) this.options.onPlayed?.(this.info, msg.programmeId, msg.atMs);
        else this.rejected.count('unexpected: played before welcome');
        return;
    }
  }

  private async onHello(hello: HelloMessage): Promise<void> {
    this.state = 'authenticating';
    let auth: EndpointAuthorization | null;
    try {
      auth = await this.options.authenticate(hello.endpointId, hello.token);
    } catch {
      this.reject('server-error', 'could not check credentials', CONTROL_CLOSE.rejected);
      return;
    }
    if ((this.state as SessionState) === 'closed') return;
    if (!auth) {
      this.reject('bad-credentials', 'unknown endpoint or wrong token', CONTROL_CLOSE.rejected);
      return;
    }
    const ptFor = this.options.payloadTypeFor ?? defaultPayloadType;
    const codec = hello.codecs.find((c) => auth.codecs.includes(c) && ptFor(c) !== undefined);
    if (!codec) {
      this.reject('no-common-codec', `zone offers ${auth.codecs.join(',') || 'nothing'}; agent accepts ${hello.codecs.join(',')}`, CONTROL_CLOSE.rejected);
      return;
    }
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
    const info: EndpointSessionInfo = {
      sessionId: randomUUID(),
      endpointId: hello.endpointId,
      zoneId: auth.zoneId,
      codec,
      payloadType: ptFor(codec)!,
      mediaToken: randomBytes(12).toString('base64url'),
      playoutDelayMs: auth.playoutDelayMs,
      agentVersion: hello.agentVersion,
      capabilities: hello.capabilities,
      remoteAddress: this.options.remoteAddress,
    };
    this.info = info;
    this.state = 'online';
    this.send({
      type: 'welcome',
      sessionId: info.sessionId,
      zoneId: info.zoneId,
      codec: info.codec,
      payloadType: info.payloadType,
      rtp: { host: this.options.rtp.host, port: this.options.rtp.port },
      mediaToken: info.mediaToken,
      playoutDelayMs: info.playoutDelayMs,
      keepaliveIntervalMs: this.options.keepaliveIntervalMs ?? 5_000,
      statsIntervalMs: this.options.statsIntervalMs ?? 10_000,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
    });
    this.heard = false;
    this.wheel.add(this);
    this.options.onOnline?.(info);
  }

  /** Once per heartbeat interval, from the shared wheel. */
  heartbeat(): void {
    if (this.state !== 'online') return;
    if (this.heard) {
      // Agents that time-sync (every 2 s) or send stats prove they are alive without a ping:
      // at N = 1000 that spares the main thread a WebSocket write and a read per agent and interval.
      this.heard = false;
      this.pingAnswered = true;
      this.missedPongs = 0;
      this.pingsSkipped++;
      return;
    }
    if (!this.pingAnswered && ++this.missedPongs >= this.missedPongsLimit) {
      this.shutdown('heartbeat-timeout');
      this.socket.close(CONTROL_CLOSE.heartbeatTimeout, 'heartbeat timeout');
      return;
    }
    this.pingNonce = (this.pingNonce + 1) >>> 0;
    this.pingAnswered = false;
    this.pingSentAt = this.now();
    this.send({ type: 'ping', nonce: this.pingNonce });
  }

  private reject(code: string, message: string, closeCode: number): void {
    if (this.state === 'closed') return;
    this.send({ type: 'reject', code, message: message.slice(0, 1024) });
    this.shutdown('server-close');
    this.socket.close(closeCode, code);
  }

  private shutdown(reason: OfflineReason): void {
    if (this.state === 'closed') return;
    const wasOnline = this.state === 'online';
    this.state = 'closed';
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
    this.wheel.remove(this);
    if (wasOnline && this.info) this.options.onOffline?.(this.info, reason);
  }
}
