import t from 'tap';
import { parseReport, type AgentsReport } from '../../bench/load-protocol.js';
import { LatencyHistogram } from '../../bench/percentiles.js';

function agentsReport(): AgentsReport {
  const h = new LatencyHistogram(1000);
  for (const v of [1.2, 2.5, 3.1, 1200]) h.record(v);
  return {
    kind: 'agents',
    pid: 42,
    agents: 3,
    online: 3,
    delivery: h.toJSON(),
    playoutLag: h.toJSON(),
    sync: [[0, 960, 1000.5]],
    alerts: [
      { endpointId: 'e1', zone: 0, arrivalMs: 1000, playoutMs: 1150, dueMs: 995 },
      { endpointId: 'e2', zone: 1, arrivalMs: Number.NaN, playoutMs: Number.NaN, dueMs: Number.NaN },
    ],
    counts: { expected: 100, received: 99, lost: 1, concealed: 1, late: 0 },
    fullCounts: { expected: 50, received: 49, lost: 1, concealed: 1, late: 0 },
    fullAgents: 1,
    cpuMs: 500,
    windowMs: 10_000,
    clockSkewMs: 0.3,
    skippedTicks: 0,
  };
}

t.test('a report survives IPC (JSON) and NaN comes back', async (t) => {
  const wire = JSON.parse(JSON.stringify(agentsReport()));
  t.equal(wire.alerts[1].arrivalMs, null, 'JSON turned NaN into null');
  const r = parseReport(wire);
  if (!r.ok || r.report.kind !== 'agents') throw new Error('refused');
  t.ok(Number.isNaN(r.report.alerts[1].arrivalMs), 'restored to NaN: "never heard", not "at time 0"');
  t.equal(r.report.alerts[0].arrivalMs, 1000);
  const h = LatencyHistogram.fromJSON(r.report.delivery, 1000);
  t.equal(h.count, 4);
  t.equal(h.summary().max, 1200, 'overflow kept exactly');
});

t.test('malformed reports are refused with a reason', async (t) => {
  const cases: Array<[string, (r: any) => void]> = [
    ['kind', (r) => (r.kind = 'other')],
    ['pid', (r) => (r.pid = 'x')],
    ['histogram', (r) => (r.delivery.counts = [1, 2, 3])],
    ['counts', (r) => delete r.counts.lost],
    ['fullCounts', (r) => (r.fullCounts = null)],
    ['sync', (r) => (r.sync = [[0, 1]])],
    ['alert', (r) => (r.alerts[0].zone = 'a')],
  ];
  for (const [name, spoil] of cases) {
    const r = JSON.parse(JSON.stringify(agentsReport()));
    spoil(r);
    const p = parseReport(r);
    t.notOk(p.ok, name);
    if (!p.ok) t.match(p.reason, /\w/, `${name}: ${p.reason}`);
  }
  t.notOk(parseReport(null).ok);
  t.ok(parseReport({ kind: 'sinks', pid: 1, sinks: 2, active: 2, bytes: 10, datagrams: 2, cpuMs: 1, windowMs: 1 }).ok);
  t.notOk(parseReport({ kind: 'sinks', pid: 1 }).ok);
});
