import t from 'tap';
import { topSelfTime } from '../../bench/cpu-profile.js';
import { markdownReport, targetMisses, jsonReport, latencySvg } from '../../bench/report.js';
import type { RunResult } from '../../bench/scenario.js';
import { summarize } from '../../bench/percentiles.js';

t.test('self time by function from samples', async (t) => {
  const profile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 } },
      { id: 2, callFrame: { functionName: 'send', url: 'file:///x/engine/fanout.js', lineNumber: 44 } },
      { id: 3, callFrame: { functionName: 'encode', url: 'file:///x/codecs/opus.js', lineNumber: 9 } },
      { id: 4, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
    ],
    samples: [2, 2, 4, 2, 3, 1, 2, 4, 4],
  };
  const top = topSelfTime(profile);
  t.equal(top[0].fn, 'send engine/fanout.js:45');
  t.ok(Math.abs(top[0].selfPct - 66.667) < 0.01);
  t.equal(top.length, 3, 'idle time is not a function');
});

function run(n: number, p99: number, allMs: number): RunResult {
  const s = summarize([1, 2, p99]);
  return {
    n, server: 'real', codec: 'opus', impaired: false, loadProcesses: 4, online: n,
    delivery: s, playoutLag: summarize([150]),
    preemption: { targeted: n / 2, reached: n / 2, arrival: summarize([allMs]), allArrivedMs: allMs, playout: summarize([allMs + 150]), allPlayedMs: allMs + 150, due: summarize([allMs - 5]), apiResponseMs: 3 },
    sync: { timestamps: 10, spread: summarize([0.2, 0.4]) },
    counts: { expected: 1000, received: 1000, lost: 0, concealed: 0, late: 0 },
    fullAgents: 100,
    fullCounts: { expected: 200, received: 200, lost: 0, concealed: 0, late: 0 },
    lossPct: { received: 100, lost: 0, concealed: 0, late: 0 },
    serverCpuShare: 0.5, serverCpuPerEndpointPct: 0.1, rssIdleMb: 100, rssMb: 110, memPerEndpointKb: 20, packetsPerSecond: n * 50,
    loadCpuShare: 1, loadSkippedTicks: 0, clockSkewMs: 0.1,
    peers: [{ name: 'multiudpsink', n, active: n, cpuShare: 0.05, cpuPerEndpointPct: 0.01, loaOverPeer: 10 }],
    notes: [],
  };
}

t.test('targets: only at N = 500, each miss says by how much', async (t) => {
  t.same(targetMisses(run(500, 4, 60)), []);
  const misses = targetMisses(run(500, 12.5, 140));
  t.equal(misses.length, 2);
  t.match(misses[0], /by 2\.50 ms/);
  t.match(misses[1], /140\.0 ms > 100 ms/);
  t.same(targetMisses(run(300, 50, 500)), [], 'other counts have no targets');
  const shrunk = { ...run(500, 4, 60), memPerEndpointKb: -300 };
  t.match(targetMisses(shrunk)[0], /not measured/, 'a negative growth is not a met target');
});

t.test('the report holds every table, the JSON no NaN, the SVG a series per percentile', async (t) => {
  const doc = { startedAt: 'now', command: 'loa bench', machine: { cpus: 2, node: 'v20', loadAverage: [1, 1, 1] }, runs: [run(100, 3, 50), run(500, 12.5, 60)], cpuProfiles: [] };
  doc.runs[0].delivery.mean = Number.NaN;
  const md = markdownReport(doc);
  for (const h of ['Delivery', 'preemption', 'Loss', 'Server resources', 'peer', 'Targets']) t.match(md, h);
  t.match(md, /N=500: delivery p99 12\.50 ms > 10 ms/);
  t.notMatch(jsonReport(doc), /NaN/);
  const svg = latencySvg(doc.runs);
  t.match(svg, /delivery p99/);
  t.equal((svg.match(/<polyline/g) ?? []).length, 5);
});
