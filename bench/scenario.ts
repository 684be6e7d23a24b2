/**
 * One measurement at one endpoint count N: a fresh server child, Z villages
 * and N endpoints made through the API, the agents in a few load processes, a
 * normal programme on air, a steady-state window (latency, loss, sync, server
 * CPU and memory), then an emergency alert through POST /api/v1/playback on
 * half the villages (preemption); then the same fan-out by the peers.
 */
import { performance } from 'node:perf_hooks';
import { codecInfo } from '../codecs/registry.js';
import { LoadHandle } from './load-handle.js';
import { parseReport, type AgentSpec, type AgentsReport, type SinksReport } from './load-protocol.js';
import {
  addCounts,
  cpuRatio,
  lossPercentages,
  memoryPerEndpointKb,
  preemption,
  syncSpread,
  ZERO_COUNTS,
  type DeliveryCounts,
  type PreemptionResult,
  type SyncSpread,
} from './measure.js';
import { clockOffsetFor, loadProcessCount, type BenchOptions } from './options.js';
import { startIcecast, startMultiudpsink, type PeerProcess } from './peers.js';
import { LatencyHistogram, type Summary } from './percentiles.js';
import { cpuShare, sampleUsage, type UsageSample } from './process-usage.js';
import { BenchApi, freeTcpPort, mapLimit, startServerChild } from './server-child.js';
import type { ProfileRange } from './cpu-profile.js';

export const PROGRAMME_HZ = 440;
export const ALERT_HZ = 1000;
const SYNC_EVERY_FRAMES = 50;
const ALERT_WATCH_MS = 3000;
const IDLE_SAMPLES = 15;

export interface PeerResult {
  name: string;
  n: number;
  /** Receivers that got data in the window. */
  active: number;
  /** Share of one core used by the peer's processes. */
  cpuShare: number;
  cpuPerEndpointPct: number;
  /** Loa's CPU per endpoint ÷ the peer's. */
  loaOverPeer: number;
  error?: string;
}

