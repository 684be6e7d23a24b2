/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions by self time:
 * enough to say what is hot in the server's media worker without a viewer.
 */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples?: number[];
  timeDeltas?: number[];
}

/**
 * Functions by share of the busy samples (idle excluded) in which they were on
 * top of the stack, highest first.
 */
export function topSelfTime(profile: CpuProfile, k = 12): Array<{ fn: string; selfPct: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  if (profile.samples?.length) for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  else for (const n of profile.nodes) hits.set(n.id, n.hitCount ?? 0);
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
