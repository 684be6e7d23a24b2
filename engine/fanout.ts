/**
 * Sends the same bytes to every destination of a zone stream: fan-out is N
 * sends of one buffer, never N encodes. Destinations are IP literals (learned
 * from packets, or validated when configured) so no lookup is needed.
 *
 * Two ways to the kernel (engine/send-backend.ts, chosen at start):
 * - sendmmsg (native addon): each run of destinations on one socket goes in
 *   one call per 256 datagrams; the call returns once the kernel has copied
 *   every datagram, so the buffer is free again at once. A datagram the
 *   kernel refuses is counted against its destination and the rest still go.
 *   When the socket buffer is full (EAGAIN) the rest of the run goes the
 *   dgram way below, which queues (bounded); while libuv holds a queue for a
 *   socket, every send to it goes that way too, so no packet overtakes one
 *   queued before it.
 * - dgram: Node 20's dgram drops a send's error when send() has no callback
 *   (neither the callback nor the socket's 'error' event sees it), so every
 *   send passes its destination's callback — one function per destination,
 *   made once when it is added, so the hot path allocates no closure per
 *   packet.
 * Errors and drops are counted per destination and in the shared totals.
 *
 * Bounded queue: when the kernel's socket buffer is full (EAGAIN), libuv
 * queues the send — without bound, holding a reference to the caller's
 * buffer. A fan-out that finds its socket's queue at the limit drops its
 * packets (counted) instead of queueing more, and tells the caller whether
 * the buffer it was given may still be read later (see ZoneStream.write).
 */
import type { Socket } from 'node:dgram';
import { getSystemErrorName } from 'node:util';
import type { DestinationSendStats } from './protocol.js';
import { defaultSendBackend, socketFd, type NativeSend, type SendBackend } from './send-backend.js';

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
  /** How datagrams reach the kernel; default: this thread's choice (defaultSendBackend). */
  backend?: SendBackend;
}

/** Enough for a couple of frames of a small deployment; MediaPlane raises it with the destinations. */
export const MIN_QUEUED_SENDS = 64;

/** One destination with its counters and its send callback. */
export class Route {
  errors = 0;
  dropped = 0;
  lastError: string | null = null;
  /** Whether its address is in the fan-out's address records (an IP literal; else dgram). */
  packed = false;
  /** The one send callback of this destination: afterSend(err, bytes). */
  readonly onSent: (err: Error | null) => void;

  constructor(
    public dest: Destination,
    owner: Fanout,
  ) {
    this.onSent = (err) => {
      if (err) owner.failed(this, (err as NodeJS.ErrnoException).code ?? err.message);
    };
  }
}

/** (index, errno) pairs the addon reports per call; more just means another call. One per thread. */
const MAX_ERRORS_PER_CALL = 256;
const nativeErrors = new Int32Array(1 + 2 * MAX_ERRORS_PER_CALL);

export class Fanout {
  private list: Route[] = [];
  /** Datagrams handed to the socket (RTP only). */
  sent = 0;
  /** This stream's share of the totals (RTP and RTCP). */
  sendErrors = 0;
  sendDropped = 0;
  /** The addon when the backend is sendmmsg. */
  private readonly native: NativeSend | null;
  /** Address records of the list's RTP / RTCP ports for the addon; null: rebuilt on next send. */
  private rtpAddresses: Buffer | null = null;
  private rtcpAddresses: Buffer | null = null;

  constructor(private readonly policy: SendPolicy = { maxQueued: MIN_QUEUED_SENDS, totals: { sendErrors: 0, sendDropped: 0 } }) {
    this.native = (policy.backend ?? defaultSendBackend()).native;
  }

