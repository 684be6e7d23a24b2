/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions by self time:
 * enough to say what is hot in the server's media worker without a viewer.
 */
export interface CpuProfile {
  /** Monotonic µs (CLOCK_MONOTONIC: the same clock as process.hrtime in any process of the machine). */
  startTime?: number;
  endTime?: number;
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples?: number[];
  timeDeltas?: number[];
}

/** A stretch of a run in monotonic µs (process.hrtime.bigint() / 1000n), e.g. the steady-state window. */
export interface ProfileRange {
  fromUs: number;
  toUs: number;
}

/** Busy share of the profiled thread over `range` (or the whole profile): CPU of that thread, in cores. */
export function busyShare(profile: CpuProfile, range?: ProfileRange): number {
  const { busy, span } = countSamples(profile, range);
  return span > 0 ? busy / span : Number.NaN;
}

function countSamples(profile: CpuProfile, range?: ProfileRange): { hits: Map<number, number>; busy: number; span: number } {
  const hits = new Map<number, number>();
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  let busy = 0;
  let span = 0;
  if (profile.samples?.length) {
    let t = profile.startTime ?? 0;
    for (let i = 0; i < profile.samples.length; i++) {
      const dt = profile.timeDeltas?.[i] ?? 0;
      t += dt;
      if (range && (t < range.fromUs || t > range.toUs)) continue;
      const id = profile.samples[i];
      hits.set(id, (hits.get(id) ?? 0) + 1);
      // Each sample stands for the time until the next one.
      const next = profile.timeDeltas?.[i + 1] ?? 0;
      span += next;
      if (!idle.has(id)) busy += next;
    }
  } else for (const n of profile.nodes) hits.set(n.id, n.hitCount ?? 0);
  return { hits, busy, span };
}

/**
 * Functions by share of the busy samples (idle excluded) in which they were on
 * top of the stack, highest first; only samples inside `range` when given.
 */
export function topSelfTime(profile: CpuProfile, k = 12, range?: ProfileRange): Array<{ fn: string; selfPct: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const { hits } = countSamples(profile, range);
  let total = 0;
  const byFn = new Map<string, number>();
  for (const [id, h] of hits) {
    const cf = byId.get(id)?.callFrame;
    if (!cf || cf.functionName === '(idle)') continue;
    total += h;
    const file = cf.url ? cf.url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, '') : '';
    const name = `${cf.functionName || '(anonymous)'}${file ? ` ${file}:${cf.lineNumber + 1}` : ''}`;
    byFn.set(name, (byFn.get(name) ?? 0) + h);
  }
  return [...byFn.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([fn, h]) => ({ fn, selfPct: total ? (100 * h) / total : 0 }));
}
