/**
 * Sends the same bytes to every destination of a zone stream: fan-out is N
 * sends of one buffer, never N encodes. Destinations are IP literals (learned
 * from packets, or validated when configured) so no lookup is needed.
 *
 * Send errors: Node 20's dgram drops a send's error when send() has no
 * callback (neither the callback nor the socket's 'error' event sees it), so
 * every send passes its destination's callback — one function per destination,
 * made once when it is added, so the hot path allocates no closure per packet.
 * Errors and drops are counted per destination and in the shared totals.
 *
 * Bounded queue: when the kernel's socket buffer is full (EAGAIN), libuv
 * queues the send — without bound, holding a reference to the caller's
 * buffer. A fan-out that finds its socket's queue at the limit drops its
 * packets (counted) instead of queueing more, and tells the caller whether
 * the buffer it was given may still be read later (see ZoneStream.write).
 */
import type { Socket } from 'node:dgram';
import type { DestinationSendStats } from './protocol.js';

export type { DestinationSendStats };

export interface Destination {
  /** Unique per stream: the endpoint id, or 'multicast'. */
  readonly key: string;
  readonly host: string;
  readonly port: number;
  /** Where RTCP sender reports go (== port for rtcp-mux agents). */
  readonly rtcpPort: number;
  readonly socket: Socket;
}

/** Shared by every fan-out of a plane: the queue limit (updated as destinations come and go) and the totals. */
export interface SendPolicy {
  /** A fan-out does not add to a socket whose libuv send queue holds this many datagrams. */
  maxQueued: number;
  totals: { sendErrors: number; sendDropped: number };
}

/** Enough for a couple of frames of a small deployment; MediaPlane raises it with the destinations. */
export const MIN_QUEUED_SENDS = 64;

/** One destination with its counters and its send callback. */
export class Route {
  errors = 0;
  dropped = 0;
  lastError: string | null = null;
  /** The one send callback of this destination: afterSend(err, bytes). */
  readonly onSent: (err: Error | null) => void;

  constructor(
    public dest: Destination,
    owner: Fanout,
  ) {
    this.onSent = (err) => {
      if (err) owner.failed(this, err);
    };
  }
}

export class Fanout {
  private list: Route[] = [];
  /** Datagrams handed to the socket (RTP only). */
  sent = 0;
  /** This stream's share of the totals (RTP and RTCP). */
  sendErrors = 0;
  sendDropped = 0;

  constructor(private readonly policy: SendPolicy = { maxQueued: MIN_QUEUED_SENDS, totals: { sendErrors: 0, sendDropped: 0 } }) {}

  get size(): number {
    return this.list.length;
  }

  destinations(): readonly Destination[] {
    return this.list.map((r) => r.dest);
  }

  /** Adds or replaces (same key) a destination; a replaced one keeps its counters. */
  set(d: Destination): void {
    const r = this.list.find((x) => x.dest.key === d.key);
    if (r) r.dest = d;
    else this.list.push(new Route(d, this));
  }

  remove(key: string): boolean {
    const i = this.list.findIndex((x) => x.dest.key === key);
    if (i < 0) return false;
    this.list.splice(i, 1);
    return true;
  }

  /** Counters of one destination, if it is in this fan-out. */
  statsOf(key: string): DestinationSendStats | undefined {
    const r = this.list.find((x) => x.dest.key === key);
    return r && statsOf(r);
  }

  /** Destinations that had errors or drops, most affected first, at most `max`. */
  failing(max = 20): DestinationSendStats[] {
    const bad = this.list.filter((r) => r.errors > 0 || r.dropped > 0);
    bad.sort((a, b) => b.errors + b.dropped - (a.errors + a.dropped));
    return bad.slice(0, max).map(statsOf);
  }

  /**
   * Sends buf[0, length) to every destination. Returns true when libuv may
   * still read `buf` after this returns (a send was queued): the caller must
   * not write into it again.
   */
  send(buf: Buffer, length: number): boolean {
    const max = this.policy.maxQueued;
    let socket: Socket | undefined;
    let full = false;
    let queued = false;
    // Node builds an Error for each failed send before our callback sees it; its stack
    // trace is most of the cost: 17 µs → 4.4 µs CPU per failed send (bench/send-cost.ts),
    // which matters when a whole network is unreachable. The callback only reads err.code.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      for (const r of this.list) {
        const d = r.dest;
        if (d.socket !== socket) {
          // One native call per socket per packet, not per destination.
          if (socket !== undefined && socket.getSendQueueCount() > 0) queued = true;
          socket = d.socket;
          full = socket.getSendQueueCount() >= max;
        }
        if (full) {
          this.drop(r);
          continue;
        }
        socket.send(buf, 0, length, d.port, d.host, r.onSent);
        this.sent++;
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    if (socket !== undefined && socket.getSendQueueCount() > 0) queued = true;
    return queued;
  }

  /** RTCP goes in a fresh buffer each time, so a queued report needs no care beyond the bound. */
  sendRtcp(buf: Buffer): void {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // as in send()
    try {
      for (const r of this.list) {
        const d = r.dest;
        if (d.socket.getSendQueueCount() >= this.policy.maxQueued) this.drop(r);
        else d.socket.send(buf, 0, buf.length, d.rtcpPort, d.host, r.onSent);
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }

  clear(): void {
    this.list = [];
  }

  /** A send to `r` failed (called from its send callback). */
  failed(r: Route, err: Error): void {
    r.errors++;
    r.lastError = (err as NodeJS.ErrnoException).code ?? err.message;
    this.sendErrors++;
    this.policy.totals.sendErrors++;
  }

  private drop(r: Route): void {
    r.dropped++;
    this.sendDropped++;
    this.policy.totals.sendDropped++;
  }
}

function statsOf(r: Route): DestinationSendStats {
  return { key: r.dest.key, host: r.dest.host, port: r.dest.port, errors: r.errors, dropped: r.dropped, lastError: r.lastError };
}
