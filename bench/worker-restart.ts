/**
 * How long a dead media worker takes to come back: Engine.start, then `--runs` times an
 * uncaught error inside the worker (testHooks) and the time from 'died' to 'restarted'
 * (a fresh worker ready on the same RTP port). Prints every run and the median.
 *
 *   node dist/bench/worker-restart.js [--runs 10]     (compiled: what production runs)
 *   node --import tsx bench/worker-restart.ts          (sources: the worker registers tsx too)
 */
import { Engine } from '../engine/engine.js';

const i = process.argv.indexOf('--runs');
const runs = i >= 0 ? Number(process.argv[i + 1]) : 10;
const engine = await Engine.start({ rtpPort: 0, rtpHost: '127.0.0.1', testHooks: true });
const times: number[] = [];
for (let run = 0; run < runs; run++) {
  const died = new Promise<number>((r) => engine.once('died', () => r(performance.now())));
  engine.crashForTest();
  const diedAt = await died;
  await engine.restart();
  times.push(Math.round(performance.now() - diedAt));
  console.log(`run ${run + 1}: restarted in ${times.at(-1)} ms`);
}
await engine.close();
const sorted = [...times].sort((a, b) => a - b);
console.log(`worker restart over ${runs} runs: median ${sorted[Math.floor(runs / 2)]} ms, worst ${sorted.at(-1)} ms`);
