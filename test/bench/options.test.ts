import t from 'tap';
import { BenchUsageError, clockOffsetFor, loadProcessCount, parseBenchArgs } from '../../bench/options.js';

t.test('defaults and every option', async (t) => {
  const d = parseBenchArgs([]);
  t.same(d.counts, [100, 300, 500]);
  t.equal(d.codec, 'opus');
  t.equal(d.server, 'real');
  const o = parseBenchArgs(['--n', '100,300,500,1000', '--duration-s=5', '--codec', 'pcmu', '--impair', '--peer', 'icecast', '--out', '/tmp/x', '--zones', '4', '--cpu-prof', '--seed', '9', '--repeat', '5']);
  t.same(o.counts, [100, 300, 500, 1000]);
  t.equal(o.durationS, 5);
  t.equal(o.codec, 'pcmu');
  t.equal(o.impair, true);
  t.equal(o.peer, 'icecast');
  t.equal(o.outDir, '/tmp/x');
  t.equal(o.zones, 4);
  t.equal(o.cpuProf, true);
  t.equal(o.seed, 9);
  t.equal(o.repeat, 5);
});

t.test('mistakes are refused with a sentence', async (t) => {
  for (const bad of [['--n', '100,x'], ['--n', '0'], ['--codec', 'mp3'], ['--peer', 'vlc'], ['--duration-s'], ['--bogus'], ['--zones', '1'], ['--server', 'other']]) {
    let caught: unknown;
    try {
      parseBenchArgs(bad);
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof BenchUsageError && /\w+ .+/.test(caught.message), `${bad.join(' ')}: ${(caught as Error)?.message}`);
  }
});

t.test('load processes: one per ~150 agents, 1 to 4, or as asked', async (t) => {
  t.equal(loadProcessCount(20, 0), 1);
  t.equal(loadProcessCount(300, 0), 2);
  t.equal(loadProcessCount(500, 0), 4);
  t.equal(loadProcessCount(1000, 0), 4);
  t.equal(loadProcessCount(10, 16), 10);
});

t.test('clock offsets: deterministic, spread over ± the range', async (t) => {
  const a = Array.from({ length: 500 }, (_, i) => clockOffsetFor(i, 300_000, 1));
  t.same(a, Array.from({ length: 500 }, (_, i) => clockOffsetFor(i, 300_000, 1)), 'same seed, same offsets');
  t.notSame(a, Array.from({ length: 500 }, (_, i) => clockOffsetFor(i, 300_000, 2)), 'another seed, others');
  t.ok(a.every((v) => Math.abs(v) <= 300_000));
  t.ok(Math.min(...a) < -250_000 && Math.max(...a) > 250_000, 'the whole range is used');
  t.equal(new Set(a).size > 450, true, 'offsets differ between agents');
  t.equal(clockOffsetFor(3, 0, 1), 0);
});
