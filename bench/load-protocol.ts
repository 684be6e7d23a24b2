/**
 * Messages between the bench driver and its load processes (child_process IPC).
 * A load process hosts many speaker agents (or cheap UDP sinks for a peer) and
 * answers `report` with what it measured. Reports are checked on receipt: a
 * malformed one is refused with a reason rather than folded into the results.
 */
import type { CodecName } from '../codecs/codec.js';
import type { DeliveryCounts, SyncSample } from './measure.js';

export interface AgentSpec {
  endpointId: string;
  token: string;
  /** Index of the endpoint's zone (for sync grouping). */
  zone: number;
  clockOffsetMs: number;
  /** A light endpoint (bench/light-endpoint.ts) rather than a full SpeakerAgent. */
  light: boolean;
}

export interface ImpairSpec {
  lossPercent: number;
  jitterMs: number;
  delayMs: number;
  seed: number;
}

export type DriverMessage =
  | {
      type: 'start-agents';
      /** ws:// URL of the server's control channel. */
      server: string;
      agents: AgentSpec[];
      codec: CodecName;
      /** RTP timestamp ticks per 20 ms frame in that codec (960 for Opus, 160 for G.711). */
      frameTicks: number;
      impair: ImpairSpec | null;
      programmeHz: number;
      alertHz: number;
      /** Sample the playout time of every frame whose index is a multiple of this. */
      syncEvery: number;
    }
  /** Clears histograms and counters: the steady-state window starts now. */
  | { type: 'window' }
  /** From now on, look for the alert tone in every decoded frame. */
  | { type: 'arm-alert' }
  | { type: 'report' }
  | { type: 'start-sinks'; count: number; tcp: null | { host: string; port: number; path: string } }
  | { type: 'close' };

export interface HistogramJson {
  bucketMs: number;
  counts: number[];
  overflow: number[];
}

export interface AlertFirst {
  endpointId: string;
  zone: number;
  /** Real-clock ms; NaN (sent as null) when not seen. */
  arrivalMs: number;
  playoutMs: number;
  /** The frame's due time at the server (sender-report mapping), real clock ms. */
  dueMs: number;
}

export interface AgentsReport {
  kind: 'agents';
  pid: number;
  agents: number;
  online: number;
  /** Frame arrival − frame due time (server SR wall-clock), ms. */
  delivery: HistogramJson;
  /** Frame playout − frame due time, ms. */
  playoutLag: HistogramJson;
  sync: SyncSample[];
  alerts: AlertFirst[];
  /** Every endpoint (loss); concealed and late only from the full agents. */
  counts: DeliveryCounts;
  /** The full agents alone (concealment and lateness are theirs). */
  fullCounts: DeliveryCounts;
  fullAgents: number;
  /** Process CPU since the window started, ms, and window length, ms. */
  cpuMs: number;
  windowMs: number;
  /** Date.now() − (performance.timeOrigin + performance.now()) in this process, ms. */
  clockSkewMs: number;
  /** Slots the shared cycle skipped (the load process itself was late). */
  skippedTicks: number;
}

export interface SinksReport {
  kind: 'sinks';
  pid: number;
  sinks: number;
  /** Sinks that received at least one byte in the window. */
  active: number;
  bytes: number;
  datagrams: number;
  cpuMs: number;
  windowMs: number;
}

export type LoadMessage =
  | { type: 'ready' }
  | { type: 'online'; online: number; total: number }
  | { type: 'sinks'; ports: number[] }
  | { type: 'report'; report: AgentsReport | SinksReport }
  | { type: 'error'; message: string };

const isNum = (v: unknown): v is number => typeof v === 'number';
const numOrNull = (v: unknown) => v === null || typeof v === 'number';

function checkHistogram(h: unknown, name: string): string | null {
  const o = h as HistogramJson;
  if (!o || !isNum(o.bucketMs) || !Array.isArray(o.counts) || !Array.isArray(o.overflow)) return `${name}: not a histogram`;
  if (o.counts.length % 2 !== 0 || !o.counts.every(isNum) || !o.overflow.every(isNum)) return `${name}: bad histogram arrays`;
  return null;
}

/**
 * Validates a load process's report after IPC (JSON turns NaN into null:
 * restored here). Returns the report or the reason it was refused.
 */
export function parseReport(raw: unknown): { ok: true; report: AgentsReport | SinksReport } | { ok: false; reason: string } {
  const r = raw as Record<string, unknown>;
  if (!r || typeof r !== 'object') return { ok: false, reason: 'report is not an object' };
  if (r.kind === 'sinks') {
    for (const k of ['pid', 'sinks', 'active', 'bytes', 'datagrams', 'cpuMs', 'windowMs']) if (!isNum(r[k])) return { ok: false, reason: `sinks report: ${k} is not a number` };
    return { ok: true, report: r as unknown as SinksReport };
  }
  if (r.kind !== 'agents') return { ok: false, reason: `unknown report kind ${JSON.stringify(r.kind)}` };
  for (const k of ['pid', 'agents', 'online', 'cpuMs', 'windowMs', 'skippedTicks', 'fullAgents']) if (!isNum(r[k])) return { ok: false, reason: `agents report: ${k} is not a number` };
  for (const h of ['delivery', 'playoutLag'] as const) {
    const bad = checkHistogram(r[h], h);
    if (bad) return { ok: false, reason: `agents report: ${bad}` };
  }
  for (const name of ['counts', 'fullCounts']) {
    const c = r[name] as Record<string, unknown>;
    if (!c || !['expected', 'received', 'lost', 'concealed', 'late'].every((k) => isNum(c[k]))) return { ok: false, reason: `agents report: bad ${name}` };
  }
  if (!Array.isArray(r.sync) || !r.sync.every((s) => Array.isArray(s) && s.length === 3 && s.every(isNum))) return { ok: false, reason: 'agents report: bad sync samples' };
  if (!Array.isArray(r.alerts)) return { ok: false, reason: 'agents report: alerts is not an array' };
  for (const a of r.alerts as Record<string, unknown>[]) {
    if (typeof a?.endpointId !== 'string' || !isNum(a.zone) || !numOrNull(a.arrivalMs) || !numOrNull(a.playoutMs) || !numOrNull(a.dueMs)) return { ok: false, reason: 'agents report: bad alert entry' };
  }
  const alerts = (r.alerts as Record<string, unknown>[]).map((a) => ({
    ...(a as unknown as AlertFirst),
    arrivalMs: a.arrivalMs === null ? Number.NaN : (a.arrivalMs as number),
    playoutMs: a.playoutMs === null ? Number.NaN : (a.playoutMs as number),
    dueMs: a.dueMs === null || a.dueMs === undefined ? Number.NaN : (a.dueMs as number),
  }));
  return { ok: true, report: { ...(r as unknown as AgentsReport), clockSkewMs: isNum(r.clockSkewMs) ? r.clockSkewMs : Number.NaN, alerts } };
}
