import t from 'tap';
import { markdownTable } from '../../bench/markdown-table.js';
import { lineChartSvg, niceStep } from '../../bench/svg-plot.js';
import { cpuShare, parseProcStat, sampleUsage } from '../../bench/process-usage.js';
import { repeatRows, targetMisses } from '../../bench/report.js';
import type { RunResult } from '../../bench/scenario.js';

t.test('markdown table aligns numbers right and names every column', async (t) => {
  const md = markdownTable(['N', 'p50 ms', 'note'], [[100, 1.234, 'ok'], [1000, 12.5, 'loss']]);
  const lines = md.split('\n');
  t.equal(lines.length, 4);
  t.match(lines[1], /^\| -*: \| -*: \| -+ \|$/);
  t.match(lines[2], /\|\s+100 \|\s+1\.23 \| ok\s+\|/);
  t.match(lines[3], /\|\s+1000 \|\s+12\.5 \| loss \|/);
});

t.test('svg chart places points on the axes it draws', async (t) => {
  t.equal(niceStep(1000, 5), 200);
  t.equal(niceStep(7, 5), 2);
  const svg = lineChartSvg([{ name: 'p99', points: [[0, 0], [1000, 10]] }], { title: 'x', xLabel: 'N', yLabel: 'ms', width: 720, height: 420 });
  t.match(svg, /^<svg/);
  // With margins l=70 r=150 t=40 b=55, (0,0) is at (70, 365) and (1000,10) at (570, 40).
  t.match(svg, /points="70\.0,365\.0 570\.0,40\.0"/);
  t.match(svg, />p99</);
});

t.test('/proc stat parsing, including a command name with spaces and parentheses', async (t) => {
  const line = '1234 (node (worker) x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 3 0 100 123456789 2560 18446744073709551615';
  const s = parseProcStat(line);
  t.equal(s.utime, 250);
  t.equal(s.stime, 50);
  t.equal(s.rssPages, 2560);
  t.throws(() => parseProcStat('garbage'));
  const a = sampleUsage(process.pid);
  let x = 0;
  const until = Date.now() + 200;
  while (Date.now() < until) x += Math.sqrt(x + 1);
  const b = sampleUsage(process.pid);
  t.ok(b.cpuMs >= a.cpuMs, 'cpu time is monotonic');
  t.ok(a.rssBytes > 10 * 1024 * 1024, 'a node process has some resident memory');
  t.ok(cpuShare(a, b) >= 0 && cpuShare(a, b) <= 2.5, 'share of a core is plausible');
});

t.test('repeated runs: median and worst per count; the alert targets at N = 1000 and 2000', async (t) => {
  const run = (n: number, allArrivedMs: number, apiResponseMs: number, p99: number, syncMax: number, reached = 500) =>
    ({ n, preemption: { allArrivedMs, apiResponseMs, reached, targeted: 500 }, delivery: { p99 }, sync: { spread: { max: syncMax } } }) as unknown as RunResult;
  const runs = [run(1000, 90, 10, 5, 0.5), run(1000, 120, 30, 7, 0.9), run(1000, 95, 12, 6, 0.7, 499), run(500, 40, 8, 4, 0.25), run(500, 60, 9, 9, 0.75)];
  t.same(repeatRows(runs), [
    [500, 2, '500 of 500', 50, 60, 8.5, 9, 6.5, 9, 0.5, 0.75],
    [1000, 3, '499 of 500', 95, 120, 12, 30, 6, 7, 0.7, 0.9],
  ]);
  t.same(targetMisses(runs[0]), [], 'within target');
  t.same(targetMisses(runs[1]), ['alert: 100 % reached after 120.0 ms > 100 ms (by 20.0 ms)', 'API response 30.0 ms > 20 ms']);
  t.same(targetMisses(run(2000, Infinity, 15, 5, 0.5, 376)), ['alert reached 376 of 500 targets']);
});
