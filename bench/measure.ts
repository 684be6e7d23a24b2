/**
 * The bench's measurement maths, pure functions over what the load processes
 * report: sync spread per RTP timestamp, preemption times, loss percentages,
 * memory per endpoint, and the per-frame alert classifier. Kept apart from
 * the processes and sockets so tests can feed them synthetic inputs.
 */
import { goertzelPower } from '../codecs/analysis.js';
import { SAMPLE_RATE } from '../codecs/pcm.js';
import { percentile, summarize, type Summary } from './percentiles.js';

/** One frame's true playout time at one endpoint: [zone index, RTP timestamp, real-clock ms]. */
export type SyncSample = [zone: number, rtpTimestamp: number, playoutMs: number];

export interface SyncSpread {
  /** (zone, timestamp) pairs heard by at least `minEndpoints` endpoints. */
  timestamps: number;
  /** Spread (max − min) of playout times per pair, ms. */
  spread: Summary;
}

/**
 * For each (zone, RTP timestamp), the spread max − min of the playout times
 * across the endpoints that played it; summarised over all pairs. Pairs heard
 * by fewer than `minEndpoints` endpoints (a frame at the edge of the window)
 * are left out so a lone endpoint does not count as perfect sync.
 */
export function syncSpread(samples: Iterable<SyncSample>, minEndpoints = 2): SyncSpread {
  const groups = new Map<string, { lo: number; hi: number; n: number }>();
  for (const [zone, ts, ms] of samples) {
    const key = `${zone}:${ts}`;
    const g = groups.get(key);
    if (!g) groups.set(key, { lo: ms, hi: ms, n: 1 });
    else {
      if (ms < g.lo) g.lo = ms;
      if (ms > g.hi) g.hi = ms;
      g.n++;
    }
  }
  const spreads: number[] = [];
  for (const g of groups.values()) if (g.n >= minEndpoints) spreads.push(g.hi - g.lo);
  return { timestamps: spreads.length, spread: summarize(spreads) };
}

export interface PreemptionResult {
  /** Endpoints in the targeted zones. */
  targeted: number;
  /** Of those, how many heard the alert at all. */
  reached: number;
  /** API call → first alert frame's arrival, ms, over the endpoints reached. */
  arrival: Summary;
  /** Time until every targeted endpoint had it (NaN when some never did). */
  allArrivedMs: number;
  /** API call → first alert frame's playout, ms. */
  playout: Summary;
  allPlayedMs: number;
  /** API call → the first alert frame's due time at the server (the server's share of the time), ms. */
  due: Summary;
  /** API call → its HTTP response, ms. */
  apiResponseMs: number;
}

/**
 * Preemption from per-endpoint first-alert times (real clock, ms; NaN = never)
 * relative to the moment the API call was made.
 */
export function preemption(
  callMs: number,
  firsts: ReadonlyArray<{ arrivalMs: number; playoutMs: number; dueMs?: number }>,
  responseMs = Number.NaN,
): PreemptionResult {
  const arr: number[] = [];
  const play: number[] = [];
  const due: number[] = [];
  for (const f of firsts) {
    if (Number.isFinite(f.arrivalMs)) arr.push(f.arrivalMs - callMs);
    if (Number.isFinite(f.playoutMs)) play.push(f.playoutMs - callMs);
    if (f.dueMs !== undefined && Number.isFinite(f.dueMs)) due.push(f.dueMs - callMs);
  }
  const all = (v: number[]) => (v.length === firsts.length && v.length > 0 ? Math.max(...v) : Number.NaN);
  return {
    targeted: firsts.length,
    reached: arr.length,
    arrival: summarize(arr),
    allArrivedMs: all(arr),
    playout: summarize(play),
    allPlayedMs: all(play),
    due: summarize(due),
    apiResponseMs: responseMs - callMs,
  };
}

/** Packet counters summed over endpoints, for the window measured. */
export interface DeliveryCounts {
  expected: number;
  received: number;
  lost: number;
  concealed: number;
  late: number;
}

export function addCounts(a: DeliveryCounts, b: DeliveryCounts): DeliveryCounts {
  return { expected: a.expected + b.expected, received: a.received + b.received, lost: a.lost + b.lost, concealed: a.concealed + b.concealed, late: a.late + b.late };
}

export const ZERO_COUNTS: DeliveryCounts = { expected: 0, received: 0, lost: 0, concealed: 0, late: 0 };

/** Each counter as a percentage of the packets expected (RTP sequence numbers). */
export function lossPercentages(c: DeliveryCounts): { received: number; lost: number; concealed: number; late: number } {
  const pct = (v: number) => (c.expected > 0 ? (100 * v) / c.expected : Number.NaN);
  return { received: pct(c.received), lost: pct(c.lost), concealed: pct(c.concealed), late: pct(c.late) };
}

/** Resident memory added per endpoint: (RSS with N endpoints − RSS idle) / N, in KB. */
export function memoryPerEndpointKb(rssIdleBytes: number, rssLoadedBytes: number, n: number): number {
  return n > 0 ? (rssLoadedBytes - rssIdleBytes) / 1024 / n : Number.NaN;
}

/** Loa's CPU per endpoint over the peer's, both as share of a core per endpoint. */
export function cpuRatio(loaShare: number, loaN: number, peerShare: number, peerN: number): number {
  const a = loaShare / loaN;
  const b = peerShare / peerN;
  return b > 0 ? a / b : Number.NaN;
}

/**
 * Whether a decoded 20 ms frame carries the alert tone: its component at
 * alertHz (Goertzel, Hann window) is above −26 dBFS. The programme plays a
 * tone far from alertHz (440 vs 1000 Hz, 11 bins apart at 20 ms), whose
 * leakage through the Hann window is some 80 dB down, so any frame over the
 * threshold holds alert audio — including the first, faded-in one of the
 * arbiter's click-free switch.
 */
export function isAlertFrame(pcm: ArrayLike<number>, alertHz: number): boolean {
  return goertzelPower(pcm, SAMPLE_RATE, alertHz) >= ALERT_MIN_POWER;
}

/** −26 dBFS: a sine of amplitude 0.05 full scale. */
const ALERT_MIN_POWER = (0.05 * 32767) ** 2 / 2;

/** Sync sampling: frames whose index (timestamp / 960) is a multiple of `every`. Same on every endpoint of a stream. */
export function isSyncFrame(rtpTimestamp: number, samplesPerFrame: number, every: number): boolean {
  return Math.floor(rtpTimestamp / samplesPerFrame) % every === 0;
}

/** Nearest-rank percentile of plain numbers (unsorted input). */
export function pct(values: number[], p: number): number {
  return percentile(Float64Array.from(values).sort(), p);
}