export interface RunResult {
  n: number;
  server: 'real' | 'standin';
  codec: string;
  impaired: boolean;
  loadProcesses: number;
  online: number;
  delivery: Summary;
  playoutLag: Summary;
  preemption: PreemptionResult;
  sync: SyncSpread;
  counts: DeliveryCounts;
  fullAgents: number;
  fullCounts: DeliveryCounts;
  /** received and lost over every endpoint; concealed and late over the full agents. */
  lossPct: ReturnType<typeof lossPercentages>;
  serverCpuShare: number;
  serverCpuPerEndpointPct: number;
  rssIdleMb: number;
  rssMb: number;
  memPerEndpointKb: number;
  packetsPerSecond: number;
  loadCpuShare: number;
  loadSkippedTicks: number;
  clockSkewMs: number;
  peers: PeerResult[];
  notes: string[];
  /** Monotonic µs of the steady-state window and of the alert (call → end of watch), for CPU profiles. */
  phases?: { window: ProfileRange; alert: ProfileRange };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const realNow = () => performance.timeOrigin + performance.now();
/** Monotonic µs, the clock of V8 CPU profiles (in every process of the machine). */
const monoUs = () => Number(process.hrtime.bigint() / 1000n);

function usageOf(pids: number[]): UsageSample {
  const s = pids.map(sampleUsage);
  return { atMs: s[0].atMs, cpuMs: s.reduce((a, b) => a + b.cpuMs, 0), rssBytes: s.reduce((a, b) => a + b.rssBytes, 0) };
}

export async function runScenario(n: number, o: BenchOptions, log: (line: string) => void, cpuProfDir?: string): Promise<RunResult> {
  const notes: string[] = [];
  const server = await startServerChild(o.server, { cpuProfDir });
  const loads: LoadHandle[] = [];
  try {
    const api = new BenchApi(server.baseUrl);
    await api.login();
    const commune = await api.createZone(null, 'commune', 'Bench commune');
    const villages: string[] = [];
    for (let z = 0; z < o.zones; z++) villages.push(await api.createZone(commune, 'village', `Bench village ${z + 1}`));
    // Idle memory: the lowest RSS over 15 s with zones but no endpoint, once V8's memory
    // reducer has had time to give back the start-up garbage (migrations, first requests).
    let idle = sampleUsage(server.pid);
    for (let i = 0; i < IDLE_SAMPLES; i++) {
      await sleep(1000);
      const u = sampleUsage(server.pid);
      if (u.rssBytes < idle.rssBytes) idle = u;
    }
    log(`  N=${n}: server ${server.kind} pid ${server.pid} up, RSS idle ${(idle.rssBytes / 1048576).toFixed(1)} MB; creating endpoints`);

    const created = await mapLimit(Array.from({ length: n }, (_, i) => i), 8, (i) => api.createEndpoint(villages[i % o.zones], `bench-${i}`, o.codec));
    const specs: AgentSpec[] = created.map((e, i) => ({ endpointId: e.id, token: e.token, zone: i % o.zones, clockOffsetMs: clockOffsetFor(i, o.clockSpreadMs, o.seed), light: i >= o.fullAgents }));
    const programme = await api.play([commune], PROGRAMME_HZ, 'normal', 'bench programme');

    const L = loadProcessCount(n, o.loadProcesses);
    for (let l = 0; l < L; l++) loads.push(await LoadHandle.start());
    const frameTicks = (codecInfo(o.codec).clockRate * 20) / 1000;
    loads.forEach((h, l) =>
      h.send({
        type: 'start-agents',
        server: server.controlUrl,
        agents: specs.filter((_, i) => i % L === l),
        codec: o.codec,
        frameTicks,
        impair: o.impair ? { lossPercent: 5, jitterMs: 30, delayMs: 30, seed: o.seed * 7919 + l * 100_003 } : null,
        programmeHz: PROGRAMME_HZ,
        alertHz: ALERT_HZ,
        syncEvery: SYNC_EVERY_FRAMES,
      }),
    );
    const onlineBy = Date.now() + 60_000 + n * 100;
    while (loads.reduce((a, h) => a + h.online, 0) < n && Date.now() < onlineBy) await sleep(250);
    const online = loads.reduce((a, h) => a + h.online, 0);
    if (online < n) notes.push(`only ${online} of ${n} agents came online`);
    log(`  N=${n}: ${online}/${n} agents online in ${L} load processes; warming up`);
    await sleep(o.warmupS * 1000);

    for (const h of loads) h.send({ type: 'window' });
    const windowFromUs = monoUs();
    const u0 = sampleUsage(server.pid);
    // RSS at N: the lowest sample of the window, like the idle one (GC sawtooth).
    let rssAtN = Number.POSITIVE_INFINITY;
    for (let i = 0; i < o.durationS; i++) {
      await sleep(1000);
      rssAtN = Math.min(rssAtN, sampleUsage(server.pid).rssBytes);
    }
    const u1 = sampleUsage(server.pid);
    const windowToUs = monoUs();

    const collect = async (): Promise<AgentsReport[]> => {
      const out: AgentsReport[] = [];
      for (const h of loads) {
        const m = await h.request({ type: 'report' }, 'report', 60_000);
        const p = parseReport(m.report);
        if (!p.ok || p.report.kind !== 'agents') notes.push(`load process ${h.pid}: report refused: ${p.ok ? 'not an agents report' : p.reason}`);
        else out.push(p.report);
      }
      return out;
    };
    // The steady state ends here: the alert's switch is measured on its own.
    const reports = await collect();

    // Preemption: the alert goes through the API while the programme plays.
    for (const h of loads) h.send({ type: 'arm-alert' });
    await sleep(200);
    const targeted = villages.slice(0, Math.ceil(o.zones / 2));
    const callUs = monoUs();
    const callMs = realNow();
    const alert = await api.play(targeted, ALERT_HZ, 'emergency', 'bench alert', ALERT_WATCH_MS + 2000);
    const responseMs = realNow();
    await sleep(ALERT_WATCH_MS);
    const alertToUs = monoUs();
    const afterAlert = await collect();
    await api.stop(alert).catch(() => {});
    await api.stop(programme).catch(() => {});

    const delivery = new LatencyHistogram(1000);
    const playoutLag = new LatencyHistogram(1000);
    let counts = ZERO_COUNTS;
    let fullCounts = ZERO_COUNTS;
    let fullAgents = 0;
    let loadCpuMs = 0;
    let windowMs = 0;
    let skipped = 0;
    let skew = 0;
    for (const r of reports) {
      delivery.merge(LatencyHistogram.fromJSON(r.delivery, 1000));
      playoutLag.merge(LatencyHistogram.fromJSON(r.playoutLag, 1000));
      counts = addCounts(counts, r.counts);
      fullCounts = addCounts(fullCounts, r.fullCounts);
      fullAgents += r.fullAgents;
      loadCpuMs += r.cpuMs;
      windowMs = Math.max(windowMs, r.windowMs);
      skipped += r.skippedTicks;
      if (Math.abs(r.clockSkewMs) > Math.abs(skew)) skew = r.clockSkewMs;
    }
    const alerts = afterAlert.flatMap((r) => r.alerts).filter((a) => a.zone < targeted.length);
    const serverShare = cpuShare(u0, u1);
    const result: RunResult = {
      n,
      server: server.kind,
      codec: o.codec,
      impaired: o.impair,
      loadProcesses: L,
      online,
      delivery: delivery.summary(),
      playoutLag: playoutLag.summary(),
      preemption: preemption(callMs, alerts, responseMs),
      sync: syncSpread(reports.flatMap((r) => r.sync)),
      counts,
      fullAgents,
      fullCounts,
      lossPct: { received: lossPercentages(counts).received, lost: lossPercentages(counts).lost, concealed: lossPercentages(fullCounts).concealed, late: lossPercentages(fullCounts).late },
      serverCpuShare: serverShare,
      serverCpuPerEndpointPct: (100 * serverShare) / n,
      rssIdleMb: idle.rssBytes / 1048576,
      rssMb: rssAtN / 1048576,
      memPerEndpointKb: memoryPerEndpointKb(idle.rssBytes, rssAtN, n),
      packetsPerSecond: windowMs > 0 ? counts.expected / (windowMs / 1000) : Number.NaN,
      loadCpuShare: windowMs > 0 ? loadCpuMs / windowMs : Number.NaN,
      loadSkippedTicks: skipped,
      clockSkewMs: skew,
      peers: [],
      notes,
      phases: { window: { fromUs: windowFromUs, toUs: windowToUs }, alert: { fromUs: callUs, toUs: alertToUs } },
    };
    log(`  N=${n}: delivery p99 ${result.delivery.p99.toFixed(2)} ms, preemption all ${result.preemption.allArrivedMs.toFixed(1)} ms, sync max ${result.sync.spread.max.toFixed(3)} ms, server CPU ${(serverShare * 100).toFixed(1)} %`);
    return result;
  } finally {
    await Promise.all(loads.map((h) => h.close()));
    await server.stop();
  }
}

/** The same fan-out of one stream to n cheap receivers by a peer. */
export async function runPeer(name: 'multiudpsink' | 'icecast', n: number, o: BenchOptions, loa: { cpuShare: number; n: number }): Promise<PeerResult> {
  const sinks = await LoadHandle.start();
  let peer: PeerProcess | undefined;
  try {
    if (name === 'multiudpsink') {
      const m = await sinks.request({ type: 'start-sinks', count: n, tcp: null }, 'sinks', 60_000);
      peer = startMultiudpsink(o.codec, m.ports.map((port) => ({ host: '127.0.0.1', port })));
    } else {
      const port = await freeTcpPort();
      const ice = await startIcecast(port, n);
      peer = ice;
      await sinks.request({ type: 'start-sinks', count: n, tcp: { host: '127.0.0.1', port, path: ice.mount } }, 'sinks', 60_000);
    }
    await sleep(3000);
    sinks.send({ type: 'window' });
    const u0 = usageOf(peer.pids);
    await sleep(o.durationS * 1000);
    const u1 = usageOf(peer.pids);
    const m = await sinks.request({ type: 'report' }, 'report');
    const p = parseReport(m.report);
    const active = p.ok && p.report.kind === 'sinks' ? (p.report as SinksReport).active : 0;
    const share = cpuShare(u0, u1);
    return { name, n, active, cpuShare: share, cpuPerEndpointPct: (100 * share) / n, loaOverPeer: cpuRatio(loa.cpuShare, loa.n, share, n) };
  } catch (err) {
    return { name, n, active: 0, cpuShare: Number.NaN, cpuPerEndpointPct: Number.NaN, loaOverPeer: Number.NaN, error: (err as Error).message };
  } finally {
    await peer?.stop();
    await sinks.close();
  }
}
