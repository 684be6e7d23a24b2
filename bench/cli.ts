/**
 * `loa bench`: for each endpoint count, runs bench/scenario.ts against a
 * fresh server child and the peers, then writes <timestamp>.json, .md and
 * .svg into the output directory and prints the Markdown.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { busyShare, topSelfTime, type CpuProfile } from './cpu-profile.js';
import { BENCH_USAGE, BenchUsageError, parseBenchArgs, type BenchOptions } from './options.js';
import { jsonReport, latencySvg, markdownReport, type BenchDocument } from './report.js';
import { runPeer, runScenario, type RunResult } from './scenario.js';

export async function runBenchCli(argv: string[]): Promise<number> {
  let o: BenchOptions;
  try {
    o = parseBenchArgs(argv);
  } catch (err) {
    if (err instanceof BenchUsageError) {
      console.error(`loa bench: ${err.message}\n\n${BENCH_USAGE}`);
      return 2;
    }
    throw err;
  }
  if (o.help) {
    console.log(BENCH_USAGE);
    return 0;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  mkdirSync(o.outDir, { recursive: true });
  const doc: BenchDocument = {
    startedAt: new Date().toISOString(),
    command: `loa bench ${argv.join(' ')}`.trim(),
    machine: { cpus: cpus().length, node: process.version, loadAverage: loadavg() },
    runs: [],
    cpuProfiles: [],
  };
  const log = (line: string) => console.error(line);
  let failed = false;
  // Repeats interleave the counts, so a noisy spell of the machine spreads over all of them.
  const plan = Array.from({ length: o.repeat }, (_, k) => o.counts.map((n) => ({ n, rep: k + 1 }))).flat();
  for (const { n, rep } of plan) {
    log(`loa bench: N=${n}${o.repeat > 1 ? ` (run ${rep} of ${o.repeat})` : ''} (${o.server} server, ${o.codec}${o.impair ? ', impaired' : ''})`);
    const profDir = o.cpuProf ? path.join(o.outDir, `${stamp}-cpu-prof-n${n}${o.repeat > 1 ? `-run${rep}` : ''}`) : undefined;
    let run: RunResult;
    try {
      run = await runScenario(n, o, log, profDir);
    } catch (err) {
      log(`loa bench: N=${n} failed: ${(err as Error).stack ?? err}`);
      failed = true;
      continue;
    }
    const peers = o.peer === 'both' ? (['multiudpsink', 'icecast'] as const) : o.peer === 'none' ? [] : [o.peer];
    for (const p of peers) {
      log(`  N=${n}: peer ${p}`);
      run.peers.push(await runPeer(p, n, o, { cpuShare: run.serverCpuShare, n }));
    }
    doc.runs.push(run);
    if (profDir) {
      for (const f of readdirSync(profDir).filter((x) => x.endsWith('.cpuprofile'))) {
        const file = path.join(profDir, f);
        const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
        // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (HTTP, control channel, database).
        const thread = /\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(f)?.[1] === '0' ? 'main' : 'worker';
        doc.cpuProfiles.push({ n, file, thread, phase: 'whole run', busy: busyShare(profile), top: topSelfTime(profile) });
        // The steady state and the alert on their own: the whole run is dominated by creating N endpoints.
        for (const [phase, range] of Object.entries(run.phases ?? {})) {
          doc.cpuProfiles.push({ n, file, thread, phase, busy: busyShare(profile, range), top: topSelfTime(profile, 12, range) });
        }
      }
    }
    // Written after every count, so a later crash keeps what was measured.
    const base = path.join(o.outDir, stamp);
    writeFileSync(`${base}.json`, jsonReport(doc));
    writeFileSync(`${base}.md`, markdownReport(doc));
    writeFileSync(`${base}.svg`, latencySvg(doc.runs));
  }
  if (doc.runs.length) {
    console.log(markdownReport(doc));
    log(`loa bench: wrote ${path.join(o.outDir, stamp)}.{json,md,svg}`);
  }
  return failed || doc.runs.length === 0 ? 1 : 0;
}
