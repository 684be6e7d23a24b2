/**
 * A userspace UDP impairment relay (the test machines have no netem):
 * datagrams received on its port are forwarded to a target after a base delay
 * ± uniform jitter, some dropped, some duplicated. Decisions come from a
 * seeded generator in a fixed order per datagram, so a seed reproduces the
 * same losses, duplicates and delays. Datagrams coming back from the target
 * are returned to the last sender unimpaired (so RTCP receiver reports flow).
 * Test and bench tooling, not part of the server (bench/impair-proxy.ts and
 * the tests use it).
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';

export interface Impairment {
  /** Base one-way delay. */
  delayMs: number;
  /** Each datagram's delay is base ± uniform(jitterMs), never below 0. */
  jitterMs: number;
  /** Percentage (0-100) of datagrams dropped. */
  lossPercent: number;
  /** Percentage (0-100) of forwarded datagrams sent twice (each copy delayed on its own). */
  duplicatePercent: number;
}

export interface UdpRelayOptions extends Partial<Impairment> {
  target: { address: string; port: number };
  /** Default 127.0.0.1. */
  listenAddress?: string;
  /** Default 0 (an ephemeral port; read it from relay.port). */
  listenPort?: number;
  /** Seed of the decisions; default a random one. */
  seed?: number;
  /** The relay's clock (ms); default performance.now. */
  now?: () => number;
  /** Told of every copy the relay starts holding, in the order it starts them (tests). */
  onHold?: (hold: { delayMs: number; dueMs: number }) => void;
}

export interface UdpRelayCounters {
  received: number;
  dropped: number;
  forwarded: number;
  duplicated: number;
  /** Datagrams from the target sent back to the last sender. */
  returned: number;
}

/** Deterministic uniform [0, 1) generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

/** What happens to one datagram: undefined when dropped, else the delay of each copy. */
export type RelayDecision = number[] | undefined;

/**
 * The decision for the next datagram, drawing from random in a fixed order
 * (loss, delay, duplicate, duplicate's delay). Exported so tests can predict
 * what a seeded relay does.
 */
export function decide(random: () => number, imp: Impairment): RelayDecision {
  if (random() * 100 < imp.lossPercent) return undefined;
  const delay = () => Math.max(0, imp.delayMs + (random() * 2 - 1) * imp.jitterMs);
  const first = delay();
  if (random() * 100 < imp.duplicatePercent) return [first, delay()];
  return [first];
}

/** A copy waiting in the relay until its due time (on the relay's clock). */
interface HeldCopy {
  dueMs: number;
  msg: Buffer;
}

export class UdpRelay {
  /**
   * Copies in due order (a copy due together with another goes after it). One timer for the
   * earliest: when the event loop wakes late, everything due leaves in due order — a timer
   * per copy would not (Node drains all expired timers of one duration before the next).
   */
  private readonly held: HeldCopy[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly random: () => number;
  private imp: Impairment;
  private lastSender: { address: string; port: number } | undefined;
  private closed = false;
  private readonly c: UdpRelayCounters = { received: 0, dropped: 0, forwarded: 0, duplicated: 0, returned: 0 };

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly target: { address: string; port: number },
    imp: Impairment,
    seed: number,
    private readonly now: () => number,
    private readonly onHold: UdpRelayOptions['onHold'],
  ) {
    this.imp = imp;
    this.random = seededRandom(seed);
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    // A send error (ICMP unreachable surfacing) must not kill the relay.
    socket.on('error', () => {});
  }

  static open(opts: UdpRelayOptions): Promise<UdpRelay> {
    const socket = dgram.createSocket(opts.target.address.includes(':') ? 'udp6' : 'udp4');
    const imp: Impairment = {
      delayMs: opts.delayMs ?? 0,
      jitterMs: opts.jitterMs ?? 0,
      lossPercent: opts.lossPercent ?? 0,
      duplicatePercent: opts.duplicatePercent ?? 0,
    };
    const seed = opts.seed ?? Math.floor(Math.random() * 0x1_0000_0000);
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.listenPort ?? 0, opts.listenAddress ?? '127.0.0.1', () => {
        socket.off('error', reject);
        resolve(new UdpRelay(socket, opts.target, imp, seed, opts.now ?? (() => performance.now()), opts.onHold));
      });
    });
  }

  /** The port senders send to. */
  get port(): number {
    return this.socket.address().port;
  }

  counters(): UdpRelayCounters {
    return { ...this.c };
  }

  /** Changes the impairment for datagrams received from now on. */
  setImpairment(imp: Partial<Impairment>): void {
    this.imp = { ...this.imp, ...imp };
  }

  /** Stops relaying; datagrams still waiting are discarded. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    clearTimeout(this.timer);
    this.held.length = 0;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closed) return;
    if (rinfo.port === this.target.port && rinfo.address === this.target.address) {
      if (this.lastSender) {
        this.c.returned++;
        this.socket.send(msg, this.lastSender.port, this.lastSender.address);
      }
      return;
    }
    this.lastSender = { address: rinfo.address, port: rinfo.port };
    this.c.received++;
    const delays = decide(this.random, this.imp);
    if (!delays) {
      this.c.dropped++;
      return;
    }
    if (delays.length > 1) this.c.duplicated++;
    for (const delay of delays) this.later(msg, delay);
  }

  private later(msg: Buffer, delayMs: number): void {
    const dueMs = this.now() + delayMs;
    this.onHold?.({ delayMs, dueMs });
    let lo = 0;
    let hi = this.held.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.held[mid].dueMs <= dueMs) lo = mid + 1;
      else hi = mid;
    }
    this.held.splice(lo, 0, { dueMs, msg });
    if (lo === 0) this.arm();
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const first = this.held[0];
    // Node timers have whole-ms granularity and may wake a little early: release() re-arms.
    if (first) this.timer = setTimeout(this.release, Math.max(0, first.dueMs - this.now()));
  }

  private readonly release = (): void => {
    this.timer = undefined;
    if (this.closed) return;
    const now = this.now();
    let due = 0;
    while (due < this.held.length && this.held[due].dueMs <= now) due++;
    for (const copy of this.held.splice(0, due)) {
      this.c.forwarded++;
      this.socket.send(copy.msg, this.target.port, this.target.address);
    }
    this.arm();
  };
}
