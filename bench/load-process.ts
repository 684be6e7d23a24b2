/**
 * One load process of the bench: hosts many speaker agents (the real
 * endpoint/agent.ts, sharing one FrameCycle) or, for a peer, many cheap
 * receivers (UDP sockets or HTTP listeners that only count bytes). Driven by
 * the bench over IPC (bench/load-protocol.ts); measures with the real clock,
 * performance.timeOrigin + performance.now(), which every process on the
 * machine shares — an agent's simulated clock offset is subtracted from the
 * local times its playout reports, so the numbers are true times.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { SpeakerAgent } from '../endpoint/agent.js';
import { FrameCycle } from '../endpoint/frame-cycle.js';
import type { PlayoutFrameInfo } from '../endpoint/playout.js';
import { ImpairProxy } from './impair-proxy.js';
import { LightEndpoint } from './light-endpoint.js';
import type { AgentSpec, AgentsReport, AlertFirst, DriverMessage, LoadMessage, SinksReport } from './load-protocol.js';
import { isAlertFrame, isSyncFrame, type DeliveryCounts, type SyncSample } from './measure.js';
import { LatencyHistogram } from './percentiles.js';

const realNow = () => performance.timeOrigin + performance.now();
const send = (m: LoadMessage) => process.send?.(m);

interface Hosted {
  spec: AgentSpec;
  agent: SpeakerAgent;
  base: DeliveryCounts;
  alert: AlertFirst;
}

let hosted: Hosted[] = [];
let lights: LightEndpoint[] = [];
let keepaliveTimer: NodeJS.Timeout | null = null;
const lightZones: number[] = [];
const proxies: ImpairProxy[] = [];
let measuring = false;
let armed = false;
let delivery = new LatencyHistogram(1000);
let playoutLag = new LatencyHistogram(1000);
let sync: SyncSample[] = [];
let windowStart = realNow();
let cpuStart = process.cpuUsage();
let skippedAtWindow = 0;

function countsOf(a: SpeakerAgent): DeliveryCounts {
  const r = a.reception;
  const p = a.playout?.stats;
  return {
    expected: r?.expected ?? 0,
    received: r?.received ?? 0,
    lost: r ? Math.max(0, r.expected - r.received) : 0,
    concealed: p?.concealed ?? 0,
    late: p?.late ?? 0,
  };
}

async function startAgents(m: Extract<DriverMessage, { type: 'start-agents' }>): Promise<void> {
  let lastSent = 0;
  const report = () => {
    const now = Date.now();
    if (now - lastSent < 250) return;
    lastSent = now;
    const online = hosted.filter((h) => h.agent.state === 'online').length + lights.filter((e) => e.online).length;
    send({ type: 'online', online, total: hosted.length + lights.length });
  };
  for (const [i, spec] of m.agents.entries()) {
    const proxy = m.impair
      ? await ImpairProxy.open({ address: '127.0.0.1', port: 0 }, { lossPercent: m.impair.lossPercent, jitterMs: m.impair.jitterMs, delayMs: m.impair.delayMs, duplicatePercent: 0 }, m.impair.seed + i)
      : null;
    if (proxy) proxies.push(proxy);
    const mediaRoute = proxy
      ? (s: { host: string; port: number }) => {
          proxy.server = { address: s.host, port: s.port };
          return { host: '127.0.0.1', port: proxy.port };
        }
      : undefined;
    if (spec.light) {
      const e = new LightEndpoint({ controlUrl: m.server, endpointId: spec.endpointId, token: spec.token, codec: m.codec, delivery, alertHz: m.alertHz, mediaRoute });
      lights.push(e);
      lightZones.push(spec.zone);
      e.start();
      continue;
    }
    const h: Hosted = {
      spec,
      base: { expected: 0, received: 0, lost: 0, concealed: 0, late: 0 },
      alert: { endpointId: spec.endpointId, zone: spec.zone, arrivalMs: Number.NaN, playoutMs: Number.NaN, dueMs: Number.NaN },
      agent: null as unknown as SpeakerAgent,
    };
    const off = spec.clockOffsetMs;
    const onFrame = (f: PlayoutFrameInfo) => {
      if (!measuring || !Number.isFinite(f.serverMs)) return;
      const playout = f.playoutLocalMs - off;
      if (!f.concealed) {
        delivery.record(f.arrivalLocalMs - off - f.serverMs);
        playoutLag.record(playout - f.serverMs);
        if (armed && Number.isNaN(h.alert.arrivalMs) && isAlertFrame(f.pcm, m.alertHz)) {
          h.alert.arrivalMs = f.arrivalLocalMs - off;
          h.alert.playoutMs = playout;
          h.alert.dueMs = f.serverMs;
        }
      }
      if (isSyncFrame(f.rtpTimestamp, m.frameTicks, m.syncEvery)) sync.push([spec.zone, f.rtpTimestamp, playout]);
    };
    h.agent = new SpeakerAgent({
      server: m.server,
      endpointId: spec.endpointId,
      token: spec.token,
      codecs: [m.codec],
      clockOffsetMs: off,
      output: { kind: 'null' },
      onFrame,
      reconnectMinMs: 1000,
      mediaRoute,
    });
    h.agent.on('connected', () => report());
    hosted.push(h);
    await h.agent.start();
  }
  // Light endpoints keep their NAT path open like agents do; one sweep for all of them.
  const lastKeepalive = new Float64Array(lights.length);
  keepaliveTimer = setInterval(() => {
    const now = Date.now();
    lights.forEach((e, i) => {
      if (now - lastKeepalive[i] >= e.keepaliveIntervalMs / 2) {
        lastKeepalive[i] = now;
        e.sendKeepalive();
      }
    });
    report();
  }, 1000);
}

function openWindow(): void {
  delivery.reset();
  playoutLag = new LatencyHistogram(1000);
  sync = [];
  for (const h of hosted) h.base = countsOf(h.agent);
  for (const e of lights) {
    e.resetCounts();
    e.measuring = true;
  }
  windowStart = realNow();
  cpuStart = process.cpuUsage();
  skippedAtWindow = FrameCycle.shared().skippedTicks;
  measuring = true;
}

function agentsReport(): AgentsReport {
  for (const e of lights) e.findAlert();
  const counts: DeliveryCounts = { expected: 0, received: 0, lost: 0, concealed: 0, late: 0 };
  for (const h of hosted) {
    const c = countsOf(h.agent);
    counts.expected += c.expected - h.base.expected;
    counts.received += c.received - h.base.received;
    counts.lost += Math.max(0, c.lost - h.base.lost);
    counts.concealed += c.concealed - h.base.concealed;
    counts.late += c.late - h.base.late;
  }
  const fullCounts = { ...counts };
  for (const e of lights) {
    counts.expected += e.expected;
    counts.received += e.received;
    counts.lost += Math.max(0, e.expected - e.received);
  }
  const cpu = process.cpuUsage(cpuStart);
  return {
    kind: 'agents',
    pid: process.pid,
    agents: hosted.length + lights.length,
    online: hosted.filter((h) => h.agent.state === 'online').length + lights.filter((e) => e.online).length,
    fullAgents: hosted.length,
    fullCounts,
    delivery: delivery.toJSON(),
    playoutLag: playoutLag.toJSON(),
    sync,
    alerts: [
      ...hosted.map((h) => h.alert),
      ...lights.map((e, i) => ({ endpointId: `light-${i}`, zone: lightZones[i], arrivalMs: e.alertArrivalMs, playoutMs: Number.NaN, dueMs: e.alertDueMs })),
    ],
    counts,
    cpuMs: (cpu.user + cpu.system) / 1000,
    windowMs: realNow() - windowStart,
    clockSkewMs: Date.now() - realNow(),
    skippedTicks: FrameCycle.shared().skippedTicks - skippedAtWindow,
  };
}

// ---- peer receivers: count bytes, nothing else ----------------------------------

const sinks: Array<{ bytes: number; datagrams: number; close(): void }> = [];

async function startSinks(m: Extract<DriverMessage, { type: 'start-sinks' }>): Promise<void> {
  const ports: number[] = [];
  for (let i = 0; i < m.count; i++) {
    if (m.tcp) {
      const s = { bytes: 0, datagrams: 0, close: () => req.destroy() };
      const req = http.get({ host: m.tcp.host, port: m.tcp.port, path: m.tcp.path, agent: false }, (res) => {
        res.on('data', (chunk: Buffer) => {
          s.bytes += chunk.length;
          s.datagrams++;
        });
      });
      req.on('error', () => {});
      sinks.push(s);
    } else {
      const sock = dgram.createSocket('udp4');
      const s = { bytes: 0, datagrams: 0, close: () => sock.close() };
      sock.on('message', (msg) => {
        s.bytes += msg.length;
        s.datagrams++;
      });
      await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
      ports.push(sock.address().port);
      sinks.push(s);
    }
  }
  send({ type: 'sinks', ports });
}

let sinkBase: Array<{ bytes: number; datagrams: number }> = [];

function sinksReport(): SinksReport {
  let bytes = 0;
  let datagrams = 0;
  let active = 0;
  sinks.forEach((s, i) => {
    const b = sinkBase[i] ?? { bytes: 0, datagrams: 0 };
    bytes += s.bytes - b.bytes;
    datagrams += s.datagrams - b.datagrams;
    if (s.bytes > b.bytes) active++;
  });
  const cpu = process.cpuUsage(cpuStart);
  return { kind: 'sinks', pid: process.pid, sinks: sinks.length, active, bytes, datagrams, cpuMs: (cpu.user + cpu.system) / 1000, windowMs: realNow() - windowStart };
}

async function closeAll(): Promise<void> {
  measuring = false;
  await Promise.all(hosted.map((h) => h.agent.close()));
  for (const p of proxies) p.close();
  if (keepaliveTimer) clearInterval(keepaliveTimer);
  for (const e of lights) e.close();
  lights = [];
  for (const s of sinks) s.close();
  hosted = [];
}

async function onMessage(m: DriverMessage): Promise<void> {
  switch (m.type) {
    case 'start-agents':
      return startAgents(m);
    case 'start-sinks':
      return startSinks(m);
    case 'window':
      sinkBase = sinks.map((s) => ({ bytes: s.bytes, datagrams: s.datagrams }));
      openWindow();
      return;
    case 'arm-alert':
      armed = true;
      for (const e of lights) e.armed = true;
      return;
    case 'report':
      send({ type: 'report', report: sinks.length > 0 ? sinksReport() : agentsReport() });
      return;
    case 'close':
      await closeAll();
      process.exit(0);
  }
}

if (process.send) {
  process.on('message', (m: DriverMessage) => {
    onMessage(m).catch((err: Error) => send({ type: 'error', message: err.stack ?? err.message }));
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}