  /** 'sendmmsg' or 'dgram'. */
  get backend(): SendBackend['name'] {
    return this.native ? 'sendmmsg' : 'dgram';
  }

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
    this.changed();
  }

  remove(key: string): boolean {
    const i = this.list.findIndex((x) => x.dest.key === key);
    if (i < 0) return false;
    this.list.splice(i, 1);
    this.changed();
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
    return this.sendToAll(buf, length, false);
  }

  /** RTCP goes in a fresh buffer each time, so a queued report needs no care beyond the bound. */
  sendRtcp(buf: Buffer): void {
    this.sendToAll(buf, buf.length, true);
  }

  clear(): void {
    this.list = [];
    this.changed();
  }

  /** A send to `r` failed: from its dgram callback, or from the addon's report. */
  failed(r: Route, code: string): void {
    r.errors++;
    r.lastError = code;
    this.sendErrors++;
    this.policy.totals.sendErrors++;
  }

  private sendToAll(buf: Buffer, length: number, rtcp: boolean): boolean {
    // Node builds an Error for each failed dgram send before our callback sees it; its stack
    // trace is most of the cost: 17 µs → 4.4 µs CPU per failed send (bench/send-cost.ts),
    // which matters when a whole network is unreachable. The callback only reads err.code.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return this.native ? this.sendNative(this.native, buf, length, rtcp) : this.sendDgram(buf, length, 0, this.list.length, rtcp);
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }

  /** Runs of destinations on one socket through the addon; see the file comment for when dgram takes over. */
  private sendNative(native: NativeSend, buf: Buffer, length: number, rtcp: boolean): boolean {
    const list = this.list;
    const n = list.length;
    const addresses = rtcp ? this.rtcpRecords(native) : this.rtpRecords(native);
    let queued = false;
    let i = 0;
    while (i < n) {
      const socket = list[i].dest.socket;
      if (!list[i].packed) {
        if (this.sendDgram(buf, length, i, i + 1, rtcp)) queued = true;
        i++;
        continue;
      }
      let end = i + 1;
      while (end < n && list[end].packed && list[end].dest.socket === socket) end++;
      const fd = socketFd(socket);
      if (fd < 0 || socket.getSendQueueCount() > 0) {
        if (this.sendDgram(buf, length, i, end, rtcp)) queued = true;
        i = end;
        continue;
      }
      let from = i;
      while (from < end) {
        const reached = native.send(fd, buf, length, addresses, from, end, nativeErrors);
        const errors = nativeErrors[0];
        for (let e = 0; e < errors; e++) this.failed(list[nativeErrors[1 + 2 * e]], errnoCode(nativeErrors[2 + 2 * e]));
        if (!rtcp) this.sent += reached - from;
        if (reached < end && errors < MAX_ERRORS_PER_CALL) {
          // EAGAIN: the kernel's buffer is full; the rest waits in libuv's queue (bounded) or is dropped.
          if (this.sendDgram(buf, length, reached, end, rtcp)) queued = true;
          break;
        }
        from = reached;
      }
      i = end;
    }
    return queued;
  }

  /** dgram.send to list[from, to), each socket's queue bounded; true if a socket holds queued sends after. */
  private sendDgram(buf: Buffer, length: number, from: number, to: number, rtcp: boolean): boolean {
    const max = this.policy.maxQueued;
    let socket: Socket | undefined;
    let full = false;
    let queued = false;
    for (let i = from; i < to; i++) {
      const r = this.list[i];
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
      socket.send(buf, 0, length, rtcp ? d.rtcpPort : d.port, d.host, r.onSent);
      if (!rtcp) this.sent++;
    }
    if (socket !== undefined && socket.getSendQueueCount() > 0) queued = true;
    return queued;
  }

  private changed(): void {
    this.rtpAddresses = null;
    this.rtcpAddresses = null;
  }

  private rtpRecords(native: NativeSend): Buffer {
    return (this.rtpAddresses ??= this.records(native, false));
  }

  private rtcpRecords(native: NativeSend): Buffer {
    // rtcp-mux agents (the usual case) share the RTP records.
    return (this.rtcpAddresses ??= this.list.every((r) => r.dest.rtcpPort === r.dest.port) ? this.rtpRecords(native) : this.records(native, true));
  }

  /** One sockaddr per destination, in list order (rebuilt after a change, not per packet). */
  private records(native: NativeSend, rtcp: boolean): Buffer {
    const size = native.ADDRESS_BYTES;
    const b = Buffer.alloc(Math.max(1, this.list.length) * size);
    this.list.forEach((r, i) => {
      r.packed = native.writeAddress(b, i * size, r.dest.host, rtcp ? r.dest.rtcpPort : r.dest.port) !== 0;
    });
    return b;
  }

  private drop(r: Route): void {
    r.dropped++;
    this.sendDropped++;
    this.policy.totals.sendDropped++;
  }
}

const errnoCodes = new Map<number, string>();
/** 'EPERM' for 1, as dgram's errors say it. */
function errnoCode(errno: number): string {
  let code = errnoCodes.get(errno);
  if (code === undefined) {
    try {
      code = getSystemErrorName(-errno);
    } catch {
      code = `errno ${errno}`;
    }
    errnoCodes.set(errno, code);
  }
  return code;
}

function statsOf(r: Route): DestinationSendStats {
  return { key: r.dest.key, host: r.dest.host, port: r.dest.port, errors: r.errors, dropped: r.dropped, lastError: r.lastError };
}
